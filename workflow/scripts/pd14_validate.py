# Snakemake job script: judge one framework at one scale against the reference ensemble.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _simlog import prepare  # noqa: E402

prepare(snakemake)
from spikemark.simulation.cells import validate_cell  # noqa: E402

w = snakemake.wildcards
validate_cell(
    snakemake.params.simulation,
    w.framework,
    w.scale,
    snakemake.input.tests,
    snakemake.input.references,
    snakemake.output.metrics,
    snakemake.output.verdict,
    snakemake.output.provenance,
    metrics=snakemake.params.metrics,
    tier=w.tier,
    reference_dir=snakemake.params.simulation.get("reference_dir"),
    config=snakemake.params.config,
)
