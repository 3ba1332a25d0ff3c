"""Formatting one table cell: a statistic with its interval and N, an energy with its
source, synaptic operations with their convention, or ``status: reason``.

Every statistical cell shows value, 95 % interval and N; every energy cell names its
source (and says "estimate" where it is one); skipped, failed, invalid and unavailable
values keep their reason.

One number format everywhere (:func:`fmt_num`): three significant digits, integers as
integers, a short exponent (``2.15e-8``) only below 0.001 or from a million up. Units are
in the column headers — ``latency batch 1 (ms)`` — and a cell converts its row's value to
its header's unit (:func:`convert`), so header and number cannot disagree.
"""

from __future__ import annotations

import re
from typing import Sequence

import pandas as pd

#: Energy sources that are estimates, not meter readings.
ESTIMATES = ("estimate-ops", "estimate-tdp")
#: Which energy source a headline cell shows first, per hardware (meters before estimates).
ENERGY_PREFERENCE = {
    "cpu": ("rapl", "slurm", "nvml", "estimate-tdp", "estimate-ops"),
    "cuda": ("nvml", "slurm", "rapl", "estimate-ops", "estimate-tdp"),
}
#: Synaptic-operation conventions, NeuroBench's own first.
CONVENTIONS = ("neurobench-convention", "folded-convention")
#: What an energy source covers (the honest-comparison column of the PD14 table).
ENERGY_COVERS = {
    "rapl": "CPU packages (RAPL counter), idle subtracted",
    "nvml": "GPU board (NVML counter), idle subtracted",
    "slurm": "compute node as accounted by Slurm",
    "estimate-ops": "estimate from operation counts (not measured)",
    "estimate-tdp": "estimate from CPU time × TDP (not measured)",
    "published": "whole machine at the power outlet (published)",
}
NOT_RECORDED = "not recorded (no energy row)"


def fmt_num(x: float, digits: int = 3) -> str:
    """A number as every report table writes it: ``0.975``, ``12.5``, ``4672``,
    ``2.15e-8``; "" for NaN."""
    if pd.isna(x):
        return ""
    x = float(x)
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    text = f"{x:.{digits}g}"
    if "e" not in text:
        return text
    if 1e3 <= abs(x) < 1e6:
        return f"{x:.0f}"
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


#: Factor from a recorded unit to the unit a header shows.
UNIT_FACTORS = {
    ("s", "ms"): 1e3,
    ("s", "µs"): 1e6,
    ("J", "mJ"): 1e3,
    ("J", "µJ"): 1e6,
    ("J", "nJ"): 1e9,
    ("pJ", "µJ"): 1e-6,
    ("bytes", "KiB"): 2.0**-10,
    ("bytes", "MiB"): 2.0**-20,
    ("bytes", "GiB"): 2.0**-30,
    ("J*s", "J·s"): 1.0,
}


def convert(unit: str, to: str) -> float | None:
    """The factor from ``unit`` to ``to`` (1 if they are the same), None if unknown."""
    return 1.0 if unit == to or not to else UNIT_FACTORS.get((unit, to))


def header_unit(header: str) -> str:
    """The unit a column header names in its trailing parentheses, "" if none is a unit
    (``latency batch 1 (ms)`` → ``ms``)."""
    m = re.search(r"\(([^()]+)\)$", header)
    unit = m.group(1) if m else ""
    known = {u for pair in UNIT_FACTORS for u in pair}
    return unit if unit in known or unit in ("samples/s",) else ""


def fmt_stat(value: float, lo: float, hi: float, n: float, digits: int = 3, *, note: str = "") -> str:
    """``value [lo, hi] (n=N)``; interval and N are left out for single values; ``note``
    (e.g. "1 contended left out") goes beside N."""
    if pd.isna(value):
        return ""
    text = fmt_num(value, digits)
    if not pd.isna(lo) and not pd.isna(hi):
        text += f" [{fmt_num(lo, digits)}, {fmt_num(hi, digits)}]"
    details = [f"n={int(n)}"] if not pd.isna(n) and n > 1 else []
    details += [note] if note else []
    if details:
        text += f" ({'; '.join(details)})"
    return text


def fmt_row(
    row: pd.Series | dict | None,
    *,
    with_source: bool = False,
    digits: int = 3,
    note: str = "",
    unit: str = "",
) -> str:
    """A result row as a table cell: the statistic (in ``unit`` where given), or
    ``status: reason``; "" if no row. A row whose unit cannot be converted to ``unit``
    keeps its own, written after the number."""
    if row is None:
        return ""
    if row["status"] != "ok":
        return f"{row['status']}: {row['reason']}"
    factor = convert(str(row.get("unit", "")), unit)
    scale = 1.0 if factor is None else factor
    values = [row[c] * scale for c in ("value", "ci_low", "ci_high")]
    text = fmt_stat(*values, row["n"], digits, note=note)
    if factor is None:
        text += f" {row['unit'] or '(unit not recorded)'}"
    if with_source:
        text += f" · {source_label(row)}"
    return text


def reason_category(reason: str) -> str:
    """The stable words of a reason: what comes before its first colon, parenthesised
    details left out ("contended: got 0.43 of 2 requested cores" → "contended";
    "no CUDA device on host x (no NVIDIA driver: …)" → "no CUDA device on host x")."""
    text = str(reason)
    while True:  # innermost parentheses first, so nested ones go too
        stripped = re.sub(r"\([^()]*\)", "", text)
        if stripped == text:
            break
        text = stripped
    text = text.split("(", 1)[0]  # an unclosed parenthesis
    return re.sub(r"\s+", " ", text.split(":", 1)[0]).strip() or "no reason given"


def short_problem(cell: str) -> str:
    """A ``status: reason`` cell as ``status: category`` (an energy cell's list of
    unavailable meters as ``unavailable``); any other cell unchanged."""
    if str(cell).startswith(UNAVAILABLE):
        return "unavailable"
    status, sep, reason = str(cell).partition(": ")
    if sep and status in ("skipped", "failed", "invalid", "unavailable"):
        return f"{status}: {reason_category(reason)}"
    return cell


#: Reason category of a timing the contention guard found contended ("contended: got 0.43
#: of 2 requested cores; other load 3.1").
CONTENDED = "contended"


def contended(rows: pd.DataFrame) -> pd.Series:
    """Rows the contention guard marked: ``invalid`` with a reason of category ``contended``."""
    return (rows["status"] == "invalid") & (rows["reason"].map(reason_category) == CONTENDED)


def source_label(row: pd.Series | dict) -> str:
    """The source as a reader needs it: estimates say so (``estimate-ops``, ``estimate-tdp``),
    with the operation convention they counted (``estimate-ops (neurobench)``)."""
    source = row["source"]
    variant = str(row.get("variant", "") or "")
    if source in ESTIMATES and variant:
        convention = variant.removeprefix("ops=").removesuffix("-convention")
        return f"{source} ({convention})"
    return source


def pick(rows: pd.DataFrame, metric: str, sources: Sequence[str] = ()) -> pd.Series | None:
    """The row a headline cell shows: ok before not-ok, then by the order of ``sources``."""
    cand = rows[rows["metric"] == metric]
    if cand.empty:
        return None
    rank_source = {s: i for i, s in enumerate(sources)}
    order = cand.assign(
        _ok=(cand["status"] != "ok").astype(int),
        _src=cand["source"].map(rank_source).fillna(len(sources)),
        _var=(cand["variant"] != "").astype(int),
    ).sort_values(["_ok", "_src", "_var"], kind="stable")
    return order.iloc[0]


def total_energy_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Energy rows of whole meters (counters' per-domain rows dropped; estimates kept)."""
    domain = (rows["variant"] != "") & ~rows["source"].isin(ESTIMATES)
    return rows[~domain]


UNAVAILABLE = "unavailable — "


def unavailable_text(rows: pd.DataFrame) -> str:
    """``unavailable — source: reason; …``, one reason per source."""
    reasons = rows.drop_duplicates("source")
    return UNAVAILABLE + "; ".join(f"{r.source}: {r.reason}" for r in reasons.itertuples())


def energy_cell(rows: pd.DataFrame, metric: str, hardware: str, unit: str = "") -> str:
    """An energy cell: the preferred ok value with its source (a meter where one read,
    else a labelled estimate), else every reason why not."""
    cand = total_energy_rows(rows[rows["metric"] == metric])
    if cand.empty:
        return NOT_RECORDED
    prefer = ENERGY_PREFERENCE.get(hardware, ENERGY_PREFERENCE["cpu"])
    best = pick(cand, metric, prefer + CONVENTIONS)
    # estimate-ops variants name their convention: prefer NeuroBench's
    ok = cand[(cand["status"] == "ok") & (cand["source"] == best["source"])]
    if len(ok) > 1:
        nb = ok[ok["variant"].str.contains(CONVENTIONS[0], regex=False)]
        best = (nb if len(nb) else ok).iloc[0]
    if best["status"] == "ok":
        return fmt_row(best, with_source=True, unit=unit)
    return unavailable_text(cand)


def synops_cell(rows: pd.DataFrame, metric: str) -> str:
    """Synaptic operations with their convention (NeuroBench's preferred)."""
    row = pick(rows, metric, CONVENTIONS)
    if row is None:
        return ""
    text = fmt_row(row)
    return text + (f" ({row['source'].removesuffix('-convention')})" if row["status"] == "ok" else "")


SYNOPS_METRICS = ("effective_macs", "effective_acs")
ENERGY_METRICS = ("energy_per_inference",)


def metric_cells(head: pd.DataFrame, columns: dict[str, str], hardware: str) -> dict[str, str]:
    """One formatted cell per metric (``columns``: metric → header): energy with its
    source, synaptic operations with their convention, everything else as value
    [interval] (n)."""
    cells = {}
    for metric, col in columns.items():
        if metric in ENERGY_METRICS:
            cells[col] = energy_cell(head, metric, hardware, header_unit(col))
        elif metric in SYNOPS_METRICS:
            cells[col] = synops_cell(head, metric)
        else:
            cells[col] = fmt_row(pick(head, metric), unit=header_unit(col))
    return cells
