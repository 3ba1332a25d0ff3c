"""The notebooks rendered against the fixture results set (two machines combined): named
outputs with the right contents, one navigable HTML site, and what headless Chromium shows.

Rendering executes four notebooks (a kernel each): about a minute and a half here.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from report_fixtures import (
    COMPILE_FAILED,
    CUDA_SKIP,
    FAILED,
    FUSED_SKIP,
    INVALID,
    LATENCY_BATCH,
    PYNN_INVALID,
    machine_b,
    write_results,
)
from spikemark import report

pytestmark = pytest.mark.slow

TABLES = [
    "table_framework_comparison",
    "table_conversion",
    "table_pruning",
    "table_pd14",
    "table_latency",
    "table_robustness",
]
FIGURES = [
    "fig_accuracy_vs_energy",
    "fig_accuracy_vs_timesteps",
    "fig_sparsity_sweep",
    "fig_pd14_strong_scaling",
    "fig_pd14_rates",
    "fig_latency",
    "fig_robustness_timesteps",
    "fig_robustness_noise",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    a = write_results(root / "laptop")
    b = write_results(root / "gpunode", machine_b)
    out = root / "report"
    from spikemark.report.__main__ import main

    assert main(["--results", str(a), str(b / "metrics.csv"), "--out", str(out), "--drive", "poisson"]) == 0
    return out


def _csv(site, name) -> pd.DataFrame:
    return pd.read_csv(site / f"{name}.csv", dtype=str, keep_default_na=False)


def test_named_outputs_exist_in_every_format(site):
    for name in TABLES:
        for ext in ("csv", "md", "tex"):
            assert (site / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    for name in FIGURES:
        assert (site / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (site / f"{name}.pdf").read_bytes()[:4] == b"%PDF"


def test_framework_comparison_contents(site):
    comp = _csv(site, "table_framework_comparison")
    assert set(comp["platform"]) == {"laptop (AMD EPYC 7B13)", "gpunode (Intel Xeon 8468; NVIDIA H100)"}
    laptop = comp[comp["platform"].str.startswith("laptop")]
    ann = laptop[
        (laptop["method"] == "ann") & (laptop["sparsity"] == "0") & (laptop["dataset"] == "digits")
    ].iloc[0]
    assert ann["accuracy"] == "0.975 [0.955, 0.985] (n=450)"
    assert "estimate-ops (estimate" in ann["energy / inference (J)"]
    gpu = comp[comp["platform"].str.startswith("gpunode")].iloc[0]
    assert gpu["energy / inference (J)"] == "2.5e-05 [2.4e-05, 2.7e-05] (n=5) · nvml"
    reasons = dict(zip(comp["status"], comp["reason"]))
    assert reasons["skipped"] == CUDA_SKIP
    assert reasons["failed"] == FAILED
    assert reasons["invalid"] == INVALID
    md = (site / "table_framework_comparison.md").read_text()
    assert CUDA_SKIP in md and "0.975 [0.955, 0.985] (n=450)" in md
    tex = (site / "table_framework_comparison.tex").read_text()
    assert "\\begin{tabular}" in tex and "CUDA is not available" in tex


def test_conversion_and_pd14_contents(site):
    conv = _csv(site, "table_conversion")
    row = conv[(conv["dataset"] == "digits") & (conv["T"] == "4") & (conv["sparsity"] == "0")].iloc[0]
    assert row["accuracy penalty (points)"] == "+16.30"
    assert row["EDP change (SNN/ANN)"].startswith("×")
    pd14 = _csv(site, "table_pd14")
    ours = pd14[pd14["kind"] == "this work"]
    assert set(ours["drive"]) == {"poisson"}
    assert (ours["scale"] == "N0.2_K0.2 (downscaled)").all()
    assert PYNN_INVALID in " ".join(ours["reason"])
    assert (pd14["kind"] == "published").sum() == 14


def test_html_site_is_navigable_with_tables_and_images(site):
    index = (site / "index.html").read_text()
    for page in ("dataset_digits.html", "dataset_randman.html", "simulation.html"):
        assert f'href="{page}"' in index
        assert (site / page).exists()
    assert "<table" in index
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', index)) >= 3
    assert "def " not in index and "report.publish" not in index  # code hidden
    sim = (site / "simulation.html").read_text()
    assert "<table" in sim and "data:image/png;base64," in sim
    digits = (site / "dataset_digits.html").read_text()
    assert (
        CUDA_SKIP in digits
        and "randman" not in digits.split("Framework comparison")[1].split("Conversion")[0]
    )


def test_latency_and_robustness_sections(site):
    latency = _csv(site, "table_latency")
    assert set(latency["platform"]) == {"laptop (AMD EPYC 7B13)", "gpunode (Intel Xeon 8468; NVIDIA H100)"}
    assert FUSED_SKIP in set(latency["reason"]) and COMPILE_FAILED in set(latency["reason"])
    robustness = _csv(site, "table_robustness")
    assert {"T", "T and σ", "σ"} <= set(robustness["sweep"])
    index = (site / "index.html").read_text()
    latency_section = index.split('id="Framework-latency-benchmark"')[1].split('id="Robustness"')[0]
    assert f"B = {LATENCY_BATCH}" in latency_section and "<table" in latency_section
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', latency_section)) == 1
    robustness_section = index.split('id="Robustness"')[1].split('id="Simulation-track"')[0]
    assert "<table" in robustness_section
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', robustness_section)) == 2
    digits = (site / "dataset_digits.html").read_text()
    rob = digits.split('id="Robustness"')[1].split('id="Not-ok-here"')[0]
    assert "<table" in rob and "0.962 [0.932, 0.982] (n=450)" in rob and "randman" not in rob
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', rob)) == 2


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_headless_chromium_screenshot_is_not_blank(site, tmp_path):
    png = tmp_path / "index.png"
    cmd = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        "--window-size=1280,2000",
        f"file://{site / 'index.html'}",
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    from PIL import Image

    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 2000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, table rules and plots, not a blank page
    white = (
        max(count for count, rgb in colours if rgb == (255, 255, 255))
        if any(rgb == (255, 255, 255) for _, rgb in colours)
        else 0
    )
    assert white < 0.97 * 1280 * 2000
