"""Rockpool 3.1 (SynSense): its torch LIF in the latency benchmark; no deployment target.

Latency workload: ``LIFNeuronTorch``, Rockpool's current-free torch LIF, behind the
benchmark's ``nn.Linear``. Rockpool's neurons are Euler-stepped in physical time
(``V *= exp(-dt/τ_mem)``, then ``V += input``), so τ_mem = dt / ln 2 gives the workload's
decay 0.5 per step, and the threshold is τ = 2 because Rockpool adds the input without the
1/τ gain of the workload's LIF (the membrane is the workload's scaled by τ, as in
snnTorch's mapping). What cannot be matched: Rockpool has no hard reset. Every Rockpool
LIF subtracts its threshold (``V -= θ·S``) and may emit several spikes per step
(``S = floor(V/θ)`` for ``V ≥ θ``); ``max_spikes_per_dt=1`` keeps one, so only the reset
differs from the workload: the same operations per step, not the same spikes. Surrogate:
Rockpool's default, ``StepPWL`` (piece-wise linear). ``LIFTorch``, the neuron of the
published Rockpool rows, adds a synaptic current that cannot be switched off (it decays
after every input, so τ_syn → 0 silences the layer); the current-free neuron is the closer
match.

Deployment (``spiking_snn`` through NIR): Rockpool 3.1.0's ``from_nir`` reads
``node.tau_mem`` of every ``nir.LIF`` node, an attribute ``nir.LIF`` does not have (its
time constant is ``tau``; ``tau_mem`` belongs to ``nir.CubaLIF``), so importing any LIF
network fails with an ``AttributeError`` — with nir 1.0.8 as with the 1.0.4 its extra pins.
Cells are skipped with that reason (``tests/test_frameworks_libraries.py`` shows the
failure on a real export).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from spikemark.frameworks.library import BenchmarkedLibrary, batch_major

if TYPE_CHECKING:
    from spikemark.frameworks.torch_workload import TorchLayer
    from spikemark.frameworks.workload import LayerSpec, Workload

NIR_REASON = (
    "rockpool 3.1.0 cannot import NIR LIF networks: its from_nir reads nir.LIF.tau_mem, which nir.LIF "
    "does not have (AttributeError)"
)
#: Rockpool's Euler step (s); any value works, τ_mem is set relative to it.
DT = 1e-3


def latency_layer(spec: LayerSpec) -> TorchLayer:
    """``LIFNeuronTorch`` (decay 0.5 per step, threshold τ, one spike per step) after ``nn.Linear``."""
    from rockpool.nn.modules import LIFNeuronTorch
    from torch import nn

    from spikemark.frameworks.torch_workload import TorchLayer

    decay = 1.0 - 1.0 / spec.tau
    linear = nn.Linear(spec.size, spec.size)
    lif = LIFNeuronTorch(
        (spec.size,), tau_mem=-DT / math.log(decay), threshold=spec.tau, dt=DT, max_spikes_per_dt=1.0
    ).to_torch()  # torch API: a call returns the spikes only

    return TorchLayer(linear, batch_major(linear, lif, lif.reset_state), lif)


class Rockpool(BenchmarkedLibrary):
    name = "rockpool"
    description = (
        "Rockpool 3.1, torch backend: LIFNeuronTorch in the latency benchmark (subtractive reset: "
        "Rockpool has no hard reset); deployment skipped (its NIR import fails on nir.LIF)."
    )
    packages = ("rockpool", "nir", "nirtorch")
    module = "rockpool"
    nir_reason = NIR_REASON
    latency_reset = "subtract"

    def latency_workload(self, spec: LayerSpec) -> Workload:
        from spikemark.frameworks.torch_workload import torch_workload

        return torch_workload(spec, latency_layer)
