"""Slurm settings the cluster profile (``profiles/slurm``) reads from the environment.

The profile's resource expressions call these, so partition, account and GPU requests are
set without editing any file:

- ``SPIKEMARK_SLURM_PARTITION``: partition for every job (empty: the cluster's default, or
  the plugin's dynamic selection from ``SNAKEMAKE_SLURM_PARTITIONS``).
- ``SPIKEMARK_SLURM_GPU_PARTITION``: partition for the ``cuda`` cells (default: the above).
- ``SPIKEMARK_SLURM_ACCOUNT``: account to charge (empty: the plugin guesses, or none).
- ``SPIKEMARK_SLURM_GPUS``: GPUs per ``cuda`` job. Unset: 1 if the target partition offers
  ``gpu`` GRES (``sinfo``), else 0 — a cluster without GPUs would reject ``--gpus`` at
  submission, so there the ``cuda`` cells run without one and record themselves skipped.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from typing import Any


def _hardware(wildcards: Any) -> str:
    return str(getattr(wildcards, "hardware", "") or "")


def partition(wildcards: Any = None) -> str:
    """The partition for a job: the GPU partition for ``cuda`` cells, else the default one."""
    default = os.environ.get("SPIKEMARK_SLURM_PARTITION", "")
    if _hardware(wildcards) == "cuda":
        return os.environ.get("SPIKEMARK_SLURM_GPU_PARTITION") or default
    return default


def account() -> str:
    return os.environ.get("SPIKEMARK_SLURM_ACCOUNT", "")


@functools.lru_cache(maxsize=None)
def partition_has_gpus(name: str = "") -> bool | None:
    """Whether ``name`` (or any partition, if empty) offers ``gpu`` GRES; None if unknown."""
    if shutil.which("sinfo") is None:
        return None
    command = ["sinfo", "-h", "-o", "%G"] + (["-p", name] if name else [])
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout.strip():  # no such partition: let sbatch say so
        return None
    return any(gres.startswith("gpu") for line in out.stdout.split() for gres in line.split(","))


@functools.lru_cache(maxsize=None)
def _warn(message: str) -> None:
    print(f"spikemark: {message}", file=sys.stderr)


def gpus(wildcards: Any = None) -> int:
    """GPUs to request for a job: only ``cuda`` cells get any (see the module docstring)."""
    if _hardware(wildcards) != "cuda":
        return 0
    if os.environ.get("SPIKEMARK_SLURM_GPUS", "") != "":
        return int(os.environ["SPIKEMARK_SLURM_GPUS"])
    target = partition(wildcards)
    if partition_has_gpus(target) is False:
        _warn(
            f"no gpu GRES in {'partition ' + target if target else 'any partition'}: the cuda cells "
            "are submitted without a GPU and will be recorded as skipped "
            "(set SPIKEMARK_SLURM_GPU_PARTITION to a GPU partition)"
        )
        return 0
    return 1
