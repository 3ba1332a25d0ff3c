"""Report sections of the framework latency benchmark and the robustness protocol, against
the fixture results set (rows written through ``ResultSet`` as the pipeline writes them)."""

from __future__ import annotations

import pandas as pd
import pytest

from report_fixtures import only_row as _row
from report_fixtures import (
    COMPILE_FAILED,
    CUDA_SKIP,
    FUSED_SKIP,
    INVALID,
    LATENCY_BATCH,
    LATENCY_T,
    combined,
    sets,
    table,
)  # noqa: F401 (fixtures)
from spikemark import report
from spikemark.report import tracks
from spikemark.results import COLUMNS


@pytest.fixture
def empty(tmp_path):
    (tmp_path / "metrics.csv").write_text(",".join(COLUMNS) + "\n")
    return report.load_results([tmp_path])


def _message(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


# ---------------------------------------------------------------- latency


def test_latency_table_times_with_interval_and_n_and_skipped_reasons(table):
    lat = tracks.latency_table(table)
    assert "platform" not in lat  # one machine
    sj = _row(lat, framework="spikingjelly", hardware="cpu", size="256", variant="eager")
    # 2e-5 s per unit of size: 5.12 ms, interval [0.95, 1.1] × median, 5 repeats
    assert sj["inference (ms)"] == "5.12 [4.86, 5.63] (n=5)"
    assert sj["backward (ms)"] == "10.2 [9.73, 11.3] (n=5)"
    assert sj["peak host memory (MiB)"] == "193"  # 2.0256e8 bytes
    assert sj["peak CUDA memory (MiB)"] == "n/a (no CUDA device used)"
    assert sj["compile time (s)"] == "n/a (eager)"
    assert (sj["backend"], sj["T"], sj["status"], sj["reason"]) == ("torch", str(LATENCY_T), "ok", "")
    sizes = lat[(lat["framework"] == "norse")]["size"].tolist()
    assert sizes == ["128", "256", "512"]  # numeric order
    fused = _row(lat, framework="spikingjelly-triton")
    assert (fused["status"], fused["reason"], fused["size"]) == ("skipped", FUSED_SKIP, "")
    cuda = _row(lat, framework="spikingjelly", hardware="cuda")
    assert (cuda["status"], cuda["reason"]) == ("skipped", CUDA_SKIP)
    assert len(lat) == 3 + 3 + 1 + 1


def test_latency_table_compiled_variant_and_platforms(combined):
    lat = tracks.latency_table(combined)
    assert set(lat["platform"]) == {"laptop (AMD EPYC 7B13)", "gpunode (Intel Xeon 8468; NVIDIA H100)"}
    gpu = lat[lat["platform"].str.startswith("gpunode")]
    compiled = _row(gpu, framework="spikingjelly", size="4096", variant="compiled")
    assert compiled["compile time (s)"] == "12.5"
    assert compiled["peak CUDA memory (MiB)"] == "64"  # 4 · 4096² bytes
    assert compiled["inference (ms)"] == "0.205 [0.195, 0.225] (n=5)"
    eager = _row(gpu, framework="spikingjelly", size="4096", variant="eager")
    assert eager["inference (ms)"] == "0.41 [0.389, 0.451] (n=5)"
    failed = _row(gpu, framework="norse", size="8192", variant="compiled")
    assert (failed["status"], failed["reason"]) == ("failed", COMPILE_FAILED)
    assert failed["compile time (s)"] == f"failed: {COMPILE_FAILED}"
    assert _row(gpu, framework="norse", size="8192", variant="eager")["status"] == "ok"


def test_latency_workload_is_stated_from_the_rows(combined):
    text = tracks.latency_workload(combined)
    assert f"T = {LATENCY_T}" in text and f"B = {LATENCY_BATCH}" in text
    assert "cpu: 128, 256, 512" in text and "cuda: 4096, 8192" in text
    older = combined[combined["metric"] != "batch_size"]  # results from before the batch row
    assert "B = not recorded" in tracks.latency_workload(older)


def test_latency_figure_panels_and_files(combined, tmp_path):
    fig = tracks.latency_figure(combined)
    assert len(fig.axes) == 3 * 2  # inference / forward / backward × cpu / cuda
    cuda_inference = fig.axes[1]
    labels = cuda_inference.get_legend_handles_labels()[1]
    assert "gpunode / spikingjelly (compiled)" in labels and "gpunode / spikingjelly (eager)" in labels
    styles = {line.get_label(): line.get_linestyle() for line in cuda_inference.get_lines()}
    assert (
        styles["gpunode / spikingjelly (compiled)"] == "--"
        and styles["gpunode / spikingjelly (eager)"] == "-"
    )
    report.publish_figure(fig, tmp_path, "fig_latency")
    assert (tmp_path / "fig_latency.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "fig_latency.pdf").read_bytes()[:4] == b"%PDF"


# ---------------------------------------------------------------- robustness


def test_robustness_table_sweeps_cells_and_reasons(table):
    rob = tracks.robustness_table(table)
    digits = rob[(rob["dataset"] == "digits") & (rob["method"] == "ann2snn") & (rob["hardware"] == "cpu")]
    assert list(zip(digits["T"], digits["noise σ"], digits["sweep"])) == [
        ("2", "0", "T"),
        ("8", "0", "T"),
        ("16", "0", "T and σ"),
        ("32", "0", "T"),
        ("16", "0.1", "σ"),
        ("16", "0.5", "σ"),
    ]
    t16 = _row(digits, T="16", **{"noise σ": "0"})
    assert t16["accuracy"] == "0.962 [0.932, 0.982] (n=450)"
    assert t16["latency batch 1 (ms)"] == "1.6 [1.44, 1.76] (n=5)"
    assert t16["effective ACs / sample"] == "4000 (folded)"
    assert _row(digits, **{"noise σ": "0.5"})["accuracy"] == "0.62 [0.59, 0.64] (n=450)"
    skipped = _row(rob, dataset="digits", hardware="cuda")
    assert (skipped["status"], skipped["reason"], skipped["T"]) == ("skipped", CUDA_SKIP, "")
    invalid = _row(rob, method="surrogate")
    assert (invalid["status"], invalid["reason"]) == ("invalid", INVALID)
    assert set(tracks.robustness_table(table, "randman")["dataset"]) == {"randman"}


def test_robustness_points_add_macs_and_acs(table):
    pts = tracks.robustness_points(table, "digits")
    synops = pts[(pts["metric"] == "synops") & (pts["T"] == 8) & (pts["sigma"] == 0)]
    assert synops["value"].tolist() == [64.0 * 8 + 250.0 * 8]
    assert set(pts["reference_t"]) == {16}
    assert set(pts["hardware"]) == {"cpu"}  # the skipped and the invalid cell are not drawn


def test_robustness_figures_panels_and_dataset_filter(table, tmp_path):
    fig = tracks.robustness_timesteps_figure(table)
    assert len(fig.axes) == 3 * 2  # accuracy / latency / synops × digits / randman
    assert [ax.get_title() for ax in fig.axes[:2]] == ["digits", "randman"]
    digits_accuracy = fig.axes[0].get_lines()[0]
    assert list(digits_accuracy.get_xdata()) == [2, 8, 16, 32]  # σ = 0 only
    only_digits = tracks.robustness_timesteps_figure(table, "digits")
    assert [ax.get_title() for ax in only_digits.axes] == ["digits", "", ""]
    noise = tracks.robustness_noise_figure(table)
    assert len(noise.axes) == 2
    digits_noise = noise.axes[0].get_lines()[0]
    assert list(digits_noise.get_xdata()) == [0.0, 0.1, 0.5]  # at the evaluation T = 16
    assert "T=16" in digits_noise.get_label()
    for name, figure in (("fig_robustness_timesteps", fig), ("fig_robustness_noise", noise)):
        report.publish_figure(figure, tmp_path, name)
        assert (tmp_path / f"{name}.png").stat().st_size > 0 and (tmp_path / f"{name}.pdf").stat().st_size > 0


def test_robustness_rows_do_not_leak_into_ml_tables_and_figures(table):
    """The robustness rows share their cell's coordinates (and add T = 32, beyond the
    measure stage's largest T = 16): every existing ML table is the same without them."""
    without = table[~((table["track"] == "ml") & (table["variant"] == tracks.ROBUSTNESS))]
    assert len(without) < len(table)
    for build in (
        report.framework_comparison,
        report.conversion_table,
        report.pruning_table,
        report.accuracy_by_timesteps,
        report.accuracy_energy_points,
        report.cell_status,
    ):
        pd.testing.assert_frame_equal(build(table), build(without), obj=build.__name__)
    counts = report.status_counts(table)
    pd.testing.assert_frame_equal(
        counts[counts["track"] != "robustness"].reset_index(drop=True), report.status_counts(without)
    )
    comp = report.framework_comparison(table)
    snn = _row(comp, dataset="digits", method="ann2snn", sparsity="0", hardware="cpu")
    assert (snn["T"], snn["accuracy"]) == ("16", "0.962 [0.932, 0.982] (n=450)")
    assert 32 not in set(report.accuracy_by_timesteps(table)["T"])


# ---------------------------------------------------------------- tracks switched off


def test_empty_results_still_write_every_named_output(empty, tmp_path):
    assert tracks.latency_table(empty).empty and tracks.robustness_table(empty).empty
    assert tracks.latency_workload(empty) == tracks.EMPTY_LATENCY + "."
    report.publish_table(tracks.latency_table(empty), tmp_path, "table_latency", tracks.EMPTY_LATENCY)
    report.publish_table(
        tracks.robustness_table(empty), tmp_path, "table_robustness", tracks.EMPTY_ROBUSTNESS
    )
    for name in ("table_latency", "table_robustness"):
        assert (tmp_path / f"{name}.md").read_text().strip() == "(no rows)"
        assert (
            (tmp_path / f"{name}.csv")
            .read_text()
            .startswith("framework," if "latency" in name else "dataset,")
        )
        assert (tmp_path / f"{name}.tex").exists()
    figures = {
        "fig_latency": (tracks.latency_figure(empty), tracks.EMPTY_LATENCY),
        "fig_robustness_timesteps": (tracks.robustness_timesteps_figure(empty), tracks.EMPTY_ROBUSTNESS),
        "fig_robustness_noise": (tracks.robustness_noise_figure(empty), tracks.EMPTY_NOISE),
    }
    for name, (fig, message) in figures.items():
        assert message in _message(fig)
        report.publish_figure(fig, tmp_path, name)
        assert (tmp_path / f"{name}.png").exists() and (tmp_path / f"{name}.pdf").exists()


def test_ml_results_without_the_tracks_say_so(table):
    ml_only = table[(table["track"] != "latency") & (table["variant"] != tracks.ROBUSTNESS)]
    assert tracks.EMPTY_LATENCY in _message(tracks.latency_figure(ml_only))
    assert tracks.EMPTY_ROBUSTNESS in _message(tracks.robustness_timesteps_figure(ml_only))
    no_noise = table[~(pd.to_numeric(table["noise"].replace("", None)) > 0)]
    assert tracks.EMPTY_NOISE in _message(tracks.robustness_noise_figure(no_noise))
    assert len(tracks.robustness_timesteps_figure(no_noise).axes) == 6  # the T sweep is still drawn


def test_status_counts_and_problems_name_latency_and_robustness_cells(table):
    counts = report.status_counts(table)
    assert {"ml", "simulation", "robustness", "latency"} <= set(counts["track"])
    assert (counts[counts["track"] == "latency"]["cells"] > 0).all()
    bad = report.problems(table)
    skipped_latency = bad[(bad["track"] == "latency") & (bad["metric"] == "cell")]
    assert not skipped_latency.empty and (skipped_latency["status"] == "skipped").all()
