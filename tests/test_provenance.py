"""Provenance records: every field the results promise, NEST build info when NEST ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from spikemark import provenance

SRC = Path(__file__).resolve().parents[1] / "src"
REQUIRED = (
    "run_id",
    "host",
    "cpu_model",
    "cpu_cores",
    "cpu_physical_cores",
    "gpu_model",
    "gpu_driver",
    "packages",
    "git_commit",
    "config_hash",
    "nest_build_info",
    "slurm_job_id",
    "start",
    "end",
)


def test_collect_has_every_field(tmp_path):
    started = provenance.utc_now()
    record = provenance.collect(
        "abc123", config_hash=provenance.config_hash({"b": 1, "a": [1, 2]}), started=started, stage="measure"
    )
    assert set(REQUIRED) <= set(record)
    assert record["run_id"] == "abc123" and record["stage"] == "measure"
    assert record["cpu_cores"] >= 1 and record["cpu_model"]
    assert record["config_hash"] == provenance.config_hash({"a": [1, 2], "b": 1})
    assert json.loads(record["packages"])["torch"]
    assert record["start"] == started and record["end"] >= started
    path = tmp_path / "prov" / "abc123.json"
    provenance.write(record, path)
    assert json.loads(path.read_text())["run_id"] == "abc123"


#: The machine-state columns the report's Machines table reads.
MACHINE_STATE = (
    "cpu_model", "cpu_cores", "smt", "cpu_governor", "cpu_mhz", "cpu_max_mhz", "load_before", "load_after", "steal",
    "cgroup_cpu_quota", "memory_bytes",
)


def test_machine_state_of_a_run():
    before = provenance.machine_snapshot()
    record = provenance.collect("abc123", machine_before=before)
    assert set(MACHINE_STATE) <= set(record)
    assert record["cpu_cores"] >= 1 and record["memory_bytes"] > 0
    assert record["smt"] in ("on", "off", "")
    assert isinstance(record["load_before"], float) and isinstance(record["load_after"], float)
    assert record["steal"] == "" or 0 <= record["steal"] <= 1
    assert record["cgroup_cpu_quota"] == "" or record["cgroup_cpu_quota"] > 0
    json.dumps(record)  # a provenance file holds it
    assert provenance.collect("x")["load_before"] == ""  # no snapshot, no guess


def test_machine_state_from_a_stand_in_sysfs(tmp_path):
    """sysfs in the kernel's layout (cpufreq in kHz, the SMT switch, the online list)."""
    cpu = tmp_path / "devices/system/cpu"
    for i, (governor, current) in enumerate((("performance", 2_400_000), ("powersave", 1_200_000))):
        freq = cpu / f"cpu{i}" / "cpufreq"
        freq.mkdir(parents=True)
        (freq / "scaling_governor").write_text(governor + "\n")
        (freq / "scaling_cur_freq").write_text(f"{current}\n")
        (freq / "cpuinfo_max_freq").write_text("3500000\n")
    (cpu / "smt").mkdir()
    (cpu / "smt" / "active").write_text("1\n")
    (cpu / "online").write_text("0-3,6\n")
    assert provenance.cpu_frequency(tmp_path) == {
        "cpu_governor": "performance/powersave", "cpu_mhz": 1800.0, "cpu_max_mhz": 3500.0,
    }
    assert provenance.smt_state(tmp_path) == "on" and provenance.cpus_online(tmp_path) == 5
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\ncpu MHz\t\t: 2600.000\nsiblings\t: 4\ncpu cores\t: 4\n")
    empty = tmp_path / "empty"
    assert provenance.smt_state(empty, cpuinfo) == "off"
    assert provenance.cpu_frequency(empty, cpuinfo) == {"cpu_governor": "", "cpu_mhz": 2600.0, "cpu_max_mhz": ""}


def test_no_nest_no_nest_info():
    if "nest" not in sys.modules:
        assert provenance.nest_info() == {"nest_build": "", "nest_build_info": "", "nest_kernel": ""}


def test_nest_build_info_when_nest_is_used():
    """In a fresh process that imports NEST (it cannot be unloaded from this one)."""
    code = (
        "import json, nest; nest.SetKernelStatus({'local_num_threads': 2});"
        "from spikemark import provenance;"
        "print(json.dumps(provenance.collect('nest-run')))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    record = json.loads(out.stdout.strip().splitlines()[-1])
    build = json.loads(record["nest_build_info"])
    assert build["version"] == "3.10.0" and build["threads_model"] == "openmp"
    # the summary says the same as NEST's own build info: MPI on (CI's build) or off (PyPI wheel)
    summary = json.loads(record["nest_build"])
    assert summary["mpi"] is build["have_mpi"] and summary["openmp"] is True
    assert bool(summary["mpi_library"]) is build["have_mpi"]
    assert json.loads(record["nest_kernel"])["local_num_threads"] == 2


def test_slurm_job_recorded(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "node01")
    record = provenance.collect("r")
    assert record["slurm_job_id"] == "4242" and record["slurm_nodelist"] == "node01"


def test_nest_threads_of_the_run_survive_the_kernel_reset():
    """A run resets NEST's kernel when it closes; provenance must still say 2 threads, not 1."""
    code = (
        "import json; from spikemark import provenance;"
        "from spikemark.simulation.pd14_params import PD14Config; from spikemark.simulation.run import run_pd14;"
        "run_pd14(PD14Config(N_scaling=0.02, K_scaling=0.02, t_presim_ms=0.0, t_sim_ms=20.0, threads=2), 'nest');"
        "print(json.dumps(provenance.collect('nest-run')))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_WAIT_POLICY": "PASSIVE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, check=True)
    record = json.loads(out.stdout.strip().splitlines()[-1])
    assert json.loads(record["nest_kernel"])["local_num_threads"] == 2
