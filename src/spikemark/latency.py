"""Framework latency benchmark (``track = latency``): one Linear + LIF layer per framework.

Every framework with a latency workload (:meth:`~spikemark.frameworks.base.Framework.latency_workload`;
the layer and its contract are described in :mod:`spikemark.frameworks.workload`) is timed
the same way here: the benchmark drives the workload's callables and synchronises through
it, so a non-torch library fits as well as a torch one.

Per size, a ``batch_size`` row (source ``config``) records B. Per size and variant
(``eager``; ``compiled`` where enabled and the library compiles): ``inference_time``
(forward without autograd), ``forward_time`` and ``backward_time`` of a training step
(forward with autograd, then backward of the summed output spikes; timed separately
inside the same call), peak host memory and, on an accelerator, peak device memory of the
training step, and for compiled variants ``compile_time`` (wall time of the first
training step, which compiles, minus nothing: it is reported as measured); a library that
runs compiled only (Spyx, ``jax.jit``) has compiled rows alone, whatever ``compile`` says.
Every timing uses :func:`spikemark.measure.timing.measure_time` (warm-up, synchronisation before each
clock read, repeats until stable → median, 95 % interval, n) under the contention guard:
a timing whose window stayed contended is ``invalid`` with the reason, and the guard's
observations are rows of their own (``inference_time_cpu_share``, ``training_step_…``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from spikemark import frameworks, hardware
from spikemark.frameworks.workload import LayerSpec, Workload, spike_input
from spikemark.measure.contention import add_guard_rows
from spikemark.results import ResultSet
from spikemark.stats import median_ci

log = logging.getLogger(__name__)

COMPILE_POLICIES = ("auto", "always", "never")
#: Warm-up of a compiled variant: switching between autograd and no_grad recompiles once
#: more, and SpikingJelly's state changes type on its first step.
COMPILED_WARMUP = 3


def build_workload(framework: str, size: int, cfg: dict, device: str) -> Workload:
    """The latency workload of ``framework`` at ``size`` on the configured T and batch."""
    fw = frameworks.get(framework)
    if fw.latency_workload is None:
        known = sorted(frameworks.latency_frameworks())
        raise ValueError(f"framework {framework!r} has no latency workload; those with one: {known}")
    inputs = spike_input(cfg["timesteps"], cfg["batch_size"], size)
    return fw.latency_workload(LayerSpec(inputs, device))


def should_compile(policy: str, device: str) -> bool:
    if policy not in COMPILE_POLICIES:
        raise ValueError(f"compile must be one of {COMPILE_POLICIES}")
    return policy == "always" or (policy == "auto" and device.partition(":")[0] == "cuda")


def time_workload(workload: Workload, runs: dict[str, Any]) -> dict[str, Any]:
    """Inference, and forward / backward of a training step, each with warm-up and repeats
    (``runs``: :func:`spikemark.measure.cell.timed_runs`, device left out)."""
    from spikemark.measure.timing import measure_time

    def inference():
        workload.inference()
        workload.synchronize()

    splits: list[tuple[float, float]] = []

    def training_step():
        workload.synchronize()
        t0 = time.perf_counter()
        out = workload.forward()
        workload.synchronize()
        t1 = time.perf_counter()
        workload.backward(out)
        workload.synchronize()
        splits.append((t1 - t0, time.perf_counter() - t1))

    # The workload synchronises itself (whatever its library): measure_time is the clock and
    # the host-memory reader only, so it is told of no device.
    timed = {**runs, "device": "cpu"}
    inference_timing = measure_time(inference, **timed)
    for _ in range(runs["warmup"]):
        training_step()
    workload.reset_peak_memory()
    training = measure_time(training_step, **{**timed, "warmup": 0})
    # The splits of the calls that were timed: the last window's (earlier, contended
    # windows were measured again).
    splits = splits[-len(training.wall_samples):]
    return {
        "inference": inference_timing,
        "training": training,
        "forward": median_ci([f for f, _ in splits]),
        "backward": median_ci([b for _, b in splits]),
        "peak_device": workload.peak_device_memory(),
    }


def add_rows(rs: ResultSet, timings: dict[str, Any], **coords: Any) -> None:
    inference, training = timings["inference"], timings["training"]
    rs.add_summary("inference_time", inference.wall, "s", **inference.verdict(), **coords)
    rs.add_summary("forward_time", timings["forward"], "s", **training.verdict(), **coords)
    rs.add_summary("backward_time", timings["backward"], "s", **training.verdict(), **coords)
    rs.add("peak_host_memory", training.peak_host_bytes, "bytes", source=training.host_memory_method, **coords)
    if timings["peak_device"] is not None:
        peak, source = timings["peak_device"]
        rs.add("peak_cuda_memory", peak, "bytes", source=source, **coords)
    for name, timing in (("inference_time", inference), ("training_step", training)):
        add_guard_rows(rs, name, timing, **coords)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def bench_compiled(rs: ResultSet, eager: Workload, runs: dict, coords: dict) -> str | None:
    """Rows of the compiled variant of ``eager`` (its first training step is the compile
    time); returns why there are none, or None."""
    try:
        compiled = eager.compiled()
        if compiled is None:
            return "the library has no compiler"

        def first_step() -> float:
            compiled.synchronize()
            start = time.perf_counter()
            compiled.backward(compiled.forward())
            compiled.synchronize()
            return time.perf_counter() - start

        # Compiling happens once: a contended compile is recorded as such, not repeated.
        guard = runs["guard"]
        if guard is not None:
            compile_time, seen = guard.watch(first_step)
            why_invalid = guard.check(seen)
        else:
            compile_time, why_invalid = first_step(), ""
        timings = time_workload(compiled, {**runs, "warmup": max(runs["warmup"], COMPILED_WARMUP)})
    except Exception as exc:  # noqa: BLE001 - a framework that does not compile is a result
        reason = f"compilation failed: {_first_line(exc)}"
        rs.add("compile_time", None, "s", status="failed", reason=reason[:500], variant="compiled", **coords)
        return reason
    verdict = {"status": "invalid", "reason": why_invalid} if why_invalid else {}
    rs.add("compile_time", compile_time, "s", source="measured-first-call", variant=compiled.variant, **verdict, **coords)
    add_rows(rs, timings, variant=compiled.variant, **coords)
    log.info("size %d compiled in %.1f s", coords["size"], compile_time)
    return None


def bench_size(rs: ResultSet, framework: str, size: int, cfg: dict, device: str) -> None:
    from spikemark.measure.cell import timed_runs

    workload = build_workload(framework, size, cfg, device)
    try:
        coords = {"size": size, "backend": workload.backend, "timesteps": cfg["timesteps"]}
        # The batch is part of the workload but no coordinate: one row says it, so the report
        # can state the workload from the results alone.
        rs.add("batch_size", cfg["batch_size"], "samples", source="config", **coords)
        runs = timed_runs(cfg, device)
        if workload.variant == "compiled":
            # A library that runs compiled only (Spyx: jax.jit) has no eager rows; its first
            # training step is its compile time, whatever the compile policy.
            bench_compiled(rs, workload, runs, coords)
            return
        add_rows(rs, time_workload(workload, runs), variant=workload.variant, **coords)
        log.info("%s size %d eager done", framework, size)
        if should_compile(cfg["compile"], device):
            why_not = bench_compiled(rs, workload, runs, coords)
            if why_not:
                log.warning("%s size %d: no compiled variant: %s", framework, size, why_not)
    finally:
        workload.close()


def latency_benchmark(metrics: str, *, coords: dict[str, Any], bench_cfg: dict) -> ResultSet:
    """Benchmark one (framework, hardware) cell over the configured sizes; write ``metrics``."""
    rs = ResultSet("latency", dict(coords))
    framework, hardware_name = coords["framework"], coords["hardware"]
    target = hardware.get(hardware_name)
    reason = target.unavailable_reason() or frameworks.get(framework).unavailable_reason(target.device)
    if reason:
        rs.mark_cell("skipped", reason)
        rs.write_csv(metrics)
        return rs
    sizes = bench_cfg["sizes"].get(hardware_name)
    if not sizes:
        raise ValueError(f"latency_benchmark.sizes has no sizes for hardware {hardware_name!r}")
    from spikemark.pipeline import mark

    mark("measurement-start")
    for size in sizes:
        bench_size(rs, framework, int(size), bench_cfg, target.device)
    mark("measurement-end")
    rs.write_csv(metrics)
    return rs
