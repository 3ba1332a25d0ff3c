# Snakemake job script: one recorded PD14 run for validation (tier 1 or tier 2).
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _simlog import prepare  # noqa: E402

# Not a timed run: let idle OpenMP threads sleep instead of spin, so that a validation run
# sharing an oversubscribed machine does not crawl (measured: RTF 104 -> 50 at 2 threads
# under load 6 on 2 cores). Must be set before NEST (libgomp) loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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
