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
- Energy: the energy-meter registry's meters (:class:`~spikemark.measure.energy.Metering`,
  the same ``rapl``, ``nvml``, ``slurm`` counters and idle-baseline rule as the ML track)
  around ``simulate``: ``energy_simulate`` (J, idle power subtracted; ``idle_power`` beside
  it, so the energy at the outlet is ``energy_simulate + idle_power × time_simulate``) and
  E_syn, ``energy_per_synaptic_event`` (µJ), from every meter that works; ``unavailable``
  with the reason from those that do not. Beside them the labelled estimate
  ``estimate-tdp`` = CPU time of ``simulate`` × ``simulation.tdp_watts_per_core``.
- Contention (:mod:`spikemark.measure.contention`): every phase is watched. A contended
  ``presimulate`` or ``simulate`` is run again in place (the network is in its steady state
  after the transient, so another window of the same length measures the same thing); a
  contended ``create`` or ``connect`` rebuilds the network. Timings still contended are
  ``invalid`` with the guard's reason; counts, rates and memory are not timings.
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from spikemark.measure.contention import SOURCE as GUARD_SOURCE
from spikemark.measure.contention import CONTENDED, Guard, Guarded, Observation, oversubscribed
from spikemark.simulation.pd14_params import PD14Config
from spikemark.simulation.simulators import network_class

if TYPE_CHECKING:
    from spikemark.measure.energy import EnergyReading, Metering

log = logging.getLogger(__name__)

#: Kernel timers read after construction (cumulative over construction) and per Simulate call.
CONSTRUCTION_TIMERS = ("time_construction_create", "time_construction_connect", "time_communicate_prepare")
SIMULATE_TIMERS = ("time_simulate",)
PHASES = ("create", "connect", "presimulate", "simulate")
#: Phases a contended window repeats in place (construction is repeated by rebuilding).
IN_PLACE = ("presimulate", "simulate")
#: The phase each kernel timer belongs to (its row shares that phase's verdict).
TIMER_PHASE = {
    "time_construction_create": "create",
    "time_construction_connect": "connect",
    "time_communicate_prepare": "connect",
    "time_simulate": "simulate",
}
#: Energy readings of the simulate phase → PD14 rows: (metric, unit, factor from the reading).
ENERGY_ROWS = {
    "energy": ("energy_simulate", "J", 1.0),
    "energy_per_synop": ("energy_per_synaptic_event", "uJ", 1e6),
    "idle_power": ("idle_power", "W", 1.0),
}


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
    spikes: dict | None = None
    population_sizes: dict[str, int] = field(default_factory=dict)
    #: phase -> what the contention guard saw: share, other_load, attempts, reason.
    guard: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Readings of the energy meters around the simulate phase.
    energy: list = field(default_factory=list)

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

    def reason(self, phase: str) -> str:
        """Why the timings of ``phase`` cannot be trusted ("" if they can)."""
        return self.guard.get(phase, {}).get("reason", "")


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


def _seen(observation: Observation, attempts: int, reason: str) -> dict[str, Any]:
    return {"share": observation.share, "other_load": observation.other_load, "attempts": attempts, "reason": reason}


def _phase(
    rec: RunRecord, name: str, fn: Callable[[], None], guard: Guard | None, *, build: int = 1,
    again: Callable[[], None] | None = None,
) -> str:
    """Time phase ``name``. Under a guard, ``presimulate`` and ``simulate`` are repeated in
    place while contended (``again`` runs before each repeat); construction phases are
    watched once per ``build`` (a contended one builds the network again). Returns the
    guard's verdict ("" if trusted)."""
    if guard is None:
        rec.wall[name], rec.cpu[name] = _timed(fn)
        return ""

    def attempt(number: int):
        if number > 1 and again is not None:
            again()
        (wall, cpu), seen = guard.watch(lambda: _timed(fn))
        # Construction is partly serial (NEST creates and connects with fewer threads than it
        # has): its share alone says nothing; only run-queue waits, where readable, do.
        cpu_bound = name in IN_PLACE or seen.wait is not None
        return (wall, cpu), seen, guard.check(seen, number, cpu_bound=cpu_bound)

    if name in IN_PLACE:
        guarded = guard.retry(attempt)
    else:
        value, seen, reason = attempt(build)
        guarded = Guarded(value, seen, build, reason)
    rec.wall[name], rec.cpu[name] = guarded.value
    rec.guard[name] = _seen(guarded.observation, guarded.attempts, guarded.reason)
    log.info(
        "%s %s: %s; %d attempt(s)%s", GUARD_SOURCE, name, guarded.observation.describe(), guarded.attempts,
        "; busiest others: " + ", ".join(f"{who} {cores:.2f}" for who, cores in guard.others) if guard.others else "",
    )
    return guarded.reason


def run_pd14(
    cfg: PD14Config, framework: str = "nest", *, metering: Metering | None = None, guard: Guard | None = None
) -> RunRecord:
    """Build and simulate one PD14 network; measure each phase.

    ``cfg.t_presim_ms`` of model time run first and are discarded; the ``simulate`` phase
    (``cfg.t_sim_ms``) is the one timed for the RTF and, with a ``metering``, metered.
    With a ``guard`` every phase is watched (module docstring); a contended construction
    builds the network again, at most ``guard.settings.retries`` more times.
    """
    if guard is None or not guard.settings.enabled:
        return _run_once(cfg, framework, metering, guard, 1)

    def attempt(number: int):
        rec = _run_once(cfg, framework, metering, guard, number)
        return rec, None, _construction_reason(rec)

    return guard.retry(attempt).value


def _construction_reason(rec: RunRecord) -> str:
    return next((rec.reason(p) for p in ("create", "connect") if rec.reason(p)), "")


def _run_once(cfg: PD14Config, framework: str, metering: Metering | None, guard: Guard | None, build: int) -> RunRecord:
    """One build and run. A contended construction that will be built again stops here
    (its record is discarded); the last build, and an oversubscribed one, run to the end."""
    net = network_class(framework)(cfg)
    rec = RunRecord(framework=framework, cfg=cfg)
    try:
        net.setup()
        _phase(rec, "create", net.create, guard, build=build)
        _phase(rec, "connect", net.connect, guard, build=build)
        busy = _construction_reason(rec)
        if guard is not None and busy.startswith(CONTENDED) and build <= guard.settings.retries:
            return rec
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
            _phase(rec, "presimulate", lambda: net.simulate(cfg.t_presim_ms), guard)
        _simulate(rec, net, cfg, metering, guard)
        ks = net.kernel_status()
        for name in SIMULATE_TIMERS:
            for suffix in ("", "_cpu"):
                if name + suffix in ks:
                    rec.kernel[name + suffix] = _as_timer(ks[name + suffix])
        # NEST resets the spike counter at every Simulate call: this is the simulate phase's
        # (its last attempt's, where a contended window was measured again).
        rec.spike_count = int(ks.get("local_spike_counter", 0))
        rec.memory_nest_kb = max(rec.memory_nest_kb, float(ks.get("memory_size", float("nan"))))
        rec.rss_bytes = _rss()
        rec.rss_peak_bytes = peak_rss_bytes()
        if cfg.record_spikes:
            rec.spikes = net.spikes()
    finally:
        net.close()
    if metering is not None:
        rec.energy = metering.readings(1, _synaptic_ops(rec))
    return rec


def _synaptic_ops(rec: RunRecord) -> dict[str, Any]:
    """E_syn is the meters' energy per synaptic operation with one "inference" = the phase."""
    return {"effective_acs": rec.synaptic_events, "convention": "pd14"}


def unmetered_energy(rec: RunRecord, metering: Metering, reason: str) -> None:
    """Energy readings of a run whose simulate phase ran in other processes (MPI ranks):
    the counters ``unavailable`` with ``reason``, the estimates from the run's CPU time."""
    from spikemark.measure.energy.base import Window

    metering.unwatched(Window(wall_s=rec.wall["simulate"], cpu_s=rec.cpu["simulate"], inferences=0), reason)
    rec.energy = metering.readings(1, _synaptic_ops(rec))


def pd14_metering(energy: Mapping[str, Any] | None, tdp_watts_per_core: float | None) -> Metering:
    """The meters of a timed PD14 run: the configured counters (``measure.energy``:
    ``meters``, ``idle_seconds``, meter options) and the labelled ``estimate-tdp`` at
    ``simulation.tdp_watts_per_core`` (a power per core: one core's share of the TDP)."""
    from spikemark.measure.energy import Metering

    energy = dict(energy or {})
    config = {**energy, "tdp_watts": tdp_watts_per_core, "tdp_cores": 1, "tdp_setting": "simulation.tdp_watts_per_core"}
    return Metering([*energy.get("meters", []), "estimate-tdp"], config, idle_s=float(energy.get("idle_seconds", 1.0)))


def _simulate(rec: RunRecord, net, cfg: PD14Config, metering: Metering | None, guard: Guard | None) -> None:
    """The simulate phase, metered; the idle baseline right before it (counters only)."""
    idle_reason = ""
    if metering is not None and metering.counting:
        if guard is not None:
            _, idle = guard.watch(metering.baseline)
            idle_reason = guard.check(idle, cpu_bound=False)
        else:
            metering.baseline()
    if metering is not None:
        metering.reset()

    def simulate() -> None:
        if metering is not None:
            metering.count(lambda: net.simulate(cfg.t_sim_ms))
        else:
            net.simulate(cfg.t_sim_ms)

    reason = _phase(rec, "simulate", simulate, guard, again=metering.reset if metering is not None else None)
    if metering is not None:
        metering.reason = reason or idle_reason


def _as_timer(value: Any) -> float | list[float]:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    return float(arr[0]) if np.ndim(value) == 0 else [float(x) for x in arr]


def record_rows(
    results,
    rec: RunRecord,
    *,
    validity: tuple[str, str] = ("ok", ""),
    guard: Guard | None = None,
) -> None:
    """Add one run's rows to ``results`` (a ResultSet whose coordinates name the cell).

    ``validity`` is the validation verdict of the run's network configuration: with
    ``("invalid", reason)`` every performance row is ``invalid`` (measured, but not ranked).
    Otherwise a phase's timings carry the contention guard's verdict (``guard``: checks
    oversubscription of runs it did not watch, e.g. MPI runs).
    """
    status, reason = validity
    unwatched = oversubscribed(guard.threads, guard.cores) if guard is not None and guard.settings.enabled else None

    def add(metric, value, unit, source="measured", phase=None, **kw):
        row_status, row_reason = status, reason
        if status == "ok" and phase is not None:
            busy = rec.reason(phase) if phase in rec.guard else unwatched
            if busy:
                row_status, row_reason = "invalid", busy
        results.add(metric, value, unit, source=source, status=row_status, reason=row_reason, **kw)

    for phase in PHASES:
        if phase in rec.wall:
            add(f"time_{phase}", rec.wall[phase], "s", phase=phase)
            add(f"cpu_time_{phase}", rec.cpu[phase], "s", phase=phase)
        if phase in rec.guard:
            seen = rec.guard[phase]
            results.add(f"cpu_share_{phase}", seen["share"], "fraction", source=GUARD_SOURCE)
            if seen["other_load"] is not None:
                results.add(f"other_load_{phase}", seen["other_load"], "cores", source=GUARD_SOURCE)
            results.add(f"attempts_{phase}", seen["attempts"], "1", source=GUARD_SOURCE)
    construction = "create" if rec.reason("create") else "connect"
    add("time_construction", rec.wall["create"] + rec.wall["connect"], "s", phase=construction)
    add("rtf", rec.rtf, "1", phase="simulate")
    add("t_model", rec.t_model_s, "s", source="config")
    for name, value in rec.kernel.items():
        metric, phase = f"kernel_{name}", TIMER_PHASE.get(name.removesuffix("_cpu"))
        if isinstance(value, list):
            add(metric, max(value), "s", source="nest-kernel", phase=phase)
            for i, v in enumerate(value):
                add(metric, v, "s", source="nest-kernel", phase=phase, variant=f"thread{i}")
        else:
            add(metric, value, "s", source="nest-kernel", phase=phase)
    if "time_simulate" in rec.kernel:
        t = rec.kernel["time_simulate"]
        add("rtf_kernel", (max(t) if isinstance(t, list) else t) / rec.t_model_s, "1", source="nest-kernel", phase="simulate")
    add("num_neurons", rec.num_neurons, "1", source="model")
    add("num_synapses_recurrent", rec.recurrent_synapses, "1", source="model")
    add("num_connections", rec.num_connections, "1", source="nest-kernel")
    add("spike_count", rec.spike_count, "1", source="nest-kernel")
    add("rate_mean", rec.mean_rate_hz, "Hz", source="nest-kernel")
    add("synaptic_events", rec.synaptic_events, "1", source="nest-kernel")
    add("synaptic_events_per_second", rec.synaptic_events / rec.wall["simulate"], "1/s", phase="simulate")
    if np.isfinite(rec.memory_nest_kb):
        add("memory_nest", rec.memory_nest_kb / 1024.0, "MiB", source="nest-kernel")
    if np.isfinite(rec.rss_bytes):
        add("memory_rss", rec.rss_bytes / 2**20, "MiB")
    if np.isfinite(rec.rss_peak_bytes):
        add("memory_rss_peak", rec.rss_peak_bytes / 2**20, "MiB")
    energy_rows(results, rec.energy, validity=validity)


def energy_rows(results, readings: list[EnergyReading], *, validity: tuple[str, str] = ("ok", "")) -> None:
    """The simulate phase's energy readings as PD14 rows (:data:`ENERGY_ROWS`).

    A meter that could not measure has only its ``energy`` reading (unavailable, with the
    reason): E_syn gets the same reason. Readings that are ``ok`` inherit the validation
    verdict; ``invalid`` (contended) and ``unavailable`` ones keep theirs.
    """
    status, reason = validity
    have = {(r.source, r.domain, r.metric) for r in readings}
    for reading in readings:
        if reading.metric not in ENERGY_ROWS:
            continue
        metric, unit, factor = ENERGY_ROWS[reading.metric]
        row = reading.row()
        row.update(metric=metric, unit=unit)
        if reading.value is not None:
            row.update(value=reading.value.value * factor)
            row.update({k: row[k] * factor for k in ("ci_low", "ci_high") if row[k] is not None})
        if reading.status == "ok" and status != "ok":
            row.update(status=status, reason=reason)
        results.add(row.pop("metric"), row.pop("value"), row.pop("unit"), **row)
        if reading.metric == "energy" and (reading.source, reading.domain, "energy_per_synop") not in have:
            if reading.domain == "total" and reading.status != "ok":
                results.add(
                    "energy_per_synaptic_event", None, "uJ", source=reading.source, status=reading.status,
                    reason=reading.reason,
                )
