"""Validity before speed: is a simulated PD14 network's activity what it should be?

Statistics per population (Dasbach et al. 2021 practice), computed with elephant, the
field's analysis toolkit (:func:`run_stats`):

- ``rate``: time-averaged firing rate of every neuron (spikes/s), silent neurons included;
- ``cv_isi``: coefficient of variation of the inter-spike intervals of neurons with at least
  three spikes;
- ``cc``: Pearson correlation coefficients of spike counts in 2 ms bins between pairs of up to
  200 active neurons.

A test ensemble (one or more runs) is compared with a reference ensemble of other seeds
simulated at the same scale: the Kolmogorov-Smirnov distance between each test run and each
reference run is set against the distances among the reference runs themselves (their
seed-to-seed variability). A population passes if the median test-reference distance is at
most its tolerance: ``(1 + margin)`` times the largest reference-reference distance, but never
less than the two-sample KS critical value at level ``alpha`` for the sample sizes (the
sampling noise floor: with a few seeds, the largest of three reference distances can be
tiny by chance, and a pure ratio rule then flags healthy runs). Measured at N = K = 0.05
(8 NEST seeds, 4 PyNN seeds, 0.5 s; every 3-seed reference ensemble): no healthy NEST or
PyNN run was flagged, while a network with the L4E->L23E weight factor 4 instead of 2, or a
7 Hz instead of 8 Hz background, was flagged every time. Re-measured at the default scale
N = K = 0.2 with DC drive (``benchmarks/pd14_validation_false_alarms.py``; 10 NEST and 2 PyNN
healthy runs, 1 s): the old default (3 reference seeds, margin 0.5) flagged 2.9 % of healthy
splits, the default run's own among them; 4 reference seeds with margin 0.75 flag 0.8 %, and
still flag a background of 7.9 Hz instead of 8 Hz (rates 3-8 % low) against 209 of 210
reference ensembles (7 Hz silences the DC-driven network outright). Before that, every
population must be active (mean rate at least ``min_rate_hz``).

Tier 1 (always): rates, 1 s of model time, one test run per framework, a few reference seeds.
Tier 2 (``validate`` target, paper config): rates, ISI CVs and correlations, long model time,
ten seeds.
"""

from __future__ import annotations

import csv
import itertools
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy import stats as _st

from spikemark.simulation.pd14_params import POPULATIONS

METRICS = ("rate", "cv_isi", "cc")
METRIC_UNITS = {"rate": "Hz", "cv_isi": "1", "cc": "1"}
#: Statistics that can be negative (a correlation coefficient); the others are summarised
#: over seeds on the log scale.
SIGNED = ("cc",)
PACKAGE_REFERENCE = Path(__file__).resolve().parent / "reference"


# -- reference facts ----------------------------------------------------------------------------
def default_reference_dir() -> Path:
    """The reference data shipped in the package (``simulation/reference``)."""
    return PACKAGE_REFERENCE


def published_rates(reference_dir: str | Path | None = None, column: str = "mean_rate_hz_pynest") -> dict[str, float]:
    """Full-scale mean rates per population from ``pd14_rates.csv``."""
    path = Path(reference_dir or default_reference_dir()) / "pd14_rates.csv"
    with path.open(newline="") as fh:
        return {row["population"]: float(row[column]) for row in csv.DictReader(fh)}


# -- statistics of one run ----------------------------------------------------------------------
@dataclass
class RunStats:
    """Per-population samples of each statistic, from one simulation."""

    samples: dict[str, dict[str, np.ndarray]]  # metric -> population -> values
    n_neurons: dict[str, int]
    t_start: float
    t_stop: float
    meta: dict = field(default_factory=dict)

    def mean(self, metric: str, pop: str) -> float:
        v = self.samples[metric][pop]
        return float(np.mean(v)) if v.size else float("nan")

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"{m}/{p}": v for m, per_pop in self.samples.items() for p, v in per_pop.items()}
        head = {"n_neurons": self.n_neurons, "t_start": self.t_start, "t_stop": self.t_stop, "meta": self.meta}
        with path.open("wb") as fh:
            np.savez_compressed(fh, __meta__=np.array(json.dumps(head)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "RunStats":
        with np.load(path, allow_pickle=False) as data:
            head = json.loads(str(data["__meta__"]))
            samples: dict[str, dict[str, np.ndarray]] = {}
            for key in data.files:
                if key == "__meta__":
                    continue
                metric, pop = key.split("/", 1)
                samples.setdefault(metric, {})[pop] = np.asarray(data[key])
        return cls(samples, head["n_neurons"], head["t_start"], head["t_stop"], head.get("meta", {}))


def _same_count_groups(times_s: np.ndarray, bounds: np.ndarray, counts: np.ndarray, neurons: np.ndarray):
    """``(neurons, spike times [neurons, k])`` for each spike count ``k`` among ``neurons``.

    elephant's statistics take a 2-D array of spike trains along an axis; trains with the same
    number of spikes make one such array without padding, so a statistic costs one elephant
    call per distinct spike count instead of one per neuron (~15 000 at N = 0.2).
    """
    for k in np.unique(counts[neurons]):
        members = neurons[counts[neurons] == k]
        yield members, times_s[bounds[members][:, None] + np.arange(k)]


def _spike_trains(times_s: np.ndarray, bounds: np.ndarray, neurons: np.ndarray, t_start: float, t_stop: float):
    """The spike trains of ``neurons`` as ``neo.SpikeTrain`` objects (ms)."""
    import neo

    return [neo.SpikeTrain(times_s[bounds[i] : bounds[i + 1]], t_start=t_start, t_stop=t_stop, units="ms") for i in neurons]


def run_stats(
    spikes: dict[str, tuple[np.ndarray, np.ndarray]],
    n_neurons: dict[str, int],
    t_start: float,
    t_stop: float,
    *,
    metrics: Sequence[str] = METRICS,
    cc_neurons: int = 200,
    cc_bin_ms: float = 2.0,
    seed: int = 0,
    meta: dict | None = None,
) -> RunStats:
    """Statistics of spikes in ``[t_start, t_stop)`` ms (spikes: neuron index, time per pop).

    Computed with elephant: ``statistics.mean_firing_rate``, ``statistics.isi`` and
    ``statistics.cv``, and ``spike_train_correlation.correlation_coefficient`` of a
    ``conversion.BinnedSpikeTrain`` of ``neo.SpikeTrain`` objects. Samples are in neuron order.
    The counts' bins are elephant's: whole ``cc_bin_ms`` bins from ``t_start`` (a remainder at
    the window's end is left out), a spike within 1e-8 of an edge counted in the later bin.
    """
    # elephant (with neo and quantities) only here: the rest of the module judges saved statistics
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient
    from elephant.statistics import cv, isi, mean_firing_rate

    if t_stop <= t_start:
        raise ValueError("t_stop must be after t_start")
    rng = np.random.default_rng(seed)
    samples: dict[str, dict[str, np.ndarray]] = {m: {} for m in metrics}
    for pop in POPULATIONS:
        idx, times = spikes[pop]
        keep = (times >= t_start) & (times < t_stop)
        n = int(n_neurons[pop])
        order = np.lexsort((times[keep], idx[keep]))
        idx_s, times_s = idx[keep][order], times[keep][order]
        counts = np.bincount(idx_s, minlength=n)[:n]
        bounds = np.searchsorted(idx_s, np.arange(n + 1))
        if "rate" in samples:
            rate = np.zeros(n)
            for members, trains in _same_count_groups(times_s, bounds, counts, np.arange(n)):
                # in seconds, so the rate is in spikes/s
                rate[members] = mean_firing_rate(trains / 1000.0, t_start=t_start / 1000.0, t_stop=t_stop / 1000.0, axis=1)
            samples["rate"][pop] = rate
        if "cv_isi" in samples:
            cvs = np.full(n, np.nan)
            for members, trains in _same_count_groups(times_s, bounds, counts, np.flatnonzero(counts >= 3)):
                with np.errstate(divide="ignore", invalid="ignore"):  # all intervals 0: NaN, dropped
                    cvs[members] = cv(isi(trains, axis=1), axis=1)
            cvs = cvs[counts >= 3]
            samples["cv_isi"][pop] = cvs[np.isfinite(cvs)]
        if "cc" in samples:
            active = np.flatnonzero(counts > 0)
            chosen = np.sort(rng.choice(active, size=min(cc_neurons, active.size), replace=False))
            values = np.zeros(0)
            if chosen.size >= 2:
                # elephant 1.2 still passes quantities and scipy arguments they deprecate
                with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                    warnings.simplefilter("ignore", DeprecationWarning)
                    warnings.simplefilter("ignore", PendingDeprecationWarning)
                    binned = BinnedSpikeTrain(
                        _spike_trains(times_s, bounds, chosen, t_start, t_stop),
                        bin_size=cc_bin_ms * pq.ms, t_start=t_start * pq.ms, t_stop=t_stop * pq.ms,
                    )
                    cc = correlation_coefficient(binned)  # NaN where a neuron's counts never vary
                values = cc[np.triu_indices_from(cc, k=1)]
                values = values[np.isfinite(values)]
            samples["cc"][pop] = values
    return RunStats(samples, {p: int(n_neurons[p]) for p in POPULATIONS}, t_start, t_stop, dict(meta or {}))


# -- comparison with a reference ensemble -------------------------------------------------------
def ks_critical(n: int, m: int, alpha: float) -> float:
    """Asymptotic two-sample KS critical value c(alpha) * sqrt((n + m) / (n m))."""
    if n <= 0 or m <= 0:
        return float("nan")
    return float(np.sqrt(-np.log(alpha / 2.0) / 2.0) * np.sqrt((n + m) / (n * m)))


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 or b.size == 0:
        return float("nan")
    return float(_st.ks_2samp(a, b).statistic)


@dataclass
class Comparison:
    """KS distances of one statistic of one population."""

    metric: str
    population: str
    statistic: float  # median KS distance test <-> reference runs
    tolerance: float  # max((1 + margin) * max KS among reference runs, KS critical value)
    within: list[float]
    cross: list[float]
    floor: float = float("nan")  # the KS critical value (sampling noise) used as lower bound

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.statistic) and np.isfinite(self.tolerance) and self.statistic <= self.tolerance)


def compare(
    test: Sequence[RunStats],
    reference: Sequence[RunStats],
    *,
    metrics: Iterable[str] = ("rate",),
    margin: float = 0.75,
    alpha: float = 0.01,
) -> list[Comparison]:
    """Compare a test ensemble with a reference ensemble (needs at least two reference runs)."""
    if len(reference) < 2:
        raise ValueError("a reference ensemble needs at least two runs (seeds) to measure its variability")
    out = []
    for metric in metrics:
        for pop in POPULATIONS:
            within = [
                ks_distance(a.samples[metric][pop], b.samples[metric][pop])
                for a, b in itertools.combinations(reference, 2)
            ]
            cross = [ks_distance(t.samples[metric][pop], r.samples[metric][pop]) for t in test for r in reference]
            within_f = [w for w in within if np.isfinite(w)]
            cross_f = [c for c in cross if np.isfinite(c)]
            sizes_t = [t.samples[metric][pop].size for t in test]
            sizes_r = [r.samples[metric][pop].size for r in reference]
            floor = ks_critical(int(np.median(sizes_t)), int(np.median(sizes_r)), alpha)
            tolerance = max((1.0 + margin) * max(within_f), floor) if within_f else float("nan")
            statistic = float(np.median(cross_f)) if cross_f else float("nan")
            out.append(Comparison(metric, pop, statistic, tolerance, within, cross, floor))
    return out


@dataclass
class Verdict:
    """Outcome of a validation: ``ok`` or ``invalid`` with the reasons."""

    status: str
    reasons: list[str]
    mean_rates: dict[str, float]
    comparisons: list[dict]
    min_rate_hz: float
    margin: float
    alpha: float = 0.01

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def to_json(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, default=float) + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> "Verdict":
        return cls(**json.loads(Path(path).read_text()))


def judge(
    test: Sequence[RunStats],
    reference: Sequence[RunStats],
    *,
    metrics: Iterable[str] = ("rate",),
    min_rate_hz: float = 0.1,
    margin: float = 0.75,
    alpha: float = 0.01,
) -> Verdict:
    """Activity check on every test run, then KS comparison with the reference ensemble."""
    reasons = []
    mean_rates = {p: float(np.mean([t.mean("rate", p) for t in test])) for p in POPULATIONS}
    silent = [p for p, r in mean_rates.items() if not r >= min_rate_hz]
    if silent:
        reasons.append(
            "inactive populations (mean rate < %g Hz): %s"
            % (min_rate_hz, ", ".join(f"{p}={mean_rates[p]:.3g} Hz" for p in silent))
        )
    comparisons = compare(test, reference, metrics=metrics, margin=margin, alpha=alpha)
    failed = [c for c in comparisons if not c.ok]
    if failed:
        reasons.append(
            "KS distance beyond the reference ensemble's seed-to-seed variability: "
            + ", ".join(f"{c.metric}/{c.population} {c.statistic:.3f} > {c.tolerance:.3f}" for c in failed)
        )
    return Verdict(
        status="invalid" if reasons else "ok",
        reasons=reasons,
        mean_rates=mean_rates,
        comparisons=[asdict(c) | {"ok": c.ok} for c in comparisons],
        min_rate_hz=min_rate_hz,
        margin=margin,
        alpha=alpha,
    )


def verdict_rows(results, verdict: Verdict, test: Sequence[RunStats], *, reference_dir=None) -> None:
    """Add a validation's rows to a :class:`~spikemark.results.ResultSet`.

    Per population: the mean of each statistic over the test runs (over several seeds, a
    rate's or CV's summary is :func:`~spikemark.stats.positive_summary`: the geometric mean
    with a log-scale t-interval, so no bound goes below zero; a statistic that can be
    negative, the correlation coefficient, keeps the plain mean and t-interval), its KS
    distance and tolerance, and the published
    full-scale mean rate beside the measured one. A failed validation adds an ``invalid``
    cell row with the reasons; every measured row then carries ``invalid`` too.
    """
    from spikemark.stats import mean_ci, positive_summary

    status = verdict.status
    reason = verdict.reason
    try:
        published = published_rates(reference_dir)
    except (OSError, KeyError):
        published = {}
    for pop in POPULATIONS:
        for metric in test[0].samples:
            values = [t.mean(metric, pop) for t in test]
            values = [v for v in values if np.isfinite(v)]
            if not values:
                results.add_unavailable(
                    f"{metric}_mean", METRIC_UNITS[metric], f"no {metric} samples in {pop}", source="measured",
                    population=pop,
                )
                continue
            s = mean_ci(values) if metric in SIGNED else positive_summary(values)
            results.add(
                f"{metric}_mean" if metric != "rate" else "rate",
                s.value, METRIC_UNITS[metric], n=s.n, ci_low=s.ci_low, ci_high=s.ci_high,
                status=status, reason=reason, population=pop,
            )
        if pop in published:
            results.add(
                "rate_published_full_scale", published[pop], "Hz", source="reference-pd14-pynest", population=pop
            )
    for c in verdict.comparisons:
        row_status = "ok" if c["ok"] else "invalid"
        row_reason = "" if c["ok"] else f"KS {c['statistic']:.3f} > tolerance {c['tolerance']:.3f}"
        if np.isfinite(c["statistic"]):
            results.add(
                f"ks_{c['metric']}", c["statistic"], "1", n=len(c["cross"]), status=row_status, reason=row_reason,
                population=c["population"],
            )
        else:
            results.add_unavailable(
                f"ks_{c['metric']}", "1", "no samples to compare", source="measured", population=c["population"]
            )
        if np.isfinite(c["tolerance"]):
            results.add(f"ks_{c['metric']}_tolerance", c["tolerance"], "1", n=len(c["within"]), population=c["population"])
    if status != "ok":
        results.mark_cell("invalid", reason)
