"""Shared fixtures: tiny real datasets and models, built once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TRAINING = {
    "device": "cpu",
    "epochs": 3,
    "snn_epochs": 2,
    "batch_size": 64,
    "lr": 0.003,
    "snn_lr": 0.01,
    "snn_timesteps": 4,
    "seeds": [0],
}


#: Lines a test wants in the run's final summary (e.g. the real Slurm's sbatch job ids, so
#: the CI log shows them); pytest captures ordinary prints of passing tests.
SUMMARY_LINES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for line in SUMMARY_LINES:
        terminalreporter.write_line(line)


def snakemake_bin() -> str:
    candidate = Path(sys.executable).with_name("snakemake")
    return str(candidate) if candidate.exists() else shutil.which("snakemake")


def run_snakemake(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run the real snakemake CLI from the repository root."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [snakemake_bin(), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    from spikemark import datasets

    root = tmp_path_factory.mktemp("data")
    datasets.prepare("digits", root / "digits.npz", options={}, test_fraction=0.25)
    datasets.prepare(
        "randman",
        root / "randman.npz",
        options={"n_classes": 3, "n_inputs": 20, "n_steps": 20, "samples_per_class": 40, "seed": 7},
        test_fraction=0.25,
    )
    return root


@pytest.fixture(scope="session")
def digits_models(data_dir, tmp_path_factory) -> dict[str, Path]:
    """ANN, converted SNN and surrogate SNN on digits (small and fast, but real)."""
    from spikemark.convert import convert_ann2snn
    from spikemark.train import train_ann, train_snn

    root = tmp_path_factory.mktemp("models")
    cfg = {"arch": "mlp", "hidden": [32]}
    paths = {m: root / f"{m}.pt" for m in ("ann", "ann2snn", "surrogate")}
    train_ann(str(data_dir / "digits.npz"), str(paths["ann"]), model_cfg=cfg, training=TRAINING, seed=0)
    convert_ann2snn(
        str(data_dir / "digits.npz"), str(paths["ann"]), str(paths["ann2snn"]), normalisation="max", timesteps=[4, 32], seed=0
    )
    train_snn(str(data_dir / "digits.npz"), str(paths["surrogate"]), model_cfg=cfg, training=TRAINING, seed=0)
    return paths


def measure_on_spikingjelly_and(framework: str, data: str, model: str, method: str, tmp_path: Path):
    """Deploy and measure ``model`` on SpikingJelly and on ``framework`` (CPU, T=4 for a
    converted SNN); the two metric tables, indexed by metric: (spikingjelly, framework)."""
    import pandas as pd

    from spikemark.deploy import deploy
    from spikemark.measure.cell import measure

    cfg = {"warmup": 0, "repeats": 2, "batch_size": 128, "threads": 1,
           "energy": {"meters": [], "estimates": ["estimate-ops"], "tdp_watts": None, "ops_preset": "45nm-fp32",
                      "idle_seconds": 0.0}}
    tables = {}
    for fw in ("spikingjelly", framework):
        record = tmp_path / f"{fw}.json"
        deploy(data, model, str(record), framework=fw, hardware_name="cpu", conversion_timesteps=[4],
               agreement_threshold=0.99)
        coords = {"dataset": "digits", "method": method, "sparsity": 0.0, "framework": fw, "hardware": "cpu", "seed": 0}
        measure(data, model, str(record), str(tmp_path / f"{fw}.csv"), coords=coords, measure_cfg=cfg,
                conversion_timesteps=[4])
        tables[fw] = pd.read_csv(tmp_path / f"{fw}.csv", keep_default_na=False).set_index("metric")
    return tables["spikingjelly"], tables[framework]
