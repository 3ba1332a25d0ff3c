"""Wall and CPU time of a callable with warm-up and repeats, and its peak memory.

Every timing is a :class:`~spikemark.stats.Summary` (median, 95 % interval, n). On CUDA the
device is synchronised before each clock read, otherwise the clock would stop when the
kernels are queued, not when they finish.

Peak host memory is the resident-set high-water mark (``VmHWM``) of this process, reset
before each measurement by writing ``5`` to ``/proc/self/clear_refs`` (Linux ≥ 4.0).
Where that reset is not allowed, the value is the process's lifetime high-water mark
(``ru_maxrss``) — an upper bound — and ``host_memory_method`` says so. tracemalloc is not
used: it sees Python objects, not the tensors PyTorch allocates.

**Repeats until stable** (as pyperf): after the warm-up, at least ``repeats`` timed calls,
then more until the 95 % interval's half-width is within ``Stability.halfwidth`` of the
median, ``Stability.max_repeats`` calls were made, or the timed calls took
``Stability.budget_s`` in all; ``n`` records what was done.

**Contention**: given a :class:`~spikemark.measure.contention.Guard`, the timed calls are
one guarded window (:mod:`spikemark.measure.contention`): a contended window is measured
again, and a timing still contended carries ``invalid`` with the guard's reason.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import Tensor

from spikemark.measure.contention import Guard, Guarded, Observation, add_guard_rows
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
    attempts: int = 1  # guarded windows run (more than one: earlier ones were contended)
    observation: Observation | None = None  # what the guard saw over the last window
    reason: str = ""  # why the timing cannot be trusted ("" if it can)

    def verdict(self) -> dict[str, str]:
        """``status`` and ``reason`` keywords for the rows of this timing (none if ok)."""
        return {"status": "invalid", "reason": self.reason} if self.reason else {}


@dataclass(frozen=True)
class Stability:
    """When to stop repeating (``measure.stability`` of the config)."""

    max_repeats: int = 12
    halfwidth: float = 0.05  # of the median
    budget_s: float = 1.0  # timed seconds, all calls together

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> Stability | None:
        if section is None:
            return None
        return cls(**{k: section[k] for k in cls.__dataclass_fields__ if k in section})

    def stable(self, walls: list[float]) -> bool:
        summary = median_ci(walls)
        if summary.ci_low is None or summary.value <= 0:
            return False
        return (summary.ci_high - summary.ci_low) / 2 <= self.halfwidth * summary.value

    def done(self, walls: list[float], repeats: int) -> bool:
        """Enough calls: the minimum, and then stable or at a maximum."""
        n = len(walls)
        if n < repeats:
            return False
        return n >= self.max_repeats or sum(walls) >= self.budget_s or self.stable(walls)


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


def _timed_calls(fn: Callable[[], Any], repeats: int, stability: Stability | None, device) -> dict[str, Any]:
    """The timed calls of one window: wall and CPU seconds per call, peak memory."""
    method = reset_peak_host_memory()
    if _is_cuda(device):
        torch.cuda.reset_peak_memory_stats(device)
    walls: list[float] = []
    cpus: list[float] = []
    while len(walls) < repeats or (stability is not None and not stability.done(walls, repeats)):
        _sync(device)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return {
        "walls": walls,
        "cpus": cpus,
        "method": method,
        "peak_host": peak_host_memory(method),
        "peak_cuda": torch.cuda.max_memory_allocated(device) if _is_cuda(device) else None,
    }


def measure_time(
    fn: Callable[[], Any],
    *,
    warmup: int = 2,
    repeats: int = 5,
    device: str | torch.device = "cpu",
    stability: Stability | None = None,
    guard: Guard | None = None,
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then at least ``repeats`` times timed, one
    call each (more until ``stability`` is met); the timed calls are ``guard``'s window."""
    if repeats < 1 or warmup < 0:
        raise ValueError("need repeats >= 1 and warmup >= 0")
    for _ in range(warmup):
        fn()
    _sync(device)

    def window() -> dict[str, Any]:
        return _timed_calls(fn, repeats, stability, device)

    # A GPU timing waits on the device by design: only other load counts against it.
    cpu_bound = False if _is_cuda(device) else None
    guarded = guard.run(window, cpu_bound=cpu_bound) if guard is not None else Guarded(window(), None, 1)
    calls = guarded.value
    return Timing(
        wall=median_ci(calls["walls"]),
        cpu=median_ci(calls["cpus"]),
        peak_host_bytes=calls["peak_host"],
        host_memory_method=calls["method"],
        peak_cuda_bytes=calls["peak_cuda"],
        wall_samples=tuple(calls["walls"]),
        cpu_samples=tuple(calls["cpus"]),
        attempts=guarded.attempts,
        observation=guarded.observation,
        reason=guarded.reason,
    )


def latency(forward: Callable[[Tensor], Tensor], sample: Tensor, **runs: Any) -> Timing:
    """Per-sample latency: ``forward`` on a batch of one (``sample`` is ``[1, ...]``);
    ``runs`` are :func:`measure_time`'s keywords."""
    if sample.shape[0] != 1:
        raise ValueError(f"latency needs a batch of one sample, got {tuple(sample.shape)}")
    with torch.no_grad():
        return measure_time(lambda: forward(sample), **runs)


def throughput(forward: Callable[[Tensor], Tensor], batch: Tensor, **runs: Any) -> tuple[Summary, Timing]:
    """Samples per second of ``forward`` on ``batch``: the median over repeats of B / t."""
    with torch.no_grad():
        timing = measure_time(lambda: forward(batch), **runs)
    rates = [batch.shape[0] / t for t in timing.wall_samples]
    return median_ci(rates), timing


def add_timing_rows(results: ResultSet, metric: str, timing: Timing, **coords: Any) -> None:
    """Rows ``<metric>`` (wall s), ``<metric>_cpu`` (CPU s), peak host / CUDA memory, and
    what the contention guard saw (``<metric>_cpu_share``, ``_other_load``, ``_attempts``).

    The two timing rows carry the guard's verdict (``invalid`` with its reason when the
    window stayed contended); memory and guard rows are unaffected. The host-memory row's
    ``source`` names how it was read (``vmhwm-reset`` or ``ru_maxrss-lifetime``); CUDA
    memory rows appear only for CUDA timings.
    """
    results.add_summary(metric, timing.wall, "s", **timing.verdict(), **coords)
    results.add_summary(f"{metric}_cpu", timing.cpu, "s", **timing.verdict(), **coords)
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
    add_guard_rows(results, metric, timing, **coords)
