"""Executing the report notebooks (papermill) and rendering them to one navigable HTML site."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from spikemark.report.manifest import INDEX, SIMULATION, dataset_page, pages

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
SRC = Path(__file__).resolve().parents[2]


def render_notebook(
    notebook: str | Path, executed: str | Path, html: str | Path, *, parameters: dict[str, Any]
) -> None:
    """Execute ``notebook`` with papermill and render it to HTML with code hidden.

    The kernel imports this package from the same source tree as the caller.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    Path(executed).parent.mkdir(parents=True, exist_ok=True)
    Path(html).parent.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(SRC), *([old] if old else [])])
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            cwd=".",
            progress_bar=False,
        )
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(str(executed), as_version=4))
    Path(html).write_text(body)


def render_site(
    metrics: Sequence[str | Path],
    out_dir: str | Path,
    *,
    reference_dir: str | Path | None = None,
    drive: str = "",
    datasets: Sequence[str] | None = None,
    notebooks: str | Path = NOTEBOOKS,
) -> list[Path]:
    """Every page of the report from existing results (no pipeline step runs).

    ``metrics``: results directories or ``metrics.csv`` files, one per machine; they are
    combined into one set of tables, told apart by their provenance (``platform``).
    """
    from spikemark.report.load import load_results

    metrics = [str(m) for m in metrics]
    out = Path(out_dir)
    if datasets is None:
        table = load_results(metrics)
        datasets = sorted(set(table.loc[table["track"] == "ml", "dataset"]) - {""})
    nav = pages(datasets)
    common = {"metrics": metrics, "out_dir": str(out), "pages": nav}
    notebooks = Path(notebooks)
    done = []
    for dataset in datasets:
        html = out / dataset_page(dataset)
        render_notebook(
            notebooks / "dataset.ipynb",
            out / "executed" / f"dataset_{dataset}.ipynb",
            html,
            parameters={**common, "dataset": dataset},
        )
        done.append(html)
    render_notebook(
        notebooks / "simulation.ipynb",
        out / "executed" / "simulation.ipynb",
        out / SIMULATION,
        parameters={**common, "reference_dir": str(reference_dir or ""), "drive": drive},
    )
    render_notebook(
        notebooks / "report.ipynb", out / "executed" / "report.ipynb", out / INDEX, parameters=common
    )
    return [*done, out / SIMULATION, out / INDEX]
