"""Strong and weak scaling of the PD14 simulate phase over virtual processes (ranks × threads).

- **Strong scaling**: one network (framework, scale) over increasing virtual processes p:
  speed-up S(p) = T(p₀) / T(p) against the smallest p₀ measured, parallel efficiency
  E(p) = S(p) · p₀ / p; the ideal is S = p / p₀, E = 1.
- **Weak scaling**: networks that grow with p at a fixed in-degree scaling K, so that the
  neurons per virtual process N / p stay the same (``simulation.weak_scaling``): efficiency
  E(p) = T(p₀) / T(p); the ideal is 1. The groups are found in the results themselves (same
  framework, K and N / p over at least two p), so results of any config are read alike.

T is the geometric mean over the seeds whose timing was not contended
(:func:`spikemark.report.pd14.phase_times`); a contended or invalid run is never fitted
into a scaling curve.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spikemark.matrix import parse_scale
from spikemark.report.figures import empty_figure, log2_x_at
from spikemark.report.load import numeric
from spikemark.report.manifest import EMPTY_SIMULATION
from spikemark.report.pd14 import PHASES, TOTAL, phase_times

SIMULATE = "time_simulate"
PHASE_LABELS = {"time_create": "create", "time_connect": "connect", "time_presimulate": "presimulate",
                "time_simulate": "simulate"}  # fmt: skip
COLUMNS = ["kind", "framework", "scale", "ranks", "threads", "virtual processes", "simulate (s)", "n",
           "speed-up", "ideal speed-up", "efficiency"]  # fmt: skip


def vp_times(table: pd.DataFrame, phase: str = SIMULATE) -> pd.DataFrame:
    """Per framework, scale, ranks and threads: the phase's geometric-mean wall time, with
    the virtual processes p = ranks × threads and the network's N and K."""
    times = phase_times(table)
    times = times[times["phase"] == phase].copy()
    if times.empty:
        return times.assign(vps=[], N=[], K=[])
    times["vps"] = (_ranks(times) * numeric(times["threads"].astype(str))).astype(int)
    scales = times["scale"].map(parse_scale)
    times["N"], times["K"] = scales.map(lambda s: s[0]), scales.map(lambda s: s[1])
    return times


def _ranks(frame: pd.DataFrame) -> pd.Series:
    return numeric(frame["ranks"].astype(str)).fillna(1) if "ranks" in frame else pd.Series(1, index=frame.index)


def curve(group: pd.DataFrame) -> pd.DataFrame:
    """One point per p for a line: of several decompositions of the same p (2 ranks x 1
    thread, 1 rank x 2 threads), the one with the fewest ranks."""
    return group.assign(_r=_ranks(group)).sort_values(["vps", "_r"]).drop_duplicates("vps").drop(columns="_r")


def _rows(group: pd.DataFrame, kind: str) -> list[dict]:
    """Every decomposition of the group, against the smallest p (fewest ranks) as base."""
    group = group.assign(_r=_ranks(group)).sort_values(["vps", "_r"]).drop(columns="_r")
    base = group.iloc[0]
    out = []
    for r in group.itertuples():
        speedup = base["seconds"] / r.seconds
        strong = kind == "strong"
        out.append(
            {
                "kind": kind,
                "framework": r.framework,
                "scale": r.scale if strong else f"N/p = {r.N / r.vps:g}, K = {r.K:g} ({r.scale})",
                "ranks": str(getattr(r, "ranks", "") or "1"),
                "threads": str(r.threads),
                "virtual processes": int(r.vps),
                "simulate (s)": f"{r.seconds:.3g}",
                "n": int(r.n),
                "speed-up": f"{speedup:.2f}" if strong else "",
                "ideal speed-up": f"{r.vps / base['vps']:.2f}" if strong else "",
                "efficiency": f"{(speedup * base['vps'] / r.vps) if strong else speedup:.2f}",
            }
        )
    return out


def weak_groups(times: pd.DataFrame) -> list[pd.DataFrame]:
    """Runs of one framework whose networks grow with p at fixed K and N / p (≥ 2 values of p)."""
    if times.empty:
        return []
    keyed = times.assign(per_vp=(times["N"] / times["vps"]).round(9))
    groups = []
    for _, group in keyed.groupby(["framework", "K", "per_vp"], sort=True):
        if group["vps"].nunique() >= 2 and group["scale"].nunique() >= 2:
            groups.append(group)
    return groups


def scaling_table(table: pd.DataFrame) -> pd.DataFrame:
    """Speed-up and parallel efficiency of the simulate phase: strong scaling per network
    (framework, scale) over virtual processes, weak scaling per growing-network family."""
    times = vp_times(table)
    out = []
    for _, group in times.groupby(["framework", "scale"], sort=True):
        if group["vps"].nunique() >= 2:
            out += _rows(group, "strong")
    for group in weak_groups(times):
        out += _rows(group, "weak")
    return pd.DataFrame(out, columns=COLUMNS)


def scaling_figure(table: pd.DataFrame) -> plt.Figure:
    """Left: strong-scaling speed-up against virtual processes, the ideal dashed; right:
    parallel efficiency, strong (solid) and weak (dotted), the ideal 1 dashed. Where one p
    was run in several decompositions the line takes the one with the fewest ranks (the
    table lists them all)."""
    times = vp_times(table)
    strong = [curve(g) for _, g in times.groupby(["framework", "scale"]) if g["vps"].nunique() >= 2]
    weak = [curve(g) for g in weak_groups(times)]
    if not strong and not weak:
        return empty_figure("no network simulated at two or more virtual-process counts in this results set")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    colours = sns.color_palette(n_colors=max(1, len(strong) + len(weak)))
    all_vps = pd.concat([*strong, *weak])["vps"]
    for colour, group in zip(colours, strong):
        label = f"{group['framework'].iloc[0]} {group['scale'].iloc[0]}"
        base = group.iloc[0]
        speedup = base["seconds"] / group["seconds"]
        left.plot(group["vps"], speedup, marker="o", color=colour, label=label)
        right.plot(group["vps"], speedup * base["vps"] / group["vps"], marker="o", color=colour, label=label)
    for colour, group in zip(colours[len(strong):], weak):
        base = group.iloc[0]
        label = f"{group['framework'].iloc[0]} weak (N/p = {base['N'] / base['vps']:g}, K = {base['K']:g})"
        right.plot(group["vps"], base["seconds"] / group["seconds"], marker="s", ls=":", color=colour, label=label)
    p = sorted(set(all_vps))
    left.plot(p, [x / p[0] for x in p], ls="--", color="grey", label="ideal")
    right.axhline(1.0, ls="--", color="grey", label="ideal")
    left.set(xlabel="virtual processes (ranks × threads)", ylabel="speed-up of the simulate phase",
             title="strong scaling")  # fmt: skip
    right.set(xlabel="virtual processes (ranks × threads)", ylabel="parallel efficiency", title="efficiency",
              ylim=(0, 1.2))  # fmt: skip
    for ax in (left, right):
        log2_x_at(ax, all_vps)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def phases_figure(table: pd.DataFrame) -> plt.Figure:
    """beNNch's view: the phases stacked per configuration (framework, scale, ranks ×
    threads), geometric means over the seeds that were not contended."""
    times = phase_times(table)
    times = times[times["phase"].isin(PHASES)]
    if times.empty:
        return empty_figure(EMPTY_SIMULATION)
    ranks = times["ranks"].replace("", "1") if "ranks" in times else "1"
    times = times.assign(config=times["framework"] + " " + times["scale"] + "\n" + ranks.astype(str) + " × "
                         + times["threads"].astype(str))  # fmt: skip
    wide = times.pivot_table(index="config", columns="phase", values="seconds", aggfunc="first", sort=False)
    wide = wide[[p for p in PHASES if p in wide]]
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(wide)), 3.6))
    bottom = pd.Series(0.0, index=wide.index)
    for phase, colour in zip(wide.columns, sns.color_palette(n_colors=len(PHASES))):
        ax.bar(wide.index, wide[phase].fillna(0), bottom=bottom, color=colour, label=PHASE_LABELS[phase])
        bottom += wide[phase].fillna(0)
    ax.set(ylabel="wall time (s)", xlabel="framework, scale, ranks × threads")
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


__all__ = ["TOTAL", "phases_figure", "scaling_figure", "scaling_table", "vp_times", "weak_groups"]
