"""The tidy row format and the interval summaries behind every number."""

from __future__ import annotations

import csv

import pytest
from scipy import stats as st

from spikemark.results import COLUMNS, ResultSet
from spikemark.stats import mean_ci, median_ci, wilson


@pytest.mark.parametrize("n", [2, 5, 6, 9, 10, 25, 60])
def test_median_interval_matches_binomial_order_statistics(n):
    xs = [float(i) for i in range(n)]
    summary = median_ci(xs)
    j = int(st.binom.ppf(0.025, n, 0.5)) - 1  # scipy's answer for the same ranks
    expected = (xs[0], xs[-1]) if j < 0 else (xs[j], xs[n - 1 - j])
    assert (summary.ci_low, summary.ci_high) == expected
    assert summary.n == n and summary.ci_low <= summary.value <= summary.ci_high


def test_wilson_interval_known_value():
    # Wilson interval for 45/50 at 95 %: (0.7864, 0.9565), e.g. from statsmodels' proportion_confint
    s = wilson(45, 50)
    assert s.value == 0.9 and s.ci_low == pytest.approx(0.7864, abs=1e-4) and s.ci_high == pytest.approx(0.9565, abs=1e-4)
    assert wilson(0, 10).ci_low == 0.0 and wilson(10, 10).ci_high == 1.0


def test_mean_interval_is_student_t():
    s = mean_ci([1.0, 2.0, 3.0])
    assert s.value == 2.0 and s.ci_high - 2.0 == pytest.approx(st.t.ppf(0.975, 2) / 3**0.5)


def test_rows_carry_every_column_and_refuse_bad_ones(tmp_path):
    rs = ResultSet("ml", {"dataset": "digits", "hardware": "cpu"})
    rs.add_summary("latency_batch1", median_ci([1.0, 2.0, 3.0]), "s", timesteps=8)
    rs.add_unavailable("energy", "J", "no RAPL counter", source="rapl")
    with pytest.raises(ValueError, match="reason"):
        rs.add("energy", None, "J", status="unavailable")
    with pytest.raises(ValueError, match="finite"):
        rs.add("energy", float("nan"), "J")
    with pytest.raises(ValueError, match="unknown coordinate"):
        rs.add("x", 1.0, "", colour="red")
    rs.write_csv(tmp_path / "m.csv")
    rows = list(csv.DictReader(open(tmp_path / "m.csv")))
    assert tuple(rows[0]) == COLUMNS
    assert rows[0]["timesteps"] == "8" and rows[0]["n"] == "3" and rows[0]["ci_low"] == "1.0"
    assert rows[1]["status"] == "unavailable" and rows[1]["value"] == "" and rows[1]["reason"] == "no RAPL counter"
    assert rows[0]["run_id"] == rows[1]["run_id"] != ""
