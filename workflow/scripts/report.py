# Snakemake job script: execute one report notebook (papermill) and render it to HTML.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from spikemark.report import render_notebook  # noqa: E402
from spikemark.pipeline import logging_to  # noqa: E402

with logging_to(snakemake.log[0]):
    render_notebook(
        snakemake.input.notebook,
        snakemake.output.executed,
        snakemake.output.html,
        parameters=snakemake.params.parameters,
    )
