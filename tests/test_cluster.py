"""The cluster profile's settings and the cost preview, without a cluster."""

from __future__ import annotations

from types import SimpleNamespace

import yaml

from conftest import REPO, run_snakemake
from spikemark import cluster, plan

CUDA = SimpleNamespace(hardware="cuda")
CPU = SimpleNamespace(hardware="cpu")


def test_profiles_are_where_snakemake_and_the_readme_expect_them():
    slurm = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert slurm["executor"] == "slurm" and slurm["slurm-status-command"] == "squeue"
    assert slurm["rerun-incomplete"] and slurm["retries"] >= 1 and slurm["latency-wait"] >= 30
    assert slurm["groups"] == {"deploy": "cell", "measure": "cell"}
    assert slurm["resources"]["timing"] > 1  # each job has its own allocation
    assert "gpu" in slurm["set-resources"]["measure"] and "gpu" in slurm["set-resources"]["deploy"]
    assert yaml.safe_load((REPO / "profiles/local/config.yaml").read_text())["resources"]["timing"] == 1
    # The workflow profile Snakemake loads for every run of this workflow: no cluster settings.
    workflow_profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert workflow_profile == {
        "rerun-incomplete": True,  # resume after kill -9 or Ctrl-C with the README's command
        "nolock": True,  # spikemark.runlock holds the results directory instead
        # The scheduler wakes only when a job ends, not every second beside a timed job.
        "max-jobs-per-timespan": "1000/1m",
    }
    assert not set(workflow_profile) & {"executor", "resources", "default-resources", "jobs", "cores"}
    assert 'ln -s "$PWD/profiles/slurm" ~/.config/snakemake/slurm' in (REPO / "README.md").read_text()


def test_partition_account_and_gpus_come_from_the_environment(monkeypatch):
    for name in ("PARTITION", "GPU_PARTITION", "ACCOUNT", "GPUS"):
        monkeypatch.delenv(f"SPIKEMARK_SLURM_{name}", raising=False)
    assert cluster.partition(CPU) == cluster.partition(CUDA) == cluster.account() == ""
    monkeypatch.setenv("SPIKEMARK_SLURM_PARTITION", "short")
    assert cluster.partition(CUDA) == "short" and cluster.partition(None) == "short"
    monkeypatch.setenv("SPIKEMARK_SLURM_GPU_PARTITION", "gpu")
    monkeypatch.setenv("SPIKEMARK_SLURM_ACCOUNT", "proj42")
    assert (cluster.partition(CPU), cluster.partition(CUDA), cluster.account()) == ("short", "gpu", "proj42")
    monkeypatch.setenv("SPIKEMARK_SLURM_GPUS", "2")
    assert (cluster.gpus(CPU), cluster.gpus(CUDA), cluster.gpus(SimpleNamespace())) == (0, 2, 0)


def test_no_gpu_is_requested_where_the_partition_has_no_gpu_gres(monkeypatch):
    monkeypatch.delenv("SPIKEMARK_SLURM_GPUS", raising=False)
    monkeypatch.setattr(cluster, "partition_has_gpus", lambda name="": False)
    assert cluster.gpus(CUDA) == 0
    monkeypatch.setattr(cluster, "partition_has_gpus", lambda name="": None)  # unknown: ask
    assert cluster.gpus(CUDA) == 1


DRY_RUN = """
[Wed Nov 25 20:10:21 2026]
rule measure:
    input: a
    jobid: 7
    wildcards: dataset=digits, hardware=cuda
    threads: 2
    resources: tmpdir=/tmp, mem_mb=4000, mem=4 GB, slurm_partition=gpu, slurm_account=, runtime=60, gpu=1, timing=1

[Wed Nov 25 20:10:21 2026]
rule measure:
    jobid: 8
    resources: tmpdir=/tmp, mem_mb=4000, slurm_partition=, runtime=60, gpu=0, timing=1

[Wed Nov 25 20:10:21 2026]
localrule all:
    jobid: 0
    resources: tmpdir=/tmp
"""


def test_plan_tables_jobs_and_requested_hours():
    jobs = plan.parse_dry_run(DRY_RUN)
    assert [(j.rule, j.threads) for j in jobs] == [("measure", 2), ("measure", 1), ("all", 1)]
    text = plan.summarise(jobs)
    assert "measure  2     1,2   4000    60           0,1   default,gpu" in text
    assert "2 jobs in 2 cluster jobs; at most 3.0 CPU-hours and 1.0 GPU-hours" in text


def test_plan_of_a_config_with_the_slurm_profile(monkeypatch):
    monkeypatch.setenv("SPIKEMARK_SLURM_GPUS", "1")  # as on a GPU cluster, whatever sinfo says here
    proc = run_snakemake("-n", "--profile", "profiles/slurm", "--configfile", "config/test.yaml", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = plan.parse_dry_run(proc.stdout + proc.stderr)
    measure = [j for j in jobs if j.rule == "measure"]
    # one job per sweep: 2 datasets x 3 method/framework pairs x 2 hardware (every pruning level inside)
    assert len(measure) == 12
    assert len({j.group for j in jobs if j.rule in ("deploy", "measure")}) == 12  # one Slurm job per sweep
    assert sorted(j.number("gpu") for j in measure) == [0] * 6 + [1] * 6
    assert {j.resources["runtime"] for j in measure} == {"60"} and {  # 20 min per level, 3 levels
        j.resources["mem_mb"] for j in measure
    } == {"4000"}
