"""Sinabs' side of the direct mapping of SpikingJelly SNNs (:mod:`spikemark.frameworks.sinabs_snn`
says what maps to what and why) and of its latency layer. Imports torch and Sinabs: loaded
only where Sinabs runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sinabs.activation as activation
import sinabs.layers as sl
import torch
from torch import nn

from spikemark.errors import StageFailed

if TYPE_CHECKING:
    from spikemark.models import Classifier


class OneStep(nn.Module):
    """A Sinabs layer (which runs ``[B, T, …]``) called one time step at a time."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x.unsqueeze(1)).squeeze(1)


def hard_reset_lif(tau: float, threshold: float = 1.0) -> sl.LIF:
    """SpikingJelly's hard-reset LIF (``decay_input``, reset to 0) in Sinabs:
    ``V = α·V + (1−α)·I`` with α = 1 − 1/τ set directly (Sinabs' own τ would give
    ``exp(−1/τ)``), one spike when ``V ≥ θ``, then ``V = 0``."""
    lif = sl.LIF(tau_mem=tau, spike_threshold=torch.tensor(float(threshold)), spike_fn=activation.SingleSpike,
                 reset_fn=activation.MembraneReset(), norm_input=True, train_alphas=True)
    with torch.no_grad():
        lif.alpha_mem.fill_(1.0 - 1.0 / tau)
    return lif


def sinabs_neuron(node: nn.Module) -> nn.Module:
    """Sinabs' neuron that steps exactly like SpikingJelly's ``node``."""
    from spikingjelly.activation_based import neuron

    if isinstance(node, neuron.LIFNode) and node.decay_input and node.v_reset == 0.0:
        # (Sinabs' MembraneReset adds its reset value to every neuron, so only 0 maps.)
        return hard_reset_lif(float(node.tau), float(node.v_threshold))
    if isinstance(node, neuron.IFNode) and node.v_reset is None:
        return sl.IAF(spike_threshold=torch.tensor(float(node.v_threshold)), spike_fn=activation.SingleSpike,
                      reset_fn=activation.MembraneSubtract())
    raise StageFailed("skipped", f"sinabs has no mapping for SpikingJelly's {type(node).__name__} as configured")


def to_sinabs(source: Classifier) -> nn.Sequential:
    """The direct mapping of a SpikingJelly SNN (see :mod:`spikemark.frameworks.sinabs_snn`)."""
    from spikingjelly.activation_based import neuron

    from spikemark.frameworks.snntorch_snn import _avgpool2d, _conv2d

    layers: list[nn.Module] = []
    for m in source.module:
        if isinstance(m, neuron.BaseNode):
            layers.append(OneStep(sinabs_neuron(m)))
        elif isinstance(m, nn.Flatten):
            layers.append(nn.Flatten(m.start_dim, m.end_dim))
        elif isinstance(m, nn.Linear):
            copy = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
            copy.load_state_dict(m.state_dict())
            layers.append(copy)
        elif isinstance(m, nn.Conv2d):
            layers.append(_conv2d(m))
        elif isinstance(m, nn.AvgPool2d):
            layers.append(_avgpool2d(m))
        else:
            reason = f"sinabs has no mapping for {type(m).__name__} (arch {source.meta.get('arch', 'mlp')})"
            raise StageFailed("skipped", reason)
    return nn.Sequential(*layers)


def fresh_states(module: nn.Module) -> None:
    """Every Sinabs layer of ``module`` back to rest, with new state tensors (Sinabs' own
    ``reset_states`` zeroes them in place, under the potentials the probes hold)."""
    for layer in module.modules():
        if isinstance(layer, sl.StatefulLayer) and layer.is_state_initialised():
            for name, state in list(layer.named_buffers(recurse=False)):  # Sinabs' states are its buffers
                setattr(layer, name, torch.zeros_like(state))
