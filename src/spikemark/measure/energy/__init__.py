"""Energy meters, one registry: adding a meter is one file and one line in ``METERS``.

A meter class declares its ``name`` (registry key and the rows' ``source``), whether it is
``measured`` (a counter: allowed in ``measure.energy.meters``) or an estimate (allowed in
``measure.energy.estimates``), and its one-line description (its module docstring's first
paragraph, unless the class sets ``description``). Importing the registry imports no
torch: the config schema reads it while the Snakefile builds the DAG.

:class:`Metering` holds the configured meters around the windows of one workload (both
tracks use it: the ML measure through :func:`measure_energy`, the PD14 simulate phase in
``spikemark.simulation.run``); :func:`measure_energy` runs a workload under them and returns
:class:`EnergyReading` objects ready to become rows (:func:`add_energy_rows`). Every value
carries its meter as ``source`` and its unit; counters have an idle baseline subtracted;
a meter that cannot measure here yields ``unavailable`` rows with the reason — never a
zero, never an estimate in its place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from spikemark.measure.contention import Guard
from spikemark.measure.energy.base import Meter, MeterUnavailable, Window
from spikemark.measure.energy.estimate_ops import EstimateOpsMeter
from spikemark.measure.energy.estimate_tdp import EstimateTdpMeter
from spikemark.measure.energy.nvml import NvmlMeter
from spikemark.measure.energy.rapl import RaplMeter
from spikemark.measure.energy.slurm import SlurmMeter
from spikemark.results import ResultSet
from spikemark.stats import Summary, median_ci

if TYPE_CHECKING:
    import torch

METERS: dict[str, type[Meter]] = {
    meter.name: meter for meter in (RaplMeter, NvmlMeter, SlurmMeter, EstimateOpsMeter, EstimateTdpMeter)
}


def counters() -> dict[str, type[Meter]]:
    """Measured meters: the allowed values of ``measure.energy.meters``."""
    return {name: meter for name, meter in METERS.items() if meter.measured}


def estimates() -> dict[str, type[Meter]]:
    """Estimators: the allowed values of ``measure.energy.estimates``."""
    return {name: meter for name, meter in METERS.items() if not meter.measured}

UNITS = {"energy": "J", "energy_per_inference": "J", "energy_per_synop": "J", "edp": "J*s", "idle_power": "W"}
TOTAL = "total"


@dataclass(frozen=True)
class EnergyReading:
    """One energy value (or the reason there is none), from one meter and domain."""

    metric: str  # energy | energy_per_inference | energy_per_synop | edp | idle_power
    source: str  # the meter's registry name
    value: Summary | None
    domain: str = TOTAL  # e.g. package-0, package-0/dram, gpu0, job
    status: str = "ok"
    reason: str = ""

    @property
    def unit(self) -> str:
        return UNITS[self.metric]

    def row(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`ResultSet.add` (``variant`` = domain unless total)."""
        value = self.value
        row = {
            "metric": self.metric,
            "value": value.value if value else None,
            "unit": self.unit,
            "source": self.source,
            "n": value.n if value else 1,
            "ci_low": value.ci_low if value else None,
            "ci_high": value.ci_high if value else None,
            "status": self.status,
            "reason": self.reason,
        }
        if self.domain != TOTAL:
            row["variant"] = self.domain
        return row


def add_energy_rows(results: ResultSet, readings: Sequence[EnergyReading], **coords: Any) -> None:
    for reading in readings:
        row = reading.row()
        results.add(row.pop("metric"), row.pop("value"), row.pop("unit"), **row, **coords)


def make_meters(names: Sequence[str], config: Mapping[str, Any] | None = None) -> list[Meter]:
    unknown = [n for n in names if n not in METERS]
    if unknown:
        raise ValueError(f"unknown energy meters {unknown}; known: {sorted(METERS)}")
    return [METERS[name](config) for name in names]


def _unavailable(meter: str, reason: str) -> list[EnergyReading]:
    return [
        EnergyReading(metric, meter, None, status="unavailable", reason=reason)
        for metric in ("energy", "energy_per_inference")
    ]


def _sync(device: str | torch.device) -> None:
    if str(device).partition(":")[0] == "cuda":
        import torch

        torch.cuda.synchronize(device)


def _count(counters: list[Meter], action: Callable[[], Any], device: str) -> tuple[dict[str, dict], Window, Any]:
    """Run ``action`` between start and stop of every counter; joules and seconds per
    meter, the window, and what ``action`` returned."""
    started: dict[str, float] = {}
    for meter in counters:
        meter.start()
        started[meter.name] = time.perf_counter()
    _sync(device)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    value = action()
    _sync(device)
    window = Window(wall_s=time.perf_counter() - wall0, cpu_s=time.process_time() - cpu0, inferences=0)
    readings = {}
    for meter in reversed(counters):
        seconds = time.perf_counter() - started[meter.name]
        readings[meter.name] = {"joules": meter.stop(), "seconds": seconds, "reasons": dict(meter.reasons)}
    return readings, window, value


class Metering:
    """The configured meters around the windows of one workload: the state between
    :meth:`baseline`, the :meth:`count` of each window and the :meth:`readings`.

    Meters that cannot work here become ``unavailable`` readings with their reason at
    once; counters are read over an idle window first (:meth:`baseline`), and that idle
    power times each window's length is subtracted from its energy. Both tracks use it:
    :func:`measure_energy` for an ML workload, ``spikemark.simulation.run`` around the
    PD14 simulate phase.
    """

    def __init__(
        self,
        meters: Sequence[str],
        config: Mapping[str, Any] | None = None,
        *,
        idle_s: float = 1.0,
        device: str | torch.device = "cpu",
    ) -> None:
        self.idle_s = idle_s
        self.device = device
        self.unavailable: list[EnergyReading] = []
        self.counters: list[Meter] = []
        self.estimators: list[Meter] = []
        for meter in make_meters(meters, config):
            reason = meter.unavailable_reason()
            if reason:
                self.unavailable += _unavailable(meter.name, reason)
            else:
                (self.counters if meter.measured else self.estimators).append(meter)
        self.idle: dict[str, dict[str, float | None]] = {}
        self.runs: list[tuple[dict[str, dict], Window]] = []
        #: Why the counted windows cannot be trusted ("" if they can), e.g. contended.
        self.reason = ""

    @property
    def counting(self) -> bool:
        """Whether any counter works here (an idle baseline is only needed then)."""
        return bool(self.counters)

    def baseline(self) -> None:
        """Idle watts per domain of each counter; counters that fail here are dropped."""
        self.counters, self.idle, failed = _idle_power(self.counters, self.idle_s, self.device)
        self.unavailable += failed

    def count(self, action: Callable[[], Any]) -> Any:
        """Run ``action`` as one metered window; returns what it returned."""
        try:
            counted, window, value = _count(self.counters, action, self.device)
        except MeterUnavailable as err:  # a counter broke mid-run: report it, keep the estimates
            for meter in self.counters:
                self.unavailable += _unavailable(meter.name, f"failed during the run: {err}")
            self.counters = []
            counted, window, value = _count([], action, self.device)
        self.runs.append((counted, window))
        return value

    def reset(self) -> None:
        """Forget the counted windows (a contended attempt that is measured again)."""
        self.runs = []

    def unwatched(self, window: Window, reason: str) -> None:
        """A window that ran where the counters could not watch it (in other processes, e.g.
        MPI ranks): the counters are unavailable with ``reason``; estimates use ``window``."""
        for meter in self.counters:
            self.unavailable += _unavailable(meter.name, reason)
        self.counters = []
        self.runs = [({}, window)]

    def readings(self, inferences: int, ops: Mapping[str, Any] | None = None) -> list[EnergyReading]:
        """Every meter's readings over the counted windows (one call = ``inferences``)."""
        runs = [(counted, _with_ops(window, inferences, ops)) for counted, window in self.runs]
        readings = list(self.unavailable)
        for meter in self.counters:
            counted = _counter_readings(meter, self.idle[meter.name], runs, ops)
            if self.reason:  # measured while the machine was busy: shown, never ranked
                counted = [replace(r, status="invalid", reason=self.reason) if r.status == "ok" else r for r in counted]
            readings += counted
        for meter in self.estimators:
            readings += _estimate_readings(meter, runs, ops)
        return readings


def measure_energy(
    workload: Callable[[], Any],
    meters: Sequence[str],
    *,
    inferences: int,
    ops: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    repeats: int = 1,
    idle_s: float = 1.0,
    device: str | torch.device = "cpu",
    guard: Guard | None = None,
) -> list[EnergyReading]:
    """Energy of ``workload`` (one call = ``inferences`` inferences) by each meter in ``meters``.

    ``ops`` are the workload metrics (``effective_macs``, ``effective_acs`` per sample and
    their ``convention``), needed by ``estimate-ops`` and for energy per synaptic operation.
    ``config`` is the ``measure.energy`` mapping (meter options such as ``rapl_root``,
    ``tdp_watts``, ``ops_preset``). Counters are first read over ``idle_s`` seconds of
    sleep; that idle power times each window's length is subtracted from its energy. The
    workload runs ``repeats`` times; values are medians with 95 % intervals. With a
    ``guard`` and a working counter, the idle window and the workload's windows are
    watched (a busy machine inflates the idle power as much as the workload's energy): a
    contended attempt is measured again, and counter readings still contended are
    ``invalid`` with the guard's reason. Estimates do not depend on the machine's load.
    """
    metering = Metering(meters, config, idle_s=idle_s, device=device)

    def attempt(number: int):
        metering.reset()
        if not metering.counting or guard is None:
            if metering.counting:
                metering.baseline()
            for _ in range(repeats):
                metering.count(workload)
            return metering, None, ""
        _, idle = guard.watch(metering.baseline)
        _, work = guard.watch(lambda: [metering.count(workload) for _ in range(repeats)])
        cpu_bound = str(device).partition(":")[0] != "cuda"
        reason = guard.check(idle, number, cpu_bound=False) or guard.check(work, number, cpu_bound=cpu_bound)
        return metering, work, reason

    if guard is None or not metering.counting:
        attempt(1)
    else:
        metering.reason = guard.retry(attempt).reason
    return metering.readings(inferences, ops)


def _with_ops(window: Window, inferences: int, ops: Mapping[str, Any] | None) -> Window:
    return Window(
        wall_s=window.wall_s,
        cpu_s=window.cpu_s,
        inferences=inferences,
        macs_per_inference=ops.get("effective_macs") if ops else None,
        acs_per_inference=ops.get("effective_acs") if ops else None,
        ops_source=str(ops.get("convention", "")) if ops else "",
    )


def _idle_power(
    counters: list[Meter], idle_s: float, device: str
) -> tuple[list[Meter], dict[str, dict[str, float | None]], list[EnergyReading]]:
    """Idle watts per domain of each counter; counters that fail here are dropped."""
    if not counters:
        return [], {}, []
    working, failed = [], []
    for meter in counters:  # one at a time first, so one broken meter does not sink the rest
        try:
            meter.start()
            meter.stop()
            working.append(meter)
        except MeterUnavailable as err:
            failed += _unavailable(meter.name, str(err))
    if not working:
        return [], {}, failed
    counted, _, _ = _count(working, lambda: time.sleep(idle_s), device)
    idle = {
        name: {d: (j / c["seconds"] if j is not None else None) for d, j in c["joules"].items()}
        for name, c in counted.items()
    }
    return working, idle, failed


def _counter_readings(
    meter: Meter,
    idle_w: dict[str, float | None],
    runs: list[tuple[dict, Window]],
    ops: Mapping[str, Any] | None,
) -> list[EnergyReading]:
    name = meter.name
    per_domain: dict[str, list[float | None]] = {}
    reasons: dict[str, str] = {}
    for counted, _ in runs:
        c = counted[name]
        reasons.update(c["reasons"])
        for domain, joules in c["joules"].items():
            base = idle_w.get(domain)
            net = joules - base * c["seconds"] if joules is not None and base is not None else None
            per_domain.setdefault(domain, []).append(net)
    out: list[EnergyReading] = []
    domains = list(per_domain)
    if len(domains) > 1:
        for domain, values in per_domain.items():
            out.append(
                _summary_reading(
                    "energy", name, values, domain, reasons.get(domain, "idle baseline unreadable")
                )
            )
    parts = meter.total_domains(domains)
    missing = [d for d in parts if any(v is None for v in per_domain[d])]
    if not parts or missing:
        why = "; ".join(reasons.get(d, f"{d} unreadable") for d in missing) or "no domain makes up a total"
        return out + _unavailable(name, why)
    totals = [sum(per_domain[d][i] for d in parts) for i in range(len(runs))]
    idle_total = sum(idle_w[d] for d in parts)
    out.append(EnergyReading("idle_power", name, Summary(idle_total, 1)))
    if not_resolved(totals):
        return out + _unavailable(name, not_resolved(totals))
    return out + _derived(name, totals, [w for _, w in runs], ops)


def not_resolved(values: Sequence[float]) -> str:
    """Why idle-subtracted energies cannot be reported ("" if they can).

    A workload's energy is positive; a net value at or below zero means the workload's
    share of the counter was lost in the idle power's fluctuation (the window is too short
    for this meter). It is neither reported as zero nor as a negative number, and the
    interval of the values that are reported (order statistics) stays above zero.
    """
    low = [v for v in values if v <= 0]
    if not low:
        return ""
    return (
        f"not resolved: the idle-subtracted energy was <= 0 in {len(low)} of {len(values)} windows "
        f"(lowest {min(low):.3g} J; the window is too short for this meter)"
    )


def _summary_reading(
    metric: str, source: str, values: list[float | None], domain: str, reason: str
) -> EnergyReading:
    if any(v is None for v in values):
        return EnergyReading(metric, source, None, domain, "unavailable", reason)
    if not_resolved(values):
        return EnergyReading(metric, source, None, domain, "unavailable", not_resolved(values))
    return EnergyReading(metric, source, median_ci(values), domain)


def _derived(
    source: str,
    totals: list[float],
    windows: list[Window],
    ops: Mapping[str, Any] | None,
    domain: str = TOTAL,
) -> list[EnergyReading]:
    """energy, energy per inference, per synaptic operation, and energy-delay product.

    The delay of the EDP is the wall time per inference of the same run.
    """
    per_inference = [e / w.inferences for e, w in zip(totals, windows)]
    latency = [w.wall_s / w.inferences for w in windows]
    out = [
        EnergyReading("energy", source, median_ci(totals), domain),
        EnergyReading("energy_per_inference", source, median_ci(per_inference), domain),
        EnergyReading("edp", source, median_ci([e * t for e, t in zip(per_inference, latency)]), domain),
    ]
    synops = (ops.get("effective_macs", 0) + ops.get("effective_acs", 0)) if ops else 0
    if synops > 0:
        out.append(
            EnergyReading("energy_per_synop", source, median_ci([e / synops for e in per_inference]), domain)
        )
    else:
        reason = (
            "no synaptic-operation counts given" if not ops else "the workload has no synaptic operations"
        )
        out.append(EnergyReading("energy_per_synop", source, None, domain, "unavailable", reason))
    return out


def _estimate_readings(
    meter: Meter, runs: list[tuple[dict, Window]], ops: Mapping[str, Any] | None
) -> list[EnergyReading]:
    try:
        totals = [meter.estimate(window) for _, window in runs]
    except MeterUnavailable as err:
        return _unavailable(meter.name, str(err))
    windows = [w for _, w in runs]
    # estimate-ops depends on which convention counted the operations: say it in the domain.
    domain = (
        f"ops={windows[0].ops_source}" if meter.name == "estimate-ops" and windows[0].ops_source else TOTAL
    )
    return _derived(meter.name, totals, windows, ops, domain)
