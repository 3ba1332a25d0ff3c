"""One PD14 run: build, presimulate, simulate, and measure each phase.

:func:`run_pd14` runs one network configuration on one framework and returns a
:class:`RunRecord` of raw measurements; :func:`record_rows` turns it into result rows
(:class:`~spikemark.results.ResultSet`, ``track="simulation"``).

Definitions (beNNch / Senk et al. practice):

- Phases: ``create`` (nodes), ``connect`` (synapses, including NEST's preparation of the
  presynaptic infrastructure), ``presimulate`` (the discarded initial transient) and
  ``simulate`` (state propagation, the timed phase). Wall time by ``time.perf_counter``,
  process CPU time (all threads) by ``time.process_time``; NEST's own kernel timers beside
  them (source ``nest-kernel``), per-thread lists kept (``variant=thread<i>``) and reduced
  by their maximum (the slowest thread sets the wall time).
- RTF = wall time of ``simulate`` / model time simulated.
- Synaptic events = spikes in ``simulate`` × mean recurrent out-degree (recurrent synapses /
  neurons); the external Poisson input is not counted. Events per second of wall time.
- Energy comes from a meter (``energy_meter``, see :class:`EnergyMeter`) around ``simulate``;
  without one it is ``unavailable`` with the reason, and, only when ``tdp_watts_per_core`` is
  configured, an estimate ``source="estimate-tdp"`` = CPU time of ``simulate`` × TDP per core.
"""

from __future__ import annotations

import glob
import os
import resource
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from spikemark.simulation.pd14_params import PD14Config
from spikemark.simulation.simulators import network_class

#: Kernel timers read after construction (cumulative over construction) and per Simulate call.
CONSTRUCTION_TIMERS = ("time_construction_create", "time_construction_connect", "time_communicate_prepare")
SIMULATE_TIMERS = ("time_simulate",)


class EnergyMeter(Protocol):
    """What :func:`run_pd14` needs from an energy meter (the measurement core's meters).

    ``start()`` before the timed phase, ``stop()`` after it returns the joules consumed in
    between; ``source`` names the meter (``rapl``, ``nvml``, ``slurm``, ...).
    """

    source: str

    def start(self) -> None: ...

    def stop(self) -> float: ...


def rapl_unavailable_reason() -> str | None:
    """Why no RAPL counter can be read here, or None if one can."""
    zones = glob.glob("/sys/class/powercap/intel-rapl*")
    if not zones:
        return "no RAPL counter: /sys/class/powercap/intel-rapl* does not exist on this host"
    readable = [z for z in zones if os.access(os.path.join(z, "energy_uj"), os.R_OK)]
    if not readable:
        return "RAPL counters exist but energy_uj is not readable (needs root or a powercap permission)"
    return None


@dataclass
class RunRecord:
    """Raw measurements of one run."""

    framework: str
    cfg: PD14Config
    wall: dict[str, float] = field(default_factory=dict)  # phase -> s
    cpu: dict[str, float] = field(default_factory=dict)  # phase -> s of process CPU time
    kernel: dict[str, Any] = field(default_factory=dict)  # timer name -> float or per-thread list
    num_neurons: int = 0
    num_connections: int = 0  # as NEST counts them (devices included)
    recurrent_synapses: int = 0
    spike_count: int = 0  # in the simulate phase
    memory_nest_kb: float = float("nan")
    rss_bytes: float = float("nan")
    rss_peak_bytes: float = float("nan")
    energy_j: float | None = None
    energy_source: str = ""
    spikes: dict | None = None
    population_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def t_model_s(self) -> float:
        return self.cfg.t_sim_ms / 1000.0

    @property
    def rtf(self) -> float:
        return self.wall["simulate"] / self.t_model_s

    @property
    def synaptic_events(self) -> float:
        return self.spike_count * self.recurrent_synapses / self.num_neurons

    @property
    def mean_rate_hz(self) -> float:
        return self.spike_count / self.num_neurons / self.t_model_s


def _timed(fn: Callable[[], None]) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def peak_rss_bytes() -> float:
    """This process's resident-set high-water mark (``VmHWM``).

    Not ``ru_maxrss``: Linux carries that across ``exec``, so a job started by a large
    parent (Snakemake, pytest) would report the parent's size as its own peak.
    """
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024.0


def _rss() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 - memory is best effort
        return float("nan")


def run_pd14(cfg: PD14Config, framework: str = "nest", *, energy_meter: EnergyMeter | None = None) -> RunRecord:
    """Build and simulate one PD14 network; measure each phase.

    ``cfg.t_presim_ms`` of model time run first and are discarded; the ``simulate`` phase
    (``cfg.t_sim_ms``) is the one timed for the RTF and, if a meter is given, metered.
    """
    net = network_class(framework)(cfg)
    rec = RunRecord(framework=framework, cfg=cfg)
    try:
        net.setup()
        rec.wall["create"], rec.cpu["create"] = _timed(net.create)
        rec.wall["connect"], rec.cpu["connect"] = _timed(net.connect)
        ks = net.kernel_status()
        for name in CONSTRUCTION_TIMERS:
            for suffix in ("", "_cpu"):
                if name + suffix in ks:
                    rec.kernel[name + suffix] = _as_timer(ks[name + suffix])
        rec.memory_nest_kb = float(ks.get("memory_size", float("nan")))
        rec.num_connections = int(ks.get("num_connections", 0))
        rec.num_neurons = int(net.derived.total_neurons)
        rec.recurrent_synapses = int(net.derived.total_synapses)
        rec.population_sizes = net.population_sizes()
        if cfg.t_presim_ms > 0:
            rec.wall["presimulate"], rec.cpu["presimulate"] = _timed(lambda: net.simulate(cfg.t_presim_ms))
        if energy_meter is not None:
            energy_meter.start()
        rec.wall["simulate"], rec.cpu["simulate"] = _timed(lambda: net.simulate(cfg.t_sim_ms))
        if energy_meter is not None:
            rec.energy_j = float(energy_meter.stop())
            rec.energy_source = str(getattr(energy_meter, "source", "measured"))
        ks = net.kernel_status()
        for name in SIMULATE_TIMERS:
            for suffix in ("", "_cpu"):
                if name + suffix in ks:
                    rec.kernel[name + suffix] = _as_timer(ks[name + suffix])
        # NEST resets the spike counter at every Simulate call: this is the simulate phase's.
        rec.spike_count = int(ks.get("local_spike_counter", 0))
        rec.memory_nest_kb = max(rec.memory_nest_kb, float(ks.get("memory_size", float("nan"))))
        rec.rss_bytes = _rss()
        rec.rss_peak_bytes = peak_rss_bytes()
        if cfg.record_spikes:
            rec.spikes = net.spikes()
    finally:
        net.close()
    return rec


def _as_timer(value: Any) -> float | list[float]:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    return float(arr[0]) if np.ndim(value) == 0 else [float(x) for x in arr]


def record_rows(
    results,
    rec: RunRecord,
    *,
    tdp_watts_per_core: float | None = None,
    validity: tuple[str, str] = ("ok", ""),
) -> None:
    """Add one run's rows to ``results`` (a ResultSet whose coordinates name the cell).

    ``validity`` is the validation verdict of the run's network configuration: with
    ``("invalid", reason)`` every performance row is ``invalid`` (measured, but not ranked).
    """
    status, reason = validity

    def add(metric, value, unit, source="measured", **kw):
        results.add(metric, value, unit, source=source, status=status, reason=reason, **kw)

    for phase in ("create", "connect", "presimulate", "simulate"):
        if phase in rec.wall:
            add(f"time_{phase}", rec.wall[phase], "s")
            add(f"cpu_time_{phase}", rec.cpu[phase], "s")
    add("time_construction", rec.wall["create"] + rec.wall["connect"], "s")
    add("rtf", rec.rtf, "1")
    add("t_model", rec.t_model_s, "s", source="config")
    for name, value in rec.kernel.items():
        metric = f"kernel_{name}"
        if isinstance(value, list):
            add(metric, max(value), "s", source="nest-kernel")
            for i, v in enumerate(value):
                add(metric, v, "s", source="nest-kernel", variant=f"thread{i}")
        else:
            add(metric, value, "s", source="nest-kernel")
    if "time_simulate" in rec.kernel:
        t = rec.kernel["time_simulate"]
        add("rtf_kernel", (max(t) if isinstance(t, list) else t) / rec.t_model_s, "1", source="nest-kernel")
    add("num_neurons", rec.num_neurons, "1", source="model")
    add("num_synapses_recurrent", rec.recurrent_synapses, "1", source="model")
    add("num_connections", rec.num_connections, "1", source="nest-kernel")
    add("spike_count", rec.spike_count, "1", source="nest-kernel")
    add("rate_mean", rec.mean_rate_hz, "Hz", source="nest-kernel")
    add("synaptic_events", rec.synaptic_events, "1", source="nest-kernel")
    add("synaptic_events_per_second", rec.synaptic_events / rec.wall["simulate"], "1/s")
    if np.isfinite(rec.memory_nest_kb):
        add("memory_nest", rec.memory_nest_kb / 1024.0, "MiB", source="nest-kernel")
    if np.isfinite(rec.rss_bytes):
        add("memory_rss", rec.rss_bytes / 2**20, "MiB")
    if np.isfinite(rec.rss_peak_bytes):
        add("memory_rss_peak", rec.rss_peak_bytes / 2**20, "MiB")
    energy_rows(results, rec, tdp_watts_per_core=tdp_watts_per_core, validity=validity)


def energy_rows(results, rec: RunRecord, *, tdp_watts_per_core: float | None, validity=("ok", "")) -> None:
    """Energy of the simulate phase and per synaptic event: measured, else unavailable; TDP estimate."""
    status, reason = validity
    events = rec.synaptic_events
    if rec.energy_j is not None:
        results.add("energy_simulate", rec.energy_j, "J", source=rec.energy_source, status=status, reason=reason)
        if events > 0:
            results.add(
                "energy_per_synaptic_event", rec.energy_j / events * 1e6, "uJ", source=rec.energy_source,
                status=status, reason=reason,
            )
    else:
        why = rapl_unavailable_reason() or "no energy meter was given to this run"
        results.add_unavailable("energy_simulate", "J", why, source="rapl")
        results.add_unavailable("energy_per_synaptic_event", "uJ", why, source="rapl")
    if tdp_watts_per_core:
        joules = rec.cpu["simulate"] * float(tdp_watts_per_core)
        results.add("energy_simulate", joules, "J", source="estimate-tdp", status=status, reason=reason)
        if events > 0:
            results.add(
                "energy_per_synaptic_event", joules / events * 1e6, "uJ", source="estimate-tdp",
                status=status, reason=reason,
            )
        else:
            results.add_unavailable(
                "energy_per_synaptic_event", "uJ", "no synaptic events in the simulate phase", source="estimate-tdp"
            )
    else:
        why = "simulation.tdp_watts_per_core is not configured"
        results.add_unavailable("energy_simulate", "J", why, source="estimate-tdp")
        results.add_unavailable("energy_per_synaptic_event", "uJ", why, source="estimate-tdp")
