"""The ML track's tables: framework comparison, ANN → SNN conversion, pruning, and the
accuracy–energy points with their Pareto front.

An ML cell is one (dataset, method, framework, hardware, pruning, sparsity, seed) of the
matrix; :func:`ml_cells` is the one iterator over them (the measure stage's rows, or the
robustness protocol's with ``robustness=True``). Headline cells are at the cell's largest
evaluated T.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import pandas as pd

from spikemark.report.cells import (
    ENERGY_PREFERENCE,
    ESTIMATES,
    fmt_num,
    fmt_row,
    metric_cells,
    pick,
    short_problem,
    source_label,
    total_energy_rows,
)
from spikemark.report.load import numeric, with_platform_key
from spikemark.results import CELL_METRIC

ML_KEYS = ["dataset", "method", "framework", "hardware", "pruning", "sparsity", "seed"]
#: ``variant`` of the robustness protocol's rows (``spikemark.robustness.VARIANT``; not
#: imported from there because that module needs torch, which the report does not).
ROBUSTNESS = "robustness"


def ml_rows(table: pd.DataFrame, *, robustness: bool = False) -> pd.DataFrame:
    """Rows of the measure stage, or (``robustness``) of the robustness protocol."""
    ml = table[table["track"] == "ml"]
    is_robust = ml["variant"] == ROBUSTNESS
    return ml[is_robust if robustness else ~is_robust]


def cell_mark(rows: pd.DataFrame) -> tuple[str, str]:
    """A cell's status and reason: its ``cell`` row's, else ``ok``."""
    marks = rows[rows["metric"] == CELL_METRIC]
    if marks.empty:
        return "ok", ""
    return marks["status"].iloc[0], marks["reason"].iloc[0]


def fmt_key(key: str, value: str) -> str:
    """A coordinate as tables show it (sparsity as ``0.5``, not ``0.50``)."""
    if key == "sparsity" and value != "":
        return f"{float(value):g}"
    return value


def ml_cells(
    table: pd.DataFrame, dataset: str | None = None, *, robustness: bool = False
) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """(coordinates, rows) of every ML cell (per platform where several are combined)."""
    rows = ml_rows(table, robustness=robustness)
    if dataset is not None:
        rows = rows[rows["dataset"] == dataset]
    keys = with_platform_key(table, ML_KEYS)
    for key, cell in rows.groupby(keys, sort=True):
        yield {k: fmt_key(k, v) for k, v in zip(keys, key)}, cell


def cell_status(table: pd.DataFrame) -> pd.DataFrame:
    """One row per ML cell: its status and reason (ok where no ``cell`` row says otherwise)."""
    keys = with_platform_key(table, ML_KEYS)
    out = [{**key, **dict(zip(("status", "reason"), cell_mark(rows)))} for key, rows in ml_cells(table)]
    return pd.DataFrame(out, columns=[*keys, "status", "reason"])


def largest_t(rows: pd.DataFrame) -> float:
    """The largest T at which the cell's accuracy was evaluated (NaN for the ANN)."""
    t = numeric(rows.loc[rows["metric"] == "accuracy", "timesteps"])
    return t.max() if t.notna().any() else math.nan


def at_t(rows: pd.DataFrame, t: float) -> pd.DataFrame:
    """Rows measured at ``T = t`` and rows that do not depend on T."""
    tt = numeric(rows["timesteps"])
    return rows[tt.isna() | (tt == t)] if not math.isnan(t) else rows[tt.isna()]


def fmt_t(t: float) -> str:
    return "" if math.isnan(t) else str(int(t))


# ---------------------------------------------------------------- framework comparison

FRAMEWORK_COLUMNS = {
    "accuracy": "accuracy",
    "latency_batch1": "latency batch 1 (ms)",
    "throughput": "throughput (samples/s)",
    "energy_per_inference": "energy / inference (µJ)",
    "effective_macs": "effective MACs / sample",
    "effective_acs": "effective ACs / sample",
    "connection_sparsity": "connection sparsity",
    "activation_sparsity": "activation sparsity",
}


def framework_comparison(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """Per dataset × method × framework × hardware × sparsity (× platform), at the largest T."""
    out = []
    for key, rows in ml_cells(table, dataset):
        status, reason = cell_mark(rows)
        t = largest_t(rows)
        rec = {**key, "T": fmt_t(t), **metric_cells(at_t(rows, t), FRAMEWORK_COLUMNS, key["hardware"])}
        out.append({**rec, "status": status, "reason": reason})
    cols = [*with_platform_key(table, ML_KEYS), "T", *FRAMEWORK_COLUMNS.values(), "status", "reason"]
    return pd.DataFrame(out, columns=cols)


#: The headline comparison's metrics (headers of the framework comparison).
HEADLINE_METRICS = ("accuracy", "latency_batch1", "energy_per_inference")


def headline_table(table: pd.DataFrame) -> pd.DataFrame:
    """The overview's headline comparison: every dense (unpruned) ML cell that is ok, at
    its largest T, with accuracy, batch-1 latency and energy per inference (its source)."""
    comp = framework_comparison(table)
    dense = comp[(comp["status"] == "ok") & (numeric(comp["sparsity"]) == 0)]
    keys = with_platform_key(table, ["dataset", "method", "framework", "hardware", "seed"])
    metrics = [FRAMEWORK_COLUMNS[m] for m in HEADLINE_METRICS]
    head = dense[[*keys, "T", *metrics]].reset_index(drop=True)
    # a metric that is not ok here (e.g. a contended timing) says so in a word; its full
    # reason is in the framework comparison
    for column in metrics:
        head[column] = head[column].map(short_problem)
    return head


# ---------------------------------------------------------------- conversion


def accuracy_by_timesteps(table: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (ok rows) with numeric T and sparsity, for figures."""
    acc = ml_rows(table)
    acc = acc[(acc["metric"] == "accuracy") & (acc["status"] == "ok")].copy()
    acc["T"] = numeric(acc["timesteps"])
    acc["sparsity"] = numeric(acc["sparsity"])
    cols = with_platform_key(table, [*ML_KEYS, "T"])
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
            return fmt_row(ra), fmt_row(rs), f"×{fmt_num(ratio)}", source_label(rs)
    why = "; ".join(
        f"{r.source}: {r.reason}"
        for r in pd.concat([a, s]).drop_duplicates("source").itertuples()
        if r.reason
    )
    return fmt_row(pick(a, "edp", prefer)), fmt_row(pick(s, "edp", prefer)), "", "no common source — " + why


CONVERSION_COLUMNS = [
    "T",
    "ANN accuracy",
    "SNN accuracy",
    "accuracy penalty (points)",
    "ANN EDP (J·s)",
    "SNN EDP (J·s)",
    "EDP change (SNN/ANN)",
    "EDP source",
]


def conversion_table(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """ANN vs converted SNN at each T: accuracy penalty and change in energy-delay product.

    Pairs each ``ann2snn`` cell with the ``ann`` cell of the same dataset, hardware,
    sparsity and seed (and platform). A converted cell without accuracy rows (skipped,
    failed) is one row with its reason.
    """
    cells = [(key, rows) for key, rows in ml_cells(table, dataset)]
    pair_keys = [k for k in with_platform_key(table, ML_KEYS) if k not in ("method", "framework")]
    anns = {tuple(key[k] for k in pair_keys): rows for key, rows in cells if key["method"] == "ann"}
    out = []
    for key, rows in cells:
        if key["method"] != "ann2snn":
            continue
        ann = anns.get(tuple(key[k] for k in pair_keys))
        status, reason = cell_mark(rows)
        if ann is not None:
            a_status, a_reason = cell_mark(ann)
            if a_status != "ok" and status == "ok":
                status, reason = a_status, f"ANN cell: {a_reason}"
        base = {k: v for k, v in key.items() if k != "method"}
        ts = sorted(numeric(rows.loc[rows["metric"] == "accuracy", "timesteps"]).dropna().unique())
        if not ts:
            out.append({**base, "T": "", "status": status, "reason": reason or "no accuracy rows"})
            continue
        ann_acc = pick(ann, "accuracy") if ann is not None else None
        for t in ts:
            snn_t = at_t(rows, t)
            snn_acc = pick(snn_t, "accuracy")
            rec = {**base, "T": fmt_t(t), "ANN accuracy": fmt_row(ann_acc), "SNN accuracy": fmt_row(snn_acc)}
            if ann_acc is not None and ann_acc["status"] == "ok" and snn_acc["status"] == "ok":
                rec["accuracy penalty (points)"] = f"{100 * (ann_acc['value'] - snn_acc['value']):+.2f}"
            elif ann is None:
                rec["accuracy penalty (points)"] = "no ANN cell to compare with"
            edp = _edp_pair(ann if ann is not None else rows.iloc[0:0], snn_t, key["hardware"])
            rec.update(zip(CONVERSION_COLUMNS[4:], edp))
            out.append({**rec, "status": status, "reason": reason})
    keys = [k for k in with_platform_key(table, ML_KEYS) if k != "method"]
    return pd.DataFrame(out, columns=[*keys, *CONVERSION_COLUMNS, "status", "reason"]).fillna("")


# ---------------------------------------------------------------- pruning

PRUNING_COLUMNS = {
    "accuracy": "accuracy",
    "footprint": "footprint (KiB)",
    "connection_sparsity": "connection sparsity",
    "effective_macs": "effective MACs / sample",
    "effective_acs": "effective ACs / sample",
    "energy_per_inference": "energy / inference (µJ)",
}
DENSE_CHANGE = "accuracy change vs dense (points)"


def pruning_table(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """Accuracy, footprint, synaptic operations and energy against sparsity (at the largest T).

    Pruning methods sit side by side at each sparsity, under the one dense baseline
    (pruning ``none``) they share; the accuracy change is against that baseline.
    """
    out = []
    dense: dict[tuple, float] = {}
    group = [k for k in with_platform_key(table, ML_KEYS) if k not in ("pruning", "sparsity")]
    cells = sorted(
        ml_cells(table, dataset),
        key=lambda kr: (*[kr[0][k] for k in group], float(kr[0]["sparsity"]), kr[0]["pruning"]),
    )
    for key, rows in cells:
        status, reason = cell_mark(rows)
        t = largest_t(rows)
        head = at_t(rows, t)
        rec = {
            **{k: key[k] for k in group},
            "pruning": key["pruning"],
            "sparsity": key["sparsity"],
            "T": fmt_t(t),
        }
        acc = pick(head, "accuracy")
        ident = tuple(key[k] for k in group)
        ok = acc is not None and acc["status"] == "ok"
        if ok and float(key["sparsity"]) == 0:
            dense[ident] = acc["value"]
        rec.update(metric_cells(head, PRUNING_COLUMNS, key["hardware"]))
        rec[DENSE_CHANGE] = f"{100 * (acc['value'] - dense[ident]):+.2f}" if ok and ident in dense else ""
        out.append({**rec, "status": status, "reason": reason})
    cols = [*group, "pruning", "sparsity", "T", *PRUNING_COLUMNS.values(), DENSE_CHANGE]
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
    for key, rows in ml_cells(table):
        if cell_mark(rows)[0] != "ok":
            continue
        acc = rows[(rows["metric"] == "accuracy") & (rows["status"] == "ok")]
        for r in acc.itertuples():
            t = numeric(pd.Series([r.timesteps])).iloc[0]
            at = at_t(rows, t)
            energy = total_energy_rows(at[(at["metric"] == "energy_per_inference") & (at["status"] == "ok")])
            if energy.empty:
                continue
            best = pick(energy, "energy_per_inference", ENERGY_PREFERENCE.get(key["hardware"], ()))
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
    cols = [
        *with_platform_key(table, ML_KEYS),
        "T",
        "accuracy",
        "energy",
        "energy_source",
        "estimate",
        "pareto",
    ]
    frame = pd.DataFrame(pts, columns=cols)
    frame["pareto"] = False
    for _, idx in frame.groupby(["dataset", "energy_source"]).groups.items():
        sub = frame.loc[idx]
        frame.loc[idx, "pareto"] = pareto_front(sub["energy"], sub["accuracy"])
    frame["pareto"] = frame["pareto"].astype(bool)
    return frame


def _member(point) -> str:
    pruned = f" s={point.sparsity} {point.pruning}" if float(point.sparsity) else ""
    steps = f" T={point.T:g}" if not math.isnan(point.T) else ""
    host = f" on {point.platform.split(' (')[0]}" if hasattr(point, "platform") else ""
    return f"{point.method} {point.framework}/{point.hardware}{pruned}{steps}{host}"


def pareto_sentence(table: pd.DataFrame) -> str:
    """The Pareto-front members of every dataset and energy source, named in one sentence."""
    points = accuracy_energy_points(table)
    front = points[points["pareto"]]
    if front.empty:
        return "Pareto front: none (no valid ML cell has an energy per inference)."
    groups = [
        f"{dataset} ({source}{', an estimate' if source in ESTIMATES else ''}): "
        + ", ".join(_member(p) for p in members.sort_values("energy").itertuples())
        for (dataset, source), members in front.groupby(["dataset", "energy_source"], sort=True)
    ]
    return "Pareto front of accuracy against energy per inference — " + "; ".join(groups) + "."
