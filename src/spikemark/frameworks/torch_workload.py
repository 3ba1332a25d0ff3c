"""The latency workload of a torch library: a ``Linear`` + neuron module, timed by torch rules.

Shared by SpikingJelly, snnTorch and Norse (and any other torch library): the framework
builds a :class:`TorchLayer` — the Linear layer applied to the whole sequence at once (one
matrix product), then its own neurons stepped through time — and :func:`torch_workload`
wraps it as a :class:`~spikemark.frameworks.workload.Workload`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn

from spikemark.frameworks.workload import LayerSpec


class TorchLayer(nn.Module):
    """``forward(x_seq [T, B, n]) -> spikes [T, B, n]`` for one framework."""

    def __init__(self, linear: nn.Linear, run: Callable[[Tensor], Tensor], neuron: nn.Module | None = None):
        super().__init__()
        self.linear = linear
        self.neuron = neuron
        self._run = run

    def forward(self, x_seq: Tensor) -> Tensor:
        return self._run(x_seq)


def stepped(
    linear: nn.Module, cell: Callable, initial_state: Callable[[], Any]
) -> Callable[[Tensor], Tensor]:
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


class TorchWorkload:
    """:class:`~spikemark.frameworks.workload.Workload` of a torch module on one device."""

    def __init__(
        self,
        layer: nn.Module,
        x: Tensor,
        device: str,
        backend: str,
        *,
        variant: str = "eager",
        params: list[Tensor] | None = None,
        on_close: Callable[[], None] | None = None,
    ):
        self.layer = layer
        self.x = x
        self.device = torch.device(device)
        self.backend = backend
        self.variant = variant
        self.params = list(layer.parameters()) if params is None else params
        self._on_close = on_close

    @property
    def _cuda(self) -> bool:
        return self.device.type == "cuda"

    def inference(self) -> Tensor:
        with torch.no_grad():
            return self.layer(self.x)

    def forward(self) -> Tensor:
        for p in self.params:
            p.grad = None
        return self.layer(self.x)

    def backward(self, forward_result: Tensor) -> None:
        forward_result.sum().backward()

    def synchronize(self) -> None:
        if self._cuda:
            torch.cuda.synchronize(self.device)

    def reset_peak_memory(self) -> None:
        if self._cuda:
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_device_memory(self) -> tuple[int, str] | None:
        if not self._cuda:
            return None
        return int(torch.cuda.max_memory_allocated(self.device)), "torch.cuda.max_memory_allocated"

    def compiled(self) -> TorchWorkload:
        # The compiled module shares the eager one's parameters (and gradients).
        return TorchWorkload(
            torch.compile(self.layer),
            self.x,
            str(self.device),
            self.backend,
            variant="compiled",
            params=self.params,
        )

    def as_numpy(self, spikes: Tensor):
        return spikes.detach().cpu().numpy()

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()


def torch_workload(
    spec: LayerSpec,
    build: Callable[[LayerSpec], TorchLayer],
    backend: str = "torch",
    *,
    on_close: Callable[[], None] | None = None,
) -> TorchWorkload:
    """Build ``build(spec)`` seeded with ``spec.seed``, start it from ``spec``'s parameters
    where given, and move layer and input to ``spec.device``."""
    torch.manual_seed(spec.seed)
    layer = build(spec)
    with torch.no_grad():
        if spec.weight is not None:
            layer.linear.weight.copy_(torch.as_tensor(spec.weight))
        if spec.bias is not None:
            layer.linear.bias.copy_(torch.as_tensor(spec.bias))
    layer.to(spec.device)
    x = torch.as_tensor(spec.inputs).to(spec.device)
    return TorchWorkload(layer, x, spec.device, backend, on_close=on_close)
