"""The workflow on a real Slurm, through the literal `snakemake --profile slurm`.

Runs only where a Slurm answers (`sinfo`); `.ci/run` starts a single-node one
(`.ci/slurm-up.sh`) so that in CI this always runs. The profile is this checkout's
`profiles/slurm`, found the way the README's set-up makes it found: as
`$XDG_CONFIG_HOME/snakemake/slurm` (here a temporary config directory, so a user's own
`~/.config/snakemake/slurm` is neither used nor touched).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, SUMMARY_LINES

SUBMITTED = re.compile(
    r"has been submitted with SLURM jobid (\d+) \(log: \S*/slurm/((?:rule|group)_[^/\s]+)/"
)
# Beyond the profile's `cell` group (deploy + measure of one sweep), the test runs the model
# chain as one Slurm job, the aggregate with the simulation page as another, and the other
# pages in a third group, where each page (they do not depend on each other) is its own
# job: no Slurm job asks for more CPUs than the single node has.
GROUPS = [
    "prepare_dataset=model", "train_ann=model", "convert_ann2snn=model", "prune=model",
    "deploy=cell", "measure=cell", "aggregate=summary", "report_simulation=summary",
    "report_dataset=pages", "report=pages",
]  # fmt: skip


@functools.lru_cache(maxsize=None)
def slurm_answers() -> str | None:
    """None if a Slurm with an idle or busy node answers here, else why not."""
    if shutil.which("sinfo") is None:
        return "no sinfo on PATH (start one with .ci/slurm-up.sh)"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"sinfo failed: {err}"
    if out.returncode != 0:
        return f"sinfo does not answer: {(out.stderr.strip().splitlines() or ['?'])[-1]}"
    if not re.search(r"idle|mix|alloc", out.stdout):
        return f"no usable Slurm node: {out.stdout.split()}"
    return None


pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(slurm_answers() is not None, reason=f"no Slurm here: {slurm_answers()}"),
]


CONFIG = yaml.safe_load((REPO / "config/slurm-test.yaml").read_text())
# One framework per method (`torch` for ann, the one SNN framework otherwise): cells per hardware.
CELLS_PER_HARDWARE = len(CONFIG["datasets"]) * len(CONFIG["methods"]) * len(CONFIG["frameworks"])
N_CELLS = CELLS_PER_HARDWARE * len(CONFIG["hardware"])


def job_name(logdir: str) -> str:
    """`rule_measure` -> `measure`; `group_cell_deploy_measure` -> `group_cell`."""
    if logdir.startswith("rule_"):
        return logdir.removeprefix("rule_")
    return "_".join(logdir.split("_")[:2])


def scontrol_job(job_id: str) -> str:
    return subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout


def run_with_slurm(tmp_path_factory, configfile: str, groups: list[str], label: str):
    """``snakemake --profile slurm`` (the README's way) on ``configfile``; its sbatch job ids."""
    out = tmp_path_factory.mktemp("slurm-results")
    xdg = tmp_path_factory.mktemp("xdg")
    (xdg / "snakemake").mkdir()
    (xdg / "snakemake" / "slurm").symlink_to(REPO / "profiles" / "slurm")
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(xdg),
        # Jobs inherit this environment (sbatch --export=ALL): same interpreter, this checkout.
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        "snakemake", "--profile", "slurm",
        "--configfile", configfile,
        "--config", f"results_dir={out}",
        "--slurm-logdir", str(out / "logs" / "slurm"),
        "--slurm-keep-successful-logs",
        # One node, short jobs: poll often (the profile keeps the plugin's 40 s default).
        "--slurm-init-seconds-before-status-checks", "3",
        "--groups", *groups,
    ]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - start
    submitted = [(job, job_name(name)) for job, name in SUBMITTED.findall(proc.stderr)]
    SUMMARY_LINES.append(
        f"real Slurm ({label}): snakemake --profile slurm exit {proc.returncode} after {elapsed:.0f} s; "
        "sbatch job ids: " + " ".join(f"{name}={job}" for job, name in submitted)
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out, proc, submitted


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    return run_with_slurm(tmp_path_factory, "config/slurm-test.yaml", GROUPS, "ML cells")


def test_every_job_went_through_sbatch(slurm_run):
    out, proc, submitted = slurm_run
    assert re.search(r"Using profiles? slurm", proc.stderr)  # with the workflow profile: "profiles slurm and …"
    names = sorted(name for _, name in submitted)
    # A group is one Slurm job per connected piece of the DAG: the pages do not depend on each
    # other (the overview links to the dataset pages by name), so each page is its own job.
    pages = len(CONFIG["datasets"]) + 1
    assert names == ["group_cell"] * N_CELLS + ["group_model"] + ["group_pages"] * pages + ["group_summary"], names
    for job_id, _ in submitted:
        assert "JobState=COMPLETED" in scontrol_job(job_id), scontrol_job(job_id)
    assert (out / "metrics.csv").exists() and (out / "metrics.nc").exists()
    assert "<table" in (out / "report" / "index.html").read_text()


def test_results_carry_their_slurm_job_ids(slurm_run):
    out, _, submitted = slurm_run
    prov = pd.read_csv(out / "provenance.csv", keep_default_na=False, dtype=str)
    prov = prov[prov.rule != "aggregate"]  # the aggregate's own row (its job id is the summary's)
    measure_ids = {job for job, name in submitted if name == "group_cell"}
    assert len(prov) == N_CELLS
    assert (prov.slurm_job_id != "").all()
    assert set(prov.slurm_job_id) == measure_ids


def test_cells_ran_or_were_skipped_with_reason(slurm_run):
    out, _, _ = slurm_run
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False)
    cpu = table[table.hardware == "cpu"]
    assert set(cpu.status) <= {"ok", "unavailable"}
    assert (cpu[cpu.metric == "accuracy"].value.astype(float) > 0.2).all()
    cuda_cells = table[(table.hardware == "cuda") & (table.metric == "cell")]
    if len(cuda_cells):  # a node without CUDA: skipped with the reason, not a crash
        assert set(cuda_cells.status) == {"skipped"} and (cuda_cells.reason != "").all()


def test_cuda_cells_requested_a_gpu_where_the_cluster_has_one(slurm_run):
    _, _, submitted = slurm_run
    gres = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True).stdout
    jobs = {job: scontrol_job(job) for job, name in submitted}
    with_gpu = [job for job, text in jobs.items() if re.search(r"TresPerJob=\S*gpu[:=]1", text)]
    # The cuda cells ask for a GPU where a partition has gpu GRES, none otherwise.
    assert len(with_gpu) == (CELLS_PER_HARDWARE if "gpu" in gres else 0), jobs


def test_slurm_energy_is_unavailable_with_reason_without_energy_accounting(slurm_run):
    out, _, _ = slurm_run
    config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True).stdout
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False)
    slurm = table[(table.source == "slurm") & (table.hardware == "cpu")]
    assert len(slurm) > 0
    if re.search(r"AcctGatherEnergyType\s*=\s*acct_gather_energy/none", config):
        assert set(slurm.status) == {"unavailable"}
        assert slurm.reason.str.contains("does not account energy").all()
        assert (slurm.value == "").all()
    else:  # an energy-accounting cluster: a value, or the reason it could not be read
        assert ((slurm.status == "ok") | (slurm.reason != "")).all()


def nest_mpi_missing() -> str | None:
    from spikemark.simulation.mpi import mpi_unavailable_reason

    return mpi_unavailable_reason()


# The aggregate with the simulation page as one Slurm job, the overview as another; the
# validation runs stay apart (grouped, their CPUs would add up beyond the node's).
MPI_GROUPS = ["aggregate=summary", "report_simulation=summary"]


@pytest.mark.mpi
def test_a_two_rank_pd14_run_is_one_slurm_job_of_two_tasks(tmp_path_factory):
    """config/slurm-mpi-test.yaml: one PD14 run of 2 ranks x 1 thread through the profile;
    its Slurm job has 2 tasks, its ranks are srun's tasks, its rows carry ranks and threads."""
    why = nest_mpi_missing()
    if why:
        pytest.skip(why)
    out, _, submitted = run_with_slurm(tmp_path_factory, "config/slurm-mpi-test.yaml", MPI_GROUPS, "2-rank PD14")
    simulate = [job for job, name in submitted if name == "simulate_pd14"]
    assert len(simulate) == 1
    record = scontrol_job(simulate[0])
    assert re.search(r"NumTasks=2\b", record), record
    SUMMARY_LINES.append(f"real Slurm 2-rank PD14 job {simulate[0]}: " + " ".join(
        f for f in record.split() if f.startswith(("NumTasks=", "NumCPUs=", "CPUs/Task=", "NodeList="))
    ))  # fmt: skip
    prov = pd.read_csv(out / "provenance.csv", keep_default_na=False, dtype=str)
    run = prov[prov.rule == "simulate_pd14"].iloc[0]
    assert float(run.mpi_ranks) == 2 and float(run.threads_per_rank) == 1 and run.mpi_nodes
    assert run.mpi_command.startswith("srun") or "/srun " in run.mpi_command
    assert run.slurm_job_id == simulate[0]
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False)
    rtf = table[(table.metric == "rtf") & (table.variant == "")]
    assert list(rtf.ranks.astype(int)) == [2] and list(rtf.threads.astype(int)) == [1]
    assert set(table[table.metric == "spike_count"].variant) == {"", "rank0", "rank1"}
