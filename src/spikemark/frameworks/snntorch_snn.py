"""snnTorch as a deployment target.

- ``spiking_snn`` (surrogate-trained, hard-reset LIF): exported to NIR by SpikingJelly and
  imported with ``snntorch.import_nir.import_from_nir``. snnTorch maps ``nir.LIF`` to
  ``Leaky(beta = 1 − dt/τ, reset_mechanism='zero', reset_delay=False)`` and folds the
  input gain dt/τ into the threshold, so the membrane is the source's scaled by τ/dt and
  spikes and readout are the same.
- ``rate_snn`` (converted, soft reset): NIR cannot carry soft reset, so the model is
  mapped directly: each IF node becomes ``Leaky(beta=1, threshold=θ,
  reset_mechanism='subtract', reset_delay=False)`` — integrate-and-fire with reset by
  subtraction — and the Linear layers are copied.

snnTorch fires on ``U > θ`` where SpikingJelly fires on ``U ≥ θ``; with reset by
subtraction it also tests a membrane still above threshold after a spike against 2θ on
the next step. Both only matter on exact ties or inputs above θ per step, so agreement is
~1 but not guaranteed bit-exact for converted SNNs (deploy records it).
"""

from __future__ import annotations

import torch
from torch import nn

from spikemark.frameworks.stepped import SteppedClassifier, export_nir, load_source, quiet
from spikemark.models import Classifier


def _reset(module: nn.Module):
    from snntorch import utils

    return lambda: utils.reset(module)


def rate_snn_to_snntorch(source: Classifier) -> nn.Sequential:
    """Direct mapping of a converted SNN: IF(soft reset) → Leaky(beta=1, subtract)."""
    import snntorch as snn
    from spikingjelly.activation_based import neuron

    layers: list[nn.Module] = []
    for m in source.module:
        if isinstance(m, nn.Flatten):
            layers.append(nn.Flatten())
        elif isinstance(m, nn.Linear):
            copy = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
            copy.load_state_dict(m.state_dict())
            layers.append(copy)
        elif isinstance(m, neuron.IFNode):
            if m.v_reset is not None:
                raise ValueError("expected a soft-reset IF node in a converted SNN")
            layers.append(
                snn.Leaky(
                    beta=1.0,
                    threshold=float(m.v_threshold),
                    reset_mechanism="subtract",
                    reset_delay=False,
                    init_hidden=True,
                )
            )
        else:
            raise ValueError(f"no snnTorch mapping for {type(m).__name__}")
    return nn.Sequential(*layers)


class SnnTorch:
    name = "snntorch"
    kinds = ("rate_snn", "spiking_snn")

    def unsupported_reason(self, kind: str) -> str | None:
        return None if kind in self.kinds else f"snntorch deploys SNNs, not {kind}"

    def load(self, checkpoint: str, device: str) -> Classifier:
        source = load_source(checkpoint)
        if source.kind == "rate_snn":
            module = rate_snn_to_snntorch(source).to(device).eval()
            step = module
        else:
            from snntorch.import_nir import import_from_nir

            with quiet():
                module = import_from_nir(export_nir(source))
            module = module.to(device).eval()

            def step(x_t: torch.Tensor) -> torch.Tensor:
                out, _ = module(x_t)
                return out

        meta = {**source.meta, "deployed_with": "snntorch", "exchange": "nir" if source.kind == "spiking_snn" else "direct"}
        return SteppedClassifier(source.kind, module, meta, step=step, reset=_reset(module))
