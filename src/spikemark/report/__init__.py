"""The report: tables and figures from ``results/``, rendered by parameterised notebooks.

Notebooks (``notebooks/*.ipynb``) only call these functions; the named outputs, their
makers, pages and captions are listed once in :mod:`spikemark.report.manifest`. The logic
lives in :mod:`~spikemark.report.load` (reading and combining results sets),
:mod:`~spikemark.report.cells` (formatting one cell), :mod:`~spikemark.report.ml` (the ML
tables), :mod:`~spikemark.report.pd14` (the simulation tables), :mod:`~spikemark.report.status`
(what is not ok), :mod:`~spikemark.report.overview` (what a page opens with),
:mod:`~spikemark.report.tracks` (the framework latency benchmark and the
robustness protocol), :mod:`~spikemark.report.figures` (matplotlib figures),
:mod:`~spikemark.report.publish` (writing and showing outputs) and
:mod:`~spikemark.report.render` (papermill + nbconvert).
Re-render from existing results, combining machines: ``python -m spikemark.report``.

Attributes are imported when first used, so that reading the manifest (as the Snakefile
does) costs no pandas or matplotlib import.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → the submodule that defines it.
_EXPORTS = {
    "load": (
        "load_metrics", "load_provenance", "load_results", "numeric", "platform_label", "platforms",
        "machines", "multi_platform", "with_platform_key", "reference_dir",
    ),
    "cells": (
        "CONVENTIONS", "ENERGY_COVERS", "contended", "reason_category", "ESTIMATES", "energy_cell", "fmt_row", "fmt_stat", "metric_cells",
        "pick", "source_label", "synops_cell", "total_energy_rows",
    ),
    "ml": (
        "ML_KEYS", "accuracy_by_timesteps", "accuracy_energy_points", "cell_mark", "cell_status",
        "conversion_table", "framework_comparison", "headline_table", "ml_cells", "pareto_front",
        "pareto_sentence", "pruning_table",
    ),
    "pd14": (
        "load_reference", "pd14_table", "phase_times", "scaling_points", "population_rates", "rates_table",
        "simulation_cells", "summary_over_seeds",
    ),
    "status": ("banner", "problems", "status_counts", "timing_rows"),
    "publish": (
        "compact_view", "dataset_rows", "figure_image", "html_table", "table_html", "publish_figure", "publish_table", "save_figure", "show",
        "to_markdown", "view", "write_table",
    ),
    "overview": ("banner_html", "measured", "measured_html", "pareto_html", "problem_lines", "problem_summary"),
    "manifest": (
        "EMPTY_LATENCY", "EMPTY_ML", "EMPTY_NOISE", "EMPTY_ROBUSTNESS", "EMPTY_SIMULATION", "OUTPUTS", "navigation",
        "output", "outputs", "pages",
    ),
    "render": ("render_notebook", "render_site"),
}  # fmt: skip
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = (*_EXPORTS, "figures", "tracks")

__all__ = sorted([*_WHERE, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
