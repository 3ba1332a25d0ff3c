"""SpikingJelly: the reference SNN runtime (our SNNs are built from its layers and
neurons, so deployment is the identity export), with its neuron backends as variants.

SpikingJelly 2.0 picks the implementation of its IF / LIF kernels per device: on the CPU
always the PyTorch reference; on CUDA one of ``cuda`` (its native compiled kernels, which
replaced the CuPy backend of SpikingJelly < 1.0), ``triton`` or ``torch``, chosen by the
environment variables ``SJ_LIF_CUDA_IMPLEMENTATION`` / ``SJ_IF_CUDA_IMPLEMENTATION`` read
at import. :func:`select_backend` sets the same choice at run time, so one process can
time every backend.

- ``spikingjelly``: the torch backend (on CUDA the reference implementation, too);
- ``spikingjelly-cuda``, ``spikingjelly-triton``: the fused CUDA / Triton kernels. Off
  CUDA, or where the kernels are not available (no Triton, no prebuilt extension for the
  GPU), the cell is skipped with the reason.

Latency workload: ``layer.Linear`` + ``neuron.LIFNode`` in multi-step mode, on the
framework's backend. Neurons for the probes: ``BaseNode`` (membrane ``v``; multi-step
nodes keep per-step potentials in ``v_seq``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from spikemark.frameworks.base import Framework, NeuronType

if TYPE_CHECKING:
    from spikemark.frameworks.torch_workload import TorchLayer
    from spikemark.frameworks.workload import LayerSpec, Workload
    from spikemark.models import Classifier

BACKENDS = ("torch", "cuda", "triton")
#: SpikingJelly kernel packages whose implementation a backend selects.
KERNEL_PACKAGES = {"lif": "lif", "if": "if_"}


def _selection(package: str):
    return importlib.import_module(f"spikingjelly._ops.{package}")._selection


def select_backend(backend: str) -> None:
    """Make SpikingJelly's IF / LIF kernels use ``backend`` on CUDA (process-wide)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown SpikingJelly backend {backend!r}; known: {BACKENDS}")
    for package in KERNEL_PACKAGES.values():
        selection = _selection(package)
        with selection._lock:
            selection._requested = backend
            selection._selections.clear()
            selection._compiled_selections.clear()


def backend_unavailable(backend: str, device: str) -> str | None:
    """Why ``backend`` cannot run on ``device`` (None if it can)."""
    if backend == "torch":
        return None
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return f"spikingjelly {backend} backend needs a CUDA device (on {device.type} only the torch reference runs)"
    from spikingjelly.activation_based.functional import neuron_implementation

    select_backend(backend)
    for neuron_type in KERNEL_PACKAGES:
        try:
            info = neuron_implementation(neuron_type, device)
        except (RuntimeError, ValueError) as exc:
            return f"spikingjelly {backend} backend unavailable for {neuron_type}: {exc}"
        if info["implementation"] != backend:
            why = info.get("unavailable", {}).get(backend, "not selected")
            return f"spikingjelly {backend} backend unavailable for {neuron_type}: {why}"
    return None


class SpikingJellyNeuron(NeuronType):
    """SpikingJelly's ``BaseNode``: membrane ``v``; a multi-step node runs every step in one
    call and keeps the per-step potentials in ``v_seq`` once ``store_v_seq`` is set."""

    def step_sequence(self, layer: Any) -> tuple[str, str] | None:
        return ("store_v_seq", "v_seq") if getattr(layer, "step_mode", "s") == "m" else None


NEURONS = SpikingJellyNeuron("spikingjelly.activation_based.neuron", "BaseNode", membrane="v")


def latency_layer(spec: LayerSpec) -> TorchLayer:
    """``layer.Linear`` + ``neuron.LIFNode`` (ATan surrogate, detached reset) in multi-step mode."""
    from spikingjelly.activation_based import functional, layer, neuron, surrogate
    from torch import nn

    from spikemark.frameworks.torch_workload import TorchLayer

    linear = layer.Linear(spec.size, spec.size, step_mode="m")
    lif = neuron.LIFNode(tau=spec.tau, surrogate_function=surrogate.ATan(), detach_reset=True, step_mode="m")
    net = nn.Sequential(linear, lif)

    def run(x_seq):
        functional.reset_net(net)
        return net(x_seq)

    return TorchLayer(linear, run, lif)


class SpikingJelly(Framework):
    kinds = ("rate_snn", "spiking_snn")
    packages = ("spikingjelly",)
    neurons = (NEURONS,)
    DESCRIPTIONS = {
        "torch": "SpikingJelly 2.0, torch backend: the reference runtime (our SNNs are built from its layers).",
        "cuda": "SpikingJelly 2.0's fused CUDA neuron kernels (skipped off CUDA).",
        "triton": "SpikingJelly 2.0's Triton neuron kernels (skipped off CUDA or without Triton).",
    }

    def __init__(self, backend: str = "torch"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown SpikingJelly backend {backend!r}")
        self.backend = backend
        self.name = "spikingjelly" if backend == "torch" else f"spikingjelly-{backend}"
        self.description = self.DESCRIPTIONS[backend]
        if backend == "triton":
            self.packages = ("spikingjelly", "triton")

    def unavailable_reason(self, device: str) -> str | None:
        return backend_unavailable(self.backend, device)

    def load(self, checkpoint: str, device: str) -> Classifier:
        from spikemark.errors import StageFailed
        from spikemark.models import load_checkpoint

        reason = self.unavailable_reason(device)
        if reason:
            raise StageFailed("skipped", reason)
        select_backend(self.backend)
        classifier = load_checkpoint(checkpoint, device)
        classifier.meta = {**classifier.meta, "backend": self.backend}
        return classifier

    def latency_workload(self, spec: LayerSpec) -> Workload:
        from spikemark.frameworks.torch_workload import torch_workload

        select_backend(self.backend)
        # The backend choice is process-wide: back to the reference once the workload is done.
        return torch_workload(spec, latency_layer, self.backend, on_close=lambda: select_backend("torch"))
