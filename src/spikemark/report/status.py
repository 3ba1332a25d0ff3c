"""What is not ok in a results set: cells per status and track, every row that is not
``ok`` with its reason, and the banner the report opens with when timings were contended
or runs of different commits are mixed."""

from __future__ import annotations

import json

import pandas as pd

from spikemark.report.cells import contended, reason_category
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
        {"track": "ml", "status": s, "cells": int(n)}
        for s, n in cell_status(table)["status"].value_counts().items()
    ]
    sim = simulation_cells(table)
    rows += [
        {"track": "simulation", "status": s, "cells": int(n)} for s, n in sim["status"].value_counts().items()
    ]
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


# ---------------------------------------------------------------- the banner

#: Units of timings (and of rates derived from them); ``rtf`` and ``time_*`` are timings too.
TIMING_UNITS = ("s", "ms", "us", "µs", "ns", "samples/s", "1/s")


def timing_rows(table: pd.DataFrame) -> pd.Series:
    """Which rows are timings (what the contention guard watches)."""
    metric = table["metric"].astype(str)
    return table["unit"].isin(TIMING_UNITS) | (metric == "rtf") | metric.str.startswith("time_")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _timing_warning(table: pd.DataFrame) -> str:
    invalid = table[timing_rows(table) & (table["status"] == "invalid")]
    if invalid.empty:
        return ""
    is_busy = contended(invalid)
    busy, other = invalid[is_busy], invalid[~is_busy]
    parts = []
    if len(busy):
        parts.append(
            f"{_count(len(busy), 'timing')} in {_count(busy['run_id'].nunique(), 'run')} contended "
            "(the run got less CPU than it asked for, or other processes shared its cores)"
        )
    if len(other):
        why = ", ".join(f"{c}: {n}" for c, n in other["reason"].map(reason_category).value_counts().items())
        parts.append(f"{_count(len(other), 'other timing')} invalid ({why})")
    return "; ".join(parts) + " — shown with their reason, never ranked or fitted"


def _set_label(prov: pd.DataFrame, several: bool) -> str:
    hosts = ", ".join(sorted(set(prov["host"]) - {""})) or "unknown host"
    return f"results set {int(prov['results_set'].iloc[0]) + 1} ({hosts})" if several else "this results set"


def _package_differences(packages: pd.Series) -> list[str]:
    """``name a / b`` for every package whose version differs between runs."""
    versions: dict[str, set[str]] = {}
    for text in packages[packages != ""].unique():
        try:
            listed = json.loads(text)
        except (TypeError, ValueError):
            continue
        for name, version in listed.items():
            versions.setdefault(name, set()).add(str(version))
    seen = {name: v for name, v in versions.items() if len(v) > 1}
    return [f"{name} {' / '.join(sorted(v))}" for name, v in sorted(seen.items())]


def _provenance_warning(provenance: pd.DataFrame) -> str:
    parts = []
    several = provenance["results_set"].nunique() > 1
    for _, prov in provenance.groupby("results_set", sort=True):
        mixed = []
        if "git_commit" in prov:
            commits = prov.loc[prov["git_commit"] != "", "git_commit"].value_counts()
            if len(commits) > 1:
                listed = ", ".join(f"{c[:12]} ({_count(n, 'run')})" for c, n in commits.items())
                mixed.append(f"{len(commits)} git commits: {listed}")
        if "packages" in prov:
            differences = _package_differences(prov["packages"])
            if differences:
                mixed.append("package versions " + ", ".join(differences))
        if mixed:
            parts.append(f"{_set_label(prov, several)} mixes runs of " + "; ".join(mixed))
    return "; ".join(parts)


def banner(table: pd.DataFrame, provenance: pd.DataFrame | None = None) -> str:
    """The one line the report opens with when its numbers need a caveat: timings that
    were contended or invalid (how many), and results sets that mix runs of different git
    commits or package versions (which). "" when there is nothing to say."""
    parts = [_timing_warning(table)]
    if provenance is not None and len(provenance):
        parts.append(_provenance_warning(provenance))
    parts = [p for p in parts if p]
    return ("⚠ " + ". ".join(p[0].upper() + p[1:] for p in parts) + ".") if parts else ""
