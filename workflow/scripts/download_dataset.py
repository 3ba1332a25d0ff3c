# Snakemake job script: fetch one dataset's raw files into the cache (fails loudly offline).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from spikemark.datasets import download_stage  # noqa: E402
from spikemark.pipeline import logging_to  # noqa: E402

with logging_to(snakemake.log[0]):
    download_stage(snakemake.output.manifest, **dict(snakemake.params.items()))
