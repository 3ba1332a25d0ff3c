"""The latency benchmark's workload contract: one Linear + LIF layer that the benchmark drives.

The workload is the common SNN-library comparison: a dense layer of ``size`` inputs and
``size`` LIF neurons (τ = ``tau`` steps, hard reset to 0, threshold 1, the library's ATan or
default surrogate), driven by a ``[T, B, size]`` spike input (:class:`LayerSpec`). A
framework builds it with its own neuron code and hands back a :class:`Workload`: callables
for an inference pass and for the forward and backward halves of a training step, and a
synchronise. :mod:`spikemark.latency` times those the same way for every library, so
nothing in the benchmark is specific to torch: a JAX library (Spyx) implements the same
methods with ``jax.jit`` and ``block_until_ready``. Torch libraries share
:mod:`spikemark.frameworks.torch_workload`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

#: Membrane time constant of the benchmark layer, in steps (decay 0.5 per step).
TAU = 2.0


@dataclass(frozen=True)
class LayerSpec:
    """What to build: the input, the device, and optionally the layer's parameters.

    ``inputs`` is a float32 array of 0/1 spikes shaped ``[T, B, size]``. ``weight``
    (``[size, size]``, out × in) and ``bias`` (``[size]``) start the layer from given
    parameters (the cross-library equality test sets them); None keeps the library's own
    initialisation, seeded with ``seed``.
    """

    inputs: np.ndarray
    device: str
    tau: float = TAU
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    seed: int = 0

    @property
    def timesteps(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def size(self) -> int:
        return int(self.inputs.shape[2])


class Workload(Protocol):
    """One built benchmark layer with its input, ready to be timed.

    Calls may return before the device has finished (CUDA, JAX dispatch); the benchmark
    calls :meth:`synchronize` before every clock read.
    """

    #: The ``backend`` coordinate of its rows (e.g. ``torch``, SpikingJelly's ``cuda``).
    backend: str
    #: The ``variant`` coordinate of its rows: ``eager``, or ``compiled`` for :meth:`compiled`.
    variant: str

    def inference(self) -> Any:
        """One forward pass over the whole input without gradients; returns the spikes."""

    def forward(self) -> Any:
        """The forward half of a training step (gradients cleared, then recorded); returns
        what :meth:`backward` needs."""

    def backward(self, forward_result: Any) -> None:
        """The backward half: gradients of the summed output spikes."""

    def synchronize(self) -> None:
        """Wait until the work queued so far has finished."""

    def reset_peak_memory(self) -> None:
        """Start a new device-memory high-water mark (no-op where there is none)."""

    def peak_device_memory(self) -> tuple[int, str] | None:
        """Peak device bytes since :meth:`reset_peak_memory`, and how they were read; None off
        an accelerator."""

    def compiled(self) -> Workload | None:
        """The same layer compiled (``torch.compile``, ``jax.jit``), or None where the library
        has no compiler. The first training step of the result compiles."""

    def as_numpy(self, spikes: Any) -> np.ndarray:
        """Spikes returned by :meth:`inference` as a NumPy array ``[T, B, size]``."""

    def close(self) -> None:
        """Undo process-wide settings the build made (e.g. a kernel backend)."""


def spike_input(timesteps: int, batch: int, size: int, *, seed: int = 0, rate: float = 0.2) -> np.ndarray:
    """Bernoulli spikes at ``rate``: the benchmark's input, the same for every library."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return (rng.random((timesteps, batch, size), dtype=np.float32) < rate).astype(np.float32)
