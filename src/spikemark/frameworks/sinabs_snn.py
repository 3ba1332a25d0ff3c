"""Sinabs 1.2 (SynSense): its torch LIF in the latency benchmark; no deployment target.

Which Sinabs: every release from 2.0 on depends on ``samna``, whose PyPI package is a stub
that, when imported, runs ``pip install --force-reinstall`` of the real samna from a GitLab
index (Rockpool imports samna when present, so each Rockpool import then waits on that
network call), and 3.x pins ``nir<=1.0.4`` against nirtorch 2.6's ``nir>=1.0.6``. Sinabs
1.2.10 — the version of the published Sinabs rows — needs only torch, numpy, nir, nirtorch
and pbr, and resolves beside our pins.

Latency workload: ``sinabs.layers.LIF`` with ``norm_input=True`` (``V = α·V + (1−α)·I``),
α = 0.5 set directly (``train_alphas=True``; Sinabs' own τ parameter would give
``exp(−1/τ)``), ``SingleSpike`` (one spike when ``V ≥ 1``) and ``MembraneReset`` (reset to
0): the workload's neuron exactly, so its spikes equal SpikingJelly's. Surrogate:
Sinabs' default ``SingleExponential``. Sinabs runs ``[B, T, n]``; the layer transposes.

Deployment (``spiking_snn`` through NIR): ``sinabs.nir.from_nir`` maps ``nir.LIF`` to
``LIFSqueeze(tau_mem=node.tau, norm_input=False)`` with its default subtractive,
multi-spike reset. It reads NIR's τ (seconds) as a number of time steps and takes no dt:
the exported τ = 2e-4 s becomes a decay ``exp(−1/2e-4) = 0`` per step, the input is not
scaled by dt/τ, and the reset subtracts. The imported network is not the exported one
(Sinabs 3.1.3's importer is the same code), so cells are skipped with that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spikemark.frameworks.library import BenchmarkedLibrary, batch_major

if TYPE_CHECKING:
    from spikemark.frameworks.torch_workload import TorchLayer
    from spikemark.frameworks.workload import LayerSpec, Workload

NIR_REASON = (
    "sinabs 1.2.10's NIR import does not reproduce nir.LIF: it reads tau (seconds) as time steps with no dt "
    "(decay exp(-1/2e-4) = 0 per step), drops the dt/tau input gain and resets by subtraction"
)


def latency_layer(spec: LayerSpec) -> TorchLayer:
    """``sinabs.layers.LIF`` (α = 1 − 1/τ, normalised input, one spike, reset to 0) after ``nn.Linear``."""
    import sinabs.activation as activation
    import sinabs.layers as sl
    import torch
    from torch import nn

    from spikemark.frameworks.torch_workload import TorchLayer

    linear = nn.Linear(spec.size, spec.size)
    lif = sl.LIF(
        tau_mem=spec.tau,
        spike_fn=activation.SingleSpike,
        reset_fn=activation.MembraneReset(),
        norm_input=True,
        train_alphas=True,
    )
    with torch.no_grad():
        lif.alpha_mem.fill_(1.0 - 1.0 / spec.tau)  # the workload's Euler decay, not exp(-1/tau)

    return TorchLayer(linear, batch_major(linear, lif, lif.reset_states), lif)


class Sinabs(BenchmarkedLibrary):
    name = "sinabs"
    description = (
        "Sinabs 1.2 (torch): its LIF with reset to 0 in the latency benchmark; deployment skipped (its NIR "
        "import reads tau in time steps and resets by subtraction)."
    )
    packages = ("sinabs", "nir", "nirtorch")
    module = "sinabs"
    nir_reason = NIR_REASON

    def latency_workload(self, spec: LayerSpec) -> Workload:
        from spikemark.frameworks.torch_workload import torch_workload

        return torch_workload(spec, latency_layer)
