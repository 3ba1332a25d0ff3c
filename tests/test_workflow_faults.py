"""Faults and bad input, as a user meets them: through the snakemake CLI (README commands)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

from conftest import REPO, run_snakemake, snakemake_bin

#: A small matrix (one dataset, the ANN and its conversion, two pruning levels, CPU only,
#: no simulation or latency track): a full run takes about a minute.
SMALL = {
    "datasets": ["digits"],
    "methods": ["ann", "ann2snn"],
    "hardware": ["cpu"],
    "models": {"digits": {"arch": "mlp", "hidden": [16]}},
    "training": {"epochs": 2, "seeds": [0]},
    "conversion": {"timesteps": [4]},
    "pruning": {"methods": ["lamp"], "sparsity": [0.0, 0.5]},
    "measure": {"warmup": 0, "repeats": 2, "batch_size": 16,
                "energy": {"meters": [], "estimates": ["estimate-ops"], "idle_seconds": 0.0}},
    "simulation": {"enabled": False},
    "latency_benchmark": {"enabled": False},
    "robustness": {"enabled": False},
}  # fmt: skip
#: Metrics that depend on the models and data only, not on the machine's speed.
DETERMINISTIC = ("accuracy", "effective_macs", "effective_acs", "parameter_count", "connection_sparsity")


def write_config(tmp_path: Path, name: str, **overrides) -> Path:
    config = {**SMALL, "results_dir": str(tmp_path / name), **overrides}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def readme_command(config: Path) -> list[str]:
    """The README's run command, on a config file."""
    return [snakemake_bin(), "-c", "2", "--configfile", str(config)]


def deterministic_rows(results: Path) -> pd.DataFrame:
    table = pd.read_csv(results / "metrics.csv", dtype=str, keep_default_na=False)
    rows = table[table.metric.isin(DETERMINISTIC)]
    keys = ["dataset", "method", "framework", "hardware", "pruning", "sparsity", "timesteps", "metric", "source"]
    return rows[[*keys, "value", "status"]].sort_values(keys).reset_index(drop=True)


def kill_tree(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    """``sig`` to the run and every process it started (its jobs), by PID."""
    family = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, sig)
    if sig == signal.SIGKILL:
        for child in family:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
    proc.wait(timeout=120)


def wait_for_steps(proc: subprocess.Popen, log: Path, done: int, timeout: float = 600) -> None:
    """Until the run's log says ``done`` steps finished (Snakemake's "x of y steps")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        steps = [int(line.split(" of ")[0]) for line in text.splitlines() if " steps (" in line and " of " in line]
        if steps and steps[-1] >= done:
            return
        assert proc.poll() is None, text[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"fewer than {done} steps after {timeout} s")


@pytest.mark.slow
def test_killed_and_interrupted_runs_resume_with_the_readme_command(tmp_path):
    """kill -9 mid-run, a second run beside a live one, Ctrl-C, then the plain command: the
    resumed results equal an uninterrupted run's."""
    reference = write_config(tmp_path, "uninterrupted")
    proc = subprocess.run(readme_command(reference), cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]

    config = write_config(tmp_path, "killed")
    log = tmp_path / "first.log"
    with log.open("w") as fh:
        first = subprocess.Popen(readme_command(config), cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, text=True)
    wait_for_steps(first, log, 3)
    # A second run on the same results directory while the first is alive: refused, plainly.
    second = subprocess.run(readme_command(config), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert second.returncode != 0
    assert "another run holds results directory" in second.stderr and f"pid {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    kill_tree(first)  # kill -9: no clean-up at all, jobs killed mid-write

    log = tmp_path / "third.log"
    with log.open("w") as fh:
        third = subprocess.Popen(readme_command(config), cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, text=True)
    wait_for_steps(third, log, 2)
    kill_tree(third, signal.SIGINT)  # Ctrl-C

    resumed = subprocess.run(readme_command(config), cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "spikemark: " in resumed.stderr and " 0 failed" in resumed.stderr
    pd.testing.assert_frame_equal(deterministic_rows(tmp_path / "killed"), deterministic_rows(tmp_path / "uninterrupted"))


@pytest.mark.slow
def test_failed_cells_keep_the_run_failing_until_they_are_fixed(tmp_path):
    config = write_config(tmp_path, "failing")
    results = tmp_path / "failing"
    assert run_snakemake(*readme_command(config)[1:]).returncode == 0
    victim = results / "models/digits/seed0/ann2snn/lamp/pruned_s0.5.pt"
    victim.write_bytes(b"not a checkpoint")
    first = run_snakemake(*readme_command(config)[1:])
    assert first.returncode != 0 and "1 failed" in first.stderr
    assert "corrupt checkpoint" in first.stderr and "pruned_s0.5.pt" in first.stderr  # the reason names the file
    again = run_snakemake(*readme_command(config)[1:])  # nothing else to do: still failing, still saying why
    assert again.returncode != 0 and "1 failed" in again.stderr and "spikemark rerun --failed" in again.stderr
    assert "cells/digits/ann2snn/lamp/s0.5/spikingjelly/cpu/seed0/metrics.csv" in again.stderr
    failed = pd.read_csv(results / "metrics.csv", keep_default_na=False)
    assert (failed.status == "failed").sum() == 1
    assert "<table" in (results / "report" / "index.html").read_text()  # the report still rendered
    # Deleting the cell's files alone re-runs nothing: Snakemake keeps what is downstream.
    # The fix, as the message says: remove the cause (the broken model), then `spikemark rerun`.
    victim.unlink()
    command = [str(Path(snakemake_bin()).with_name("spikemark")), "rerun", "--failed", "--results", str(results),
               "-c", "2", "--configfile", str(config)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    fixed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800, env=env)
    assert fixed.returncode == 0 and " 0 failed" in fixed.stderr, fixed.stderr[-2000:]
    assert json.loads((results / "summary.json").read_text())["by_status"]["failed"] == 0


@pytest.mark.slow
def test_a_missing_metrics_table_is_rebuilt_for_the_report(tmp_path):
    config = write_config(tmp_path, "report")
    results = tmp_path / "report"
    assert run_snakemake(*readme_command(config)[1:]).returncode == 0
    (results / "metrics.csv").unlink()
    proc = run_snakemake("report", *readme_command(config)[1:])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (results / "metrics.csv").exists() and "Nothing to be done" not in proc.stderr, proc.stderr[-3000:]


BAD = [
    ({"training": {"seeds": [0, 0]}}, "training.seeds"),
    ({"conversion": {"timesteps": [4, 4]}}, "conversion.timesteps"),
    ({"pruning": {"sparsity": [0.0, 0.5, 0.5000001]}}, "pruning.sparsity"),
    ({"robustness": {"enabled": True, "sparsity": [0.7]}}, "robustness.sparsity"),
    ({"robustness": {"enabled": True, "frameworks": ["norse"]}}, "robustness.frameworks"),
    ({"datasets": []}, "datasets"),
    ({"simulation": {"enabled": True, "seeds": [1001]}}, "simulation.validation.reference_seeds"),
    ({"training": {"lr": float("nan")}}, "training.lr"),
    ({"measure": {"energy": {"tdp_watts": float("inf")}}}, "measure.energy.tdp_watts"),
    ({"pruning": {"sparsity": [i / 1000 for i in range(999)]}}, "max_cells"),
    ({"simulation": {"enabled": True, "threads": [1, 1]}}, "simulation.threads"),
]


@pytest.mark.parametrize("bad, key", BAD, ids=[key for _, key in BAD])
def test_malformed_configs_stop_before_any_job_with_one_line(tmp_path, bad, key):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"results_dir": str(tmp_path / "out"), **bad}))
    proc = run_snakemake("-n", "--configfile", str(path), timeout=300)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("spikemark:")]
    assert len(lines) == 1 and f"config key '{key}'" in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


def test_results_dir_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("")
    proc = run_snakemake("-n", "--config", f"results_dir={target}", timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "config key 'results_dir'" in proc.stderr and "is a file" in proc.stderr


def test_nested_command_line_values_of_the_right_shape_are_accepted(tmp_path):
    proc = run_snakemake("-n", "--config", f"results_dir={tmp_path}/out", "measure={repeats: 7, energy: {tdp_watts: 95}}",
                         "simulation={enabled: false}", timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
