# Snakemake job script: fail while any cell of the results failed.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from spikemark.summary import check_cells  # noqa: E402

check_cells(snakemake.input.summary, snakemake.output.ok, snakemake.log[0])
