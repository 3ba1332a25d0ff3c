"""Energy estimated from CPU time: E = CPU seconds × TDP / cores.

The thermal design power of the CPU package (``tdp_watts``, from the config: the data
sheet's number for the machine's CPU model) spread evenly over its cores (``tdp_cores``,
default: this machine's physical cores) gives a per-core power; times the CPU time the
workload used, a rough upper-bound style estimate for machines without energy counters.
Without a configured TDP the meter is unavailable: no silent default.
"""

from __future__ import annotations

import psutil

from spikemark.measure.energy.base import Meter, Window


class EstimateTdpMeter(Meter):
    name = "estimate-tdp"
    measured = False

    def __init__(self, config=None) -> None:
        super().__init__(config)
        tdp = self.config.get("tdp_watts")
        self.tdp_watts = float(tdp) if tdp is not None else None
        cores = self.config.get("tdp_cores") or psutil.cpu_count(logical=False) or psutil.cpu_count()
        self.cores = int(cores)

    def unavailable_reason(self) -> str | None:
        if self.tdp_watts is None:
            # The setting is measure.energy.tdp_watts for the ML track; the PD14 track names its own.
            setting = self.config.get("tdp_setting", "measure.energy.tdp_watts")
            return f"{setting} is not set (the CPU's TDP from its data sheet)"
        if self.tdp_watts <= 0 or self.cores <= 0:
            return f"tdp_watts ({self.tdp_watts}) and tdp_cores ({self.cores}) must be positive"
        return None

    def watts_per_core(self) -> float:
        return self.tdp_watts / self.cores

    def estimate(self, window: Window) -> float:
        return window.cpu_s * self.watts_per_core()
