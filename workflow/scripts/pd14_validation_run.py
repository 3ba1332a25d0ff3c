# Snakemake job script: one recorded PD14 run for validation (tier 1 or tier 2).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _simlog import prepare  # noqa: E402

prepare(snakemake)
from spikemark.simulation.cells import validation_run  # noqa: E402

w = snakemake.wildcards
validation_run(
    snakemake.params.simulation,
    w.framework,
    w.scale,
    int(w.seed),
    snakemake.output.stats,
    tier=w.tier,
    metrics=snakemake.params.metrics,
    threads=snakemake.threads,
)
