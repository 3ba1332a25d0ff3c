"""What the NIR targets (snnTorch, Norse) share: export to NIR, and a classifier that
steps an imported network through time with the same input protocol and score rule as
the source model (:mod:`spikemark.models`).

Export: SpikingJelly 2.0's ``nir_exchange.export_to_nir`` maps our surrogate-trained
``spiking_snn`` (Linear → LIF(hard reset) → … → Linear) to the NIR graph
``Input → Affine → LIF → … → Affine → Output``; the last Affine is the non-spiking readout.
SpikingJelly's LIF (``decay_input=True``, ``tau``) becomes ``nir.LIF(tau=tau·dt, r=1,
v_leak=v_reset)``; importers must use the same ``dt`` (:data:`NIR_DT`) to recover the
discrete dynamics. Converted SNNs (soft reset) cannot go through NIR (it has no soft reset).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor, nn

from spikemark.models import Classifier, flat_input, load_checkpoint

#: Time step (s) of the NIR export and of every import (SpikingJelly's and snnTorch's default).
NIR_DT = 1e-4


def load_source(checkpoint: str | Path) -> Classifier:
    """The pruned SpikingJelly model, on the CPU (export reads its weights)."""
    return load_checkpoint(checkpoint, "cpu")


def export_nir(source: Classifier):
    """NIR graph of a surrogate-trained SNN (multi-step SpikingJelly network)."""
    from spikingjelly.activation_based import functional
    from spikingjelly.activation_based.nir_exchange import export_to_nir

    if source.kind != "spiking_snn":
        raise ValueError(f"only spiking_snn models go through NIR, not {source.kind}")
    example = torch.zeros(2, 1, int(source.meta["in_features"]))
    functional.reset_net(source.module)
    graph = export_to_nir(source.module, example, dt=NIR_DT)
    functional.reset_net(source.module)
    return graph


@contextlib.contextmanager
def quiet():
    """Importers print progress and warnings to stdout; keep job logs readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


class SteppedClassifier(Classifier):
    """A :class:`Classifier` whose module is advanced one time step per call.

    ``step(x_t) -> out_t`` runs one step (state kept by the runtime or by ``step``
    itself); ``reset()`` returns every neuron to its initial state. Scores follow the
    source kind: ``rate_snn`` sums the readout over T constant-current steps and divides
    by T; ``spiking_snn`` averages the readout over the input sequence.
    """

    def __init__(self, kind: str, module: nn.Module, meta: dict[str, Any], *,
                 step: Callable[[Tensor], Tensor], reset: Callable[[], None]):
        super().__init__(kind, module, meta)
        self.step = step
        self.reset = reset

    def _run(self, steps) -> Tensor:
        self.reset()
        total = None
        n = 0
        for x_t in steps:
            out = self.step(x_t)
            total = out if total is None else total + out
            n += 1
        self.reset()
        return total / n

    def _rate_scores(self, x: Tensor, timesteps: int) -> Tensor:
        current = flat_input(x)
        return self._run(current for _ in range(timesteps))

    def _spiking_scores(self, x: Tensor, timesteps: int | None) -> Tensor:
        if x.dim() == 3:  # spike raster [B, time, channel]: bin by bin
            seq = x.float().transpose(0, 1)
        else:
            steps = self._require_t(timesteps or self.native_timesteps())
            seq = flat_input(x).unsqueeze(0).expand(steps, -1, -1)
        return self._run(iter(seq))
