"""The report's named outputs and pages: one list that the Snakemake rules
(``workflow/rules/report.smk``), the notebooks and the ``snakemake --report`` captions
(``workflow/report/<name>.rst``, written from here by ``python -m spikemark.report.manifest``)
all read.

Each output has a name (its file stem under ``results/report/``), the function that makes
it (``module:function`` inside :mod:`spikemark.report`, imported only when called), its kind
(a table is written as CSV, Markdown and LaTeX, a figure as PNG and PDF), the page that
writes it, its category in the Snakemake report and its caption.

This module imports nothing heavy: the Snakefile reads it while building the DAG.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

#: Page file names inside the report directory.
INDEX = "index.html"
SIMULATION = "simulation.html"

TABLE = "table"
FIGURE = "figure"
FORMATS = {TABLE: ("csv", "md", "tex"), FIGURE: ("png", "pdf")}

EMPTY_ML = "no ML results in this results set"
EMPTY_SIMULATION = "no simulation results in this results set"
EMPTY_LATENCY = "no framework latency results in this results set (latency track off or not run)"
EMPTY_ROBUSTNESS = "no robustness-protocol results in this results set (robustness off or not run)"
EMPTY_NOISE = "no noise-sweep results in this results set (robustness off, or no noise level above 0)"

ML_TRACK = "ML track"
LATENCY_TRACK = "Framework latency benchmark"
ROBUSTNESS_TRACK = "Robustness"
SIMULATION_TRACK = "Simulation track"


@dataclass(frozen=True)
class Output:
    """One named table or figure of the report."""

    name: str
    kind: str
    page: str
    category: str
    maker: str
    caption: str
    #: Context the maker takes as keywords besides the results table (``published``,
    #: ``drive``, ``rates_reference``).
    needs: tuple[str, ...] = ()
    #: What an empty table says.
    empty: str = "(no rows)"
    #: Shown (for that dataset only, not written) on every dataset page.
    per_dataset: bool = False

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{ext}" for ext in FORMATS[self.kind])


OUTPUTS: tuple[Output, ...] = (
    Output(
        "table_headline",
        TABLE,
        INDEX,
        ML_TRACK,
        "ml:headline_table",
        "The headline comparison: every dense (unpruned) ML cell that ran and is valid, at its largest "
        "evaluated T, with accuracy, batch-1 latency and energy per inference (its source: a meter where one "
        "read, else a labelled estimate). Every cell, skipped ones included, is in the framework comparison.",
        empty=EMPTY_ML,
    ),
    Output(
        "table_framework_comparison",
        TABLE,
        INDEX,
        ML_TRACK,
        "ml:framework_comparison",
        "Per dataset, method, framework, hardware and sparsity (at the largest T): accuracy, latency, "
        "throughput, energy per inference with its source (estimates say so), synaptic operations (with "
        "their convention) and sparsity. Cells show value [95 % interval] (n) in the unit of their header; "
        "skipped, failed and invalid cells keep their reason.",
        empty=EMPTY_ML,
        per_dataset=True,
    ),
    Output(
        "table_conversion",
        TABLE,
        INDEX,
        ML_TRACK,
        "ml:conversion_table",
        "ANN against its converted SNN at each T: accuracy penalty in percentage points and the change of "
        "the energy-delay product (SNN / ANN, same energy source on both sides).",
        empty=EMPTY_ML,
        per_dataset=True,
    ),
    Output(
        "table_pruning",
        TABLE,
        INDEX,
        ML_TRACK,
        "ml:pruning_table",
        "Accuracy, footprint, synaptic operations and energy per inference against sparsity (at the "
        "largest T), pruning methods side by side over the dense baseline they share.",
        empty=EMPTY_ML,
        per_dataset=True,
    ),
    Output(
        "fig_accuracy_vs_energy",
        FIGURE,
        INDEX,
        ML_TRACK,
        "figures:accuracy_vs_energy",
        "Accuracy against energy per inference, one panel per dataset. Filled markers are meter readings "
        "(RAPL, NVML, Slurm), hollow markers estimates (``estimate-ops``, ``estimate-tdp``). Stars and the "
        "dashed step line mark the Pareto front, computed per dataset and energy source; invalid cells are "
        "not ranked.",
        per_dataset=True,
    ),
    Output(
        "fig_accuracy_vs_timesteps",
        FIGURE,
        INDEX,
        ML_TRACK,
        "figures:accuracy_vs_timesteps",
        "Accuracy of spiking networks against the number of time steps T (log scale), with 95 % Wilson "
        "intervals; the dashed line is the dense ANN of the same dataset.",
        per_dataset=True,
    ),
    Output(
        "fig_sparsity_sweep",
        FIGURE,
        INDEX,
        ML_TRACK,
        "figures:sparsity_sweep",
        "Accuracy against the fraction of weights pruned, one line per method, framework, hardware and "
        "pruning method (each from the shared dense point), at the largest evaluated T, with 95 % Wilson "
        "intervals.",
        per_dataset=True,
    ),
    Output(
        "table_latency",
        TABLE,
        INDEX,
        LATENCY_TRACK,
        "tracks:latency_table",
        "Framework latency benchmark per framework, hardware, layer size and variant: inference, forward "
        "and backward time as median [95 % interval] (n), peak host and CUDA memory, compile time; skipped "
        "cells and failed compilations with their reason.",
        empty=EMPTY_LATENCY,
    ),
    Output(
        "fig_latency",
        FIGURE,
        INDEX,
        LATENCY_TRACK,
        "tracks:latency_figure",
        "Framework latency benchmark: inference, forward and backward time of one Linear + LIF layer "
        "against layer size (median with its 95 % interval), one panel per timing and hardware, one colour "
        "per framework; solid lines eager, dashed lines ``torch.compile``. Empty, with a note, when the "
        "latency track is off.",
    ),
    Output(
        "table_robustness",
        TABLE,
        INDEX,
        ROBUSTNESS_TRACK,
        "tracks:robustness_table",
        "Robustness protocol per SNN cell and evaluated (T, σ): accuracy, batch-1 latency, effective MACs "
        "and ACs per sample and activation sparsity; ``sweep`` says whether a point belongs to the T sweep "
        "(σ = 0), the σ sweep (at the evaluation T) or both; skipped, failed and invalid cells with their "
        "reason.",
        empty=EMPTY_ROBUSTNESS,
        per_dataset=True,
    ),
    Output(
        "fig_robustness_timesteps",
        FIGURE,
        INDEX,
        ROBUSTNESS_TRACK,
        "tracks:robustness_timesteps_figure",
        "Robustness protocol, time-step sweep at noise 0: accuracy (95 % Wilson interval), batch-1 latency "
        "(median, 95 % interval) and synaptic operations (effective MACs + ACs per sample) against T, one "
        "column per dataset, one line per method, framework, hardware and sparsity.",
        per_dataset=True,
    ),
    Output(
        "fig_robustness_noise",
        FIGURE,
        INDEX,
        ROBUSTNESS_TRACK,
        "tracks:robustness_noise_figure",
        "Robustness protocol, noise sweep: accuracy (95 % Wilson interval) against the standard deviation "
        "σ of Gaussian input noise x + σ·N(0, 1), at each cell's evaluation T (in the legend).",
        per_dataset=True,
    ),
    Output(
        "table_pd14",
        TABLE,
        SIMULATION,
        SIMULATION_TRACK,
        "pd14:pd14_table",
        "PD14 real-time factor, energy per synaptic event and phase times per framework, scale and thread "
        "count (geometric mean over seeds, 95 % t-interval on the log scale, n; contended timings left out "
        "and counted), beside the published full-scale rows. Scale, drive and what the energy covers are "
        "columns: our runs are downscaled, and published energies are whole machines at the power outlet.",
        needs=("published", "drive"),
    ),
    Output(
        "fig_pd14_strong_scaling",
        FIGURE,
        SIMULATION,
        SIMULATION_TRACK,
        "figures:pd14_strong_scaling",
        "PD14 microcircuit on NEST: wall time of each phase (create, connect, presimulate, simulate) and of "
        "their sum against the thread count, one panel per framework and scale. Lines join the geometric "
        "means over seeds (bars: 95 % t-interval on the log scale). Hollow markers are contended timings "
        "(the run got less CPU than it asked for, or other processes shared its cores): drawn, but left out "
        "of the lines. Runs that failed validation are left out.",
    ),
    Output(
        "table_pd14_scaling",
        TABLE,
        SIMULATION,
        SIMULATION_TRACK,
        "scaling:scaling_table",
        "PD14 simulate phase over virtual processes p = ranks × threads. Strong scaling (one network): "
        "speed-up T(p0)/T(p) against the smallest p0 measured, its ideal p/p0, and parallel efficiency "
        "speed-up × p0/p. Weak scaling (networks growing with p at fixed K and neurons per virtual process): "
        "efficiency T(p0)/T(p). T: geometric mean over seeds that were not contended.",
        empty="no network simulated at two or more virtual-process counts in this results set",
    ),
    Output(
        "fig_pd14_scaling",
        FIGURE,
        SIMULATION,
        SIMULATION_TRACK,
        "scaling:scaling_figure",
        "PD14 scaling of the simulate phase over virtual processes (ranks × threads): strong-scaling "
        "speed-up with the ideal dashed, and parallel efficiency, strong (solid) and weak (dotted), the "
        "ideal 1 dashed. Contended timings are left out of every curve.",
    ),
    Output(
        "fig_pd14_phases",
        FIGURE,
        SIMULATION,
        SIMULATION_TRACK,
        "scaling:phases_figure",
        "PD14 phases stacked per configuration (framework, scale, ranks × threads), as beNNch shows them: "
        "create, connect, presimulate and simulate wall time, geometric means over the seeds that were not "
        "contended.",
    ),
    Output(
        "table_pd14_rates",
        TABLE,
        SIMULATION,
        SIMULATION_TRACK,
        "pd14:rates_table",
        "PD14 rate per population (geometric mean over seeds and thread counts, 95 % t-interval on the log "
        "scale) beside the reference rates.",
        needs=("rates_reference",),
        empty=EMPTY_SIMULATION,
    ),
    Output(
        "fig_pd14_rates",
        FIGURE,
        SIMULATION,
        SIMULATION_TRACK,
        "figures:pd14_rates",
        "PD14 firing rate per population (geometric mean over seeds and thread counts, 95 % t-interval on "
        "the log scale) beside the reference rates of the full-scale PyNEST model. Runs that failed "
        "validation are labelled.",
        needs=("rates_reference",),
    ),
)

_BY_NAME = {o.name: o for o in OUTPUTS}


def output(name: str) -> Output:
    """The named output (KeyError names the known ones)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no report output {name!r}; known: {', '.join(_BY_NAME)}") from None


def outputs(
    *, page: str | None = None, kind: str | None = None, per_dataset: bool | None = None
) -> list[Output]:
    """The outputs of a page and / or kind, in report order."""
    return [
        o
        for o in OUTPUTS
        if (page is None or o.page == page)
        and (kind is None or o.kind == kind)
        and (per_dataset is None or o.per_dataset == per_dataset)
    ]


def maker(entry: Output | str) -> Callable[..., Any]:
    """The function that makes an output (its module imported now, not before)."""
    entry = output(entry) if isinstance(entry, str) else entry
    module, _, function = entry.maker.partition(":")
    return getattr(importlib.import_module(f"spikemark.report.{module}"), function)


def make(entry: Output | str, table: Any, **context: Any) -> Any:
    """The output's table (a DataFrame) or figure from ``table`` and the context it needs."""
    entry = output(entry) if isinstance(entry, str) else entry
    return maker(entry)(table, **{key: context.get(key) for key in entry.needs})


# ---------------------------------------------------------------- pages


def dataset_page(dataset: str) -> str:
    return f"dataset_{dataset}.html"


def pages(datasets: Sequence[str]) -> list[dict[str, str]]:
    """The navigation bar: overview, one page per dataset, the simulation track."""
    nav = [{"title": "Overview", "href": INDEX}]
    nav += [{"title": f"Dataset: {d}", "href": dataset_page(d)} for d in datasets]
    nav.append({"title": "Simulation (PD14)", "href": SIMULATION})
    return nav


def page_files(datasets: Sequence[str]) -> list[str]:
    """The file names of every page: the overview, the simulation page, one per dataset."""
    return [INDEX, SIMULATION, *(dataset_page(d) for d in datasets)]


def navigation(nav: Sequence[dict[str, str]], current: str = "") -> str:
    """Markdown links to every page of the report (the current one in bold)."""
    links = [f"**{p['title']}**" if p["href"] == current else f"[{p['title']}]({p['href']})" for p in nav]
    return " · ".join(links)


def workflow_parameters(
    metrics: str | Path, out_dir: str | Path, datasets: Sequence[str], **extra: Any
) -> dict:
    """Papermill parameters of a page rendered by a Snakemake rule (one results set)."""
    return {
        "metrics": [str(Path(metrics).parent)],
        "out_dir": str(out_dir),
        "pages": pages(datasets),
        **extra,
    }


# ---------------------------------------------------------------- captions


def caption_rst(entry: Output) -> str:
    """The ``snakemake --report`` caption file's text (lines of at most 100 characters)."""
    lines, line = [], ""
    for word in entry.caption.split():
        if line and len(line) + 1 + len(word) > 100:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line]) + "\n"


def write_captions(directory: str | Path) -> list[Path]:
    """Write every output's caption to ``directory/<name>.rst``."""
    directory = Path(directory)
    paths = []
    for entry in OUTPUTS:
        path = directory / f"{entry.name}.rst"
        path.write_text(caption_rst(entry))
        paths.append(path)
    return paths


if __name__ == "__main__":
    # python -m spikemark.report.manifest workflow/report
    for written in write_captions(sys.argv[1] if len(sys.argv) > 1 else "workflow/report"):
        print(written)
