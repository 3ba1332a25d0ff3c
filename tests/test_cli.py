"""The `spikemark` console script that the README's install puts beside the interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

SCRIPT = Path(sys.executable).with_name("spikemark")


def spikemark(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}  # this checkout's package first
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=env)


pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason=f"{SCRIPT} not installed (pip install -e .)")


def test_help_lists_every_command():
    proc = spikemark("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "plan", "check", "rerun", "report", "config-docs", "build-nest"):
        assert command in proc.stdout


def test_check_counts_a_valid_config_and_names_the_key_of_a_wrong_one(tmp_path):
    proc = spikemark("check", "config/test.yaml")
    assert proc.returncode == 0 and "valid; 36 ML cells in 12 sweeps" in proc.stdout, proc.stdout + proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [digits, nonsense]\n")
    proc = spikemark("check", str(bad))
    assert proc.returncode == 2 and "datasets.1" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_plan_tables_the_jobs_of_a_config():
    proc = spikemark("plan", "--configfile", "config/test.yaml", "--config", "results_dir=/tmp/spikemark-cli-plan")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0].split()[:2] == ["rule", "jobs"]
    assert any(line.split()[:2] == ["measure", "12"] for line in proc.stdout.splitlines())


def test_config_docs_is_the_config_readme():
    proc = spikemark("config-docs")
    assert proc.returncode == 0 and proc.stdout == (REPO / "config" / "README.md").read_text()
