"""The simulation track's tables: the PD14 microcircuit beside the published runs, its
phase times per thread count, and its population rates against the reference.

A simulation cell is one framework × scale × thread count (× platform); its rows come
from one run per seed and are summarised over seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from spikemark.report.cells import (
    ENERGY_COVERS,
    ENERGY_PREFERENCE,
    contended,
    fmt_row,
    fmt_stat,
    pick,
    reason_category,
    total_energy_rows,
    unavailable_text,
)
from spikemark.report.load import multi_platform, numeric, reference_dir, with_platform_key
from spikemark.results import CELL_METRIC
from spikemark.stats import positive_summary

SIM_KEYS = ["framework", "scale", "ranks", "threads"]
SIM_ENERGY_METRICS = ("e_syn", "energy_per_synaptic_event", "energy_per_synop")
PHASES = ("time_create", "time_connect", "time_presimulate", "time_simulate")
PUBLISHED = "pd14_published.csv"
RATES = "pd14_rates.csv"


def sim_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["track"] == "simulation"]


def left_out_note(rows: pd.DataFrame) -> str:
    """ "2 contended left out" for the per-seed rows a summary leaves out (not ok)."""
    bad = rows[rows["status"] != "ok"]
    if bad.empty:
        return ""
    counts = (
        bad["reason"].map(reason_category).where(bad["status"] == "invalid", bad["status"]).value_counts()
    )
    return ", ".join(f"{n} {category}" for category, n in counts.items()) + " left out"


def summary_over_seeds(rows: pd.DataFrame) -> pd.Series | None:
    """The summary row of a metric: a seed-less summary row if there is one, else the
    geometric mean over the ok per-seed rows with its 95 % interval on the log scale
    (:func:`spikemark.stats.positive_summary`); a not-ok row if none is ok.

    Per-seed rows that are not ok (e.g. a contended timing) are left out of the summary;
    ``note`` says how many and why.
    """
    if rows.empty:
        return None
    summary = rows[rows["seed"] == ""]
    if len(summary):
        return pick(summary, rows["metric"].iloc[0])
    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        return rows.iloc[0]
    s = positive_summary(ok["value"].tolist())
    out = ok.iloc[0].copy()
    out["value"], out["n"] = s.value, s.n
    out["ci_low"] = math.nan if s.ci_low is None else s.ci_low
    out["ci_high"] = math.nan if s.ci_high is None else s.ci_high
    out["note"] = left_out_note(rows)
    return out


def fmt_summary(row: pd.Series | None, *, with_source: bool = False, unit: str = "") -> str:
    """A summary over seeds as a cell (in ``unit``), with what it left out."""
    note = row.get("note", "") if row is not None else ""
    return fmt_row(row, with_source=with_source, note=note, unit=unit)


def sim_cells(table: pd.DataFrame) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """(coordinates, rows of every seed) per simulation cell (framework, scale, ranks,
    threads), thread counts in numeric order. A multi-rank run's per-rank rows (``variant
    rank<r>``) stay in metrics.csv; the run's own rows (the slowest rank's times, sums over
    ranks) are what the tables summarise. Validation verdicts are not timed runs: their rows
    are left out here (the rates table reads them)."""
    sim = sim_rows(table)
    # validation verdicts have their own table (rates); timed runs carry their verdict
    sim = sim[~sim["variant"].str.startswith("rank") & ~sim["variant"].isin(["validation", "validation_full"])]
    keys = [k for k in with_platform_key(table, SIM_KEYS) if k != "threads"]
    sim = sim.assign(_threads=numeric(sim["threads"]))
    for key, rows in sim.groupby([*keys, "_threads"], sort=True, dropna=False):
        values = dict(zip(keys, key[:-1]))
        values["threads"] = rows["threads"].iloc[0]
        yield values, rows.drop(columns=["_threads"])


def sim_mark(rows: pd.DataFrame) -> tuple[str, str]:
    """A simulation cell's status (its first not-ok seed's) and every seed's reason."""
    marks = rows[rows["metric"] == CELL_METRIC]
    if marks.empty:
        return "ok", ""
    reasons = "; ".join(
        (f"seed {r.seed}: " if r.seed else "") + f"{r.status}: {r.reason}" for r in marks.itertuples()
    )
    return marks.iloc[0]["status"], reasons


def simulation_cells(table: pd.DataFrame) -> pd.DataFrame:
    """One row per simulation cell with its status."""
    out = [{**key, "status": sim_mark(rows)[0]} for key, rows in sim_cells(table)]
    return pd.DataFrame(out, columns=[*with_platform_key(table, SIM_KEYS), "status"])


def _e_syn_cell(rows: pd.DataFrame) -> tuple[str, str]:
    """E_syn in µJ with its source, and what that energy covers."""
    cand = rows[rows["metric"].isin(SIM_ENERGY_METRICS)]
    cand = total_energy_rows(cand) if len(cand) else cand
    if cand.empty:
        return "", ""
    prefer = ENERGY_PREFERENCE["cpu"]
    ok = cand[cand["status"] == "ok"]
    for source in prefer + tuple(sorted(set(cand["source"]) - set(prefer))):
        sub = ok[ok["source"] == source]
        if len(sub):
            row = summary_over_seeds(sub)
            return fmt_summary(row, with_source=True, unit="µJ"), ENERGY_COVERS.get(source, source)
    return unavailable_text(cand), "nothing (no meter or estimate here)"


def _platform_of(rows: pd.DataFrame) -> str:
    if "platform" not in rows:
        return ""
    return "; ".join(sorted(set(rows["platform"]) - {""}))


def _scale_text(scale: str) -> str:
    if not scale:
        return ""
    full = scale in ("N1_K1", "N1.0_K1.0")
    return scale + ("" if full else " (downscaled)")


PD14_COLUMNS = ["kind", "reference", "simulator", "system", "nodes", "ranks", "threads", "scale", "drive", "RTF"]
PD14_COLUMNS += ["E_syn (µJ)", "energy covers", *[f"{p} (s)" for p in PHASES], "status", "reason"]


def _published_rows(published: pd.DataFrame) -> list[dict[str, str]]:
    out = []
    for r in published.fillna("").itertuples():
        out.append(
            {
                "kind": "published",
                "reference": f"{r.study} [{r.key}]",
                "simulator": r.simulator,
                "system": r.system,
                "nodes": str(r.nodes),
                "ranks": "",
                "threads": "",
                "scale": "full (N = K = 1)",
                "drive": r.external_drive,
                "RTF": f"{float(r.rtf):g}" if r.rtf != "" else "not published",
                "E_syn (µJ)": f"{float(r.e_syn_uj):g}" if r.e_syn_uj != "" else "not published",
                "energy covers": ENERGY_COVERS["published"],
                "status": "published",
                "reason": "",
            }
        )
    return out


def pd14_table(
    table: pd.DataFrame, published: pd.DataFrame | None = None, *, drive: str = "", nodes: int = 1
) -> pd.DataFrame:
    """Our PD14 runs beside the published ones, with the columns that keep it honest.

    Ours: geometric mean over seeds with its 95 % interval on the log scale and N per
    framework, scale, thread count (per-seed timings that are not ok, e.g. contended, are
    left out and counted).
    Published: RTF and E_syn of the full-scale model (N = K = 1) from ``pd14_published.csv``.
    """
    out = []
    for key, rows in sim_cells(table):
        status, reason = sim_mark(rows)
        rec = {
            "kind": "this work",
            "reference": key.get("platform", "") or _platform_of(rows),
            "simulator": key["framework"],
            "system": _platform_of(rows),
            "nodes": str(nodes),
            "ranks": key.get("ranks") or "1",
            "threads": key["threads"],
            "scale": _scale_text(key["scale"]),
            "drive": drive or "not recorded",
            "RTF": fmt_summary(summary_over_seeds(rows[rows["metric"] == "rtf"])),
        }
        rec["E_syn (µJ)"], rec["energy covers"] = _e_syn_cell(rows)
        for phase in PHASES:
            rec[f"{phase} (s)"] = fmt_summary(summary_over_seeds(rows[rows["metric"] == phase]), unit="s")
        out.append({**rec, "status": status, "reason": reason})
    if published is not None:
        out += _published_rows(published)
    return pd.DataFrame(out, columns=PD14_COLUMNS).fillna("")


TOTAL = "total"


def scaling_points(table: pd.DataFrame) -> pd.DataFrame:
    """Per simulation cell, seed and phase (and ``total``, their sum): the wall time and
    whether it was contended. Seeds whose run failed validation (or failed) are left out;
    a run the guard marked contended as a whole has every phase contended."""
    out = []
    for key, rows in sim_cells(table):
        for seed, run in rows.groupby("seed", sort=True):
            marks = run[run["metric"] == CELL_METRIC]
            if len(marks) and not contended(marks).all():
                continue
            phases = run[
                run["metric"].isin(PHASES) & run["value"].notna() & ((run["status"] == "ok") | contended(run))
            ]
            whole = bool(len(marks))
            for r, busy in zip(phases.itertuples(), contended(phases)):
                out.append(
                    {**key, "seed": seed, "phase": r.metric, "seconds": r.value, "contended": whole or busy}
                )
            if set(phases["metric"]) == set(PHASES):
                busy = whole or bool(contended(phases).any())
                out.append(
                    {**key, "seed": seed, "phase": TOTAL, "seconds": phases["value"].sum(), "contended": busy}
                )
    cols = [*with_platform_key(table, SIM_KEYS), "seed", "phase", "seconds", "contended"]
    frame = pd.DataFrame(out, columns=cols)
    frame["threads"] = numeric(frame["threads"].astype(str))
    frame["contended"] = frame["contended"].astype(bool)
    return frame


def phase_times(table: pd.DataFrame) -> pd.DataFrame:
    """Phase (and total) wall time per framework, scale and thread count: the geometric
    mean over the seeds that were not contended, with its 95 % interval on the log scale
    (the strong-scaling lines)."""
    points = scaling_points(table)
    keys = [*with_platform_key(table, SIM_KEYS), "phase"]
    out = []
    for key, rows in points[~points["contended"]].groupby(keys, sort=True):
        s = positive_summary(rows["seconds"].tolist())
        out.append(
            {**dict(zip(keys, key)), "seconds": s.value, "ci_low": s.ci_low, "ci_high": s.ci_high, "n": s.n}
        )
    return pd.DataFrame(out, columns=[*keys, "seconds", "ci_low", "ci_high", "n"])


def population_rates(table: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rate per population summarised over seeds and thread counts (geometric mean, see
    :func:`summary_over_seeds`) per framework and scale, beside the reference rates."""
    sim = sim_rows(table)
    rates = sim[(sim["metric"] == "rate") & (sim["status"] == "ok")]
    keys = [*(["platform"] if multi_platform(table) else []), "framework", "scale", "population"]
    out = []
    for key, rows in rates.groupby(keys, sort=True):
        s = positive_summary(rows["value"].tolist())
        out.append(
            {**dict(zip(keys, key)), "rate_hz": s.value, "ci_low": s.ci_low, "ci_high": s.ci_high, "n": s.n}
        )
    frame = pd.DataFrame(out, columns=[*keys, "rate_hz", "ci_low", "ci_high", "n"])
    marks = sim[sim["metric"] == CELL_METRIC]
    worst = {}
    for r in marks.itertuples():
        worst.setdefault(tuple(getattr(r, k) for k in keys[:-1]), r.status)
    frame["status"] = [worst.get(tuple(r[:-1]), "ok") for r in frame[keys].itertuples(index=False)]
    if reference is not None and len(reference):
        ref = reference.rename(
            columns={
                "mean_rate_hz_pynest": "reference_pynest_hz",
                "mean_rate_hz_pynn_example": "reference_pynn_hz",
            }
        )[["population", "reference_pynest_hz", "reference_pynn_hz"]]
        frame = frame.merge(ref, on="population", how="left")
    return frame


def rates_table(table: pd.DataFrame, rates_reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rates figure's numbers as a table (value [interval] (n))."""
    rates = population_rates(table, rates_reference)
    if rates.empty:
        return pd.DataFrame(columns=["framework", "scale", "population", "rate (Hz)"])
    rates["rate (Hz)"] = [
        fmt_stat(*r) for r in rates[["rate_hz", "ci_low", "ci_high", "n"]].itertuples(index=False)
    ]
    return rates[[c for c in rates if c not in ("rate_hz", "ci_low", "ci_high", "n")]]


@dataclass(frozen=True)
class Reference:
    """The published PD14 rows and reference rates the simulation page compares with."""

    published: pd.DataFrame | None
    rates: pd.DataFrame | None
    #: What the page says about where they came from (file names, never a machine's path).
    note: str


def load_reference(directory: str | Path = "") -> Reference:
    """``pd14_published.csv`` and ``pd14_rates.csv`` from ``directory`` (default: the copy
    shipped with the package, see :func:`~spikemark.report.load.reference_dir`)."""
    found = reference_dir([directory] if directory else [])
    if found is None:
        return Reference(None, None, "Reference data: not found (published rows left out).")
    published = pd.read_csv(found / PUBLISHED, dtype=str, keep_default_na=False)
    rates = pd.read_csv(found / RATES) if (found / RATES).exists() else None
    origin = "shipped with spikemark" if found == reference_dir() else f"from the folder {found.name}"
    names = ", ".join(f"`{n}`" for n in (PUBLISHED, RATES) if (found / n).exists())
    return Reference(published, rates, f"Reference data: {names} ({origin}).")
