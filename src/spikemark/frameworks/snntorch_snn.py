"""snnTorch as a deployment target.

- ``spiking_snn`` (surrogate-trained, hard-reset LIF): exported to NIR by SpikingJelly and
  imported with ``snntorch.import_nir.import_from_nir``. snnTorch maps ``nir.LIF`` to
  ``Leaky(beta = 1 − dt/τ, reset_mechanism='zero', reset_delay=False)`` and folds the
  input gain dt/τ into the threshold, so the membrane is the source's scaled by τ/dt and
  spikes and readout are the same.
- ``rate_snn`` (converted, soft reset): NIR cannot carry soft reset, so the model is
  mapped directly: each IF node becomes ``Leaky(beta=1, threshold=θ,
  reset_mechanism='subtract', reset_delay=True)`` — integrate-and-fire with reset by
  subtraction — and the Linear, Conv2d, AvgPool2d and Flatten layers are copied as plain
  torch layers with the same weights and hyper-parameters.

CNNs (``arch: cnn``) work both ways. A converted CNN runs through the direct mapping on
inputs shaped ``[B, *input_shape]`` (constant current for T steps, as on SpikingJelly). A
surrogate CNN goes through NIR (``Conv2d``, ``AvgPool2d``, ``LIF``, ``Flatten``, ``Affine``
nodes, all of which snnTorch 1.0 imports) with two repairs described in
:mod:`spikemark.frameworks.stepped`: pooling sizes exported as (height, width) pairs, and
the imported ``Flatten`` moved past the batch dimension. A NIR node type snnTorch cannot
import makes the cell ``skipped`` with the node named.

Why ``reset_delay=True``: snnTorch then steps ``U_t = U_{t-1} + x_t − θ·H(U_{t-1} − θ)``,
``S_t = H(U_t − θ)`` (its membrane is kept before the reset and the reset applied on the
next step), which is SpikingJelly's soft-reset IF. With ``reset_delay=False`` the reset is
applied at once, but a membrane still above θ after it is reset *again* on the next step
and the undone spike is tested against 2θ: a neuron whose input exceeds θ in one step
(common in converted CNNs: test inputs above the max activation the converter normalised
by) then skips spikes SpikingJelly fires — agreement 0.987 and score differences up to 1.8
on the digits CNN, where ``reset_delay=True`` reproduces every score exactly.

What still differs: snnTorch fires on ``U > θ`` where SpikingJelly fires on ``U ≥ θ``, and
rounds ``(U + x) − θ`` where SpikingJelly rounds ``(U − θ) + x``. Both only matter on
exact ties, so agreement is ~1 but not guaranteed bit-exact for converted SNNs (deploy
records it).

Latency workload: ``snn.Leaky`` stepped in a Python loop. Neurons for the probes:
``SpikingNeuron`` (membrane ``mem``, which NeuroBench reads too).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from spikemark.errors import StageFailed
from spikemark.frameworks.base import Framework, NeuronType

if TYPE_CHECKING:
    import torch
    from torch import nn

    from spikemark.frameworks.torch_workload import TorchLayer
    from spikemark.frameworks.workload import LayerSpec, Workload
    from spikemark.models import Classifier


class SnnTorchNeuron(NeuronType):
    """snnTorch's ``SpikingNeuron``: membrane ``mem`` (which NeuroBench reads); a layer returns
    its spikes alone only with ``init_hidden`` and without ``output``, else (spikes, …)."""

    def spikes(self, layer: Any, output: Any) -> Any:
        if layer.init_hidden and not layer.output and not isinstance(output, tuple):
            return output
        return output[0]


NEURONS = SnnTorchNeuron("snntorch", "SpikingNeuron", membrane="mem", neurobench_reads_membrane=True)


def _reset(module: nn.Module):
    from snntorch import utils

    return lambda: utils.reset(module)


def _conv2d(m: nn.Conv2d) -> nn.Conv2d:
    from torch import nn

    copy = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                     dilation=m.dilation, groups=m.groups, bias=m.bias is not None,
                     padding_mode=m.padding_mode)
    copy.load_state_dict(m.state_dict())
    return copy


def _avgpool2d(m: nn.AvgPool2d) -> nn.AvgPool2d:
    from torch import nn

    return nn.AvgPool2d(m.kernel_size, stride=m.stride, padding=m.padding, ceil_mode=m.ceil_mode,
                        count_include_pad=m.count_include_pad, divisor_override=m.divisor_override)


def copied_layer(m: nn.Module) -> nn.Module | None:
    """A plain torch copy (same weights and hyper-parameters) of one of SpikingJelly's
    Flatten, Linear, Conv2d and AvgPool2d layers; None for any other module."""
    from torch import nn

    if isinstance(m, nn.Flatten):
        return nn.Flatten(m.start_dim, m.end_dim)
    if isinstance(m, nn.Linear):
        copy = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        copy.load_state_dict(m.state_dict())
        return copy
    if isinstance(m, nn.Conv2d):
        return _conv2d(m)
    if isinstance(m, nn.AvgPool2d):
        return _avgpool2d(m)
    return None


def _single_step(m: nn.Module) -> None:
    if getattr(m, "step_mode", "s") != "s":
        raise ValueError(f"expected single-step layers in a converted SNN, {type(m).__name__} is multi-step")


def rate_snn_to_snntorch(source: Classifier) -> nn.Sequential:
    """Direct mapping of a converted SNN: IF(soft reset) → Leaky(beta=1, subtract, delayed); the
    Linear, Conv2d, AvgPool2d and Flatten layers become torch layers with the same weights
    and hyper-parameters (SpikingJelly's single-step layers are the torch layers)."""
    import snntorch as snn
    from spikingjelly.activation_based import neuron
    from torch import nn

    layers: list[nn.Module] = []
    for m in source.module:
        _single_step(m)
        copy = copied_layer(m)
        if copy is not None:
            layers.append(copy)
        elif isinstance(m, neuron.IFNode):
            if m.v_reset is not None:
                raise ValueError("expected a soft-reset IF node in a converted SNN")
            layers.append(
                snn.Leaky(
                    beta=1.0,
                    threshold=float(m.v_threshold),
                    reset_mechanism="subtract",
                    reset_delay=True,  # SpikingJelly's soft reset; see the module docstring
                    init_hidden=True,
                )
            )
        else:
            raise ValueError(f"no snnTorch mapping for {type(m).__name__}")
    return nn.Sequential(*layers)


def import_nir(graph) -> nn.Module:
    """``snntorch.import_nir.import_from_nir`` with the batch-keeping Flatten repair; a
    node type snnTorch has no mapping for is a skip naming it."""
    from snntorch.import_nir import import_from_nir

    from spikemark.frameworks.stepped import batch_flatten, quiet

    try:
        with quiet():
            module = import_from_nir(graph)
    except ValueError as exc:
        # nirtorch: "Unknown node type <class 'nir.ir.<module>.<Node>'>, mapping does not exist in node_map"
        unknown = re.search(r"Unknown node type <class '[\w.]*?(\w+)'>", str(exc))
        if unknown is None:
            raise
        reason = f"snntorch cannot import NIR node nir.{unknown.group(1)} (exported by SpikingJelly)"
        raise StageFailed("skipped", reason) from exc
    return batch_flatten(module, graph)


def latency_layer(spec: LayerSpec) -> TorchLayer:
    """``snn.Leaky(beta = 1 − 1/τ, threshold τ)`` stepped in a Python loop."""
    import snntorch as snn
    from torch import nn

    from spikemark.frameworks.torch_workload import TorchLayer, stepped

    linear = nn.Linear(spec.size, spec.size)
    # v' = β·v + x with β = 1 − 1/τ and threshold τ is SpikingJelly's v' = v + (x − v)/τ
    # with threshold 1, scaled by τ (as snnTorch's own NIR import does).
    lif = snn.Leaky(beta=1.0 - 1.0 / spec.tau, threshold=spec.tau, reset_mechanism="zero", reset_delay=False)
    return TorchLayer(linear, stepped(linear, lif, lif.init_leaky), lif)


class SnnTorch(Framework):
    name = "snntorch"
    description = (
        "snnTorch 1.0: surrogate-trained SNNs through NIR, converted ones mapped directly to "
        "Leaky(beta=1, subtract, reset_delay); MLPs and CNNs."
    )
    kinds = ("rate_snn", "spiking_snn")
    packages = ("snntorch", "nir", "nirtorch")
    neurons = (NEURONS,)

    def load(self, checkpoint: str, device: str) -> Classifier:
        from spikemark.frameworks.stepped import SteppedClassifier, export_nir, load_source

        source = load_source(checkpoint)
        if source.kind == "rate_snn":
            module = rate_snn_to_snntorch(source).to(device).eval()
            step = module
        else:
            module = import_nir(export_nir(source)).to(device).eval()

            def step(x_t: torch.Tensor) -> torch.Tensor:
                out, _ = module(x_t)
                return out

        meta = {**source.meta, "deployed_with": "snntorch", "exchange": "nir" if source.kind == "spiking_snn" else "direct"}
        return SteppedClassifier(source.kind, module, meta, step=step, reset=_reset(module))

    def latency_workload(self, spec: LayerSpec) -> Workload:
        from spikemark.frameworks.torch_workload import torch_workload

        return torch_workload(spec, latency_layer)
