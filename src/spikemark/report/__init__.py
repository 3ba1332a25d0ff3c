"""The report: tables and figures from ``results/``, rendered by parameterised notebooks.

Notebooks (``notebooks/*.ipynb``) only call these functions; the logic lives in
:mod:`spikemark.report.tables` (formatted tables), :mod:`spikemark.report.figures`
(matplotlib figures), :mod:`spikemark.report.tracks` (the framework latency benchmark and
the robustness protocol) and :mod:`spikemark.report.render` (papermill + nbconvert).
Re-render from existing results, combining machines: ``python -m spikemark.report``.
"""

from spikemark.report import figures, tracks
from spikemark.report.figures import figure_image, publish
from spikemark.report.render import navigation, pages, render_notebook, render_site
from spikemark.report.tables import (
    EMPTY_ML,
    EMPTY_SIMULATION,
    accuracy_by_timesteps,
    accuracy_energy_points,
    cell_status,
    conversion_penalty,
    conversion_table,
    energy_cell,
    fmt_row,
    fmt_stat,
    framework_comparison,
    html_table,
    load_metrics,
    load_provenance,
    load_results,
    pareto_front,
    pd14_table,
    phase_times,
    platforms,
    population_rates,
    problems,
    publish_table,
    pruning_table,
    rates_table,
    reference_dir,
    status_counts,
    to_markdown,
    write_table,
)

__all__ = [
    "EMPTY_ML",
    "EMPTY_SIMULATION",
    "accuracy_by_timesteps",
    "accuracy_energy_points",
    "cell_status",
    "conversion_penalty",
    "conversion_table",
    "energy_cell",
    "fmt_row",
    "figure_image",
    "figures",
    "fmt_stat",
    "framework_comparison",
    "html_table",
    "load_metrics",
    "load_provenance",
    "load_results",
    "navigation",
    "pages",
    "pareto_front",
    "pd14_table",
    "phase_times",
    "platforms",
    "population_rates",
    "problems",
    "publish",
    "publish_table",
    "pruning_table",
    "rates_table",
    "reference_dir",
    "render_notebook",
    "render_site",
    "status_counts",
    "to_markdown",
    "tracks",
    "write_table",
]
