"""PD14 scaling over virtual processes: speed-up, parallel efficiency, weak scaling, stacked phases."""

from __future__ import annotations

import pandas as pd
import pytest

from spikemark.report import scaling
from spikemark.results import COLUMNS, ResultSet


def run_rows(framework, scale, ranks, threads, seconds, seed=1, status="ok", reason=""):
    rs = ResultSet("simulation", {"framework": framework, "hardware": "cpu", "scale": scale, "ranks": ranks,
                                  "threads": threads, "seed": seed})  # fmt: skip
    for phase, share in (("create", 0.05), ("connect", 0.25), ("presimulate", 0.2), ("simulate", 1.0)):
        rs.add(f"time_{phase}", seconds * share, "s", status=status, reason=reason)
    rs.add("rtf", seconds, "1", status=status, reason=reason)
    return rs.rows


def table_of(*runs) -> pd.DataFrame:
    frame = pd.DataFrame([row for run in runs for row in run], columns=list(COLUMNS)).astype(str)
    for col in ("value", "ci_low", "ci_high", "n"):
        frame[col] = pd.to_numeric(frame[col].replace("", None), errors="coerce")
    return frame


def test_strong_scaling_speedup_and_efficiency_over_ranks_and_threads():
    table = table_of(
        *[run_rows("nest", "N0.2_K0.2", 1, 1, 10.0, seed=s) for s in (1, 2)],
        run_rows("nest", "N0.2_K0.2", 1, 2, 5.5),
        run_rows("nest", "N0.2_K0.2", 2, 1, 6.0),  # the same p = 2, another decomposition
        run_rows("nest", "N0.2_K0.2", 2, 2, 3.2),
        run_rows("nest", "N0.2_K0.2", 1, 4, 1.0, status="invalid", reason="contended: got 0.4 of 4"),
    )
    out = scaling.scaling_table(table)
    strong = out[out.kind == "strong"]
    assert list(strong["virtual processes"]) == [1, 2, 2, 4]  # the contended run is in no curve
    row = strong[(strong.ranks == "2") & (strong.threads == "2")].iloc[0]
    assert float(row["speed-up"]) == pytest.approx(10 / 3.2, abs=0.01)
    assert float(row["efficiency"]) == pytest.approx(10 / 3.2 / 4, abs=0.01)
    assert set(strong[strong["virtual processes"] == 2].ranks) == {"1", "2"}  # both decompositions listed


def test_weak_scaling_is_found_in_the_results():
    table = table_of(
        run_rows("nest", "N0.05_K0.1", 1, 1, 2.0),
        run_rows("nest", "N0.1_K0.1", 1, 2, 2.5),
        run_rows("nest", "N0.2_K0.1", 2, 2, 4.0),
        run_rows("nest", "N0.2_K0.2", 1, 1, 9.0),  # another K: no family
    )
    weak = scaling.scaling_table(table).query("kind == 'weak'")
    assert list(weak["virtual processes"]) == [1, 2, 4]
    assert [float(e) for e in weak.efficiency] == pytest.approx([1.0, 0.8, 0.5], abs=0.01)
    assert weak.scale.iloc[0].startswith("N/p = 0.05, K = 0.1")


def test_figures_draw_or_say_why_not():
    table = table_of(run_rows("nest", "N0.2_K0.2", 1, 1, 10.0), run_rows("nest", "N0.2_K0.2", 1, 2, 5.5))
    assert len(scaling.scaling_figure(table).axes) == 2
    assert len(scaling.phases_figure(table).axes[0].patches) == 2 * 4  # 2 configurations x 4 phases
    lone = table_of(run_rows("nest", "N0.2_K0.2", 1, 1, 10.0))
    assert "two or more" in scaling.scaling_figure(lone).axes[0].texts[0].get_text()
