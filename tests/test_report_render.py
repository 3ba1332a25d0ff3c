"""The notebooks rendered against the fixture results sets (three machines combined, one of
them busy): named outputs with the right contents, one navigable HTML site with no path of
this machine in it, and what headless Chromium shows on the first screen of the overview.

Rendering executes four notebooks (a kernel each): about a minute here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from pathlib import Path

from report_fixtures import (
    COMPILE_FAILED,
    CUDA_SKIP,
    FAILED,
    FUSED_SKIP,
    INVALID,
    LATENCY_BATCH,
    PYNN_INVALID,
    machine_b,
    machine_busy,
    write_results,
)
from spikemark import report

pytestmark = pytest.mark.slow

TABLES = [
    "table_headline",
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


LAPTOP, GPUNODE, BUSY = (
    "laptop (AMD EPYC 7B13)",
    "gpunode (Intel Xeon 8468; NVIDIA H100)",
    "busynode (AMD EPYC 7B13)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    a = write_results(root / "laptop")
    b = write_results(root / "gpunode", machine_b)
    c = write_results(root / "busy", machine_busy)
    out = root / "report"
    from spikemark.report.__main__ import main

    args = ["--results", str(a), str(b / "metrics.csv"), str(c), "--out", str(out), "--drive", "poisson"]
    assert main(args) == 0
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
    assert set(comp["platform"]) == {LAPTOP, GPUNODE, BUSY}
    laptop = comp[comp["platform"] == LAPTOP]
    ann = laptop[
        (laptop["method"] == "ann") & (laptop["sparsity"] == "0") & (laptop["dataset"] == "digits")
    ].iloc[0]
    assert ann["accuracy"] == "0.975 [0.955, 0.985] (n=450)"
    assert "· estimate-ops (neurobench)" in ann["energy / inference (µJ)"]
    gpu = comp[comp["platform"].str.startswith("gpunode")].iloc[0]
    assert gpu["energy / inference (µJ)"] == "25 [24, 27] (n=5) · nvml"
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
    ours = pd14[(pd14["kind"] == "this work") & (pd14["reference"] != BUSY)]
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
    assert set(latency["platform"]) == {LAPTOP, GPUNODE, BUSY}
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
    assert "<table" in rob and "0.962 [0.932, 0.982]" in rob and "randman" not in rob
    assert "<th>accuracy, n=450</th>" in rob  # the N every cell of the column shares, said once
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', rob)) == 2


def test_no_path_of_this_machine_in_any_page(site):
    root = str(site.parent)
    repo = str(Path(report.__file__).resolve().parents[3])
    home = os.path.expanduser("~")
    for page in site.glob("*.html"):
        text = page.read_text()
        for path in (root, repo, home, "file://"):
            assert path not in text, (page.name, path)
    simulation = (site / "simulation.html").read_text()
    assert (
        "Reference data: <code>pd14_published.csv</code>" in simulation or "pd14_published.csv" in simulation
    )


def test_overview_opens_with_banner_measured_headline_pareto_and_grouped_problems(site):
    index = (site / "index.html").read_text()
    order = [index.index(f'id="{i}"') for i in ("spikemark-banner", "spikemark-measured", "table_headline")]
    order += [index.index(f'id="{i}"') for i in ("spikemark-pareto", "spikemark-status")]
    assert order == sorted(order)
    assert order[-1] < index.index('id="table_framework_comparison"')
    assert "4 timings in 2 runs contended" in index and "2 git commits" in index
    status = index.split('id="spikemark-status"')[1].split("</details>")[0]
    assert (
        "1 ML cell, 1 robustness cell and 1 latency cell skipped: CUDA is not available on this node"
        in status
    )
    assert "<details" in status and "<summary>" in status  # the full list one click away
    assert "Pareto front of accuracy against energy per inference" in index


# The first screen of the overview, measured in the page as Chromium lays it out: the
# script runs after load and writes element positions (from the top of the page) into the
# DOM that --dump-dom prints. The layout depends on the width only; the first screen is the
# top 900 px, as in the screenshot (headless --dump-dom's own window is shorter).
SCREEN = (1400, 900)
POSITIONS = """<script>
window.addEventListener("load", () => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, right: r.right, height: r.height}; };
  const out = {width: window.innerWidth};
  for (const id of ["spikemark-banner", "spikemark-measured", "table_headline", "spikemark-pareto",
                    "spikemark-status", "spikemark-problems"]) {
    const el = document.getElementById(id); if (el) out[id] = box(el);
  }
  out.problems_open = document.getElementById("spikemark-problems").open;
  // a closed <details> keeps its content laid out but hidden (content-visibility)
  out.problem_rows = document.querySelectorAll("#spikemark-problems tr").length;
  out.problem_rows_shown = [...document.querySelectorAll("#spikemark-problems tr")].filter(
    (tr) => tr.checkVisibility()).length;
  out.headline_rows = [...document.querySelectorAll("#table_headline tbody tr")].map(box);
  out.first_screen_rows_skipped = [...document.querySelectorAll("tr")].filter(
    (tr) => tr.checkVisibility() && tr.getBoundingClientRect().top < SCREEN_HEIGHT
            && /skipped/.test(tr.textContent)).length;
  const pre = document.createElement("pre"); pre.id = "positions";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""
CHROMIUM = [
    "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    f"--window-size={SCREEN[0]},{SCREEN[1]}", "--virtual-time-budget=10000",
]  # fmt: skip


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_first_screen_of_the_overview_holds_the_headline_and_the_grouped_problems(site, tmp_path):
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    png = tmp_path / "index.png"
    subprocess.run([*CHROMIUM, profile, f"--screenshot={png}", (site / "index.html").as_uri()], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    print(f"screenshot of the overview's first screen (1400x900): {png}")
    from PIL import Image

    assert Image.open(png).size == (1400, 900)
    probe = tmp_path / "index_probe.html"  # beside nothing the page needs: it embeds its images
    script = POSITIONS.replace("SCREEN_HEIGHT", str(SCREEN[1]))
    probe.write_text((site / "index.html").read_text().replace("</body>", script + "</body>"))
    dom = subprocess.run([*CHROMIUM, profile, "--dump-dom", probe.as_uri()], check=True, capture_output=True,
                         text=True, timeout=120).stdout  # fmt: skip
    found = re.search(r'<pre id="positions">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    pos = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    width, height = SCREEN
    assert pos["width"] == width
    for element in ("spikemark-banner", "spikemark-measured", "table_headline", "spikemark-pareto"):
        assert 0 <= pos[element]["top"] and pos[element]["bottom"] <= height, (element, pos[element])
    # the grouped problem lines are on the first screen; the full list is folded away
    assert pos["spikemark-status"]["top"] < height, pos["spikemark-status"]
    assert not pos["problems_open"] and pos["problem_rows"] > 10 and pos["problem_rows_shown"] == 0
    assert pos["spikemark-problems"]["bottom"] <= height  # its one-line summary is on the first screen
    assert pos["first_screen_rows_skipped"] == 0  # not a list of skips
    # every headline row is one line, and the table fits the screen's width
    assert pos["headline_rows"] and all(r["height"] < 30 for r in pos["headline_rows"]), pos["headline_rows"]
    assert pos["table_headline"]["right"] <= width
