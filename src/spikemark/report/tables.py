"""The report's tables: small functions from the tidy results to formatted frames.

Every statistical cell shows value, 95 % interval and N; every energy cell names its
source (and says "estimate" where it is one); skipped, failed, invalid and unavailable
values stay in the tables with their reason. Several machines' results combine into one
table, told apart by a ``platform`` column built from their provenance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from spikemark.results import CELL_METRIC, COLUMNS

ML_KEYS = ["dataset", "method", "framework", "hardware", "pruning", "sparsity", "seed"]
SIM_KEYS = ["framework", "scale", "threads"]
NUMERIC = ("value", "ci_low", "ci_high", "n")
PROVENANCE_COLUMNS = ("host", "cpu_model", "gpu_model")

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
SIM_ENERGY_METRICS = ("e_syn", "energy_per_synaptic_event", "energy_per_synop")
PHASES = ("time_create", "time_connect", "time_presimulate", "time_simulate")
EMPTY_SIMULATION = "no simulation results in this results set"
EMPTY_ML = "no ML results in this results set"
NOT_RECORDED = "not recorded (no energy row)"


# ---------------------------------------------------------------- loading and combining


def _metrics_path(path: str | Path) -> Path:
    path = Path(path)
    return path / "metrics.csv" if path.is_dir() else path


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    for col in NUMERIC:
        table[col] = pd.to_numeric(table[col].replace("", None), errors="coerce")
    return table


def load_metrics(path: str | Path) -> pd.DataFrame:
    """One ``metrics.csv`` (or a results directory holding one), numbers typed."""
    table = pd.read_csv(_metrics_path(path), dtype=str, keep_default_na=False)
    for col in COLUMNS:
        if col not in table:
            table[col] = ""
    return _typed(table)


def load_provenance(path: str | Path) -> pd.DataFrame:
    """The ``provenance.csv`` beside a ``metrics.csv`` (empty frame if there is none)."""
    prov = _metrics_path(path).with_name("provenance.csv")
    if not prov.exists() or prov.stat().st_size == 0:
        return pd.DataFrame(columns=["run_id", *PROVENANCE_COLUMNS])
    try:
        return pd.read_csv(prov, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=["run_id", *PROVENANCE_COLUMNS])


def platform_label(host: str, cpu: str, gpu: str) -> str:
    """``host (CPU model; GPU model)``: what tells machines apart in a combined table."""
    parts = [p for p in (cpu, gpu) if p]
    return f"{host or 'unknown host'} ({'; '.join(parts)})" if parts else (host or "unknown host")


def load_results(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Metrics of one or several results sets, joined with provenance on ``run_id``.

    Adds ``host``, ``cpu_model``, ``gpu_model`` and ``platform``; rows of different
    machines stay apart because every table keys on ``platform`` when there is more than one.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    frames = []
    for i, path in enumerate(paths):
        table = load_metrics(path)
        prov = load_provenance(path)
        for col in PROVENANCE_COLUMNS:
            if col not in prov:
                prov[col] = ""
        prov = prov.drop_duplicates("run_id")[["run_id", *PROVENANCE_COLUMNS]]
        table = table.merge(prov, on="run_id", how="left")
        for col in PROVENANCE_COLUMNS:
            table[col] = table[col].fillna("")
        table["results_set"] = str(path)
        frames.append(table)
    if not frames:
        return _typed(pd.DataFrame(columns=[*COLUMNS, *PROVENANCE_COLUMNS, "results_set", "platform"]))
    table = pd.concat(frames, ignore_index=True)
    table["platform"] = [platform_label(*r) for r in table[list(PROVENANCE_COLUMNS)].itertuples(index=False)]
    return table


def platforms(table: pd.DataFrame) -> pd.DataFrame:
    """One row per machine in the set, with its number of runs and rows."""
    if "platform" not in table or table.empty:
        return pd.DataFrame(columns=["platform", "host", "cpu_model", "gpu_model", "runs", "rows"])
    return (
        table.groupby(["platform", "host", "cpu_model", "gpu_model"], sort=True)
        .agg(runs=("run_id", "nunique"), rows=("metric", "size"))
        .reset_index()
    )


def _multi_platform(table: pd.DataFrame) -> bool:
    return "platform" in table and table["platform"].nunique() > 1


def _keys(table: pd.DataFrame, keys: list[str]) -> list[str]:
    return (["platform"] if _multi_platform(table) else []) + keys


# ---------------------------------------------------------------- formatting


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}g}"


def fmt_stat(value: float, lo: float, hi: float, n: float, digits: int = 3) -> str:
    """``value [lo, hi] (n=N)``; interval and N are left out for single values."""
    if pd.isna(value):
        return ""
    text = _num(value, digits)
    if not pd.isna(lo) and not pd.isna(hi):
        text += f" [{_num(lo, digits)}, {_num(hi, digits)}]"
    if not pd.isna(n) and n > 1:
        text += f" (n={int(n)})"
    return text


def fmt_row(row: pd.Series | dict | None, *, with_source: bool = False, digits: int = 3) -> str:
    """A result row as a table cell: the statistic, or ``status: reason``; "" if no row."""
    if row is None:
        return ""
    if row["status"] != "ok":
        return f"{row['status']}: {row['reason']}"
    text = fmt_stat(row["value"], row["ci_low"], row["ci_high"], row["n"], digits)
    if with_source:
        text += f" · {source_label(row)}"
    return text


def source_label(row: pd.Series | dict) -> str:
    """The source as a reader needs it: estimates say so, and which op convention they used."""
    source = row["source"]
    if source in ESTIMATES:
        variant = str(row.get("variant", "") or "")
        detail = f", {variant}" if variant else ""
        return f"{source} (estimate{detail})"
    return source


def _pick(rows: pd.DataFrame, metric: str, sources: Sequence[str] = ()) -> pd.Series | None:
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


def energy_cell(rows: pd.DataFrame, metric: str, hardware: str) -> str:
    """An energy cell: the preferred ok value with its source, else every reason why not."""
    cand = total_energy_rows(rows[rows["metric"] == metric])
    if cand.empty:
        return NOT_RECORDED
    prefer = ENERGY_PREFERENCE.get(hardware, ENERGY_PREFERENCE["cpu"])
    best = _pick(cand, metric, prefer + CONVENTIONS)
    # estimate-ops variants name their convention: prefer NeuroBench's
    ok = cand[(cand["status"] == "ok") & (cand["source"] == best["source"])]
    if len(ok) > 1:
        nb = ok[ok["variant"].str.contains(CONVENTIONS[0], regex=False)]
        best = (nb if len(nb) else ok).iloc[0]
    if best["status"] == "ok":
        text = fmt_row(best, with_source=True)
        if best["source"] in ESTIMATES:
            meters = cand[~cand["source"].isin(ESTIMATES)]
            if len(meters) and not (meters["status"] == "ok").any():
                text += " — no meter here"
        return text
    reasons = cand.drop_duplicates("source")
    return "unavailable — " + "; ".join(f"{r.source}: {r.reason}" for r in reasons.itertuples())


# ---------------------------------------------------------------- ML cells


def _ml(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the measure stage (robustness-protocol rows are ``variant = robustness``)."""
    return table[(table["track"] == "ml") & (table["variant"] != "robustness")]


def _tnum(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", None), errors="coerce")


def _cell_mark(rows: pd.DataFrame) -> tuple[str, str]:
    marks = rows[rows["metric"] == CELL_METRIC]
    if marks.empty:
        return "ok", ""
    return marks["status"].iloc[0], marks["reason"].iloc[0]


def cell_status(table: pd.DataFrame) -> pd.DataFrame:
    """One row per ML cell: its status and reason (ok where no ``cell`` row says otherwise)."""
    ml = _ml(table)
    keys = _keys(table, ML_KEYS)
    out = []
    for key, rows in ml.groupby(keys, sort=True):
        status, reason = _cell_mark(rows)
        out.append({**dict(zip(keys, key)), "status": status, "reason": reason})
    return pd.DataFrame(out, columns=[*keys, "status", "reason"])


def status_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Cells per status, per track (the report's first table)."""
    rows = []
    cells = cell_status(table)
    for status, n in cells["status"].value_counts().items():
        rows.append({"track": "ml", "status": status, "cells": int(n)})
    sim = simulation_cells(table)
    for status, n in sim["status"].value_counts().items():
        rows.append({"track": "simulation", "status": status, "cells": int(n)})
    # the latency benchmark and the robustness protocol: one job (run id) per cell
    for track, rows_of_track in (
        ("robustness", table[(table["track"] == "ml") & (table["variant"] == "robustness")]),
        ("latency", table[table["track"] == "latency"]),
    ):
        marks = pd.Series([_cell_mark(r)[0] for _, r in rows_of_track.groupby("run_id", sort=True)], dtype=str)
        for status, n in marks.value_counts().items():
            rows.append({"track": track, "status": status, "cells": int(n)})
    return pd.DataFrame(rows, columns=["track", "status", "cells"])


def problems(table: pd.DataFrame) -> pd.DataFrame:
    """Every row that is not ok, readable at a glance.

    Skipped / failed / invalid cells are listed one by one (with their coordinates); rows of
    metrics that are unavailable here (e.g. an energy meter with no counter on this host)
    repeat the same reason in every cell, so they are grouped by metric, source and reason
    with the number of rows and cells they stand for.
    """
    bad = table[table["status"] != "ok"]
    lead = [c for c in ("platform",) if _multi_platform(table)]
    coords = [
        "dataset", "method", "framework", "hardware", "pruning", "sparsity", "timesteps", "scale", "threads",
        "seed", "size", "noise", "variant",
    ]
    cells = bad[bad["metric"] == "cell"][lead + ["track", *coords, "metric", "status", "reason"]].drop_duplicates()
    cells = cells.assign(rows=1, cells=1)
    rest = bad[bad["metric"] != "cell"]
    keys = lead + ["track", "metric", "source", "status", "reason"]
    grouped = (
        rest.groupby(keys, sort=True, dropna=False)
        .agg(rows=("run_id", "size"), cells=("run_id", "nunique"))
        .reset_index()
    )
    out = pd.concat([cells, grouped], ignore_index=True)
    columns = lead + ["track", *coords, "metric", "source", "status", "reason", "rows", "cells"]
    return out.reindex(columns=columns).fillna("").reset_index(drop=True)


def _largest_t(rows: pd.DataFrame) -> float:
    acc = rows[(rows["metric"] == "accuracy")]
    t = _tnum(acc["timesteps"])
    return t.max() if t.notna().any() else math.nan


def _at_t(rows: pd.DataFrame, t: float) -> pd.DataFrame:
    """Rows measured at ``T = t`` and rows that do not depend on T."""
    tt = _tnum(rows["timesteps"])
    return rows[tt.isna() | (tt == t)] if not math.isnan(t) else rows[tt.isna()]


def _fmt_key(key: str, value: str) -> str:
    if key == "sparsity" and value != "":
        return f"{float(value):g}"
    return value


def _fmt_t(t: float) -> str:
    return "" if math.isnan(t) else str(int(t))


def _ml_cells(table: pd.DataFrame, dataset: str | None = None):
    ml = _ml(table)
    if dataset is not None:
        ml = ml[ml["dataset"] == dataset]
    keys = _keys(table, ML_KEYS)
    for key, rows in ml.groupby(keys, sort=True):
        yield {k: _fmt_key(k, v) for k, v in zip(keys, key)}, rows


FRAMEWORK_COLUMNS = {
    "accuracy": "accuracy",
    "latency_batch1": "latency batch 1 (s)",
    "throughput": "throughput (samples/s)",
    "energy_per_inference": "energy / inference (J)",
    "effective_macs": "effective MACs / sample",
    "effective_acs": "effective ACs / sample",
    "connection_sparsity": "connection sparsity",
    "activation_sparsity": "activation sparsity",
}


def _synops_cell(rows: pd.DataFrame, metric: str) -> str:
    row = _pick(rows, metric, CONVENTIONS)
    if row is None:
        return ""
    text = fmt_row(row)
    return text + (f" ({row['source']})" if row["status"] == "ok" else "")


def _metric_cells(head: pd.DataFrame, columns: dict[str, str], hardware: str) -> dict[str, str]:
    """One formatted cell per metric: energy with its source, synaptic operations with
    their convention, everything else as value [interval] (n)."""
    cells = {}
    for metric, col in columns.items():
        if metric == "energy_per_inference":
            cells[col] = energy_cell(head, metric, hardware)
        elif metric in ("effective_macs", "effective_acs"):
            cells[col] = _synops_cell(head, metric)
        else:
            cells[col] = fmt_row(_pick(head, metric))
    return cells


def framework_comparison(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """Per dataset × method × framework × hardware × sparsity (× platform), at the largest T."""
    out = []
    for key, rows in _ml_cells(table, dataset):
        status, reason = _cell_mark(rows)
        t = _largest_t(rows)
        head = _at_t(rows, t)
        rec = {**key, "T": _fmt_t(t)}
        rec.update(_metric_cells(head, FRAMEWORK_COLUMNS, key["hardware"]))
        out.append({**rec, "status": status, "reason": reason})
    cols = [*_keys(table, ML_KEYS), "T", *FRAMEWORK_COLUMNS.values(), "status", "reason"]
    return pd.DataFrame(out, columns=cols)


# ---------------------------------------------------------------- conversion


def accuracy_by_timesteps(table: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (ok rows) with numeric T and sparsity, for figures."""
    acc = _ml(table)
    acc = acc[(acc["metric"] == "accuracy") & (acc["status"] == "ok")].copy()
    acc["T"] = _tnum(acc["timesteps"])
    acc["sparsity"] = _tnum(acc["sparsity"])
    cols = [*_keys(table, []), "dataset", "method", "framework", "hardware", "pruning", "sparsity", "seed", "T"]
    return acc[[*cols, "value", "ci_low", "ci_high", "n"]].reset_index(drop=True)


def _edp_pair(ann: pd.DataFrame, snn: pd.DataFrame, hardware: str) -> tuple[str, str, str, str]:
    """ANN and SNN EDP cells, their ratio and the common source (like compared with like)."""
    a = total_energy_rows(ann[ann["metric"] == "edp"])
    s = total_energy_rows(snn[snn["metric"] == "edp"])
    if a.empty and s.empty:
        return "", "", "", ""
    prefer = ENERGY_PREFERENCE.get(hardware, ENERGY_PREFERENCE["cpu"])
    for source in prefer + tuple(sorted(set(a["source"]) - set(prefer))):
        ra = a[(a["source"] == source) & (a["status"] == "ok")]
        rs = s[(s["source"] == source) & (s["status"] == "ok")]
        if len(ra) and len(rs):
            ra, rs = ra.iloc[0], rs.iloc[0]
            ratio = rs["value"] / ra["value"] if ra["value"] else math.nan
            return fmt_row(ra), fmt_row(rs), f"×{ratio:.3g}", source_label(rs)
    why = "; ".join(
        f"{r.source}: {r.reason}"
        for r in pd.concat([a, s]).drop_duplicates("source").itertuples()
        if r.reason
    )
    return fmt_row(_pick(a, "edp", prefer)), fmt_row(_pick(s, "edp", prefer)), "", "no common source — " + why


def conversion_table(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """ANN vs converted SNN at each T: accuracy penalty and change in energy-delay product.

    Pairs each ``ann2snn`` cell with the ``ann`` cell of the same dataset, hardware,
    sparsity and seed (and platform). A converted cell without accuracy rows (skipped,
    failed) is one row with its reason.
    """
    cells = dict(((tuple(k.items())), rows) for k, rows in _ml_cells(table, dataset))
    pair_keys = [k for k in _keys(table, ML_KEYS) if k not in ("method", "framework")]
    anns = {
        tuple((k, dict(key)[k]) for k in pair_keys): rows
        for key, rows in cells.items()
        if dict(key)["method"] == "ann"
    }
    out = []
    for key, rows in cells.items():
        key = dict(key)
        if key["method"] != "ann2snn":
            continue
        ann = anns.get(tuple((k, key[k]) for k in pair_keys))
        status, reason = _cell_mark(rows)
        if ann is not None:
            a_status, a_reason = _cell_mark(ann)
            if a_status != "ok" and status == "ok":
                status, reason = a_status, f"ANN cell: {a_reason}"
        base = {k: v for k, v in key.items() if k != "method"}
        acc = rows[(rows["metric"] == "accuracy")]
        ts = sorted(_tnum(acc["timesteps"]).dropna().unique())
        if not ts:
            out.append({**base, "T": "", "status": status, "reason": reason or "no accuracy rows"})
            continue
        ann_acc = _pick(ann, "accuracy") if ann is not None else None
        for t in ts:
            snn_t = _at_t(rows, t)
            snn_acc = _pick(snn_t, "accuracy")
            rec = {**base, "T": _fmt_t(t), "ANN accuracy": fmt_row(ann_acc), "SNN accuracy": fmt_row(snn_acc)}
            if ann_acc is not None and ann_acc["status"] == "ok" and snn_acc["status"] == "ok":
                rec["accuracy penalty (points)"] = f"{100 * (ann_acc['value'] - snn_acc['value']):+.2f}"
            elif ann is None:
                rec["accuracy penalty (points)"] = "no ANN cell to compare with"
            edp = _edp_pair(ann if ann is not None else rows.iloc[0:0], snn_t, key["hardware"])
            rec["ANN EDP (J·s)"], rec["SNN EDP (J·s)"], rec["EDP change (SNN/ANN)"], rec["EDP source"] = edp
            out.append({**rec, "status": status, "reason": reason})
    cols = [k for k in _keys(table, ML_KEYS) if k != "method"] + [
        "T",
        "ANN accuracy",
        "SNN accuracy",
        "accuracy penalty (points)",
        "ANN EDP (J·s)",
        "SNN EDP (J·s)",
        "EDP change (SNN/ANN)",
        "EDP source",
        "status",
        "reason",
    ]
    return pd.DataFrame(out, columns=cols).fillna("")


def conversion_penalty(table: pd.DataFrame) -> pd.DataFrame:
    """Numeric ANN − converted-SNN accuracy (points) at every T, for figures."""
    acc = accuracy_by_timesteps(table)
    on = [*_keys(table, []), "dataset", "hardware", "sparsity", "seed"]
    ann = acc[acc["method"] == "ann"][[*on, "value"]].rename(columns={"value": "ann_accuracy"})
    snn = acc[acc["method"] == "ann2snn"].rename(columns={"value": "snn_accuracy"})
    out = snn.merge(ann, on=on, how="inner")
    out["penalty_points"] = 100 * (out["ann_accuracy"] - out["snn_accuracy"])
    cols = [*on[:-1], "framework", "seed", "T", "ann_accuracy", "snn_accuracy", "penalty_points"]
    return out[cols].sort_values([*on, "T"]).reset_index(drop=True)


# ---------------------------------------------------------------- pruning


PRUNING_COLUMNS = {
    "accuracy": "accuracy",
    "footprint": "footprint (bytes)",
    "connection_sparsity": "connection sparsity",
    "effective_macs": "effective MACs / sample",
    "effective_acs": "effective ACs / sample",
    "energy_per_inference": "energy / inference (J)",
}


def pruning_table(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """Accuracy, footprint, synaptic operations and energy against sparsity (at the largest T).

    Pruning methods sit side by side at each sparsity, under the one dense baseline
    (pruning ``none``) they share; the accuracy change is against that baseline.
    """
    out = []
    dense: dict[tuple, float] = {}
    group = [k for k in _keys(table, ML_KEYS) if k not in ("pruning", "sparsity")]
    cells = sorted(
        _ml_cells(table, dataset),
        key=lambda kr: (*[kr[0][k] for k in group], float(kr[0]["sparsity"]), kr[0]["pruning"]),
    )
    for key, rows in cells:
        status, reason = _cell_mark(rows)
        t = _largest_t(rows)
        head = _at_t(rows, t)
        rec = {**{k: key[k] for k in group}, "pruning": key["pruning"], "sparsity": key["sparsity"], "T": _fmt_t(t)}
        acc = _pick(head, "accuracy")
        ident = tuple(key[k] for k in group)
        if acc is not None and acc["status"] == "ok" and float(key["sparsity"]) == 0:
            dense[ident] = acc["value"]
        rec.update(_metric_cells(head, PRUNING_COLUMNS, key["hardware"]))
        ok = acc is not None and acc["status"] == "ok"
        rec["accuracy change vs dense (points)"] = (
            f"{100 * (acc['value'] - dense[ident]):+.2f}" if ok and ident in dense else ""
        )
        out.append({**rec, "status": status, "reason": reason})
    cols = [*group, "pruning", "sparsity", "T", *PRUNING_COLUMNS.values(), "accuracy change vs dense (points)"]
    return pd.DataFrame(out, columns=[*cols, "status", "reason"])


# ---------------------------------------------------------------- accuracy vs energy


def pareto_front(energy: Sequence[float], accuracy: Sequence[float]) -> list[bool]:
    """True for points no other point beats (lower or equal energy and higher or equal
    accuracy, strictly better in one)."""
    pts = list(zip(energy, accuracy))
    front = []
    for i, (e, a) in enumerate(pts):
        dominated = any(
            (e2 <= e and a2 >= a) and (e2 < e or a2 > a) for j, (e2, a2) in enumerate(pts) if j != i
        )
        front.append(not dominated)
    return front


def accuracy_energy_points(table: pd.DataFrame) -> pd.DataFrame:
    """One point per valid ML cell and T: accuracy against energy per inference.

    The energy is the cell's preferred ok source; invalid cells are not ranked. The Pareto
    front is computed per dataset and energy source (a measured joule and an estimated one
    are not compared).
    """
    pts = []
    for key, rows in _ml_cells(table):
        status, _ = _cell_mark(rows)
        if status != "ok":
            continue
        acc = rows[(rows["metric"] == "accuracy") & (rows["status"] == "ok")]
        for r in acc.itertuples():
            t = _tnum(pd.Series([r.timesteps])).iloc[0]
            at = _at_t(rows, t)
            energy = total_energy_rows(at[(at["metric"] == "energy_per_inference") & (at["status"] == "ok")])
            if energy.empty:
                continue
            best = _pick(energy, "energy_per_inference", ENERGY_PREFERENCE.get(key["hardware"], ()))
            pts.append(
                {
                    **key,
                    "T": t,
                    "accuracy": r.value,
                    "energy": best["value"],
                    "energy_source": best["source"],
                    "estimate": best["source"] in ESTIMATES,
                }
            )
    cols = [*_keys(table, ML_KEYS), "T", "accuracy", "energy", "energy_source", "estimate", "pareto"]
    frame = pd.DataFrame(pts, columns=cols)
    frame["pareto"] = False
    for _, idx in frame.groupby(["dataset", "energy_source"]).groups.items():
        sub = frame.loc[idx]
        frame.loc[idx, "pareto"] = pareto_front(sub["energy"], sub["accuracy"])
    frame["pareto"] = frame["pareto"].astype(bool)
    return frame


# ---------------------------------------------------------------- simulation (PD14)


def _sim(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["track"] == "simulation"]


def _mean_over_seeds(rows: pd.DataFrame) -> pd.Series | None:
    """The summary row of a metric: a seed-less summary row if there is one, else the mean
    (Student-t interval) over the ok per-seed rows; a not-ok row if none is ok."""
    if rows.empty:
        return None
    summary = rows[rows["seed"] == ""]
    if len(summary):
        return _pick(summary, rows["metric"].iloc[0])
    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        return rows.iloc[0]
    from spikemark.stats import mean_ci

    s = mean_ci(ok["value"].tolist())
    out = ok.iloc[0].copy()
    out["value"], out["n"] = s.value, s.n
    out["ci_low"] = math.nan if s.ci_low is None else s.ci_low
    out["ci_high"] = math.nan if s.ci_high is None else s.ci_high
    return out


def _sim_cells(table: pd.DataFrame):
    sim = _sim(table)
    keys = _keys(table, SIM_KEYS)
    sim = sim.assign(_threads=_tnum(sim["threads"]))
    for key, rows in sim.groupby([*[k for k in keys if k != "threads"], "_threads"], sort=True, dropna=False):
        values = dict(zip([k for k in keys if k != "threads"], key[:-1]))
        values["threads"] = rows["threads"].iloc[0]
        yield values, rows.drop(columns=["_threads"])


def _sim_mark(rows: pd.DataFrame) -> tuple[str, str]:
    marks = rows[rows["metric"] == CELL_METRIC]
    if marks.empty:
        return "ok", ""
    worst = marks.iloc[0]["status"]
    reasons = "; ".join(
        (f"seed {r.seed}: " if r.seed else "") + f"{r.status}: {r.reason}" for r in marks.itertuples()
    )
    return worst, reasons


def simulation_cells(table: pd.DataFrame) -> pd.DataFrame:
    out = [{**key, "status": _sim_mark(rows)[0]} for key, rows in _sim_cells(table)]
    return pd.DataFrame(out, columns=[*_keys(table, SIM_KEYS), "status"])


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
            row = _mean_over_seeds(sub).copy()
            scale = 1e6 if row["unit"] == "J" else (1e-6 if row["unit"] == "pJ" else 1.0)
            for col in ("value", "ci_low", "ci_high"):
                row[col] = row[col] * scale
            return fmt_row(row, with_source=True), ENERGY_COVERS.get(source, source)
    why = "; ".join(f"{r.source}: {r.reason}" for r in cand.drop_duplicates("source").itertuples())
    return "unavailable — " + why, "nothing (no meter or estimate here)"


def pd14_table(
    table: pd.DataFrame, published: pd.DataFrame | None = None, *, drive: str = "", nodes: int = 1
) -> pd.DataFrame:
    """Our PD14 runs beside the published ones, with the columns that keep it honest.

    Ours: mean over seeds with a 95 % interval and N per framework, scale, thread count.
    Published: RTF and E_syn of the full-scale model (N = K = 1) from ``pd14_published.csv``.
    """
    out = []
    for key, rows in _sim_cells(table):
        status, reason = _sim_mark(rows)
        rec = {
            "kind": "this work",
            "reference": key.get("platform", "") or _platform_of(rows),
            "simulator": key["framework"],
            "system": _platform_of(rows),
            "nodes": str(nodes),
            "threads": key["threads"],
            "scale": _scale_text(key["scale"]),
            "drive": drive or "not recorded",
            "RTF": fmt_row(_mean_over_seeds(rows[rows["metric"] == "rtf"])),
        }
        rec["E_syn (µJ)"], rec["energy covers"] = _e_syn_cell(rows)
        for phase in PHASES:
            rec[f"{phase} (s)"] = fmt_row(_mean_over_seeds(rows[rows["metric"] == phase]))
        out.append({**rec, "status": status, "reason": reason})
    if published is not None:
        for r in published.fillna("").itertuples():
            out.append(
                {
                    "kind": "published",
                    "reference": f"{r.study} [{r.key}]",
                    "simulator": r.simulator,
                    "system": r.system,
                    "nodes": str(r.nodes),
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
    cols = ["kind", "reference", "simulator", "system", "nodes", "threads", "scale", "drive", "RTF"]
    cols += ["E_syn (µJ)", "energy covers", *[f"{p} (s)" for p in PHASES], "status", "reason"]
    return pd.DataFrame(out, columns=cols).fillna("")


def _platform_of(rows: pd.DataFrame) -> str:
    if "platform" not in rows:
        return ""
    return "; ".join(sorted(set(rows["platform"]) - {""}))


def _scale_text(scale: str) -> str:
    if not scale:
        return ""
    full = scale in ("N1_K1", "N1.0_K1.0")
    return scale + ("" if full else " (downscaled)")


def phase_times(table: pd.DataFrame) -> pd.DataFrame:
    """Mean phase times per framework, scale and thread count (for the scaling figure)."""
    out = []
    for key, rows in _sim_cells(table):
        if _sim_mark(rows)[0] != "ok":
            continue
        for phase in PHASES:
            row = _mean_over_seeds(rows[(rows["metric"] == phase)])
            if row is not None and row["status"] == "ok":
                out.append({**key, "phase": phase, "seconds": row["value"]})
    frame = pd.DataFrame(out, columns=[*_keys(table, SIM_KEYS), "phase", "seconds"])
    frame["threads"] = _tnum(frame["threads"].astype(str))
    return frame


def population_rates(table: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean rate per population (over seeds and thread counts) per framework and scale,
    beside the reference rates."""
    sim = _sim(table)
    rates = sim[(sim["metric"] == "rate") & (sim["status"] == "ok")]
    keys = [*(["platform"] if _multi_platform(table) else []), "framework", "scale", "population"]
    out = []
    from spikemark.stats import mean_ci

    for key, rows in rates.groupby(keys, sort=True):
        s = mean_ci(rows["value"].tolist())
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


def rates_table(rates: pd.DataFrame) -> pd.DataFrame:
    """The rates figure's numbers as a table (value [interval] (n))."""
    if rates.empty:
        return pd.DataFrame(columns=["framework", "scale", "population", "rate (Hz)"])
    out = rates.copy()
    out["rate (Hz)"] = [
        fmt_stat(*r) for r in out[["rate_hz", "ci_low", "ci_high", "n"]].itertuples(index=False)
    ]
    keep = [c for c in out if c not in ("rate_hz", "ci_low", "ci_high", "n")]
    return out[keep]


# ---------------------------------------------------------------- writing


def write_table(frame: pd.DataFrame, out_dir: str | Path, name: str) -> list[Path]:
    """A table as CSV, Markdown and LaTeX; returns the three paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.{ext}" for ext in ("csv", "md", "tex")]
    frame.to_csv(paths[0], index=False)
    paths[1].write_text(to_markdown(frame) + "\n")
    paths[2].write_text(frame.to_latex(index=False, escape=True))
    return paths


def to_markdown(frame: pd.DataFrame, empty: str = "(no rows)") -> str:
    if frame.empty:
        return empty
    return frame.to_markdown(index=False, disable_numparse=True)


def reference_dir(candidates: Iterable[str | Path] = ()) -> Path | None:
    """The directory holding ``pd14_published.csv``: the first candidate that has it, else
    the copy shipped in the package, else ``shared/reference`` beside the repository."""
    pkg = Path(__file__).resolve().parents[1] / "simulation" / "reference"
    repo = Path(__file__).resolve().parents[3]
    for cand in [*candidates, pkg, repo.parent / "shared" / "reference", repo / "shared" / "reference"]:
        if cand and (Path(cand) / "pd14_published.csv").exists():
            return Path(cand)
    return None


def html_table(frame: pd.DataFrame, empty: str = "(no rows)"):
    """A table for the HTML page (a real ``<table>``; non-ok cells stay visible)."""
    from IPython.display import HTML

    if frame.empty:
        return HTML(f"<p><em>{empty}</em></p>")
    html = frame.to_html(index=False, classes="spikemark", border=0, escape=True)
    return HTML(f'<div style="overflow-x:auto">{html}</div>')


def publish_table(frame: pd.DataFrame, out_dir: str | Path, name: str, empty: str = "(no rows)"):
    """Write a named table (CSV, Markdown, LaTeX) and return it for the page."""
    write_table(frame, out_dir, name)
    return html_table(frame, empty)
