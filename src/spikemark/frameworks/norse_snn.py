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
"""

from __future__ import annotations

from spikemark.frameworks.stepped import (
    NIR_DT,
    SteppedClassifier,
    batch_flatten,
    export_nir,
    load_source,
    quiet,
    skip_unless_importable,
)
from spikemark.models import Classifier

SOFT_RESET_REASON = (
    "norse cannot run converted (soft-reset IF) SNNs: NIR carries no soft reset and Norse 1.1 "
    "has no integrate-and-fire neuron with reset by subtraction"
)


def can_import(node) -> bool:
    """Whether Norse's node importer maps ``node`` to a module (it returns None otherwise)."""
    from norse.torch.utils.import_nir import _import_norse_module

    with quiet():
        return _import_norse_module(node, ignore_warnings=True, dt=NIR_DT) is not None


def import_nir(graph):
    """``norse.torch.from_nir`` of a graph whose every node Norse can import, else a skip."""
    import norse.torch as norse

    skip_unless_importable(graph, "norse", can_import)
    with quiet():
        module = norse.from_nir(graph, dt=NIR_DT)
    return batch_flatten(module, graph)


class Norse:
    name = "norse"
    kinds = ("spiking_snn",)

    def unsupported_reason(self, kind: str) -> str | None:
        if kind == "rate_snn":
            return SOFT_RESET_REASON
        return None if kind in self.kinds else f"norse deploys SNNs, not {kind}"

    def load(self, checkpoint: str, device: str) -> Classifier:
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
