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
"""

from __future__ import annotations

import importlib

import torch

from spikemark.errors import StageFailed
from spikemark.models import Classifier, load_checkpoint

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


def backend_unavailable(backend: str, device: str | torch.device) -> str | None:
    """Why ``backend`` cannot run on ``device`` (None if it can)."""
    device = torch.device(device)
    if backend == "torch":
        return None
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


class SpikingJelly:
    kinds = ("rate_snn", "spiking_snn")

    def __init__(self, backend: str = "torch"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown SpikingJelly backend {backend!r}")
        self.backend = backend
        self.name = "spikingjelly" if backend == "torch" else f"spikingjelly-{backend}"

    def unsupported_reason(self, kind: str) -> str | None:
        return None if kind in self.kinds else f"spikingjelly deploys SNNs, not {kind}"

    def load(self, checkpoint: str, device: str) -> Classifier:
        reason = backend_unavailable(self.backend, device)
        if reason:
            raise StageFailed("skipped", reason)
        select_backend(self.backend)
        classifier = load_checkpoint(checkpoint, device)
        classifier.meta = {**classifier.meta, "backend": self.backend}
        return classifier
