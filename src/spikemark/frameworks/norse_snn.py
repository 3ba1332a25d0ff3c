"""Norse as a deployment target, through NIR.

``spiking_snn`` (hard-reset LIF) is exported by SpikingJelly and imported with
``norse.torch.from_nir(graph, dt=NIR_DT)``: ``nir.LIF`` becomes ``LIFBoxCell`` whose Euler
step ``v += dt/τ·(v_leak − v + i)`` with dt/τ = 1/τ_SJ is SpikingJelly's ``decay_input``
LIF update exactly. (Norse's default dt is 1e-3; importing with it would be 10× faster
dynamics, so the dt is passed explicitly.)

``rate_snn`` (converted, soft reset) is skipped: NIR has no soft reset, and Norse 1.1 has
no integrate-and-fire neuron with reset by subtraction to map it to directly
(``IAFCell`` resets to a value; ``reset_subtract`` exists only for leaky neurons).

CNNs (``arch: cnn``): a surrogate CNN exports to ``Conv2d → AvgPool2d → LIF … → Flatten →
Affine …``, and Norse 1.1's ``from_nir`` has no mapping for ``nir.AvgPool2d`` (it maps
``SumPool2d`` only). Its importer returns nothing for such a node and the graph executor
then runs the network *without* that layer, so every graph is checked first, node by node
with Norse's own node importer: a node type it cannot map makes the cell ``skipped`` with
the node named (surrogate CNNs today: ``nir.AvgPool2d``). Converted CNNs are skipped like
every converted SNN. Were pooling importable, the imported ``Flatten`` would be moved past
the batch dimension as for snnTorch (:func:`spikemark.frameworks.stepped.batch_flatten`).

Latency workload: ``LIFBoxCell`` stepped in a Python loop. Neurons for the probes:
``SNNCell``, whose membrane is the ``v`` of the state it takes and returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikemark.frameworks.base import Framework, NeuronType

if TYPE_CHECKING:
    from spikemark.frameworks.torch_workload import TorchLayer
    from spikemark.frameworks.workload import LayerSpec, Workload
    from spikemark.models import Classifier

SOFT_RESET_REASON = (
    "norse cannot run converted (soft-reset IF) SNNs: NIR carries no soft reset and Norse 1.1 "
    "has no integrate-and-fire neuron with reset by subtraction"
)


def can_import(node) -> bool:
    """Whether Norse's node importer maps ``node`` to a module (it returns None otherwise)."""
    from norse.torch.utils.import_nir import _import_norse_module

    from spikemark.frameworks.stepped import NIR_DT, quiet

    with quiet():
        return _import_norse_module(node, ignore_warnings=True, dt=NIR_DT) is not None


def import_nir(graph):
    """``norse.torch.from_nir`` of a graph whose every node Norse can import, else a skip."""
    import norse.torch as norse

    from spikemark.frameworks.stepped import NIR_DT, batch_flatten, quiet, skip_unless_importable

    skip_unless_importable(graph, "norse", can_import)
    with quiet():
        module = norse.from_nir(graph, dt=NIR_DT)
    return batch_flatten(module, graph)


class NorseNeuron(NeuronType):
    """Norse's ``SNNCell``: ``cell(input, state) -> (spikes, state)``; the membrane is the
    state's ``v``, passed in and returned rather than kept on the layer."""

    def spikes(self, layer: Any, output: Any) -> Any:
        return output[0]

    def membrane_before(self, layer: Any, args: tuple) -> Any:
        state = args[1] if len(args) > 1 else None
        return None if state is None else state.v

    def membrane_after(self, layer: Any, output: Any) -> Any:
        return output[1].v


NEURONS = NorseNeuron("norse.torch.module.snn", "SNNCell")


def latency_layer(spec: LayerSpec) -> TorchLayer:
    """``LIFBoxCell`` (the same current-free LIF) stepped in a Python loop."""
    import norse.torch as norse
    import torch
    from torch import nn

    from spikemark.frameworks.torch_workload import TorchLayer, stepped

    dt = 1e-3
    linear = nn.Linear(spec.size, spec.size)
    lif = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor(1.0 / (spec.tau * dt))), dt=dt)
    return TorchLayer(linear, stepped(linear, lif, lambda: None), lif)


class Norse(Framework):
    name = "norse"
    description = (
        "Norse 1.1 through NIR: surrogate-trained MLPs (converted soft-reset SNNs and "
        "surrogate CNNs are skipped, naming why)."
    )
    kinds = ("spiking_snn",)
    packages = ("norse", "nir", "nirtorch")
    neurons = (NEURONS,)

    def unsupported_reason(self, kind: str) -> str | None:
        if kind == "rate_snn":
            return SOFT_RESET_REASON
        return super().unsupported_reason(kind)

    def load(self, checkpoint: str, device: str) -> Classifier:
        from spikemark.frameworks.stepped import SteppedClassifier, export_nir, load_source

        source = load_source(checkpoint)
        reason = self.unsupported_reason(source.kind)
        if reason:
            from spikemark.errors import StageFailed

            raise StageFailed("skipped", reason)
        module = import_nir(export_nir(source)).to(device).eval()
        state: dict = {"value": None}

        def step(x_t):
            out, state["value"] = module(x_t, state["value"])
            return out

        def reset():
            state["value"] = None

        meta = {**source.meta, "deployed_with": "norse", "exchange": "nir"}
        return SteppedClassifier(source.kind, module, meta, step=step, reset=reset)

    def latency_workload(self, spec: LayerSpec) -> Workload:
        from spikemark.frameworks.torch_workload import torch_workload

        return torch_workload(spec, latency_layer)
