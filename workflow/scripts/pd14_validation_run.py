# Snakemake job script: one recorded PD14 run for validation (tier 1 or tier 2).
import os
import sys
from pathlib import Path

# Not a timed run: let idle OpenMP threads sleep instead of spin, so that a validation run
# sharing an oversubscribed machine does not crawl (measured: RTF 104 -> 50 at 2 threads
# under load 6 on 2 cores). Must be set before NEST (libgomp) loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from spikemark.simulation.cells import validation_run  # noqa: E402
from spikemark.pipeline import run_stage  # noqa: E402

run_stage(snakemake, validation_run)
