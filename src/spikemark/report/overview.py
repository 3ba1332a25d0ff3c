"""What a page opens with, so that a reader can scan it in a minute: the banner about
numbers that need a caveat, what was measured, the Pareto front in a sentence, and what
is not ok grouped by status and reason category with counts (the full list one click
away, in a ``<details>`` element)."""

from __future__ import annotations

from html import escape
from typing import Sequence

import pandas as pd

from spikemark.report.cells import reason_category
from spikemark.report.ml import ROBUSTNESS, ml_cells, pareto_sentence
from spikemark.report.pd14 import sim_cells
from spikemark.report.status import banner, problems
from spikemark.results import CELL_METRIC

#: What one cell of each track is called in a sentence (singular, plural).
CELL_NAMES = {
    "ml": ("ML cell", "ML cells"),
    "robustness": ("robustness cell", "robustness cells"),
    "latency": ("latency cell", "latency cells"),
    "simulation": ("PD14 run", "PD14 runs"),
}
#: The order statuses are listed in: what needs a look first.
STATUS_ORDER = ("failed", "invalid", "skipped")
BANNER_STYLE = "background:#fff3cd;border:1px solid #e0b000;padding:0.4em 0.8em;margin:0.5em 0"


def _cells(n: int, track: str) -> str:
    one, many = CELL_NAMES[track]
    return f"{n} {one if n == 1 else many}"


def _and(parts: Sequence[str]) -> str:
    parts = list(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _track_of(rows: pd.DataFrame) -> pd.Series:
    robust = (rows["track"] == "ml") & (rows["variant"] == ROBUSTNESS)
    return rows["track"].where(~robust, "robustness")


def _values(series: pd.Series) -> str:
    return ", ".join(sorted(set(series.astype(str)) - {""}))


def measured(table: pd.DataFrame) -> str:
    """One sentence: which cells of which tracks this results set holds, on which machines."""
    parts = []
    ml = [key for key, _ in ml_cells(table)]
    if ml:
        cells = pd.DataFrame(ml)
        parts.append(
            f"{_cells(len(ml), 'ml')} (datasets {_values(cells['dataset'])}; methods {_values(cells['method'])}; "
            f"frameworks {_values(cells['framework'])}; hardware {_values(cells['hardware'])})"
        )
    robust = sum(1 for _ in ml_cells(table, robustness=True))
    if robust:
        parts.append(_cells(robust, "robustness"))
    latency = table[table["track"] == "latency"]
    if len(latency):
        parts.append(
            f"{_cells(latency['run_id'].nunique(), 'latency')} of the framework latency benchmark "
            f"({_values(latency['framework'])})"
        )
    sim = table[table["track"] == "simulation"]
    if len(sim):
        n_cells = sum(1 for _ in sim_cells(table))
        parts.append(
            f"{_cells(sim['run_id'].nunique(), 'simulation')} in {n_cells} settings "
            f"(simulators {_values(sim['framework'])}; threads {_values(sim['threads'])}; seeds {_values(sim['seed'])})"
        )
    if not parts:
        return "Measured: nothing (this results set has no rows)."
    machines = sorted(set(table["platform"]) - {""}) if "platform" in table else []
    where = (
        f" on {len(machines)} machine{'s' if len(machines) != 1 else ''}: {'; '.join(machines)}"
        if machines
        else ""
    )
    return f"Measured: {_and(parts)}{where}."


def problem_lines(table: pd.DataFrame) -> list[str]:
    """Skipped, failed and invalid cells grouped by status and reason category, with the
    number of cells per track ("30 ML cells and 3 latency cells skipped: no CUDA device"),
    then the metrics that are unavailable here, grouped by source and reason category."""
    marks = table[table["metric"] == CELL_METRIC]
    marks = marks.assign(_track=_track_of(marks), _category=marks["reason"].map(reason_category))
    lines = []
    for (status, category), rows in sorted(
        marks.groupby(["status", "_category"]),
        key=lambda g: (STATUS_ORDER.index(g[0][0]) if g[0][0] in STATUS_ORDER else 9, -len(g[1]), g[0][1]),
    ):
        counts = rows.drop_duplicates("run_id")["_track"].value_counts()
        tracks = [_cells(int(counts[t]), t) for t in CELL_NAMES if t in counts]
        lines.append(f"{_and(tracks)} {status}: {category}")
    missing = table[table["status"] == "unavailable"]
    missing = missing.assign(_category=missing["reason"].map(reason_category))
    for (source, category), rows in missing.groupby(["source", "_category"], sort=True):
        metrics = _values(rows["metric"])
        lines.append(f"{source} {metrics} unavailable in {rows['run_id'].nunique()} runs: {category}")
    return lines


def banner_html(table: pd.DataFrame, provenance: pd.DataFrame):
    """The report's opening one-line banner (:func:`spikemark.report.status.banner`); empty
    when there is no caveat."""
    from IPython.display import HTML

    text = banner(table, provenance)
    return HTML(f'<div id="spikemark-banner" style="{BANNER_STYLE}">{escape(text)}</div>' if text else "")


def measured_html(table: pd.DataFrame):
    from IPython.display import HTML

    return HTML(f'<p id="spikemark-measured">{escape(measured(table))}</p>')


def pareto_html(table: pd.DataFrame):
    from IPython.display import HTML

    return HTML(f'<p id="spikemark-pareto">{escape(pareto_sentence(table))}</p>')


def problem_summary(table: pd.DataFrame, tracks: Sequence[str] | None = None):
    """What is not ok (``tracks``: only these), as grouped lines with the full list of rows
    one click away."""
    from IPython.display import HTML

    from spikemark.report.publish import table_html

    if tracks is not None:
        table = table[_track_of(table).isin(tracks)]
    lines = problem_lines(table)
    if not lines:
        return HTML('<p id="spikemark-status">Every cell and metric is ok.</p>')
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    rows = problems(table)
    listing = table_html(rows, "every row is ok")
    return HTML(
        f'<div id="spikemark-status"><p style="margin-bottom:0.2em">Not ok:</p><ul style="margin-top:0">{items}</ul>'
        f'<details id="spikemark-problems"><summary>All {len(rows)} rows that are not ok, with their '
        f"coordinates</summary>{listing}</details></div>"
    )
