"""Framework latency benchmark (``track = latency``): one Linear + LIF layer per framework.

The workload is the common SNN-library comparison: a dense layer of ``size`` inputs and
``size`` LIF neurons (τ = 2 steps, hard reset to 0, threshold 1, ATan / default surrogate),
driven by a ``[T, B, size]`` spike input, B = ``batch_size``. The Linear layer is applied
to the whole sequence at once in every framework (one matrix product), then the neurons
are stepped through time with each library's own neuron code:

- ``spikingjelly*``: ``layer.Linear`` + ``neuron.LIFNode`` in multi-step mode, with the
  backend of the framework name (``spikingjelly``: torch; ``-cuda`` / ``-triton``: fused
  kernels, skipped off CUDA);
- ``snntorch``: ``snn.Leaky(beta = 1 − 1/τ, threshold τ)`` (the same LIF with the
  membrane scaled by τ) stepped in a Python loop;
- ``norse``: ``LIFBoxCell`` (the same current-free LIF) stepped in a Python loop.

Per size, a ``batch_size`` row (source ``config``) records B. Per size and variant
(``eager``; ``compiled`` with ``torch.compile`` where enabled): ``inference_time``
(forward without autograd), ``forward_time`` and ``backward_time`` of a training step
(forward with autograd, then backward of the summed output spikes; timed separately
inside the same call), peak host memory and, on CUDA, peak device memory of the
training step, and for compiled variants ``compile_time`` (wall time of the first
training step, which compiles, minus nothing: it is reported as measured). Every timing
uses :func:`spikemark.measure.timing.measure_time` (warm-up, CUDA synchronisation before
each clock read, repeats → median, 95 % interval, n).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import torch
from torch import Tensor, nn

from spikemark import hardware
from spikemark.measure.timing import _sync, measure_time
from spikemark.results import ResultSet
from spikemark.stats import median_ci

log = logging.getLogger(__name__)

LATENCY_FRAMEWORKS = ("spikingjelly", "spikingjelly-cuda", "spikingjelly-triton", "snntorch", "norse")
TAU = 2.0  # membrane time constant in steps (decay 0.5 per step)
COMPILE_POLICIES = ("auto", "always", "never")


class Layer(nn.Module):
    """``forward(x_seq [T, B, n]) -> spikes [T, B, n]`` for one framework."""

    def __init__(self, linear: nn.Module, run: Callable[[Tensor], Tensor], neuron: nn.Module | None = None):
        super().__init__()
        self.linear = linear
        self.neuron = neuron
        self._run = run

    def forward(self, x_seq: Tensor) -> Tensor:
        return self._run(x_seq)


def _spikingjelly(size: int, backend: str) -> Layer:
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    from spikemark.frameworks.spikingjelly_snn import select_backend

    select_backend(backend)
    linear = layer.Linear(size, size, step_mode="m")
    lif = neuron.LIFNode(tau=TAU, surrogate_function=surrogate.ATan(), detach_reset=True, step_mode="m")
    net = nn.Sequential(linear, lif)

    def run(x_seq):
        functional.reset_net(net)
        return net(x_seq)

    return Layer(linear, run, lif)


def _stepped(linear: nn.Module, cell: Callable, initial_state: Callable[[], Any]) -> Callable[[Tensor], Tensor]:
    """``run(x_seq)`` for a library whose neuron steps as ``spikes_t, state = cell(current_t,
    state)`` (snnTorch, Norse): the Linear over the whole sequence, then a Python loop over T."""

    def run(x_seq: Tensor) -> Tensor:
        state = initial_state()
        spikes = []
        for current_t in linear(x_seq):
            spike_t, state = cell(current_t, state)
            spikes.append(spike_t)
        return torch.stack(spikes)

    return run


def _snntorch(size: int) -> Layer:
    import snntorch as snn

    linear = nn.Linear(size, size)
    # v' = β·v + x with β = 1 − 1/τ and threshold τ is SpikingJelly's v' = v + (x − v)/τ
    # with threshold 1, scaled by τ (as snnTorch's own NIR import does).
    lif = snn.Leaky(beta=1.0 - 1.0 / TAU, threshold=TAU, reset_mechanism="zero", reset_delay=False)

    return Layer(linear, _stepped(linear, lif, lif.init_leaky), lif)


def _norse(size: int) -> Layer:
    import norse.torch as norse

    dt = 1e-3
    linear = nn.Linear(size, size)
    lif = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor(1.0 / (TAU * dt))), dt=dt)

    return Layer(linear, _stepped(linear, lif, lambda: None), lif)


def build_layer(framework: str, size: int) -> tuple[Layer, str]:
    """The benchmark layer of ``framework`` and its backend name."""
    if framework.startswith("spikingjelly"):
        backend = framework.partition("-")[2] or "torch"
        return _spikingjelly(size, backend), backend
    if framework == "snntorch":
        return _snntorch(size), "torch"
    if framework == "norse":
        return _norse(size), "torch"
    raise ValueError(f"unknown latency framework {framework!r}; known: {LATENCY_FRAMEWORKS}")


def framework_unavailable(framework: str, device: str) -> str | None:
    if framework.startswith("spikingjelly-"):
        from spikemark.frameworks.spikingjelly_snn import backend_unavailable

        return backend_unavailable(framework.partition("-")[2], device)
    return None


def should_compile(policy: str, device: str) -> bool:
    if policy not in COMPILE_POLICIES:
        raise ValueError(f"compile must be one of {COMPILE_POLICIES}")
    return policy == "always" or (policy == "auto" and torch.device(device).type == "cuda")


def spike_input(timesteps: int, batch: int, size: int, device: str, seed: int = 0, rate: float = 0.2) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(timesteps, batch, size, generator=generator) < rate).float().to(device)


def time_layer(
    run: Callable[[Tensor], Tensor], params: list[Tensor], x: Tensor, *, warmup: int, repeats: int, device: str
) -> dict[str, Any]:
    """Inference, and forward / backward of a training step, each with warm-up and repeats."""
    with torch.no_grad():
        inference = measure_time(lambda: run(x), warmup=warmup, repeats=repeats, device=device)
    splits: list[tuple[float, float]] = []

    def training_step():
        for p in params:
            p.grad = None
        _sync(device)
        t0 = time.perf_counter()
        out = run(x)
        _sync(device)
        t1 = time.perf_counter()
        out.sum().backward()
        _sync(device)
        splits.append((t1 - t0, time.perf_counter() - t1))

    training = measure_time(training_step, warmup=warmup, repeats=repeats, device=device)
    timed = splits[warmup:]
    return {
        "inference": inference,
        "training": training,
        "forward": median_ci([f for f, _ in timed]),
        "backward": median_ci([b for _, b in timed]),
    }


def add_rows(rs: ResultSet, timings: dict[str, Any], **coords: Any) -> None:
    rs.add_summary("inference_time", timings["inference"].wall, "s", **coords)
    rs.add_summary("forward_time", timings["forward"], "s", **coords)
    rs.add_summary("backward_time", timings["backward"], "s", **coords)
    training = timings["training"]
    rs.add("peak_host_memory", training.peak_host_bytes, "bytes", source=training.host_memory_method, **coords)
    if training.peak_cuda_bytes is not None:
        rs.add("peak_cuda_memory", training.peak_cuda_bytes, "bytes", source="torch.cuda.max_memory_allocated", **coords)


def bench_size(rs: ResultSet, framework: str, size: int, cfg: dict, device: str) -> None:
    torch.manual_seed(0)
    layer, backend = build_layer(framework, size)
    layer.to(device)
    params = list(layer.parameters())
    x = spike_input(cfg["timesteps"], cfg["batch_size"], size, device)
    coords = {"size": size, "backend": backend, "timesteps": cfg["timesteps"]}
    # The batch is part of the workload but no coordinate: one row says it, so the report
    # can state the workload from the results alone.
    rs.add("batch_size", cfg["batch_size"], "samples", source="config", **coords)
    runs = {"warmup": cfg["warmup"], "repeats": cfg["repeats"], "device": device}
    add_rows(rs, time_layer(layer, params, x, **runs), variant="eager", **coords)
    log.info("%s size %d eager done", framework, size)
    if not should_compile(cfg["compile"], device):
        return
    compiled = torch.compile(layer)
    # Switching between autograd and no_grad recompiles once more, and SpikingJelly's
    # state changes type on its first step: give the compiled layer a longer warm-up.
    runs["warmup"] = max(runs["warmup"], 3)
    try:
        _sync(device)
        start = time.perf_counter()
        compiled(x).sum().backward()
        _sync(device)
        compile_time = time.perf_counter() - start
        timings = time_layer(compiled, params, x, **runs)
    except Exception as exc:  # noqa: BLE001 - a framework that does not compile is a result
        reason = f"torch.compile failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        log.warning("%s size %d: %s", framework, size, reason)
        rs.add("compile_time", None, "s", status="failed", reason=reason[:500], variant="compiled", **coords)
        return
    rs.add("compile_time", compile_time, "s", source="measured-first-call", variant="compiled", **coords)
    add_rows(rs, timings, variant="compiled", **coords)
    log.info("%s size %d compiled in %.1f s", framework, size, compile_time)


def latency_benchmark(metrics: str, *, coords: dict[str, Any], bench_cfg: dict) -> ResultSet:
    """Benchmark one (framework, hardware) cell over the configured sizes; write ``metrics``."""
    rs = ResultSet("latency", dict(coords))
    framework, hardware_name = coords["framework"], coords["hardware"]
    target = hardware.get(hardware_name)
    reason = target.unavailable_reason() or framework_unavailable(framework, target.device)
    if reason:
        rs.mark_cell("skipped", reason)
        rs.write_csv(metrics)
        return rs
    try:
        for size in bench_cfg["sizes"][hardware_name]:
            bench_size(rs, framework, int(size), bench_cfg, target.device)
    finally:
        if framework.startswith("spikingjelly-"):
            from spikemark.frameworks.spikingjelly_snn import select_backend

            select_backend("torch")
    rs.write_csv(metrics)
    return rs
