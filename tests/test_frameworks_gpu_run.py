"""The one-shot GPU run (benchmarks/gpu_run.py): the same jobs the workflow would run for its
plan, through the same job protocol, within a time budget — exercised on the CPU here (the
install path on Python 3.12 is `benchmarks/gpu_run.sh --dry-run`, which needs a Python 3.12
with torch and JAX, ~5 GB, and is run by hand)."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

from conftest import REPO, TRAINING
from spikemark.config import load
from spikemark.matrix import Plan

SMOKE = REPO / "benchmarks" / "gpu_smoke.yaml"


def _driver():
    spec = importlib.util.spec_from_file_location("gpu_run", REPO / "benchmarks" / "gpu_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_run = _driver()


def test_gpu_plan_is_the_default_config_on_cuda_with_the_published_workload():
    gpu_config = gpu_run.gpu_config([gpu_run.OVERLAY])
    plan, default = Plan(gpu_config), Plan(load(REPO / "config" / "config.yaml"))
    assert {s["hardware"] for s in plan.sweeps()} == {"cuda"}
    # every cuda cell of the default config is in it, plus SpikingJelly's fused backends and Sinabs
    default_cuda = [c for c in default.ml_cells() if c["hardware"] == "cuda"]
    assert all(c in plan.ml_cells() for c in default_cuda)
    assert {c["framework"] for c in plan.ml_cells()} - {c["framework"] for c in default_cuda} == {
        "spikingjelly-cuda",
        "spikingjelly-triton",
        "sinabs",
    }
    bench = plan.latency_settings("cuda")
    assert (
        bench["sizes"] == {"cuda": [4096, 8192, 16384]}
        and bench["timesteps"] == 500
        and bench["batch_size"] == 16
    )
    assert not gpu_config["simulation"]["enabled"]


def test_driver_jobs_leave_exactly_the_fragments_the_workflow_aggregates():
    plan = Plan(gpu_run.gpu_config([gpu_run.OVERLAY]))
    metrics, provenance = [], []
    for job in gpu_run.jobs(plan):
        found, prov = gpu_run.fragments(job)
        metrics += found
        provenance += prov
    assert sorted(metrics) == sorted(plan.metric_fragments()) and len(set(metrics)) == len(metrics)
    assert sorted(provenance) == sorted(plan.provenance_files())
    # the inputs it needs are the CPU run's datasets and pruned models, nothing it makes itself
    needed = gpu_run.inputs_of(plan)
    assert {p.split("/")[1] for p in needed} == {"data", "models"} and len(needed) == 2 + 2 * 3 * 5


def test_budget_spent_skips_every_job_with_the_reason(tmp_path):
    plan = Plan(gpu_run.gpu_config([gpu_run.OVERLAY, SMOKE], str(tmp_path / "gpu")))
    summary = gpu_run.run(plan, budget_s=-1.0)
    table = pd.read_csv(tmp_path / "gpu" / "metrics.csv", keep_default_na=False)
    assert summary["by_status"]["skipped"] == summary["cells"] > 0
    assert set(table.metric) == {"cell"} and table.reason.str.contains("time budget").all()
    assert (
        len(pd.read_csv(tmp_path / "gpu" / "provenance.csv")) == len(table) + 1
    )  # one per cell, and the aggregate


@pytest.mark.slow
def test_smoke_run_on_cpu_from_carried_inputs_merges_into_a_report(tmp_path):
    """Train tiny models as the CPU run would, carry them (--prepare), run the smoke plan from
    them, and load both result sets as one report does (~1 min)."""
    from spikemark import datasets
    from spikemark.convert import convert_ann2snn
    from spikemark.prune import prune_model
    from spikemark.report.load import load_results
    from spikemark.train import train_ann, train_snn

    cpu = tmp_path / "cpu"
    data = cpu / "data" / "digits.npz"
    datasets.prepare("digits", data, options={}, test_fraction=0.25)
    models = cpu / "models" / "digits" / "seed0"
    models.mkdir(parents=True)
    cfg = {"arch": "mlp", "hidden": [32]}
    train_ann(str(data), str(models / "ann.pt"), model_cfg=cfg, training=TRAINING, seed=0)
    convert_ann2snn(
        str(data),
        str(models / "ann.pt"),
        str(models / "ann2snn.pt"),
        normalisation="max",
        timesteps=[8, 16, 32, 64],
        seed=0,
    )
    train_snn(str(data), str(models / "surrogate.pt"), model_cfg=cfg, training=TRAINING, seed=0)
    for method in ("ann", "ann2snn", "surrogate"):
        prune_model(
            str(data),
            str(models / f"{method}.pt"),
            str(models / method / "none" / "pruned_s0.pt"),
            sparsity=0.0,
            method="none",
            finetune_epochs=0,
            training=TRAINING,
            seed=0,
        )
    carried, gpu = tmp_path / "carry", tmp_path / "gpu"
    assert (
        gpu_run.main(
            [
                "--overlay",
                str(SMOKE),
                "--results",
                str(tmp_path / "x"),
                "--prepare",
                str(cpu),
                "--carry",
                str(carried),
            ]
        )
        == 0
    )
    assert gpu_run.main(["--overlay", str(SMOKE), "--results", str(gpu), "--inputs", str(carried)]) == 0
    summary = json.loads((gpu / "summary.json").read_text())
    assert summary["by_status"]["failed"] == 0 and summary["by_status"]["ok"] >= 8
    table = load_results([gpu])
    ok = table[(table.metric == "accuracy") & (table.status == "ok")]
    assert set(ok.framework) == {"torch", "spikingjelly", "sinabs"} and set(ok.hardware) == {"cpu"}
    latency = table[(table.track == "latency") & (table.metric == "forward_time")]
    assert {"spikingjelly", "snntorch", "norse", "rockpool", "sinabs"} <= set(latency.framework)
    cells = table[table.metric == "cell"].set_index("framework")
    assert "CUDA" in cells.loc["spikingjelly-cuda", "reason"].iloc[0]
