"""Wall and CPU time of a callable with warm-up and repeats, and its peak memory.

Every timing is a :class:`~spikemark.stats.Summary` (median, 95 % interval, n). On CUDA the
device is synchronised before each clock read, otherwise the clock would stop when the
kernels are queued, not when they finish.

Peak host memory is the resident-set high-water mark (``VmHWM``) of this process, reset
before each measurement by writing ``5`` to ``/proc/self/clear_refs`` (Linux ≥ 4.0).
Where that reset is not allowed, the value is the process's lifetime high-water mark
(``ru_maxrss``) — an upper bound — and ``host_memory_method`` says so. tracemalloc is not
used: it sees Python objects, not the tensors PyTorch allocates.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor

from spikemark.results import ResultSet
from spikemark.stats import Summary, median_ci

HWM_RESET = "vmhwm-reset"  # RSS high-water mark, reset before the measurement
HWM_LIFETIME = "ru_maxrss-lifetime"  # RSS high-water mark of the whole process


@dataclass(frozen=True)
class Timing:
    """Seconds per call (wall and CPU) over ``n`` repeats, and peak memory in bytes."""

    wall: Summary
    cpu: Summary
    peak_host_bytes: int
    host_memory_method: str
    peak_cuda_bytes: int | None  # None off CUDA
    wall_samples: tuple[float, ...]
    cpu_samples: tuple[float, ...]


def _is_cuda(device: str | torch.device) -> bool:
    return torch.device(device).type == "cuda"


def _sync(device: str | torch.device) -> None:
    if _is_cuda(device):
        torch.cuda.synchronize(device)


def reset_peak_host_memory() -> str:
    """Reset the RSS high-water mark; returns which method the later reading follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return HWM_RESET
    except OSError:
        return HWM_LIFETIME


def peak_host_memory(method: str) -> int:
    """Bytes of the RSS high-water mark read by ``method``."""
    if method == HWM_RESET:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure_time(
    fn: Callable[[], Any],
    *,
    warmup: int = 2,
    repeats: int = 5,
    device: str | torch.device = "cpu",
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed, one call each."""
    if repeats < 1 or warmup < 0:
        raise ValueError("need repeats >= 1 and warmup >= 0")
    for _ in range(warmup):
        fn()
    _sync(device)
    method = reset_peak_host_memory()
    if _is_cuda(device):
        torch.cuda.reset_peak_memory_stats(device)
    walls, cpus = [], []
    for _ in range(repeats):
        _sync(device)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return Timing(
        wall=median_ci(walls),
        cpu=median_ci(cpus),
        peak_host_bytes=peak_host_memory(method),
        host_memory_method=method,
        peak_cuda_bytes=torch.cuda.max_memory_allocated(device) if _is_cuda(device) else None,
        wall_samples=tuple(walls),
        cpu_samples=tuple(cpus),
    )


def latency(
    forward: Callable[[Tensor], Tensor],
    sample: Tensor,
    *,
    warmup: int = 2,
    repeats: int = 5,
    device: str | torch.device = "cpu",
) -> Timing:
    """Per-sample latency: ``forward`` on a batch of one (``sample`` is ``[1, ...]``)."""
    if sample.shape[0] != 1:
        raise ValueError(f"latency needs a batch of one sample, got {tuple(sample.shape)}")
    with torch.no_grad():
        return measure_time(lambda: forward(sample), warmup=warmup, repeats=repeats, device=device)


def throughput(
    forward: Callable[[Tensor], Tensor],
    batch: Tensor,
    *,
    warmup: int = 2,
    repeats: int = 5,
    device: str | torch.device = "cpu",
) -> tuple[Summary, Timing]:
    """Samples per second of ``forward`` on ``batch``: the median over repeats of B / t."""
    with torch.no_grad():
        timing = measure_time(lambda: forward(batch), warmup=warmup, repeats=repeats, device=device)
    rates = [batch.shape[0] / t for t in timing.wall_samples]
    return median_ci(rates), timing


def add_timing_rows(results: ResultSet, metric: str, timing: Timing, **coords: Any) -> None:
    """Rows ``<metric>`` (wall s), ``<metric>_cpu`` (CPU s), peak host / CUDA memory.

    The host-memory row's ``source`` names how it was read (``vmhwm-reset`` or
    ``ru_maxrss-lifetime``); CUDA memory rows appear only for CUDA timings.
    """
    results.add_summary(metric, timing.wall, "s", **coords)
    results.add_summary(f"{metric}_cpu", timing.cpu, "s", **coords)
    results.add(
        f"{metric}_peak_host_memory",
        timing.peak_host_bytes,
        "bytes",
        source=timing.host_memory_method,
        **coords,
    )
    if timing.peak_cuda_bytes is not None:
        results.add(
            f"{metric}_peak_cuda_memory",
            timing.peak_cuda_bytes,
            "bytes",
            source="torch.cuda.max_memory_allocated",
            **coords,
        )
