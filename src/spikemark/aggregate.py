"""Aggregate: every job's fragment into one tidy table, one provenance table, one cube.

- ``metrics.csv``: the tidy rows (README, "Results format").
- ``provenance.csv``: one row per run id.
- ``metrics.nc``: the same numbers as xarray, one netCDF group per track, the coordinates
  that vary within a track as dimensions, ``status`` / ``source`` / ``unit`` / interval
  as companion variables, config hash and git commit in the attributes.
- ``summary.json``: cell counts by status (the workflow's final summary reads it).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import xarray as xr

from spikemark import provenance
from spikemark.results import CELL_METRIC, COLUMNS, COORDS, new_run_id

log = logging.getLogger(__name__)

#: Columns that become variables of the cube (the rest are dimensions).
#: Coordinates stored as numbers in the cube (NaN where they do not apply).
NUMERIC_COORDS = ("sparsity", "timesteps", "threads", "seed", "size", "noise", "ranks")
CUBE_VARIABLES = ("value", "ci_low", "ci_high", "n", "unit", "source", "status", "reason", "run_id")


def read_fragments(paths: Iterable[str | Path]) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    for coord in COORDS:  # a coordinate column added later: empty in older fragments
        if coord not in table.columns:
            table[coord] = ""
    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"fragments lack columns {sorted(missing)}")
    return table[list(COLUMNS)]


def read_provenance(paths: Iterable[str | Path]) -> pd.DataFrame:
    records = [json.loads(Path(p).read_text()) for p in paths]
    return pd.DataFrame.from_records(records).sort_values("run_id", kind="stable") if records else pd.DataFrame()


def fragment_of_runs(paths: Iterable[str | Path]) -> dict[str, str]:
    """run id -> the fragment file that holds its rows (to re-run a cell, force that file)."""
    out = {}
    for path in paths:
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                out.setdefault(row["run_id"], str(path))
    return out


def cell_summary(table: pd.DataFrame, fragments: dict[str, str] | None = None) -> dict[str, Any]:
    """Count cells (one per run id) by their status; every cell that is not ok listed with its
    coordinates, reason and fragment file (``failed`` keeps the failed ones apart)."""
    cells = table.groupby("run_id", sort=False)
    counts = {"ok": 0, "skipped": 0, "failed": 0, "invalid": 0}
    problems = []
    for run_id, rows in cells:
        marks = rows[rows["metric"] == CELL_METRIC]
        status = marks["status"].iloc[0] if len(marks) else "ok"
        counts[status] = counts.get(status, 0) + 1
        if status != "ok":
            coords = {c: rows[c].iloc[0] for c in COORDS if rows[c].iloc[0] != ""}
            problems.append(
                {"run_id": run_id, "status": status, **coords, "reason": marks["reason"].iloc[0],
                 "fragment": (fragments or {}).get(run_id, "")}
            )  # fmt: skip
    failed = [{k: v for k, v in p.items() if k != "status"} for p in problems if p["status"] == "failed"]
    return {"cells": int(sum(counts.values())), "by_status": counts, "failed": failed, "problems": problems}


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", None), errors="coerce")


def to_cube(table: pd.DataFrame) -> dict[str, xr.Dataset]:
    """One xarray Dataset per track; dimensions are the coordinates used in that track."""
    cubes = {}
    for track, rows in table.groupby("track", sort=True):
        dims = [c for c in COORDS if (rows[c] != "").any()] + ["metric"]
        frame = rows.drop(columns=["track"]).copy()
        for col in ("value", "ci_low", "ci_high", "n"):
            frame[col] = _numeric(frame[col])
        for col in NUMERIC_COORDS:
            if col in dims:
                frame[col] = _numeric(frame[col])
        frame = frame.drop_duplicates(subset=dims, keep="last").set_index(dims)
        cube = xr.Dataset.from_dataframe(frame[list(CUBE_VARIABLES)])
        for name in ("unit", "source", "status", "reason", "run_id"):
            cube[name] = cube[name].fillna("").astype(str)
        cube.attrs["track"] = str(track)
        cubes[str(track)] = cube
    return cubes


def aggregate(
    fragments: list[str],
    provenance_files: list[str],
    metrics_csv: str,
    provenance_csv: str,
    cube: str,
    summary: str,
    *,
    config_hash: str,
    config_text: str,
) -> dict[str, Any]:
    """Write the four results files; the whole config's hash and text go into the cube's
    attributes and into this aggregation's own row of ``provenance.csv``."""
    started = provenance.utc_now()
    table = read_fragments(fragments)
    sort_cols = ["track", *COORDS, "metric"]
    table = table.sort_values(sort_cols, kind="stable").reset_index(drop=True)
    Path(metrics_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(metrics_csv, index=False)
    prov = read_provenance(provenance_files)
    own = provenance.collect(
        new_run_id(), started=started, rule="aggregate", config_hash=config_hash, config_slice=config_text
    )
    pd.concat([prov, pd.DataFrame([own])], ignore_index=True).to_csv(provenance_csv, index=False)
    attrs = {"config_hash": config_hash, "git_commit": own["git_commit"], "config": config_text}
    if len(prov):
        for col in ("host", "cpu_model", "gpu_model", "gpu_driver", "packages"):
            if col in prov:
                attrs[col] = "; ".join(sorted(set(map(str, prov[col].dropna())) - {""}))
    Path(cube).unlink(missing_ok=True)
    for i, (track, ds) in enumerate(to_cube(table).items()):
        ds.attrs.update(attrs)
        ds.to_netcdf(cube, group=track, mode="w" if i == 0 else "a", engine="h5netcdf")
    if not Path(cube).exists():  # no rows at all: still leave a valid, empty file
        xr.Dataset(attrs=attrs).to_netcdf(cube, engine="h5netcdf")
    result = cell_summary(table, fragment_of_runs(fragments))
    Path(summary).write_text(json.dumps(result, indent=1) + "\n")
    log.info("aggregated %d rows from %d fragments: %s", len(table), len(fragments), result["by_status"])
    return result
