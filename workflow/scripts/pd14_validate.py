# Snakemake job script: run one stage function with the job's inputs, outputs and params.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from spikemark.simulation.cells import validate  # noqa: E402
from spikemark.pipeline import run_stage  # noqa: E402

run_stage(snakemake, validate)
