"""What one simulation-track job does: run or validate a cell and write its fragment.

The workflow's scripts call these functions; tests call them directly. Every function
writes its outputs even when the simulation raises (a ``failed`` row with the error's
one-line summary; the traceback goes to the job's log), so one broken cell never stops the
pipeline. Whether a cell can run at all (MPI) is decided here, at job run time.

``sim_cfg`` is the workflow's ``config["simulation"]`` section (keys documented in
:data:`DEFAULTS`).
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

from spikemark import provenance
from spikemark.results import ResultSet
from spikemark.simulation.pd14_params import PD14Config, parse_scale

#: Defaults of ``config["simulation"]`` (the schema documents the same).
DEFAULTS: dict[str, Any] = {
    "frameworks": ["nest", "pynn-nest"],
    "scales": [{"N": 0.2, "K": 0.2}],
    "threads": [1, 2],
    "seeds": [1, 2, 3],
    "t_presim_ms": 500.0,
    "t_sim_ms": 1000.0,
    "drive": "poisson",
    "bg_rate": 8.0,
    "mpi_ranks": [1],
    "tdp_watts_per_core": None,
    "reference_dir": None,
    "pynn_stock_bookkeeping": False,
    "validation": {
        "reference_framework": "nest",
        "reference_seeds": [1001, 1002, 1003, 1004],
        "threads": None,
        "min_rate_hz": 0.1,
        "ks_margin": 0.75,
        "ks_alpha": 0.01,
    },
    "validation_full": {
        "enabled": False,
        "seeds": list(range(1, 11)),
        "reference_seeds": list(range(1001, 1011)),
        "t_presim_ms": 500.0,
        "t_sim_ms": 60000.0,
        "threads": None,
        "metrics": ["rate", "cv_isi", "cc"],
    },
}

HARDWARE = "cpu"


def settings(sim_cfg: dict | None) -> dict[str, Any]:
    """``sim_cfg`` over :data:`DEFAULTS` (one level of nesting merged)."""
    out = json.loads(json.dumps(DEFAULTS))
    for key, value in (sim_cfg or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def cell_config(
    sim_cfg: dict | None,
    scale: str,
    threads: int,
    seed: int,
    *,
    record_spikes: bool = False,
    t_presim_ms: float | None = None,
    t_sim_ms: float | None = None,
) -> PD14Config:
    s = settings(sim_cfg)
    n, k = parse_scale(scale)
    return PD14Config(
        N_scaling=n,
        K_scaling=k,
        drive=s["drive"],
        bg_rate=float(s["bg_rate"]),
        t_presim_ms=float(s["t_presim_ms"] if t_presim_ms is None else t_presim_ms),
        t_sim_ms=float(s["t_sim_ms"] if t_sim_ms is None else t_sim_ms),
        seed=int(seed),
        threads=int(threads),
        record_spikes=record_spikes,
        extra={"pynn_stock_bookkeeping": bool(s["pynn_stock_bookkeeping"])},
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


def nest_build_info() -> dict[str, Any]:
    try:
        from spikemark.simulation.pd14_nest import import_nest

        info = import_nest().GetKernelStatus("build_info")
        keys = ("version", "have_mpi", "have_threads", "threads_model", "have_gsl", "ndebug", "built")
        return {k: info.get(k) for k in keys}
    except Exception as exc:  # noqa: BLE001 - provenance never fails a job
        return {"error": str(exc)}


def _summary(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _write(results: ResultSet, out_csv, provenance_json, config, started, **extra) -> None:
    results.write_csv(out_csv)
    if provenance_json:
        record = provenance.collect(
            results.run_id, config=config, started=started, nest_build=json.dumps(nest_build_info()), **extra
        )
        provenance.write(record, provenance_json)


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
    return ("invalid", "validation " + verdict.get("status", "?") + ": " + "; ".join(verdict.get("reasons", [])))


# -- timed runs ---------------------------------------------------------------------------------
def run_cell(
    sim_cfg: dict | None,
    framework: str,
    scale: str,
    threads: int,
    seed: int,
    out_csv: str | Path,
    provenance_json: str | Path | None = None,
    *,
    verdict_json: str | Path | None = None,
    ranks: int = 1,
    energy_meter=None,
    config: dict | None = None,
) -> ResultSet:
    """One timed run (no spikes recorded) of one cell; writes its fragment and provenance."""
    from spikemark.simulation.run import record_rows, run_pd14

    started = provenance.utc_now()
    s = settings(sim_cfg)
    coords = {"framework": framework, "hardware": HARDWARE, "scale": scale, "threads": int(threads), "seed": int(seed)}
    if ranks > 1:
        coords["variant"] = f"ranks{ranks}"
    results = ResultSet("simulation", coords=coords)
    try:
        cfg = cell_config(s, scale, threads, seed)
        if ranks > 1:
            why = mpi_unavailable_reason()
            if why:
                results.mark_cell("skipped", why)
                _write(results, out_csv, provenance_json, config, started, ranks=ranks)
                return results
            rec = run_mpi(cfg, framework, ranks)
        else:
            rec = run_pd14(cfg, framework, energy_meter=energy_meter)
        record_rows(results, rec, tdp_watts_per_core=s.get("tdp_watts_per_core"), validity=read_validity(verdict_json))
    except Exception as exc:  # noqa: BLE001 - a failing cell is a result, not a crash
        traceback.print_exc(file=sys.stderr)
        results.rows.clear()
        results.mark_cell("failed", _summary(exc))
    _write(results, out_csv, provenance_json, config, started, ranks=ranks)
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
    sim_cfg: dict | None,
    framework: str,
    scale: str,
    seed: int,
    out_npz: str | Path,
    *,
    tier: str = "validation",
    metrics: Sequence[str] = ("rate",),
    threads: int | None = None,
) -> None:
    """One run with spikes recorded; writes its per-population statistics (``RunStats``).

    ``tier`` is ``validation`` (tier 1: model times of the timed runs) or
    ``validation_full`` (tier 2: its own model time and thread count). A failure writes an
    empty statistics file whose ``meta.failed`` holds the reason.
    """
    from spikemark.simulation.run import run_pd14
    from spikemark.simulation.validate import RunStats, run_stats

    s = settings(sim_cfg)
    section = s[tier] if tier == "validation_full" else s["validation"]
    n_threads = int(threads or section.get("threads") or max(s["threads"]))
    t_presim = section.get("t_presim_ms", s["t_presim_ms"])
    t_sim = section.get("t_sim_ms", s["t_sim_ms"])
    meta = {"framework": framework, "scale": scale, "seed": int(seed), "threads": n_threads, "tier": tier}
    try:
        cfg = cell_config(s, scale, n_threads, seed, record_spikes=True, t_presim_ms=t_presim, t_sim_ms=t_sim)
        rec = run_pd14(cfg, framework)
        t0 = cfg.t_presim_ms
        stats = run_stats(
            rec.spikes, rec.population_sizes, t0, t0 + cfg.t_sim_ms, metrics=metrics, seed=int(seed),
            meta=meta | {"rtf": rec.rtf},
        )
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        stats = RunStats({}, {}, 0.0, 0.0, meta | {"failed": _summary(exc)})
    stats.save(out_npz)


def validate_cell(
    sim_cfg: dict | None,
    framework: str,
    scale: str,
    test_npz: Sequence[str | Path],
    reference_npz: Sequence[str | Path],
    out_csv: str | Path,
    verdict_json: str | Path,
    provenance_json: str | Path | None = None,
    *,
    metrics: Sequence[str] = ("rate",),
    tier: str = "validation",
    reference_dir: str | Path | None = None,
    config: dict | None = None,
) -> ResultSet:
    """Judge a framework's runs at one scale against the reference ensemble; write rows and verdict."""
    from spikemark.simulation.validate import RunStats, Verdict, judge, verdict_rows

    started = provenance.utc_now()
    s = settings(sim_cfg)
    v = s["validation"]
    results = ResultSet(
        "simulation", coords={"framework": framework, "hardware": HARDWARE, "scale": scale, "variant": tier}
    )
    try:
        tests = [RunStats.load(p) for p in test_npz]
        refs = [RunStats.load(p) for p in reference_npz]
        failed = [r.meta.get("failed") for r in tests + refs if r.meta.get("failed")]
        if failed:
            raise RuntimeError(f"{len(failed)} validation run(s) failed: {failed[0]}")
        verdict = judge(
            tests, refs, metrics=metrics, min_rate_hz=float(v["min_rate_hz"]), margin=float(v["ks_margin"]),
            alpha=float(v["ks_alpha"]),
        )
        verdict_rows(results, verdict, tests, reference_dir=reference_dir)
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        results.rows.clear()
        results.mark_cell("failed", _summary(exc))
        verdict = Verdict("failed", [_summary(exc)], {}, [], float(v["min_rate_hz"]), float(v["ks_margin"]))
    verdict.to_json(verdict_json)
    _write(results, out_csv, provenance_json, config, started, tier=tier)
    return results


if __name__ == "__main__":  # the MPI worker: python -m spikemark.simulation.cells SPEC OUT
    _mpi_worker(sys.argv[1], sys.argv[2])
