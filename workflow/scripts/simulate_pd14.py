# Snakemake job script: one timed PD14 run of one (framework, scale, threads, seed) cell.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _simlog import prepare  # noqa: E402

prepare(snakemake)
from spikemark.simulation.cells import run_cell  # noqa: E402

w = snakemake.wildcards
run_cell(
    snakemake.params.simulation,
    w.framework,
    w.scale,
    int(w.threads),
    int(w.seed),
    snakemake.output.metrics,
    snakemake.output.provenance,
    verdict_json=snakemake.input.verdict,
    ranks=int(snakemake.params.ranks),
    config=snakemake.params.config,
)
