"""Where a number came from: host, hardware, software versions, code and config.

One provenance record per run id; ``aggregate`` joins them into
``results/provenance.csv`` and the cube's attributes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

#: Packages whose versions decide the numbers; recorded on every run.
TRACKED_PACKAGES = (
    "spikemark",
    "torch",
    "spikingjelly",
    "numpy",
    "scikit-learn",
    "snakemake",
    "neurobench",
    "nest-simulator",
    "pynn",
    "snntorch",
    "norse",
    "nir",
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def config_hash(config: dict[str, Any]) -> str:
    """A stable short hash of a config (key order does not matter)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(repo: str | Path | None = None) -> str:
    """The commit of the code that produced the result, with ``-dirty`` if modified."""
    repo = Path(repo or Path(__file__).resolve().parents[2])
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpu_info() -> dict[str, str]:
    """GPU model and driver through torch / NVML, empty strings where there is none."""
    info = {"gpu_model": "", "gpu_driver": ""}
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu_model"] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - provenance must never fail a run
        pass
    try:
        import pynvml

        pynvml.nvmlInit()
        driver = pynvml.nvmlSystemGetDriverVersion()
        info["gpu_driver"] = driver.decode() if isinstance(driver, bytes) else str(driver)
        pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - no NVML here
        pass
    return info


def collect(run_id: str, *, config: dict[str, Any] | None = None, started: str = "", **extra: Any) -> dict[str, Any]:
    """Provenance of one run: call at the end of the job, passing its start time."""
    record: dict[str, Any] = {
        "run_id": run_id,
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count() or 0,
        **gpu_info(),
        "python": platform.python_version(),
        "packages": json.dumps(package_versions(), sort_keys=True),
        "git_commit": git_commit(),
        "config_hash": config_hash(config) if config is not None else "",
        "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        "start": started,
        "end": utc_now(),
    }
    record.update(extra)
    return record


def write(record: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
