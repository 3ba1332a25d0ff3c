"""What is not ok in a results set: cells per status and track, and every row that is not
``ok`` with its reason."""

from __future__ import annotations

import pandas as pd

from spikemark.report.load import multi_platform
from spikemark.report.ml import cell_mark, cell_status, ml_rows
from spikemark.report.pd14 import simulation_cells
from spikemark.results import CELL_METRIC

#: Coordinates that tell the cells of a problem list apart.
PROBLEM_COORDS = [
    "dataset", "method", "framework", "hardware", "pruning", "sparsity", "timesteps", "scale", "threads",
    "seed", "size", "noise", "variant",
]  # fmt: skip


def _per_run(track: str, rows: pd.DataFrame) -> list[dict]:
    """Cells per status of a track whose cells are one job (run id) each."""
    marks = pd.Series([cell_mark(r)[0] for _, r in rows.groupby("run_id", sort=True)], dtype=str)
    return [{"track": track, "status": s, "cells": int(n)} for s, n in marks.value_counts().items()]


def status_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Cells per status, per track."""
    rows = [
        {"track": "ml", "status": s, "cells": int(n)} for s, n in cell_status(table)["status"].value_counts().items()
    ]
    sim = simulation_cells(table)
    rows += [{"track": "simulation", "status": s, "cells": int(n)} for s, n in sim["status"].value_counts().items()]
    # the latency benchmark and the robustness protocol: one job (run id) per cell
    rows += _per_run("robustness", ml_rows(table, robustness=True))
    rows += _per_run("latency", table[table["track"] == "latency"])
    return pd.DataFrame(rows, columns=["track", "status", "cells"])


def problems(table: pd.DataFrame) -> pd.DataFrame:
    """Every row that is not ok, readable at a glance.

    Skipped / failed / invalid cells are listed one by one (with their coordinates); rows of
    metrics that are unavailable here (e.g. an energy meter with no counter on this host)
    repeat the same reason in every cell, so they are grouped by metric, source and reason
    with the number of rows and cells they stand for.
    """
    bad = table[table["status"] != "ok"]
    lead = ["platform"] if multi_platform(table) else []
    cells = bad[bad["metric"] == CELL_METRIC][lead + ["track", *PROBLEM_COORDS, "metric", "status", "reason"]]
    cells = cells.drop_duplicates().assign(rows=1, cells=1)
    keys = lead + ["track", "metric", "source", "status", "reason"]
    grouped = (
        bad[bad["metric"] != CELL_METRIC]
        .groupby(keys, sort=True, dropna=False)
        .agg(rows=("run_id", "size"), cells=("run_id", "nunique"))
        .reset_index()
    )
    out = pd.concat([cells, grouped], ignore_index=True)
    columns = lead + ["track", *PROBLEM_COORDS, "metric", "source", "status", "reason", "rows", "cells"]
    return out.reindex(columns=columns).fillna("").reset_index(drop=True)
