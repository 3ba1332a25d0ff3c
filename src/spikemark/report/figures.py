"""The report's figures. Each function returns a matplotlib Figure and never fails on an
empty results set: it then draws a figure that says what is missing (so every named
output exists and a reader sees why it is empty)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd
import seaborn as sns

from spikemark.matrix import DENSE
from spikemark.report.manifest import EMPTY_ML, EMPTY_SIMULATION
from spikemark.report.ml import ML_KEYS, accuracy_by_timesteps, accuracy_energy_points
from spikemark.report.pd14 import PHASES, TOTAL, phase_times, population_rates, scaling_points

PHASE_LABELS = {
    "time_create": "create",
    "time_connect": "connect",
    "time_presimulate": "presimulate",
    "time_simulate": "simulate",
    TOTAL: "total (sum of phases)",
}


def empty_figure(message: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 2.5))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def errorbars(ax, frame: pd.DataFrame, x: str, y: str = "value") -> None:
    have = frame.dropna(subset=["ci_low", "ci_high"])
    if len(have):
        ax.errorbar(
            have[x],
            have[y],
            yerr=[have[y] - have["ci_low"], have["ci_high"] - have[y]],
            fmt="none",
            ecolor="grey",
            elinewidth=0.8,
            capsize=2,
        )


def accuracy_vs_timesteps(table: pd.DataFrame) -> plt.Figure:
    """Converted / surrogate SNN accuracy against T (Wilson intervals); the ANN as a dashed line."""
    acc = accuracy_by_timesteps(table)
    snn = acc[acc["T"].notna()]
    if snn.empty:
        return empty_figure("no SNN accuracy against time steps in this results set")
    datasets = sorted(snn["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4 * len(datasets), 3.2), squeeze=False, sharey=True)
    for ax, dataset in zip(axes.flat, datasets):
        sub = snn[snn["dataset"] == dataset].sort_values("T")
        pruned_by = sub["pruning"].where(sub["sparsity"] > 0, "").map(lambda p: f" ({p})" if p else "")
        sub = sub.assign(
            series=sub["method"]
            + " s="
            + sub["sparsity"].map("{:g}".format)
            + pruned_by
            + " "
            + sub["hardware"]
        )
        sns.lineplot(data=sub, x="T", y="value", hue="series", marker="o", ax=ax, errorbar=None)
        errorbars(ax, sub, "T")
        ann = acc[(acc["dataset"] == dataset) & (acc["method"] == "ann") & (acc["sparsity"] == 0)]
        for value in ann["value"]:
            ax.axhline(value, ls="--", c="grey", lw=1, label="ANN (dense)")
        ax.set(xscale="log", title=dataset, xlabel="time steps T", ylabel="accuracy")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), fontsize=7)
    fig.tight_layout()
    return fig


def per_pruning_method(points: pd.DataFrame) -> pd.DataFrame:
    """Points with a ``line_pruning`` column: one line per pruning method, each starting
    from the dense (sparsity 0, pruning ``none``) point that all methods share."""
    methods = sorted(set(points["pruning"]) - {DENSE}) or [DENSE]
    dense = points["pruning"] == DENSE
    lines = [points[~dense].assign(line_pruning=points.loc[~dense, "pruning"])]
    lines += [points[dense].assign(line_pruning=method) for method in methods]
    return pd.concat(lines, ignore_index=True)


def sparsity_sweep(table: pd.DataFrame) -> plt.Figure:
    """Accuracy against sparsity (largest T), one line per method / framework / hardware /
    pruning method."""
    acc = accuracy_by_timesteps(table)
    if acc.empty:
        return empty_figure(EMPTY_ML)
    largest = acc.groupby(ML_KEYS, dropna=False)["T"].transform("max")
    head = per_pruning_method(acc[acc["T"].isna() | (acc["T"] == largest)])
    datasets = sorted(head["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4 * len(datasets), 3.2), squeeze=False, sharey=True)
    for ax, dataset in zip(axes.flat, datasets):
        sub = head[head["dataset"] == dataset].sort_values("sparsity")
        sub = sub.assign(
            series=sub["method"]
            + " / "
            + sub["framework"]
            + " / "
            + sub["hardware"]
            + " / "
            + sub["line_pruning"]
        )
        sns.lineplot(data=sub, x="sparsity", y="value", hue="series", marker="o", ax=ax, errorbar=None)
        errorbars(ax, sub, "sparsity")
        ax.set(title=dataset, xlabel="sparsity (fraction of weights pruned)", ylabel="accuracy")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def accuracy_vs_energy(table: pd.DataFrame) -> plt.Figure:
    """Accuracy against energy per inference; filled markers are meter readings, hollow ones
    estimates; the Pareto front (per dataset and energy source) is drawn as a step line."""
    pts = accuracy_energy_points(table)
    if pts.empty:
        return empty_figure("no energy per inference (measured or estimated) in this results set")
    datasets = sorted(pts["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 3.5), squeeze=False)
    palette = dict(zip(sorted(pts["method"].unique()), sns.color_palette(n_colors=pts["method"].nunique())))
    for ax, dataset in zip(axes.flat, datasets):
        sub = pts[pts["dataset"] == dataset]
        for (method, estimate), grp in sub.groupby(["method", "estimate"]):
            colour = palette[method]
            ax.scatter(
                grp["energy"],
                grp["accuracy"],
                facecolors="none" if estimate else colour,
                edgecolors=colour,
                label=f"{method} ({'estimate' if estimate else 'measured'})",
            )
        for source, grp in sub[sub["pareto"]].groupby("energy_source"):
            front = grp.sort_values("energy")
            ax.step(front["energy"], front["accuracy"], where="post", ls="--", lw=1, c="k", alpha=0.6)
            ax.scatter(front["energy"], front["accuracy"], marker="*", s=90, c="k", zorder=3)
            ax.annotate(
                f"Pareto front ({source})", (front["energy"].iloc[0], front["accuracy"].iloc[0]), fontsize=7
            )
        ax.set(xscale="log", title=dataset, xlabel="energy per inference (J)", ylabel="accuracy")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def log2_x_at(ax, values: pd.Series) -> None:
    """Log-2 x axis with a plainly written tick at every measured value (T, size, threads)."""
    ax.set_xscale("log", base=2)
    ticks = sorted(values.dropna().unique())
    if ticks:
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def pd14_strong_scaling(table: pd.DataFrame) -> plt.Figure:
    """Wall time per phase and in total against the thread count of single-rank runs, one
    panel per framework and scale: lines join the geometric means over the seeds that were not contended (bars:
    95 % log-scale intervals); contended timings are hollow markers, left out of the lines."""
    points = scaling_points(table)
    lines = phase_times(table)
    # One rank: threads scaling; runs over several MPI ranks are in the scaling figure.
    points = points[points["ranks"].astype(str).isin(["", "1"])]
    lines = lines[lines["ranks"].astype(str).isin(["", "1"])]
    if points.empty:
        return empty_figure(EMPTY_SIMULATION)
    # one panel per framework and scale (and machine, where several are combined)
    keys = [k for k in ("platform", "framework", "scale") if k in points]
    panels = sorted(points.groupby(keys).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False, sharey=True)
    order = [*PHASES, TOTAL]
    palette = dict(zip(order, sns.color_palette(n_colors=len(order))))
    for ax, panel in zip(axes.flat, panels):
        where = dict(zip(keys, panel))
        here = points[(points[keys] == pd.Series(where)).all(axis=1)]
        mean = lines[(lines[keys] == pd.Series(where)).all(axis=1)]
        title = " ".join(
            [where.get("platform", "").split(" (")[0], where["framework"], where["scale"]]
        ).strip()
        for phase in [p for p in order if p in set(here["phase"])]:
            colour = palette[phase]
            line = mean[mean["phase"] == phase].sort_values("threads")
            ax.plot(
                line["threads"],
                line["seconds"],
                marker="o",
                ms=4,
                color=colour,
                label=PHASE_LABELS.get(phase, phase),
            )
            errorbars(ax, line, "threads", "seconds")
            busy = here[(here["phase"] == phase) & here["contended"]]
            if len(busy):
                ax.scatter(
                    busy["threads"], busy["seconds"], s=30, facecolors="none", edgecolors=colour, zorder=3
                )
        if here["contended"].any():
            ax.plot([], [], ls="none", marker="o", mfc="none", mec="k", label="contended (not in the lines)")
        ax.set(yscale="log", title=title, xlabel="threads", ylabel="wall time (s)")
        log2_x_at(ax, here["threads"])
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pd14_rates(table: pd.DataFrame, rates_reference: pd.DataFrame | None = None) -> plt.Figure:
    """Rate per population (geometric mean over seeds, 95 % log-scale interval) against the reference."""
    rates = population_rates(table, rates_reference)
    if rates.empty:
        return empty_figure(EMPTY_SIMULATION)
    order = [
        p for p in ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I") if p in set(rates["population"])
    ]
    order += sorted(set(rates["population"]) - set(order))
    label = rates["framework"] + " " + rates["scale"]
    if "status" in rates:
        label = label + rates["status"].map(lambda s: "" if s == "ok" else f" ({s})")
    series = rates.assign(series=label)
    names = sorted(series["series"].unique())
    width = 0.8 / (len(names) + 1)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = {p: i for i, p in enumerate(order)}
    for k, name in enumerate(names):
        sub = series[series["series"] == name]
        xs = [x[p] + k * width for p in sub["population"]]
        err = [
            (sub["rate_hz"] - sub["ci_low"]).fillna(0).clip(lower=0),
            (sub["ci_high"] - sub["rate_hz"]).fillna(0).clip(lower=0),
        ]
        ax.bar(xs, sub["rate_hz"], width, yerr=err, capsize=2, label=name)
    if "reference_pynest_hz" in rates:
        ref = rates.drop_duplicates("population")
        xs = [x[p] + len(names) * width for p in ref["population"]]
        ax.bar(
            xs,
            ref["reference_pynest_hz"],
            width,
            color="lightgrey",
            edgecolor="k",
            label="reference (PyNEST, full scale)",
        )
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(order))], order)
    ax.set(ylabel="mean rate (Hz)", xlabel="population")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
