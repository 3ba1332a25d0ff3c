"""Sinabs 1.2 (SynSense): its torch LIF in the latency benchmark, and a deployment target by
direct mapping (its NIR import does not reproduce our networks).

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

Why not through NIR: ``sinabs.nir.from_nir`` maps ``nir.LIF`` to
``LIFSqueeze(tau_mem=node.tau, norm_input=False)`` with its default subtractive,
multi-spike reset. It reads NIR's τ (seconds) as a number of time steps and takes no dt:
the exported τ = 2e-4 s becomes a decay ``exp(−1/2e-4) = 0`` per step, the input is not
scaled by dt/τ, and the reset subtracts. The imported network is not the exported one
(Sinabs 3.1.3's importer is the same code; ``tests/test_frameworks_libraries.py`` shows it).

Deployment, therefore, by direct mapping (as snnTorch's of converted SNNs): SpikingJelly's
Linear, Conv2d, AvgPool2d and Flatten layers become the same torch layers, and its
neurons Sinabs' own, each exactly the source's:

- ``LIFNode`` (surrogate-trained, hard reset to 0): the latency layer's ``LIF`` above, with
  the node's τ and threshold (Sinabs' ``MembraneReset`` adds its reset value to every
  neuron, not only to those that spiked, so only a reset to 0 maps);
- ``IFNode`` (converted, soft reset): ``IAF(spike_threshold=θ, SingleSpike,
  MembraneSubtract)`` — ``V += I``, a spike when ``V ≥ θ``, ``V −= θ`` — SpikingJelly's
  soft-reset IF step for step.

The mapped network is stepped one time step per call (:class:`OneStep` feeds each Sinabs
layer ``[B, 1, …]``), with the same input protocol and score rule as the source
(:class:`~spikemark.frameworks.stepped.SteppedClassifier`; the mapping is in
:mod:`spikemark.frameworks.sinabs_layers`). Recurrent SNNs (``arch: rsnn``)
have no mapping: skipped with the reason. Neurons for the probes: ``StatefulLayer``, whose
membrane is ``v_mem``; a reset replaces the state tensors rather than zeroing them in place
(Sinabs' ``reset_states`` does), so the potentials the probes hold keep their values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikemark.errors import StageFailed
from spikemark.frameworks.base import Framework, NeuronType
from spikemark.frameworks.library import BenchmarkedLibrary, batch_major

if TYPE_CHECKING:
    from spikemark.frameworks.torch_workload import TorchLayer
    from spikemark.frameworks.workload import LayerSpec, Workload
    from spikemark.models import Classifier

#: The mapped model kinds: both, by direct mapping (see the module docstring).
SUPPORTED = ("rate_snn", "spiking_snn")
NIR_REASON = (
    "sinabs 1.2.10's NIR import does not reproduce nir.LIF: it reads tau (seconds) as time steps with no dt "
    "(decay exp(-1/2e-4) = 0 per step), drops the dt/tau input gain and resets by subtraction"
)


def latency_layer(spec: LayerSpec) -> TorchLayer:
    """Sinabs' hard-reset ``LIF`` (α = 1 − 1/τ, normalised input, one spike, reset to 0) after ``nn.Linear``."""
    from torch import nn

    from spikemark.frameworks.sinabs_layers import hard_reset_lif
    from spikemark.frameworks.torch_workload import TorchLayer

    linear = nn.Linear(spec.size, spec.size)
    lif = hard_reset_lif(spec.tau)
    return TorchLayer(linear, batch_major(linear, lif, lif.reset_states), lif)


class SinabsNeuron(NeuronType):
    """Sinabs' ``StatefulLayer``: membrane ``v_mem``, none before the layer's first call."""

    def membrane_before(self, layer: Any, args: tuple) -> Any:
        return layer.v_mem if layer.is_state_initialised() else None


NEURONS = SinabsNeuron("sinabs.layers", "StatefulLayer", membrane="v_mem")


class Sinabs(BenchmarkedLibrary):
    name = "sinabs"
    description = (
        "Sinabs 1.2 (torch): converted and surrogate-trained SNNs mapped directly to its IAF and LIF (its NIR "
        "import reads tau in time steps); its LIF with reset to 0 in the latency benchmark."
    )
    kinds = SUPPORTED
    packages = ("sinabs", "nir", "nirtorch")
    neurons = (NEURONS,)
    module = "sinabs"
    nir_reason = NIR_REASON

    def unsupported_reason(self, kind: str) -> str | None:
        return Framework.unsupported_reason(self, kind)

    def load(self, checkpoint: str, device: str) -> Classifier:
        from spikemark.frameworks.sinabs_layers import fresh_states, to_sinabs
        from spikemark.frameworks.stepped import SteppedClassifier, load_source

        reason = self.unavailable_reason(device)
        if reason:
            raise StageFailed("skipped", reason)
        source = load_source(checkpoint)
        module = to_sinabs(source).to(device).eval()
        meta = {**source.meta, "deployed_with": "sinabs", "exchange": "direct"}
        return SteppedClassifier(source.kind, module, meta, step=module, reset=lambda: fresh_states(module))

    def latency_workload(self, spec: LayerSpec) -> Workload:
        from spikemark.frameworks.torch_workload import torch_workload

        return torch_workload(spec, latency_layer)
