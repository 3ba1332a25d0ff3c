"""Report sections of the framework latency benchmark and the robustness protocol.

Latency (``track = latency``, :mod:`spikemark.latency`): one Linear + LIF layer per
framework, timed per hardware, layer size and variant (eager / ``torch.compile``).
Robustness (``track = ml``, ``variant = robustness``, :mod:`spikemark.robustness`): a
deployed SNN's accuracy, batch-1 latency and synaptic operations against the number of
time steps T (at noise 0) and against Gaussian input noise σ (at the cell's evaluation T).

Cells are formatted as in the other tables (value [95 % interval] (n=N), or
``status: reason``); a skipped or failed cell stays one row with its reason. Figures fall
back to a figure that says what is missing, so every named output exists.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spikemark.report.cells import CONVENTIONS, fmt_row, header_unit, metric_cells, pick
from spikemark.report.figures import empty_figure, errorbars, log2_x_at
from spikemark.report.load import multi_platform, numeric, with_platform_key
from spikemark.report.manifest import EMPTY_LATENCY, EMPTY_NOISE, EMPTY_ROBUSTNESS
from spikemark.report.ml import ML_KEYS, ROBUSTNESS, cell_mark, ml_cells
from spikemark.report.published import beside_published
from spikemark.results import CELL_METRIC

# ---------------------------------------------------------------- latency

LATENCY_CELL_KEYS = ["framework", "hardware"]
LATENCY_KEYS = [*LATENCY_CELL_KEYS, "size", "variant"]
#: Eager before compiled in tables and legends.
VARIANTS = ("eager", "compiled")
LATENCY_TIMES = {
    "inference_time": "inference (ms)",
    "forward_time": "forward (ms)",
    "backward_time": "backward (ms)",
}
LATENCY_OTHER = {
    "peak_host_memory": "peak host memory (MiB)",
    "peak_cuda_memory": "peak CUDA memory (MiB)",
    "compile_time": "compile time (s)",
}
#: Rows that describe the workload rather than measure it.
WORKLOAD_METRICS = ("batch_size",)


def _latency(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["track"] == "latency"]


def _variant_rank(variant: str) -> int:
    return VARIANTS.index(variant) if variant in VARIANTS else len(VARIANTS)


def _latency_groups(rows: pd.DataFrame):
    """(size, variant) groups of one cell's measurement rows, by numeric size, eager first."""
    measured = rows[~rows["metric"].isin((CELL_METRIC, *WORKLOAD_METRICS))]
    groups = measured.groupby(["size", "variant"], sort=False)
    order = sorted(groups.groups, key=lambda sv: (numeric(pd.Series([sv[0]])).iloc[0], _variant_rank(sv[1])))
    return [(size, variant, groups.get_group((size, variant))) for size, variant in order]


def _first_problem(rows: pd.DataFrame) -> tuple[str, str]:
    """``ok`` or the first not-ok row's status and reason (e.g. a failed ``compile_time``)."""
    bad = rows[rows["status"] != "ok"]
    if bad.empty:
        return "ok", ""
    return bad["status"].iloc[0], bad["reason"].iloc[0]


def _memory_cell(rows: pd.DataFrame, metric: str, hardware: str, unit: str) -> str:
    row = pick(rows, metric)
    if row is None and metric == "peak_cuda_memory" and hardware != "cuda":
        return "n/a (no CUDA device used)"
    return fmt_row(row, unit=unit)


def latency_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per framework × hardware × size × variant (× platform): the three timings as
    value [95 % interval] (n), peak host / CUDA memory, compile time, status and reason.

    A skipped or failed cell is one row (no size, no variant) with its reason; a compiled
    variant whose compilation failed is one row with the failure as its reason.
    """
    latency = _latency(table)
    cell_keys = with_platform_key(table, LATENCY_CELL_KEYS)
    out = []
    for key, rows in latency.groupby(cell_keys, sort=True):
        base = dict(zip(cell_keys, key))
        status, reason = cell_mark(rows)
        groups = _latency_groups(rows)
        if not groups:
            out.append({**base, "status": status, "reason": reason or "no latency rows"})
            continue
        for size, variant, group in groups:
            rec = {**base, "size": size, "variant": variant}
            rec["backend"] = group["backend"].iloc[0]
            rec["T"] = group["timesteps"].iloc[0]
            for metric, col in LATENCY_TIMES.items():
                rec[col] = fmt_row(pick(group, metric), unit=header_unit(col))
            for metric, col in LATENCY_OTHER.items():
                rec[col] = _memory_cell(group, metric, base["hardware"], header_unit(col))
            if variant != "compiled":
                rec[LATENCY_OTHER["compile_time"]] = "n/a (eager)"
            rec["status"], rec["reason"] = (status, reason) if status != "ok" else _first_problem(group)
            out.append(rec)
    cols = [*cell_keys, "size", "variant", "backend", "T", *LATENCY_TIMES.values(), *LATENCY_OTHER.values()]
    return beside_published(pd.DataFrame(out, columns=[*cols, "status", "reason"]).fillna(""), latency)


def latency_points(table: pd.DataFrame) -> pd.DataFrame:
    """Ok timing rows with numeric size, for the figure."""
    latency = _latency(table)
    ok = latency[latency["metric"].isin(LATENCY_TIMES) & (latency["status"] == "ok")].copy()
    ok["size"] = numeric(ok["size"])
    cols = [*with_platform_key(table, LATENCY_KEYS), "metric", "value", "ci_low", "ci_high", "n"]
    return ok[cols].sort_values([*with_platform_key(table, LATENCY_KEYS), "metric"]).reset_index(drop=True)


def _values(rows: pd.DataFrame, column: str) -> list[str]:
    values = numeric(rows[column]).dropna().unique()
    return [f"{v:g}" for v in sorted(values)]


def latency_workload(table: pd.DataFrame) -> str:
    """What was timed, from the rows: layer, time steps T and batch size B."""
    latency = _latency(table)
    if latency.empty:
        return EMPTY_LATENCY + "."
    measured = latency[latency["metric"] != CELL_METRIC]
    steps = _values(measured, "timesteps")
    batches = _values(latency[latency["metric"] == "batch_size"], "value")
    sizes = ", ".join(
        f"{hw}: {', '.join(_values(measured[measured['hardware'] == hw], 'size'))}"
        for hw in sorted(set(measured["hardware"]))
    )
    return (
        "Workload: one dense Linear layer (size → size) followed by `size` LIF neurons (τ = 2 steps, "
        "threshold 1, hard reset), fed a spike train of shape [T, B, size]; "
        f"T = {' / '.join(steps) or 'not recorded'}, "
        f"B = {' / '.join(batches) or 'not recorded in these results'}; "
        f"sizes per hardware: {sizes or 'none measured'}. "
        "Inference: forward without autograd; forward / backward: the two halves of one training "
        "step, timed separately. Times are the median of n repeats with its 95 % interval."
    )


def _with_host(points: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``points`` with each platform's ``host`` column where several machines are combined."""
    if not multi_platform(table):
        return points
    hosts = table.drop_duplicates("platform").set_index("platform")["host"]
    return points.assign(host=points["platform"].map(hosts))


def _series_label(frame: pd.DataFrame, parts: list[str]) -> pd.Series:
    """`` / ``-joined values of ``parts`` (the platform's host first when several machines)."""
    parts = (["host"] if multi_platform(frame) and "host" in frame else []) + parts
    label = frame[parts[0]].astype(str)
    for part in parts[1:]:
        label = label + " / " + frame[part].astype(str)
    return label


def latency_figure(table: pd.DataFrame) -> plt.Figure:
    """Inference, forward and backward time against layer size: one row of panels per
    timing, one column per hardware, one colour per framework; eager solid, compiled dashed;
    bars: 95 % intervals."""
    points = latency_points(table)
    if points.empty:
        return empty_figure(EMPTY_LATENCY)
    points = _with_host(points, table)
    points["series"] = _series_label(points, ["framework"])
    hardware = sorted(points["hardware"].unique())
    metrics = [m for m in LATENCY_TIMES if m in set(points["metric"])]
    fig, axes = plt.subplots(
        len(metrics), len(hardware), figsize=(4.2 * len(hardware), 2.8 * len(metrics)), squeeze=False
    )
    names = sorted(points["series"].unique())
    palette = dict(zip(names, sns.color_palette(n_colors=len(names))))
    styles = {"eager": "-", "compiled": "--"}
    for i, metric in enumerate(metrics):
        for j, hw in enumerate(hardware):
            ax = axes[i][j]
            sub = points[(points["metric"] == metric) & (points["hardware"] == hw)]
            for (series, variant), line in sub.groupby(["series", "variant"], sort=True):
                line = line.sort_values("size")
                ax.plot(
                    line["size"],
                    line["value"],
                    ls=styles.get(variant, ":"),
                    marker="o",
                    ms=3,
                    color=palette[series],
                    label=f"{series} ({variant})",
                )
                errorbars(ax, line, "size")
            ax.set(yscale="log", xlabel="layer size (inputs = neurons)")
            log2_x_at(ax, sub["size"])
            ax.set_ylabel(LATENCY_TIMES[metric])
            if i == 0:
                ax.set_title(hw)
            if len(sub):
                ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- robustness

ROBUSTNESS_COLUMNS = {
    "accuracy": "accuracy",
    "latency_batch1": "latency batch 1 (ms)",
    "effective_macs": "effective MACs / sample",
    "effective_acs": "effective ACs / sample",
    "activation_sparsity": "activation sparsity",
}
SYNOPS = "synaptic operations /\nsample (eff. MACs + ACs)"
#: Rows of the T-sweep figure: metric → axis label, log scale.
SWEEP_PANELS = {
    "accuracy": ("accuracy", False),
    "latency_batch1": ("latency batch 1 (s)", True),
    "synops": (SYNOPS, True),
}


def _points(rows: pd.DataFrame) -> pd.DataFrame:
    """The cell's rows with numeric ``T`` and ``sigma`` (cell marks dropped)."""
    rows = rows[rows["metric"] != CELL_METRIC]
    return rows.assign(T=numeric(rows["timesteps"]), sigma=numeric(rows["noise"]).fillna(0.0))


def _reference_t(points: pd.DataFrame) -> float:
    """The T of the noise sweep: where σ > 0 was evaluated (NaN if no noise was)."""
    noisy = points.loc[points["sigma"] > 0, "T"].dropna()
    return noisy.iloc[0] if len(noisy) else math.nan


def _sweep(t: float, sigma: float, reference_t: float) -> str:
    in_t = sigma == 0
    in_noise = t == reference_t
    return "T and σ" if in_t and in_noise else ("T" if in_t else "σ")


def robustness_table(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """One row per robustness cell × evaluated (T, σ): accuracy, batch-1 latency, effective
    MACs / ACs (with their convention) and activation sparsity; ``sweep`` says whether the
    point belongs to the T sweep (σ = 0), the σ sweep (at the evaluation T) or both.

    A skipped, failed or invalid cell is one row with its reason.
    """
    out = []
    for key, rows in ml_cells(table, dataset, robustness=True):
        status, reason = cell_mark(rows)
        points = _points(rows)
        pairs = points[["T", "sigma"]].drop_duplicates()
        if pairs.empty:
            out.append({**key, "status": status, "reason": reason or "no robustness rows"})
            continue
        reference_t = _reference_t(points)
        for t, sigma in sorted(pairs.itertuples(index=False), key=lambda ts: (ts[1] > 0, ts[1], ts[0])):
            same_t = points["T"].isna() if math.isnan(t) else points["T"] == t
            at = points[same_t & (points["sigma"] == sigma)]
            rec = {**key, "sweep": _sweep(t, sigma, reference_t), "T": "" if math.isnan(t) else f"{t:g}"}
            rec["noise σ"] = f"{sigma:g}"
            rec.update(metric_cells(at, ROBUSTNESS_COLUMNS, key["hardware"]))
            out.append({**rec, "status": status, "reason": reason})
    cols = [*with_platform_key(table, ML_KEYS), "sweep", "T", "noise σ", *ROBUSTNESS_COLUMNS.values()]
    return pd.DataFrame(out, columns=[*cols, "status", "reason"]).fillna("")


def robustness_points(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """Numeric points of valid cells for the figures: accuracy and ``latency_batch1`` with
    their intervals, and ``synops`` = effective MACs + ACs (one convention, NeuroBench's
    first), per cell, T and σ; ``reference_t`` is the T of the cell's noise sweep."""
    out = []
    for key, rows in ml_cells(table, dataset, robustness=True):
        if cell_mark(rows)[0] != "ok":
            continue
        points = _points(rows)
        ok = points[points["status"] == "ok"]
        reference_t = _reference_t(points)
        for (t, sigma), at in ok.groupby(["T", "sigma"], dropna=False):
            base = {**key, "T": t, "sigma": sigma, "reference_t": reference_t}
            for metric in ("accuracy", "latency_batch1"):
                row = pick(at, metric)
                if row is not None:
                    out.append(
                        {**base, "metric": metric, **{c: row[c] for c in ("value", "ci_low", "ci_high", "n")}}
                    )
            ops = [pick(at, m, CONVENTIONS) for m in ("effective_macs", "effective_acs")]
            ops = [r for r in ops if r is not None]
            if ops and len({r["source"] for r in ops}) == 1:
                total = sum(r["value"] for r in ops)
                out.append(
                    {
                        **base,
                        "metric": "synops",
                        "value": total,
                        "ci_low": math.nan,
                        "ci_high": math.nan,
                        "n": 1,
                    }
                )
    cols = [
        *with_platform_key(table, ML_KEYS),
        "T",
        "sigma",
        "reference_t",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
    ]
    frame = pd.DataFrame(out, columns=cols)
    for col in ("T", "sigma", "reference_t", "value", "ci_low", "ci_high", "n"):
        frame[col] = pd.to_numeric(frame[col])
    return frame


def _robust_series(points: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    points = _with_host(points, table)
    label = _series_label(points, ["method", "framework", "hardware"]) + " s=" + points["sparsity"]
    if points["seed"].nunique() > 1:
        label = label + " seed " + points["seed"]
    return points.assign(series=label)


def _line_panel(ax, frame: pd.DataFrame, x: str, palette: dict) -> None:
    for series, line in frame.groupby("series", sort=True):
        line = line.sort_values(x)
        ax.plot(line[x], line["value"], marker="o", ms=3, color=palette[series], label=series)
        errorbars(ax, line, x)


def robustness_timesteps_figure(table: pd.DataFrame, dataset: str | None = None) -> plt.Figure:
    """Accuracy, batch-1 latency and synaptic operations against T at noise 0: one row of
    panels per metric, one column per dataset, one line per method / framework / hardware /
    sparsity; bars: 95 % intervals (Wilson for accuracy)."""
    points = robustness_points(table, dataset)
    sweep = points[(points["sigma"] == 0) & points["T"].notna()]
    if sweep.empty:
        return empty_figure(EMPTY_ROBUSTNESS)
    sweep = _robust_series(sweep, table)
    datasets = sorted(sweep["dataset"].unique())
    fig, axes = plt.subplots(
        len(SWEEP_PANELS),
        len(datasets),
        figsize=(4.2 * len(datasets), 2.8 * len(SWEEP_PANELS)),
        squeeze=False,
    )
    names = sorted(sweep["series"].unique())
    palette = dict(zip(names, sns.color_palette(n_colors=len(names))))
    for i, (metric, (label, log_y)) in enumerate(SWEEP_PANELS.items()):
        for j, name in enumerate(datasets):
            ax = axes[i][j]
            _line_panel(ax, sweep[(sweep["metric"] == metric) & (sweep["dataset"] == name)], "T", palette)
            ax.set(xlabel="time steps T (noise σ = 0)", ylabel=label)
            log2_x_at(ax, sweep.loc[sweep["dataset"] == name, "T"])
            if log_y:
                ax.set_yscale("log")
            if i == 0:
                ax.set_title(name)
                ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def robustness_noise_figure(table: pd.DataFrame, dataset: str | None = None) -> plt.Figure:
    """Accuracy against the input-noise σ at each cell's evaluation T (in the legend), one
    panel per dataset; bars: 95 % Wilson intervals."""
    points = robustness_points(table, dataset)
    acc = points[points["metric"] == "accuracy"]
    # cells without a noisy point have no σ sweep (reference_t NaN) and drop out here
    sweep = acc[acc["T"] == acc["reference_t"]]
    if sweep.empty:
        return empty_figure(EMPTY_NOISE)
    sweep = _robust_series(sweep, table)
    t_label = sweep["T"].map(lambda t: "" if math.isnan(t) else f" T={t:g}")
    sweep = sweep.assign(series=sweep["series"] + t_label)
    datasets = sorted(sweep["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.2), squeeze=False, sharey=True)
    names = sorted(sweep["series"].unique())
    palette = dict(zip(names, sns.color_palette(n_colors=len(names))))
    for ax, name in zip(axes.flat, datasets):
        _line_panel(ax, sweep[sweep["dataset"] == name], "sigma", palette)
        ax.set(title=name, xlabel="input noise σ (x + σ·N(0, 1))", ylabel="accuracy")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig
