"""config/paper.yaml, the full paper matrix, and real datasets through the real workflow."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

import stand_ins
from conftest import REPO, run_snakemake
from spikemark import datasets
from spikemark.config import load
from spikemark.frameworks import for_method
from spikemark.matrix import pruning_levels
from spikemark.models import ARCHITECTURES

PAPER = REPO / "config" / "paper.yaml"


def paper_cells(cfg) -> int:
    per_dataset = sum(len(for_method(m, cfg["frameworks"])) for m in cfg["methods"])
    levels = pruning_levels(cfg["pruning"]["methods"], cfg["pruning"]["sparsity"])
    return per_dataset * len(cfg["datasets"]) * len(cfg["hardware"]) * len(levels) * len(cfg["training"]["seeds"])


def test_paper_config_is_valid_and_complete():
    cfg = load(PAPER)
    assert set(cfg["datasets"]) == set(datasets.REGISTRY)
    assert cfg["methods"] == ["ann", "ann2snn", "surrogate"] and cfg["hardware"] == ["cpu", "cuda"]
    assert 0.0 in cfg["pruning"]["sparsity"] and len(cfg["training"]["seeds"]) == 3
    assert cfg["pruning"]["methods"] == ["global_magnitude", "lamp"]
    assert {m["arch"] for m in cfg["models"].values()} <= set(ARCHITECTURES)
    assert set(cfg["models"]) == set(cfg["datasets"])
    sim = cfg["simulation"]
    assert {"N": 1.0, "K": 1.0} in sim["scales"] and len(sim["scales"]) > 1
    assert sim["t_presim_ms"] == 500 and sim["t_sim_ms"] >= 10_000 and len(sim["seeds"]) == 10
    assert "snntorch" in PAPER.read_text()  # where the NIR frameworks go


@pytest.mark.slow
def test_paper_dry_run_lists_every_cell(tmp_path):
    """`snakemake -n --configfile config/paper.yaml` (~30 s for ~2 250 jobs on a busy 2-core machine)."""
    cfg = load(PAPER)
    proc = run_snakemake("all", "download", "-n", "--quiet", "rules", "--configfile", str(PAPER), "--config",
                         f"results_dir={tmp_path}", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, re.M)}
    levels = pruning_levels(cfg["pruning"]["methods"], cfg["pruning"]["sparsity"])
    assert paper_cells(cfg) == 6864  # 13 method x framework pairs, 11 pruning levels
    # one deploy and one measure job per sweep: every pruning level of a model on one target
    assert counts["measure"] == counts["deploy"] == paper_cells(cfg) // len(levels)
    assert counts["prepare_dataset"] == len(cfg["datasets"])
    assert counts["download_dataset"] == sum(datasets.needs_download(d) for d in cfg["datasets"]) == 6
    assert counts["train_ann"] == counts["train_snn"] == len(cfg["datasets"]) * 3


@pytest.mark.slow
def test_real_dataset_cells_run_or_skip_with_reason(tmp_path):
    """The workflow on two downloaded datasets, offline. STAND-INS: a local HTTP server
    serves small MNIST-format files (mnist, with their own checksums in the config); the
    fashion_mnist mirror is a closed port, so its cells must say skipped, with the reason."""
    (tmp_path / "mirror").mkdir()
    stand_ins.write_mnist(tmp_path / "mirror" / "mnist", n_train=40, n_test=20)
    checksums = {f.filename: stand_ins.md5(tmp_path / "mirror" / "mnist" / f.filename) for f in datasets.get("mnist").files}
    with stand_ins.StandInServer(tmp_path / "mirror") as server:
        config = {
            "results_dir": str(tmp_path / "results"),
            "datasets": ["mnist", "fashion_mnist"],
            "methods": ["ann", "ann2snn"],  # surrogate on real data: test_architectures (minutes saved)
            "hardware": ["cpu"],
            "data": {"cache_dir": str(tmp_path / "cache"), "mirror": stand_ins.closed_port_url()},
            "models": {"mnist": {"arch": "cnn", "channels": [4], "hidden": [16]}, "fashion_mnist": {"arch": "mlp", "hidden": [16]}},
            "dataset_options": {"mnist": {"url": f"{server.url}/mnist", "checksums": checksums}},
            "training": {"epochs": 1, "snn_epochs": 1, "snn_timesteps": 2, "seeds": [0]},
            "conversion": {"timesteps": [4]},
            "pruning": {"sparsity": [0.0]},
            "measure": {"warmup": 0, "repeats": 1, "batch_size": 8, "energy": {"meters": [], "estimates": [], "idle_seconds": 0}},
            "simulation": {"enabled": False},
            "robustness": {"enabled": False},
        }
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        proc = run_snakemake(str(tmp_path / "results" / "metrics.csv"), "-c", "2", "--configfile", str(path), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(tmp_path / "results" / "metrics.csv", keep_default_na=False)
    skipped = table[table.dataset == "fashion_mnist"]
    assert set(skipped.metric) == {"cell"} and set(skipped.status) == {"skipped"} and len(skipped) == 2
    assert skipped.reason.str.contains("cannot download").all()
    ran = table[(table.dataset == "mnist") & (table.metric == "accuracy")]
    assert set(ran.method) == {"ann", "ann2snn"} and set(ran.status) == {"ok"}
    assert (tmp_path / "cache" / "mnist" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()  # torchvision's layout
