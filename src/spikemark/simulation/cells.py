"""What one simulation-track job does: run or validate a cell and write its fragment.

The workflow's job scripts hand these stage functions to :func:`spikemark.pipeline.run_stage`
(the job protocol of both tracks: logs, failure tombstones, provenance); tests call them
directly. Whether a cell can run at all (MPI) is decided here, at job run time.

``network`` is what builds and runs the network — ``drive``, ``bg_rate``, ``t_presim_ms``,
``t_sim_ms`` and, for PyNN, ``pynn_stock_bookkeeping`` — as ``spikemark.matrix.Plan``
slices it from the config's ``simulation`` section.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Sequence

from spikemark.matrix import parse_scale
from spikemark.pipeline import mark
from spikemark.results import ResultSet
from spikemark.simulation.pd14_params import PD14Config

HARDWARE = "cpu"


def network_config(
    scale: str, threads: int, seed: int, network: dict[str, Any], *, record_spikes: bool = False
) -> PD14Config:
    """The :class:`PD14Config` of one run."""
    n, k = parse_scale(scale)
    return PD14Config(
        N_scaling=n,
        K_scaling=k,
        drive=network["drive"],
        bg_rate=float(network["bg_rate"]),
        t_presim_ms=float(network["t_presim_ms"]),
        t_sim_ms=float(network["t_sim_ms"]),
        seed=int(seed),
        threads=int(threads),
        record_spikes=record_spikes,
        extra={"pynn_stock_bookkeeping": bool(network.get("pynn_stock_bookkeeping", False))},
    )


def mpi_unavailable_reason() -> str | None:
    """Why multi-process (MPI) cells cannot run here, or None if they can."""
    from spikemark.simulation.pd14_nest import import_nest

    nest = import_nest()
    info = nest.GetKernelStatus("build_info")
    if not info.get("have_mpi", False):
        return (
            f"NEST {info.get('version', '?')} here was built without MPI (build_info.have_mpi is false); "
            "multi-process cells need an MPI build of NEST (envs/nest.yaml on a cluster)"
        )
    if shutil.which("mpiexec") is None and shutil.which("mpirun") is None:
        return "NEST has MPI but neither mpiexec nor mpirun is on PATH"
    return None


def _summary(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def read_validity(verdict_json: str | Path | None) -> tuple[str, str]:
    """The (status, reason) the timed runs of a configuration inherit from its validation."""
    if not verdict_json:
        return ("ok", "")
    try:
        verdict = json.loads(Path(verdict_json).read_text())
    except (OSError, ValueError) as exc:
        return ("invalid", f"validation verdict unreadable: {exc}")
    if verdict.get("status") == "ok":
        return ("ok", "")
    reasons = verdict.get("reasons") or [verdict.get("reason", "")]
    return ("invalid", "validation " + verdict.get("status", "?") + ": " + "; ".join(reasons))


# -- timed runs ---------------------------------------------------------------------------------
def simulate(
    verdict: str | Path | None,
    metrics: str | Path,
    *,
    coords: dict[str, Any],
    network: dict[str, Any],
    tdp_watts_per_core: float | None = None,
    measure_cfg: dict[str, Any] | None = None,
) -> ResultSet:
    """One timed run (no spikes recorded) of the cell ``coords`` names; writes its fragment.

    ``coords`` holds ``framework``, ``scale``, ``ranks``, ``threads`` and ``seed``;
    ``verdict`` is the tier-1 validation verdict of its network configuration;
    ``measure_cfg`` the energy meters (``energy``) and the contention guard's settings
    (``contention``) of ``measure``, as ``spikemark.matrix.Plan.sim_measure_settings``
    slices them.
    """
    from spikemark.measure.contention import guard_for
    from spikemark.simulation.run import network_class, pd14_metering, record_rows, run_pd14

    results = ResultSet("simulation", coords=dict(coords, hardware=HARDWARE))
    ranks = int(coords.get("ranks", 1))
    cfg = network_config(coords["scale"], coords["threads"], coords["seed"], network)
    measure_cfg = measure_cfg or {}
    # PD14 phases last seconds: reading every process's counters around them is cheap, and
    # the log then names who ran beside the run (benchmarks/pd14_in_pipeline.py reads it).
    guard = guard_for(measure_cfg.get("contention"), threads=ranks * int(coords["threads"]), attribute=True)
    network_class(coords["framework"])  # imports the simulator before the clock starts
    mark("imports-done")
    if ranks > 1:
        why = mpi_unavailable_reason()
        if why:
            results.mark_cell("skipped", why)
            results.write_csv(metrics)
            return results
        mark("measurement-start")
        rec = run_mpi(cfg, coords["framework"], ranks)
    else:
        metering = pd14_metering(measure_cfg.get("energy"), tdp_watts_per_core)
        mark("measurement-start")
        rec = run_pd14(cfg, coords["framework"], metering=metering, guard=guard)
    mark("measurement-end")
    record_rows(results, rec, validity=read_validity(verdict), guard=guard)
    results.write_csv(metrics)
    return results


def run_mpi(cfg: PD14Config, framework: str, ranks: int):
    """Run one cell under ``mpiexec -n ranks`` (NEST with MPI only); rank 0's record comes back.

    Not exercised on the development machine (its NEST has no MPI); clusters run it.
    """
    from spikemark.simulation.run import RunRecord

    launcher = shutil.which("mpiexec") or shutil.which("mpirun")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "record.json"
        spec = {"cfg": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__ if k != "extra"}, "framework": framework}
        cmd = [launcher, "-n", str(ranks), sys.executable, "-m", "spikemark.simulation.cells", json.dumps(spec), str(out)]
        subprocess.run(cmd, check=True, env=os.environ.copy())
        data = json.loads(out.read_text())
    data["cfg"] = PD14Config(**data["cfg"])
    return RunRecord(**data)


def _mpi_worker(spec_json: str, out_path: str) -> None:
    from dataclasses import asdict

    from spikemark.simulation.pd14_nest import import_nest
    from spikemark.simulation.run import run_pd14

    spec = json.loads(spec_json)
    rec = run_pd14(PD14Config(**spec["cfg"]), spec["framework"])
    nest = import_nest()
    # Spikes are counted per rank: sum them on rank 0 through the files each rank writes.
    part = Path(out_path).with_suffix(f".rank{nest.Rank()}")
    part.write_text(str(rec.spike_count))
    nest.SyncProcesses()
    if nest.Rank() == 0:
        rec.spike_count = sum(int(p.read_text()) for p in Path(out_path).parent.glob(Path(out_path).stem + ".rank*"))
        data = asdict(rec)
        data["cfg"] = {k: v for k, v in data["cfg"].items() if k != "extra"}
        data["spikes"] = None
        Path(out_path).write_text(json.dumps(data))


# -- validation ---------------------------------------------------------------------------------
def validation_run(
    stats: str | Path,
    *,
    framework: str,
    scale: str,
    seed: int,
    threads: int,
    network: dict[str, Any],
    statistics: Sequence[str] = ("rate",),
    meta: dict[str, Any] | None = None,
) -> None:
    """One run with spikes recorded; writes its per-population statistics (``RunStats``).

    A failure writes an empty statistics file whose ``meta.failed`` holds the reason, so the
    verdict that reads it can say which run failed and why.
    """
    from spikemark.simulation.run import run_pd14
    from spikemark.simulation.validate import RunStats, run_stats

    meta = {"framework": framework, "scale": scale, "seed": int(seed), "threads": int(threads), **(meta or {})}
    try:
        cfg = network_config(scale, threads, seed, network, record_spikes=True)
        rec = run_pd14(cfg, framework)
        t0 = cfg.t_presim_ms
        result = run_stats(
            rec.spikes, rec.population_sizes, t0, t0 + cfg.t_sim_ms, metrics=statistics, seed=int(seed),
            meta=meta | {"rtf": rec.rtf},
        )
    except Exception as exc:  # noqa: BLE001 - the verdict reports it
        traceback.print_exc(file=sys.stderr)
        result = RunStats({}, {}, 0.0, 0.0, meta | {"failed": _summary(exc)})
    result.save(stats)


def validate(
    tests: Sequence[str | Path],
    references: Sequence[str | Path],
    metrics: str | Path,
    verdict: str | Path,
    *,
    coords: dict[str, Any],
    judge: dict[str, Any],
    statistics: Sequence[str] = ("rate",),
    reference_dir: str | Path | None = None,
) -> ResultSet:
    """Judge a framework's runs at one scale against the reference ensemble; write rows and verdict.

    ``judge`` holds ``min_rate_hz``, ``ks_margin`` and ``ks_alpha``; ``coords`` the
    framework, scale and tier (``variant``).
    """
    from spikemark.simulation import validate as checks

    results = ResultSet("simulation", coords=dict(coords, hardware=HARDWARE))
    runs = [checks.RunStats.load(p) for p in tests]
    refs = [checks.RunStats.load(p) for p in references]
    failed = [r.meta.get("failed") for r in runs + refs if r.meta.get("failed")]
    if failed:
        raise RuntimeError(f"{len(failed)} validation run(s) failed: {failed[0]}")
    outcome = checks.judge(
        runs, refs, metrics=statistics, min_rate_hz=float(judge["min_rate_hz"]), margin=float(judge["ks_margin"]),
        alpha=float(judge["ks_alpha"]),
    )
    checks.verdict_rows(results, outcome, runs, reference_dir=reference_dir)
    outcome.to_json(verdict)
    results.write_csv(metrics)
    return results


if __name__ == "__main__":  # the MPI worker: python -m spikemark.simulation.cells SPEC OUT
    _mpi_worker(sys.argv[1], sys.argv[2])
