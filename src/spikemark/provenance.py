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
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

#: Packages whose versions decide every run's numbers; each framework, simulator and other
#: registry entry adds its own (its ``packages``, see :func:`tracked_packages`).
CORE_PACKAGES = (
    "spikemark",
    "torch",
    "numpy",
    "scikit-learn",
    "snakemake",
    "neurobench",
    "scipy",
    "xarray",
    "nvidia-ml-py",
)


def tracked_packages() -> tuple[str, ...]:
    """The core packages and those the registries' entries declare, each once."""
    from spikemark.registries import packages

    return tuple(dict.fromkeys((*CORE_PACKAGES, *packages())))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def config_hash(config: dict[str, Any]) -> str:
    """A stable short hash of a config (key order does not matter)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {}
    for name in tracked_packages():
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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def gpu_info() -> dict[str, Any]:
    """GPU model(s), driver and CUDA versions through torch / NVML; empty where there is none.

    ``gpu_model`` is the device this process uses first (torch's ``cuda:0``); ``gpus``
    lists every GPU NVML sees, so a node's other GPUs are on record too.
    """
    info: dict[str, Any] = {"gpu_model": "", "gpu_driver": "", "gpu_count": 0, "gpus": "", "cuda_runtime": ""}
    # Only a run that used torch asks torch (importing it costs seconds); NVML below still
    # names the node's GPUs for the others.
    torch = sys.modules.get("torch")
    try:
        if torch is None:
            raise ImportError("torch not used by this run")
        info["cuda_runtime"] = torch.version.cuda or ""
        if torch.cuda.is_available():
            info["gpu_model"] = torch.cuda.get_device_name(0)
            info["gpu_count"] = torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - provenance must never fail a run
        pass
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            info["gpu_driver"] = _text(pynvml.nvmlSystemGetDriverVersion())
            names = [
                _text(pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i)))
                for i in range(pynvml.nvmlDeviceGetCount())
            ]
            info["gpus"] = json.dumps(names)
            info["gpu_count"] = info["gpu_count"] or len(names)
            info["gpu_model"] = info["gpu_model"] or (names[0] if names else "")
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - no NVML here
        pass
    return info


def host_info() -> dict[str, Any]:
    """Cores (logical, physical, usable by this process), memory and operating system."""
    info: dict[str, Any] = {
        "cpu_cores": os.cpu_count() or 0,
        "os": platform.platform(),
    }
    try:
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        info["cpu_affinity"] = info["cpu_cores"]
    try:
        import psutil

        info["cpu_physical_cores"] = psutil.cpu_count(logical=False) or 0
        info["memory_bytes"] = psutil.virtual_memory().total
    except Exception:  # noqa: BLE001
        pass
    return info


def nest_info() -> dict[str, str]:
    """NEST's build information and thread / process counts, when this run used NEST.

    NEST is only read if the run has imported it (importing it here would print its banner
    and cost seconds in jobs that never touch it).
    """
    nest = sys.modules.get("nest")
    if nest is None:
        return {"nest_build": "", "nest_build_info": "", "nest_kernel": ""}
    try:
        build = dict(nest.build_info)
        build.pop("test_exitcodes", None)  # exit codes of NEST's own test suite
        from spikemark.simulation.pd14_nest import KERNEL_KEYS, last_kernel

        # After a run the kernel is reset to its defaults: the run's own settings were kept.
        kernel = dict(last_kernel) or dict(zip(KERNEL_KEYS, nest.GetKernelStatus(list(KERNEL_KEYS))))
    except Exception as err:  # noqa: BLE001 - provenance must never fail a run
        return {"nest_build": "", "nest_build_info": json.dumps({"error": str(err)}), "nest_kernel": ""}
    from spikemark.simulation.mpi import build_info

    return {
        "nest_build": json.dumps(build_info(nest), sort_keys=True, default=str),
        "nest_build_info": json.dumps(build, sort_keys=True, default=str),
        "nest_kernel": json.dumps(kernel, sort_keys=True, default=str),
    }


def runtime_info() -> dict[str, Any]:
    """Thread settings that change timings: torch's intra-op threads, OpenMP's."""
    torch = sys.modules.get("torch")
    return {
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "torch_threads": torch.get_num_threads() if torch is not None else "",
    }


def slurm_info() -> dict[str, str]:
    """The Slurm job this ran in, if any (empty strings outside Slurm)."""
    names = {
        "slurm_job_id": "SLURM_JOB_ID",
        "slurm_step_id": "SLURM_STEP_ID",
        "slurm_nodelist": "SLURM_JOB_NODELIST",
        "slurm_partition": "SLURM_JOB_PARTITION",
        "slurm_cpus_per_task": "SLURM_CPUS_PER_TASK",
        "slurm_cluster": "SLURM_CLUSTER_NAME",
    }
    return {key: os.environ.get(var, "") for key, var in names.items()}


def collect(run_id: str, *, started: str = "", config_hash: str = "", **extra: Any) -> dict[str, Any]:
    """Provenance of one run: call at the end of the job, passing its start time.

    ``config_hash`` is the hash of the part of the config the run used (its
    ``config_slice``, passed in ``extra`` by the job protocol), so that two runs with the
    same hash were configured alike even when other keys of their configs differ.
    """
    record: dict[str, Any] = {
        "run_id": run_id,
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        **host_info(),
        **gpu_info(),
        "python": platform.python_version(),
        "packages": json.dumps(package_versions(), sort_keys=True),
        "git_commit": git_commit(),
        "config_hash": config_hash,
        **nest_info(),
        **runtime_info(),
        **slurm_info(),
        "start": started,
        "end": utc_now(),
    }
    record.update(extra)
    return record


def write(record: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
