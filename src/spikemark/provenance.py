"""Where a number came from: host, hardware, software versions, code and config.

One provenance record per run id; ``aggregate`` joins them into
``results/provenance.csv`` and the cube's attributes. Beside what produced a number, the
state of the machine while it was produced (:func:`machine_state`: CPU model, cores
online, SMT, governor and clocks, load average before and after, steal time, cgroup CPU
quota, memory), so that a reviewer can judge the timings.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
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
    """Cores usable by this process and physical cores, and the operating system (cores
    online and memory are in :func:`machine_state`)."""
    info: dict[str, Any] = {"os": platform.platform()}
    try:
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        info["cpu_affinity"] = os.cpu_count() or 0
    try:
        import psutil

        info["cpu_physical_cores"] = psutil.cpu_count(logical=False) or 0
    except Exception:  # noqa: BLE001
        pass
    return info


# -- machine state: what a reviewer needs to judge the timings ---------------------------------
def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def cpus_online(sys_root: str | Path = "/sys") -> int:
    """CPUs online (``devices/system/cpu/online``, e.g. ``0-3,6``), else the OS's count."""
    text = _read(Path(sys_root) / "devices/system/cpu/online")
    if not text:
        return os.cpu_count() or 0
    count = 0
    for part in text.split(","):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def smt_state(sys_root: str | Path = "/sys", cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """``on`` or ``off`` (simultaneous multithreading), ``""`` where nothing says."""
    active = _read(Path(sys_root) / "devices/system/cpu/smt/active")
    if active in ("0", "1"):
        return "on" if active == "1" else "off"
    info = {}
    for line in _read(Path(cpuinfo)).splitlines():  # first CPU: siblings vs cores per package
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    if info.get("siblings", "").isdigit() and info.get("cpu cores", "").isdigit():
        return "on" if int(info["siblings"]) > int(info["cpu cores"]) else "off"
    return ""


def cpu_frequency(sys_root: str | Path = "/sys", cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, Any]:
    """Governor(s), mean current and highest maximum clock in MHz, where exposed (cpufreq,
    else ``/proc/cpuinfo``'s current clock); ``""`` for what is not."""
    folders = sorted(Path(sys_root).glob("devices/system/cpu/cpu[0-9]*/cpufreq"))
    governors = sorted({_read(f / "scaling_governor") for f in folders} - {""})
    current = [int(v) / 1000 for f in folders if (v := _read(f / "scaling_cur_freq")).isdigit()]
    highest = [int(v) / 1000 for f in folders if (v := _read(f / "cpuinfo_max_freq")).isdigit()]
    if not current:
        current = [
            float(line.split(":", 1)[1]) for line in _read(Path(cpuinfo)).splitlines() if line.startswith("cpu MHz")
        ]
    return {
        "cpu_governor": "/".join(governors),
        "cpu_mhz": round(sum(current) / len(current), 1) if current else "",
        "cpu_max_mhz": max(highest) if highest else "",
    }


def load_average(loadavg: str | Path = "/proc/loadavg") -> float | str:
    """The 1-minute load average (runnable and uninterruptible tasks), ``""`` if unknown."""
    text = _read(Path(loadavg))
    return float(text.split()[0]) if text else ""


def machine_snapshot() -> dict[str, Any]:
    """What :func:`collect` compares at the end of a run: the load average and the CPUs'
    tick counters at its start (``spikemark.pipeline`` takes it before the stage)."""
    from spikemark.measure.contention import cpu_ticks

    return {"load": load_average(), "ticks": cpu_ticks(), "time": time.monotonic()}


def steal_fraction(before: dict[str, Any] | None, after: dict[str, Any]) -> float | str:
    """Fraction of the CPUs' time a hypervisor gave to someone else between two
    snapshots (``""`` where ``/proc/stat`` is unreadable)."""
    from spikemark.measure.contention import TICKS

    start, end = (before or {}).get("ticks"), after.get("ticks")
    if not start or not end:
        return ""
    cpus = [c for c in end if c in start]
    elapsed = (after["time"] - before["time"]) * TICKS * len(cpus)
    stolen = sum(end[c][1] - start[c][1] for c in cpus)
    return round(min(stolen / elapsed, 1.0), 4) if elapsed > 0 else ""


def machine_state(before: dict[str, Any] | None = None) -> dict[str, Any]:
    """CPU model, cores online, SMT, frequency governor and clocks, load average before and
    after the run (``before``: :func:`machine_snapshot` at its start), steal time over it,
    cgroup CPU quota (cores; ``""``: none) and memory."""
    from spikemark.measure.contention import cgroup_cpu_quota

    after = machine_snapshot()
    quota = cgroup_cpu_quota()
    return {
        "cpu_model": cpu_model(),
        "cpu_cores": cpus_online(),
        "smt": smt_state(),
        **cpu_frequency(),
        "load_before": before["load"] if before else "",
        "load_after": after["load"],
        "steal": steal_fraction(before, after),
        "cgroup_cpu_quota": quota if quota is not None else "",
        "memory_bytes": _memory_bytes(),
    }


def _memory_bytes() -> int | str:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - provenance must never fail a run
        return ""


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


def collect(
    run_id: str, *, started: str = "", config_hash: str = "", machine_before: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """Provenance of one run: call at the end of the job, passing its start time and the
    :func:`machine_snapshot` taken then (for the load before and the steal time over it).

    ``config_hash`` is the hash of the part of the config the run used (its
    ``config_slice``, passed in ``extra`` by the job protocol), so that two runs with the
    same hash were configured alike even when other keys of their configs differ.
    """
    record: dict[str, Any] = {
        "run_id": run_id,
        "host": socket.gethostname(),
        **machine_state(machine_before),
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
