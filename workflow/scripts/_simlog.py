"""Shared by the simulation-track job scripts: package on the path, output to the job's log."""

import os
import sys
from pathlib import Path


def prepare(snakemake):
    """Put ``src/`` on the path and send stdout / stderr (NEST's C++ output included) to the log."""
    sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))
    log = Path(snakemake.log[0])
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log, "w", buffering=1)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fh.fileno(), 1)
    os.dup2(fh.fileno(), 2)
    sys.stdout = sys.stderr = fh
    return fh
