"""Norse as a deployment target, through NIR.

``spiking_snn`` (hard-reset LIF) is exported by SpikingJelly and imported with
``norse.torch.from_nir(graph, dt=NIR_DT)``: ``nir.LIF`` becomes ``LIFBoxCell`` whose Euler
step ``v += dt/τ·(v_leak − v + i)`` with dt/τ = 1/τ_SJ is SpikingJelly's ``decay_input``
LIF update exactly. (Norse's default dt is 1e-3; importing with it would be 10× faster
dynamics, so the dt is passed explicitly.)

``rate_snn`` (converted, soft reset) is skipped: NIR has no soft reset, and Norse 1.1 has
no integrate-and-fire neuron with reset by subtraction to map it to directly
(``IAFCell`` resets to a value; ``reset_subtract`` exists only for leaky neurons).
"""

from __future__ import annotations

from spikemark.frameworks.stepped import NIR_DT, SteppedClassifier, export_nir, load_source, quiet
from spikemark.models import Classifier

SOFT_RESET_REASON = (
    "norse cannot run converted (soft-reset IF) SNNs: NIR carries no soft reset and Norse 1.1 "
    "has no integrate-and-fire neuron with reset by subtraction"
)


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
        import norse.torch as norse

        with quiet():
            module = norse.from_nir(export_nir(source), dt=NIR_DT)
        module = module.to(device).eval()
        state: dict = {"value": None}

        def step(x_t):
            out, state["value"] = module(x_t, state["value"])
            return out

        def reset():
            state["value"] = None

        meta = {**source.meta, "deployed_with": "norse", "exchange": "nir"}
        return SteppedClassifier(source.kind, module, meta, step=step, reset=reset)
