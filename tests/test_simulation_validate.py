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
