"""Validation statistics and the KS comparison on synthetic spike trains (no simulator)."""

import numpy as np
import pytest

from spikemark.simulation.pd14_params import POPULATIONS
from spikemark.simulation.validate import RunStats, Verdict, judge, ks_critical, run_stats


def synthetic(rate_hz, n=200, t_ms=2000.0, seed=0, regular=False, shared=False):
    rng = np.random.default_rng(seed)
    spikes, sizes = {}, {}
    base = np.sort(rng.uniform(0, t_ms, int(rate_hz * t_ms / 1000)))
    for pop in POPULATIONS:
        idx, times = [], []
        for i in range(n):
            if shared:
                t = base
            elif regular:
                t = np.arange(rng.uniform(0, 1000 / rate_hz), t_ms, 1000.0 / rate_hz)
            else:
                t = np.sort(rng.uniform(0, t_ms, rng.poisson(rate_hz * t_ms / 1000)))
            idx.append(np.full(t.size, i))
            times.append(t)
        spikes[pop] = (np.concatenate(idx).astype(np.int64), np.concatenate(times))
        sizes[pop] = n
    return spikes, sizes


def test_rates_cvs_and_correlations():
    s = run_stats(*synthetic(10.0), 0.0, 2000.0)
    assert s.mean("rate", "L23E") == pytest.approx(10.0, rel=0.05)
    assert s.mean("cv_isi", "L23E") == pytest.approx(1.0, abs=0.08)  # Poisson
    assert abs(s.mean("cc", "L23E")) < 0.02
    regular = run_stats(*synthetic(10.0, regular=True), 0.0, 2000.0)
    assert regular.mean("cv_isi", "L4E") < 0.01
    shared = run_stats(*synthetic(10.0, shared=True), 0.0, 2000.0)
    assert shared.mean("cc", "L5I") == pytest.approx(1.0)


def test_window_excludes_presimulation():
    spikes, sizes = synthetic(10.0, t_ms=1000.0)
    s = run_stats(spikes, sizes, 500.0, 1000.0, metrics=("rate",))
    assert s.mean("rate", "L6E") == pytest.approx(10.0, rel=0.1)
    assert set(s.samples) == {"rate"}


def test_judge_separates_same_from_different(tmp_path):
    refs = [run_stats(*synthetic(5.0, seed=s), 0.0, 2000.0, metrics=("rate",)) for s in (1, 2, 3)]
    same = run_stats(*synthetic(5.0, seed=9), 0.0, 2000.0, metrics=("rate",))
    other = run_stats(*synthetic(8.0, seed=9), 0.0, 2000.0, metrics=("rate",))
    assert judge([same], refs).status == "ok"
    bad = judge([other], refs)
    assert bad.status == "invalid" and "KS distance" in bad.reason
    bad.to_json(tmp_path / "v.json")
    assert Verdict.from_json(tmp_path / "v.json").reasons == bad.reasons
    same.save(tmp_path / "s.npz")
    again = RunStats.load(tmp_path / "s.npz")
    assert np.array_equal(again.samples["rate"]["L23E"], same.samples["rate"]["L23E"])


def test_judge_needs_an_ensemble():
    one = run_stats(*synthetic(5.0), 0.0, 2000.0, metrics=("rate",))
    with pytest.raises(ValueError, match="two runs"):
        judge([one], [one])


def test_ks_critical_value():
    # c(0.05) = 1.358 for two samples of 100
    assert ks_critical(100, 100, 0.05) == pytest.approx(1.358 * np.sqrt(0.02), rel=1e-3)


# -- elephant computes what the plain definitions say --------------------------------------
def fixed_spike_set(n=120, seed=5):
    """Spikes on NEST's 0.1 ms grid from 0 to 1600 ms, with the awkward cases in every
    population: silent neurons, neurons with 1-3 spikes, a neuron whose three spikes share
    one time (ISIs all 0: no CV), one that fires once in every 2 ms bin (constant counts: no
    correlation coefficient), and spikes exactly at the window's edges (500 and 1500 ms)."""
    rng = np.random.default_rng(seed)
    spikes, sizes = {}, {}
    for p, pop in enumerate(POPULATIONS):
        trains = [np.sort(rng.integers(0, 16000, rng.poisson(rng.uniform(0, 30) * 1.6))) * 0.1 for _ in range(n - 6)]
        trains += [np.zeros(0), np.array([700.0]), np.array([600.0, 900.0]), np.array([5000, 5123, 5400]) * 0.1]
        trains += [np.full(3, 800.0 + p), 501.0 + 2.0 * np.arange(500)]
        trains[0] = np.concatenate([[500.0, 1500.0], trains[0]])
        spikes[pop] = (np.concatenate([np.full(t.size, i) for i, t in enumerate(trains)]).astype(np.int64),
                       np.concatenate(trains))
        sizes[pop] = n
    return spikes, sizes


def plain_statistics(spikes, sizes, t_start, t_stop, cc_neurons, cc_bin_ms, seed):
    """The definitions in plain numpy (as spikemark computed them before elephant)."""
    rng = np.random.default_rng(seed)
    out = {"rate": {}, "cv_isi": {}, "cc": {}}
    for pop in POPULATIONS:
        idx, times = spikes[pop]
        keep = (times >= t_start) & (times < t_stop)
        trains = [np.sort(times[keep][idx[keep] == i]) for i in range(sizes[pop])]
        counts = np.array([t.size for t in trains])
        out["rate"][pop] = counts / ((t_stop - t_start) / 1000.0)
        isis = [np.diff(t) for t in trains if t.size >= 3]
        out["cv_isi"][pop] = np.array([d.std() / d.mean() for d in isis if d.mean() > 0])
        active = np.flatnonzero(counts > 0)
        chosen = np.sort(rng.choice(active, size=min(cc_neurons, active.size), replace=False))
        edges = np.arange(t_start, t_stop + cc_bin_ms, cc_bin_ms)
        binned = np.array([np.histogram(trains[i], bins=edges)[0] for i in chosen], dtype=float)
        binned = binned[binned.std(axis=1) > 0]
        cc = np.corrcoef(binned)
        out["cc"][pop] = cc[np.triu_indices_from(cc, k=1)]
    return out


def test_elephant_statistics_equal_the_plain_definitions():
    spikes, sizes = fixed_spike_set()
    stats = run_stats(spikes, sizes, 500.0, 1500.0, cc_neurons=60, seed=3)
    plain = plain_statistics(spikes, sizes, 500.0, 1500.0, cc_neurons=60, cc_bin_ms=2.0, seed=3)
    for metric in ("rate", "cv_isi", "cc"):
        for pop in POPULATIONS:
            ours, expected = stats.samples[metric][pop], plain[metric][pop]
            assert ours.shape == expected.shape and ours.size > 0, (metric, pop)
            # the same samples in the same (neuron) order; elephant's sparse correlation
            # arithmetic differs from np.corrcoef only in the last digits
            np.testing.assert_allclose(ours, expected, rtol=1e-12 if metric != "cc" else 1e-9, atol=1e-12)
    # the awkward cases were there: a silent neuron, a CV dropped, pairs dropped
    assert (stats.samples["rate"]["L4E"] == 0).any()
    assert stats.samples["cv_isi"]["L4E"].size < (np.bincount(spikes["L4E"][0]) >= 3).sum()
    assert stats.samples["cc"]["L4E"].size < 60 * 59 // 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # elephant 1.2 passes quantities' deprecated copy=
@pytest.mark.filterwarnings("ignore:Binning discarded")
def test_elephant_binning_differs_only_at_bin_edges_and_window_ends():
    """The two known differences of the correlation's binning, neither of which PD14 runs
    meet (NEST's grid times, steps × 0.1 ms, hit 2 ms edges exactly, and model times are
    whole multiples of 2 ms; the test above):

    - elephant's BinnedSpikeTrain moves a spike that lies within 1e-8 of the next bin edge
      into that bin (float rounding of a time meant to sit on the edge); np.histogram keeps it
      in the bin before;
    - where the window is no whole number of bins, elephant drops the incomplete last bin
      (and warns); the old np.arange edges added a last bin reaching past the window."""
    import neo
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain

    below_edge = 502.0 - 1e-12
    train = neo.SpikeTrain([below_edge], t_start=500.0, t_stop=510.0, units="ms")
    elephant_bins = BinnedSpikeTrain(train, bin_size=2 * pq.ms).to_array()[0]
    numpy_bins = np.histogram([below_edge], bins=np.arange(500.0, 512.0, 2.0))[0]
    assert list(numpy_bins) == [1, 0, 0, 0, 0] and list(elephant_bins) == [0, 1, 0, 0, 0]

    late = neo.SpikeTrain([501.0, 510.5], t_start=500.0, t_stop=511.0, units="ms")
    elephant_bins = BinnedSpikeTrain(late, bin_size=2 * pq.ms).to_array()[0]
    numpy_bins = np.histogram([501.0, 510.5], bins=np.arange(500.0, 511.0 + 2.0, 2.0))[0]
    assert list(elephant_bins) == [1, 0, 0, 0, 0] and list(numpy_bins) == [1, 0, 0, 0, 0, 1]
