"""Intervals that respect their quantity: summaries over seeds of positive quantities are
geometric means with a log-scale t-interval (``spikemark.stats``), and no interval the
report writes for a non-negative metric has a negative bound — on the fixtures and on the
skewed three-seed RTFs of issue 12."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from report_fixtures import (
    SKEWED_RTF,
    busy,
    busy_set,
    combined,
    only_row,
    sets,
    table,
)  # noqa: F401 (fixtures)
from spikemark import report
from spikemark.report import manifest
from spikemark.stats import geometric_mean_ci, mean_ci, median_ci, positive_summary

#: ``value [low, high]`` as every report cell writes a statistic.
INTERVAL = re.compile(
    r"(?<![\w.])(-?[\d.]+(?:e[+-]?\d+)?) \[(-?[\d.]+(?:e[+-]?\d+)?), (-?[\d.]+(?:e[+-]?\d+)?)\]"
)


def test_geometric_mean_ci_is_the_t_interval_of_the_logs():
    values = [12.6, 20.0, 37.3]
    s = geometric_mean_ci(values)
    logs = mean_ci([math.log(v) for v in values])
    assert s.value == pytest.approx((12.6 * 20.0 * 37.3) ** (1 / 3))
    assert (s.ci_low, s.ci_high) == (
        pytest.approx(math.exp(logs.ci_low)),
        pytest.approx(math.exp(logs.ci_high)),
    )
    assert 0 < s.ci_low < s.value < s.ci_high and s.n == 3
    # multiplicative symmetry: the interval is symmetric around the value on the log scale
    assert s.value / s.ci_low == pytest.approx(s.ci_high / s.value)
    single = geometric_mean_ci([5.0])
    assert (single.value, single.n, single.ci_low) == (pytest.approx(5.0), 1, None)
    with pytest.raises(ValueError):
        geometric_mean_ci([1.0, 0.0])


def test_skewed_seeds_reproduce_the_issue_and_stay_positive():
    for rtfs in SKEWED_RTF.values():
        assert mean_ci(rtfs).ci_low < 0  # the plain t-interval of issue 12
        s = positive_summary(rtfs)
        assert s.ci_low > 0 and s.ci_low < s.value < s.ci_high
    assert positive_summary([0.0, 0.2, 0.4]) == median_ci([0.0, 0.2, 0.4])  # a silent population
    with pytest.raises(ValueError):
        positive_summary([-1.0, 2.0])


def test_pd14_table_summarises_skewed_seeds_geometrically_and_counts_contended(busy):
    pd14 = report.pd14_table(busy)
    one = only_row(pd14, simulator="nest", threads="1")
    expected = geometric_mean_ci(SKEWED_RTF[1])
    assert one["RTF"] == report.fmt_stat(expected.value, expected.ci_low, expected.ci_high, 3)
    two = only_row(pd14, simulator="nest", threads="2")
    assert two["RTF"].endswith("(n=3; 1 contended left out)")  # seed 4 was contended
    assert two["time_simulate (s)"].endswith("(n=3; 1 contended left out)")
    assert two["time_create (s)"].endswith("(n=4)")  # not contended: every seed counts


def _tables(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    reference = report.load_reference()
    context = {"published": reference.published, "rates_reference": reference.rates, "drive": "dc"}
    made = {o.name: manifest.make(o, results, **context) for o in manifest.outputs(kind="table")}
    made["machines"] = report.machines(results, report.load_provenance([]))
    made["problems"] = report.problems(results)
    return made


@pytest.mark.parametrize("which", ["table", "combined", "busy"])
def test_no_interval_in_any_report_table_has_a_negative_bound(which, request):
    results = request.getfixturevalue(which)
    checked = 0
    for name, frame in _tables(results).items():
        for column in frame.columns:
            for cell in frame[column].astype(str):
                for value, low, high in INTERVAL.findall(cell):
                    value, low, high = float(value), float(low), float(high)
                    assert 0 <= low <= value <= high, (name, column, cell)
                    checked += 1
    assert checked > 20  # the check saw the tables' statistics, not an empty page


def test_population_rates_are_positive_summaries(table):
    rates = report.population_rates(table)
    several = rates[rates["n"] > 1]
    assert len(several) == 8  # NEST's populations, over 2 seeds × 2 thread counts
    assert (several["ci_low"] > 0).all() and (several["ci_low"] <= several["rate_hz"]).all()
