"""Loading and combining results sets: ``metrics.csv`` with the ``provenance.csv`` beside it.

Several machines' results combine into one table, told apart by a ``platform`` column built
from their provenance (host, CPU and GPU model); every table keys on ``platform`` when
there is more than one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from spikemark.report.cells import fmt_num
from spikemark.results import COLUMNS

NUMERIC = ("value", "ci_low", "ci_high", "n")
PROVENANCE_COLUMNS = ("host", "cpu_model", "gpu_model")


def metrics_path(path: str | Path) -> Path:
    """The ``metrics.csv`` of a results directory (or the file itself)."""
    path = Path(path)
    return path / "metrics.csv" if path.is_dir() else path


def numeric(series: pd.Series) -> pd.Series:
    """A text column as numbers ("" and unparsable values become NaN)."""
    return pd.to_numeric(series.replace("", None), errors="coerce")


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    for col in NUMERIC:
        table[col] = numeric(table[col])
    return table


def load_metrics(path: str | Path) -> pd.DataFrame:
    """One ``metrics.csv`` (or a results directory holding one), numbers typed."""
    table = pd.read_csv(metrics_path(path), dtype=str, keep_default_na=False)
    for col in COLUMNS:
        if col not in table:
            table[col] = ""
    return _typed(table)


def _provenance_of(path: str | Path) -> pd.DataFrame:
    prov = metrics_path(path).with_name("provenance.csv")
    empty = pd.DataFrame(columns=["run_id", *PROVENANCE_COLUMNS])
    if not prov.exists() or prov.stat().st_size == 0:
        return empty
    try:
        frame = pd.read_csv(prov, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return empty
    for col in PROVENANCE_COLUMNS:
        if col not in frame:
            frame[col] = ""
    return frame


def platform_label(host: str, cpu: str, gpu: str) -> str:
    """``host (CPU model; GPU model)``: what tells machines apart in a combined table."""
    parts = [p for p in (cpu, gpu) if p]
    return f"{host or 'unknown host'} ({'; '.join(parts)})" if parts else (host or "unknown host")


def _with_platform(frame: pd.DataFrame) -> pd.DataFrame:
    labels = [platform_label(*r) for r in frame[list(PROVENANCE_COLUMNS)].itertuples(index=False)]
    return frame.assign(platform=pd.Series(labels, index=frame.index, dtype=object))


def _as_list(paths: str | Path | Sequence[str | Path]) -> list[str | Path]:
    return [paths] if isinstance(paths, (str, Path)) else list(paths)


def load_provenance(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Every provenance row of one or several results sets (one row per run), with
    ``results_set`` (the set's position in ``paths``) and ``platform``; an empty frame with
    those columns where there is no provenance."""
    frames = []
    for i, path in enumerate(_as_list(paths)):
        frames.append(_provenance_of(path).drop_duplicates("run_id").assign(results_set=i))
    if not frames:
        return pd.DataFrame(columns=["run_id", *PROVENANCE_COLUMNS, "results_set", "platform"])
    prov = pd.concat(frames, ignore_index=True)
    for col in PROVENANCE_COLUMNS:
        prov[col] = prov[col].fillna("")
    return _with_platform(prov.fillna(""))


def load_results(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Metrics of one or several results sets, joined with provenance on ``run_id``.

    Adds ``host``, ``cpu_model``, ``gpu_model``, ``platform`` and ``results_set`` (the set's
    position in ``paths``: never a path, so no machine's file system shows in a table).
    """
    frames = []
    for i, path in enumerate(_as_list(paths)):
        table = load_metrics(path)
        prov = _provenance_of(path).drop_duplicates("run_id")[["run_id", *PROVENANCE_COLUMNS]]
        table = table.merge(prov, on="run_id", how="left")
        for col in PROVENANCE_COLUMNS:
            table[col] = table[col].fillna("")
        frames.append(table.assign(results_set=i))
    if not frames:
        columns = [*COLUMNS, *PROVENANCE_COLUMNS, "results_set", "platform"]
        return _typed(pd.DataFrame(columns=columns))
    return _with_platform(pd.concat(frames, ignore_index=True))


def platforms(table: pd.DataFrame) -> pd.DataFrame:
    """One row per machine in the set, with its number of runs and rows."""
    if "platform" not in table or table.empty:
        return pd.DataFrame(columns=["platform", "host", "cpu_model", "gpu_model", "runs", "rows"])
    return (
        table.groupby(["platform", "host", "cpu_model", "gpu_model"], sort=True)
        .agg(runs=("run_id", "nunique"), rows=("metric", "size"))
        .reset_index()
    )


def multi_platform(table: pd.DataFrame) -> bool:
    """Whether ``table`` combines several machines (then tables key on ``platform``)."""
    return "platform" in table and table["platform"].nunique() > 1


def with_platform_key(table: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """``keys``, led by ``platform`` where ``table`` combines several machines."""
    return (["platform"] if multi_platform(table) else []) + list(keys)


def reference_dir(candidates: Iterable[str | Path] = ()) -> Path | None:
    """The directory holding ``pd14_published.csv``: the first candidate that has it, else
    the copy shipped in the package."""
    pkg = Path(__file__).resolve().parents[1] / "simulation" / "reference"
    for cand in [*candidates, pkg]:
        if cand and (Path(cand) / "pd14_published.csv").exists():
            return Path(cand)
    return None


#: Machine state recorded in ``provenance.csv`` (where the pipeline records it) → the
#: Machines table's header; columns a results set lacks are not shown.
MACHINE_STATE = {
    "cpu_cores": "cores",
    "smt": "SMT",
    "cpu_governor": "governor",
    "cpu_mhz": "clock (MHz)",
    "cpu_max_mhz": "max clock (MHz)",
    "load_before": "load before",
    "load_after": "load after",
    "steal": "steal",
    "cgroup_cpu_quota": "cgroup CPU quota",
    "memory_bytes": "memory (GiB)",
}
#: Columns shown in other units than recorded: factor from the recorded value.
MACHINE_SCALE = {"memory_bytes": 1 / 2**30}


def _state_cell(values: pd.Series, scale: float) -> str:
    """One machine's values of a state column over its runs: the value, or the range."""
    values = values[values != ""].drop_duplicates()
    if values.empty:
        return ""
    numbers = numeric(values)
    if numbers.notna().all():
        lo, hi = fmt_num(numbers.min() * scale), fmt_num(numbers.max() * scale)
        return lo if lo == hi else f"{lo}–{hi}"
    return " / ".join(sorted(values))


def machines(table: pd.DataFrame, provenance: pd.DataFrame) -> pd.DataFrame:
    """The Machines table: :func:`platforms` with the machine state its runs recorded
    (a range where runs differ, e.g. the load before each run)."""
    plats = platforms(table)
    present = [c for c in MACHINE_STATE if c in provenance and (provenance[c] != "").any()]
    if plats.empty or not present:
        return plats
    state = [
        {
            "platform": platform,
            **{MACHINE_STATE[c]: _state_cell(runs[c], MACHINE_SCALE.get(c, 1)) for c in present},
        }
        for platform, runs in provenance.groupby("platform", sort=True)
    ]
    return plats.merge(pd.DataFrame(state), on="platform", how="left").fillna("")
