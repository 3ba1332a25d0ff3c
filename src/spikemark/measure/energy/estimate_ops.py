"""Energy estimated from synaptic operations: E = e_MAC · MACs + e_AC · ACs.

The per-operation energies are those of Horowitz, "Computing's energy problem (and what
we can do about it)", ISSCC 2014, for 45 nm at 0.9 V: a multiply-accumulate is one
multiply plus one add, an accumulate one add. These are the constants the SNN literature
uses to compare ANNs and SNNs; they leave out memory access and data movement, which
dominate real chips, so the result is an estimate and is labelled ``estimate-ops``.
"""

from __future__ import annotations

from spikemark.measure.energy.base import Meter, MeterUnavailable, Window

#: preset → (e_MAC, e_AC) in picojoules (Horowitz 2014, 45 nm).
PRESETS: dict[str, tuple[float, float]] = {
    # fp32: mult 3.7 pJ + add 0.9 pJ; add 0.9 pJ.
    "45nm-fp32": (4.6, 0.9),
    # fp16: mult 1.1 pJ + add 0.4 pJ; add 0.4 pJ.
    "45nm-fp16": (1.5, 0.4),
    # int8: mult 0.2 pJ + add 0.03 pJ; add 0.03 pJ.
    "45nm-int8": (0.23, 0.03),
}
DEFAULT_PRESET = "45nm-fp32"


class EstimateOpsMeter(Meter):
    """Config: ``ops_preset`` (one of ``PRESETS``), or ``e_mac_pj`` / ``e_ac_pj`` overrides."""

    name = "estimate-ops"
    measured = False

    def __init__(self, config=None) -> None:
        super().__init__(config)
        preset = self.config.get("ops_preset") or DEFAULT_PRESET
        if preset not in PRESETS:
            raise ValueError(f"ops_preset must be one of {sorted(PRESETS)}, not {preset!r}")
        e_mac, e_ac = PRESETS[preset]
        self.e_mac_pj = float(self.config["e_mac_pj"] if self.config.get("e_mac_pj") is not None else e_mac)
        self.e_ac_pj = float(self.config["e_ac_pj"] if self.config.get("e_ac_pj") is not None else e_ac)

    def per_inference(self, macs: float, acs: float) -> float:
        """Joules for one inference with ``macs`` MACs and ``acs`` ACs."""
        return (self.e_mac_pj * macs + self.e_ac_pj * acs) * 1e-12

    def estimate(self, window: Window) -> float:
        if window.macs_per_inference is None or window.acs_per_inference is None:
            raise MeterUnavailable("needs effective MACs and ACs per inference (workload metrics not given)")
        return self.per_inference(window.macs_per_inference, window.acs_per_inference) * window.inferences
