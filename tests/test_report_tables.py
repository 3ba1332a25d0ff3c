"""The report's tables against a fixture results set: values, intervals, N, sources, reasons."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from report_fixtures import only_row as _row
from report_fixtures import (
    CUDA_SKIP,
    FAILED,
    INVALID,
    NO_RAPL,
    PYNN_INVALID,
    busy,
    busy_set,
    combined,
    sets,
    table,
)  # noqa: F401 (fixtures)
from spikemark import report
from spikemark.results import COLUMNS

REFERENCE = report.reference_dir()


def test_fmt_stat_shows_value_interval_and_n():
    assert report.fmt_stat(0.975, 0.955, 0.985, 450) == "0.975 [0.955, 0.985] (n=450)"
    assert report.fmt_stat(4810, float("nan"), float("nan"), 1) == "4810"
    assert report.fmt_stat(float("nan"), 0, 1, 3) == ""


def test_framework_comparison_values_sources_and_reasons(table):
    comp = report.framework_comparison(table)
    assert "platform" not in comp  # one machine: no platform column
    ann = _row(comp, dataset="digits", method="ann", sparsity="0", hardware="cpu")
    assert ann["accuracy"] == "0.975 [0.955, 0.985] (n=450)"
    assert ann["latency batch 1 (ms)"] == "0.12 [0.11, 0.14] (n=5)"  # recorded in s
    # 2.15e-8 J recorded; no meter read here (rapl, nvml unavailable): the labelled estimate
    assert ann["energy / inference (µJ)"] == "0.0215 [0.0211, 0.0219] (n=3) · estimate-ops (neurobench)"
    snn = _row(comp, dataset="digits", method="ann2snn", sparsity="0", hardware="cpu")
    assert snn["T"] == "16"  # headline at the largest T
    assert snn["accuracy"] == "0.962 [0.932, 0.982] (n=450)"
    assert snn["effective ACs / sample"] == "4000 (neurobench)"
    skipped = _row(comp, dataset="digits", method="ann2snn", hardware="cuda")
    assert (skipped["status"], skipped["reason"]) == ("skipped", CUDA_SKIP)
    failed = _row(comp, dataset="randman", method="ann2snn", sparsity="0.5")
    assert (failed["status"], failed["reason"]) == ("failed", FAILED)
    invalid = _row(comp, dataset="digits", method="surrogate")
    assert (invalid["status"], invalid["reason"]) == ("invalid", INVALID)
    assert invalid["accuracy"].startswith("0.55 [")  # shown, flagged, not dropped
    assert len(comp) == 10  # every cell, whatever its status


def test_energy_cell_lists_every_reason_when_nothing_is_available():
    rows = pd.DataFrame(
        [
            dict(
                metric="energy_per_inference", source="rapl", variant="", status="unavailable", reason=NO_RAPL
            ),
            dict(
                metric="energy_per_inference",
                source="nvml",
                variant="",
                status="unavailable",
                reason="no GPU",
            ),
        ]
    ).assign(value=float("nan"), ci_low=float("nan"), ci_high=float("nan"), n=1)
    assert (
        report.energy_cell(rows, "energy_per_inference", "cpu")
        == f"unavailable — rapl: {NO_RAPL}; nvml: no GPU"
    )


def test_measured_energy_preferred_over_estimate(combined):
    comp = report.framework_comparison(combined)
    gpu = _row(comp, hardware="cuda", method="ann")
    assert gpu["platform"] == "gpunode (Intel Xeon 8468; NVIDIA H100)"
    assert gpu["energy / inference (µJ)"] == "25 [24, 27] (n=5) · nvml"


def test_conversion_table_penalty_and_edp_change(table):
    conv = report.conversion_table(table)
    t4 = _row(conv, dataset="digits", sparsity="0", hardware="cpu", T="4")
    assert t4["ANN accuracy"] == "0.975 [0.955, 0.985] (n=450)"
    assert t4["SNN accuracy"] == "0.812 [0.782, 0.832] (n=450)"
    assert t4["accuracy penalty (points)"] == "+16.30"
    # EDP: SNN 1e-9*4 J × 4e-4 s against ANN 2.15e-8 J × 1.2e-4 s, both estimate-ops
    assert t4["EDP change (SNN/ANN)"] == f"×{(4e-9 * 4e-4) / (2.15e-8 * 1.2e-4):.3g}"
    assert "estimate" in t4["EDP source"]
    t16 = _row(conv, dataset="digits", sparsity="0", hardware="cpu", T="16")
    assert t16["accuracy penalty (points)"] == "+1.30"
    skipped = _row(conv, hardware="cuda")
    assert (skipped["status"], skipped["reason"]) == ("skipped", CUDA_SKIP)
    failed = _row(conv, dataset="randman", sparsity="0.5")
    assert failed["status"] == "failed"


def test_pruning_table_change_against_dense(table):
    prun = report.pruning_table(table)
    half = _row(
        prun, dataset="digits", method="ann2snn", hardware="cpu", sparsity="0.5", pruning="global_magnitude"
    )
    assert half["accuracy change vs dense (points)"] == "-1.10"
    assert half["connection sparsity"] == "0.5"
    assert half["footprint (KiB)"] == "18.8"  # 19240 bytes


def test_pruning_table_sets_methods_side_by_side_over_one_dense_baseline(table):
    prun = report.pruning_table(table)
    snn = prun[(prun["dataset"] == "digits") & (prun["method"] == "ann2snn") & (prun["hardware"] == "cpu")]
    assert list(zip(snn["pruning"], snn["sparsity"])) == [
        ("none", "0"),
        ("global_magnitude", "0.5"),
        ("lamp", "0.5"),
    ]
    lamp = _row(prun, dataset="digits", method="ann2snn", hardware="cpu", pruning="lamp")
    assert lamp["accuracy change vs dense (points)"] == "-0.40"  # 0.958 against the shared 0.962


def test_pareto_front():
    assert report.pareto_front([1, 2, 3, 2], [0.5, 0.9, 0.8, 0.6]) == [True, True, False, False]


def test_accuracy_energy_points_skip_invalid_and_mark_front(table):
    pts = report.accuracy_energy_points(table)
    assert "surrogate" not in set(pts["method"])  # invalid: not ranked
    assert pts["estimate"].all()
    digits = pts[pts["dataset"] == "digits"]
    front = digits[digits["pareto"]]
    assert set(zip(front["method"], front["T"].fillna(0))) == {("ann", 0), ("ann2snn", 4.0)} | {("ann", 0)}
    assert len(front) == 3  # ANN dense, ANN s=0.5, SNN T=4


def test_pd14_table_ours_beside_published(table):
    published = pd.read_csv(REFERENCE / "pd14_published.csv", dtype=str, keep_default_na=False)
    pd14 = report.pd14_table(table, published, drive="poisson")
    ours = pd14[pd14["kind"] == "this work"]
    one = _row(ours, simulator="nest", threads="1")
    assert one["RTF"] == "6 [6, 6] (n=2)"
    assert one["scale"] == "N0.2_K0.2 (downscaled)" and one["drive"] == "poisson"
    assert one["E_syn (µJ)"].startswith("2.01 [") and "(n=2)" in one["E_syn (µJ)"]
    assert one["E_syn (µJ)"].endswith("· estimate-tdp")
    assert one["energy covers"] == report.ENERGY_COVERS["estimate-tdp"]
    assert one["time_connect (s)"].startswith("4.01 [")
    bad = _row(ours, simulator="pynn-nest")
    assert bad["status"] == "invalid" and PYNN_INVALID in bad["reason"]
    pub = pd14[pd14["kind"] == "published"]
    assert len(pub) == len(published)
    kn = _row(pub, reference="Knight and Nowotny (2018) [KN18]")
    assert (kn["RTF"], kn["E_syn (µJ)"], kn["drive"]) == ("1.838", "0.47", "Poisson")
    assert kn["energy covers"].startswith("whole machine at the power outlet")
    assert _row(pub, reference="Knight et al. (2021) [Kni+21]")["E_syn (µJ)"] == "not published"


def test_population_rates_against_reference(table):
    ref = pd.read_csv(REFERENCE / "pd14_rates.csv")
    rates = report.population_rates(table, ref)
    l4e = _row(rates, framework="nest", population="L4E")
    assert l4e["n"] == 4 and l4e["reference_pynest_hz"] == pytest.approx(4.414)
    # geometric mean of 4.4 × (1 + 0.02 seed) over seeds 1, 2 and both thread counts
    assert l4e["rate_hz"] == pytest.approx(4.4 * math.sqrt(1.02 * 1.04))
    assert _row(rates, framework="pynn-nest", population="L4E")["status"] == "invalid"


def test_empty_results_render_empty_tables(tmp_path):
    (tmp_path / "metrics.csv").write_text(",".join(COLUMNS) + "\n")
    empty = report.load_results([tmp_path])
    assert report.framework_comparison(empty).empty
    assert report.conversion_table(empty).empty
    assert report.pd14_table(empty).empty
    assert report.population_rates(empty).empty
    assert report.accuracy_energy_points(empty).empty
    from spikemark.report import figures

    for fig in (figures.accuracy_vs_energy(empty), figures.pd14_strong_scaling(empty)):
        assert fig.axes  # a placeholder that says what is missing


def test_combined_platforms_from_provenance(combined):
    plats = report.platforms(combined)
    assert list(plats["host"]) == ["gpunode", "laptop"]
    assert set(plats["gpu_model"]) == {"NVIDIA H100", ""}
    assert "platform" in report.conversion_table(combined)


def test_write_table_three_formats(table, tmp_path):
    paths = report.write_table(report.conversion_table(table), tmp_path, "table_conversion")
    assert [p.suffix for p in paths] == [".csv", ".md", ".tex"]
    assert "+16.30" in paths[1].read_text()
    assert "\\begin{tabular}" in paths[2].read_text()
    assert pd.read_csv(paths[0], dtype=str)["status"].tolist().count("skipped") == 1


def test_strong_scaling_draws_contended_points_hollow_and_leaves_them_out_of_the_lines(busy):
    from report_fixtures import SKEWED_RTF
    from spikemark.stats import geometric_mean_ci

    points = report.scaling_points(busy)
    simulate = points[points["phase"] == "time_simulate"]
    assert simulate["contended"].sum() == 1 and simulate.loc[simulate["contended"], "seed"].tolist() == ["4"]
    lines = report.phase_times(busy)
    two = _row(lines, threads=2, phase="time_simulate")
    # the line is the geometric mean of seeds 1-3 only (time_simulate = rtf + 0.01 seed)
    assert two["n"] == 3
    assert two["seconds"] == pytest.approx(
        geometric_mean_ci([r + 0.01 * s for s, r in enumerate(SKEWED_RTF[2], 1)]).value
    )
    fig = report.figures.pd14_strong_scaling(busy)
    ax = fig.axes[0]
    simulate_line = next(line for line in ax.get_lines() if line.get_label() == "simulate")
    assert list(simulate_line.get_xdata()) == [1, 2] and max(simulate_line.get_ydata()) < 96
    from matplotlib.collections import PathCollection

    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    hollow = [tuple(o) for c in markers if c.get_facecolor().size == 0 for o in c.get_offsets()]
    # the contended seed 4: its simulate phase (96 + 0.04) and total (+ 0.54 + 2.04 + 0.34), drawn hollow
    assert sorted(hollow) == [(2.0, pytest.approx(96.04)), (2.0, pytest.approx(98.96))]
    assert "contended (not in the lines)" in ax.get_legend_handles_labels()[1]
