"""A fixture results set in the real format (written through ``ResultSet``), two machines.

Machine A (``laptop``, no GPU): digits and randman, ANN / converted / surrogate cells, with a
skipped cuda cell, a failed cell, an invalid (deployment disagrees) cell, energy meters
unavailable and an ``estimate-ops`` estimate, and the PD14 simulation track on NEST (two
thread counts, two seeds) plus an invalid PyNN run. Machine B (``gpunode``, H100): one ANN
cell on cuda with an NVML reading.

Both machines also ran the framework latency benchmark (``track = latency``: eager on the
laptop's CPU with a skipped fused-kernel backend and a skipped cuda cell; eager and compiled
on the H100, one compile failing), and machine A the robustness protocol (``variant =
robustness``) on two converted cells, with a skipped cuda and an invalid surrogate cell.

A third machine (``busynode``, :func:`machine_busy`) reproduces issue 12: skewed PD14 RTFs
over three seeds, timings the contention guard marked contended, and runs of two commits.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from spikemark import report
from spikemark.results import COLUMNS, ResultSet
from spikemark.stats import Summary

NO_RAPL = "no readable /sys/class/powercap/intel-rapl"
NO_NVML = "NVML: no GPU"
CUDA_SKIP = "CUDA is not available on this node"
FAILED = "RuntimeError: out of memory in deploy"
INVALID = "deployed outputs disagree with the source model (agreement 0.62 < 0.99)"
PYNN_INVALID = "L23E rate 41.2 Hz outside the reference band"
FUSED_SKIP = "spikingjelly triton backend needs a CUDA device (on cpu only the torch reference runs)"
COMPILE_FAILED = "torch.compile failed: Unsupported: call_function UserDefinedClassVariable"
LATENCY_T = 100
LATENCY_BATCH = 16

PROV_FIELDS = [
    "run_id",
    "host",
    "cpu_model",
    "cpu_cores",
    "gpu_model",
    "gpu_driver",
    "git_commit",
    "config_hash",
]
#: The contention guard's reason format (the pipeline side of issue 12).
CONTENDED = "contended: got 0.43 of 2 requested cores; other load 3.1"
UNSTABLE = "unstable: 95 % half-width 31 % of the median after 50 repeats"
#: The skewed three-seed RTFs of issue 12 (NEST, N = K = 0.2, DC drive, a busy machine):
#: their plain Student-t intervals were [-6.8, 53.3] and [-48.4, 119].
SKEWED_RTF = {1: (12.6, 20.0, 37.3), 2: (7.4, 24.0, 73.9)}


def _ml(dataset, method, framework, hardware, sparsity, seed=0, pruning=None, **extra) -> ResultSet:
    return ResultSet(
        "ml",
        dict(
            dataset=dataset,
            method=method,
            framework=framework,
            hardware=hardware,
            sparsity=sparsity,
            seed=seed,
            pruning=pruning or ("none" if sparsity == 0 else "global_magnitude"),
            **extra,
        ),
    )


def _static(rs: ResultSet, sparsity: float, params: int = 4810) -> None:
    rs.add("parameter_count", params, "count")
    rs.add("footprint", params * 4, "bytes")
    rs.add("connection_sparsity", sparsity, "fraction")


def _energy_unavailable(rs: ResultSet, **coords) -> None:
    rs.add_unavailable("energy_per_inference", "J", NO_RAPL, source="rapl", **coords)
    rs.add_unavailable("edp", "J*s", NO_RAPL, source="rapl", **coords)
    rs.add_unavailable("energy_per_inference", "J", NO_NVML, source="nvml", **coords)


def _estimate(rs: ResultSet, joules: float, latency: float, convention: str, **coords) -> None:
    variant = f"ops={convention}"
    rs.add_summary(
        "energy_per_inference",
        Summary(joules, 3, joules * 0.98, joules * 1.02),
        "J",
        source="estimate-ops",
        variant=variant,
        **coords,
    )
    rs.add_summary(
        "edp", Summary(joules * latency, 3), "J*s", source="estimate-ops", variant=variant, **coords
    )


def ann_cell(
    dataset: str, sparsity: float, acc: float, *, hardware: str = "cpu", nvml: bool = False
) -> ResultSet:
    rs = _ml(dataset, "ann", "torch", hardware, sparsity)
    rs.add_summary("accuracy", Summary(acc, 450, acc - 0.02, acc + 0.01), "fraction")
    rs.add_summary("latency_batch1", Summary(1.2e-4, 5, 1.1e-4, 1.4e-4), "s")
    rs.add_summary("throughput", Summary(5.0e4, 5, 4.8e4, 5.1e4), "samples/s")
    _static(rs, sparsity)
    rs.add("effective_macs", 4672 * (1 - sparsity), "ops/sample", source="neurobench-convention")
    rs.add("effective_acs", 0, "ops/sample", source="neurobench-convention")
    rs.add("activation_sparsity", 0.41, "fraction", source="neurobench-convention")
    if nvml:
        rs.add_summary("energy_per_inference", Summary(2.5e-5, 5, 2.4e-5, 2.7e-5), "J", source="nvml")
        rs.add_summary("edp", Summary(3.0e-9, 5, 2.9e-9, 3.2e-9), "J*s", source="nvml")
    else:
        _energy_unavailable(rs)
        _estimate(rs, 2.15e-8 * (1 - sparsity), 1.2e-4, "neurobench-convention")
    return rs


def snn_cell(
    dataset: str, sparsity: float, accs: dict[int, float], method: str = "ann2snn", pruning: str | None = None
) -> ResultSet:
    rs = _ml(dataset, method, "spikingjelly", "cpu", sparsity, pruning=pruning)
    _static(rs, sparsity)
    for t, acc in accs.items():
        rs.add_summary("accuracy", Summary(acc, 450, acc - 0.03, acc + 0.02), "fraction", timesteps=t)
        rs.add_summary("latency_batch1", Summary(1e-4 * t, 5, 0.9e-4 * t, 1.1e-4 * t), "s", timesteps=t)
        rs.add_summary("throughput", Summary(2e5 / t, 5, 1.9e5 / t, 2.1e5 / t), "samples/s", timesteps=t)
        rs.add("effective_acs", 300.0 * t, "ops/sample", source="folded-convention", timesteps=t)
        rs.add("effective_macs", 64.0 * t, "ops/sample", source="neurobench-convention", timesteps=t)
        rs.add("effective_acs", 250.0 * t, "ops/sample", source="neurobench-convention", timesteps=t)
        rs.add("activation_sparsity", 0.9, "fraction", source="neurobench-convention", timesteps=t)
        _energy_unavailable(rs, timesteps=t)
        _estimate(rs, 1e-9 * t, 1e-4 * t, "neurobench-convention", timesteps=t)
        _estimate(rs, 0.5e-9 * t, 1e-4 * t, "folded-convention", timesteps=t)
    rs.add("deploy_agreement", 1.0, "fraction")
    return rs


def sim_cell(
    framework: str, threads: int, seed: int, *, rtf: float, invalid: str = "", contended: str = ""
) -> ResultSet:
    """One PD14 run (1 s of model time); ``contended``: the guard's reason for its
    simulate phase and RTF (the values are kept, the rows are ``invalid``)."""
    rs = ResultSet(
        "simulation", dict(framework=framework, hardware="cpu", scale="N0.2_K0.2", threads=threads, seed=seed)
    )
    busy = dict(status="invalid", reason=contended) if contended else {}
    rs.add("rtf", rtf, "1", source="nest-kernel", **busy)
    for phase, t in (
        ("time_create", 0.5),
        ("time_connect", 4.0 / threads),
        ("time_presimulate", 0.3),
        ("time_simulate", rtf),
    ):
        rs.add(
            phase, t + 0.01 * seed, "s", source="nest-kernel", **(busy if phase == "time_simulate" else {})
        )
    rs.add("synaptic_events_per_s", 3e7 * threads, "1/s", source="nest-kernel")
    rs.add("e_syn", 2.0e-6 / threads + 1e-8 * seed, "J", source="estimate-tdp")
    rs.add_unavailable("e_syn", "J", NO_RAPL, source="rapl")
    for pop, rate in (
        ("L23E", 0.9),
        ("L23I", 2.9),
        ("L4E", 4.4),
        ("L4I", 5.9),
        ("L5E", 7.5),
        ("L5I", 8.6),
        ("L6E", 1.1),
        ("L6I", 7.8),
    ):
        rs.add("rate", rate * (1 + 0.02 * seed), "Hz", source="nest-kernel", population=pop)
    if invalid:
        rs.mark_cell("invalid", invalid)
    return rs


def latency_cell(
    framework: str,
    hardware: str,
    sizes: list[int],
    *,
    seconds_per_unit: float,
    compile_fails: bool = False,
    compiled: bool = False,
    skipped: str = "",
) -> ResultSet:
    """Rows as ``spikemark.latency.latency_benchmark`` writes them (times grow with size)."""
    rs = ResultSet("latency", dict(framework=framework, hardware=hardware))
    if skipped:
        rs.mark_cell("skipped", skipped)
        return rs
    backend = framework.partition("-")[2] or "torch"
    for size in sizes:
        coords = dict(size=size, backend=backend, timesteps=LATENCY_T)
        rs.add("batch_size", LATENCY_BATCH, "samples", source="config", **coords)
        variants = ["eager"] + (["compiled"] if compiled else [])
        for variant in variants:
            if variant == "compiled":
                if compile_fails:
                    rs.add(
                        "compile_time",
                        None,
                        "s",
                        status="failed",
                        reason=COMPILE_FAILED,
                        variant=variant,
                        **coords,
                    )
                    continue
                rs.add("compile_time", 12.5, "s", source="measured-first-call", variant=variant, **coords)
            speedup = 0.5 if variant == "compiled" else 1.0
            base = seconds_per_unit * size * speedup
            for metric, factor in (("inference_time", 1.0), ("forward_time", 1.2), ("backward_time", 2.0)):
                t = base * factor
                rs.add_summary(metric, Summary(t, 5, 0.95 * t, 1.1 * t), "s", variant=variant, **coords)
            rs.add(
                "peak_host_memory",
                2.0e8 + 1e4 * size,
                "bytes",
                source="vmhwm-reset",
                variant=variant,
                **coords,
            )
            if hardware == "cuda":
                rs.add(
                    "peak_cuda_memory",
                    4.0 * size * size,
                    "bytes",
                    source="torch.cuda.max_memory_allocated",
                    variant=variant,
                    **coords,
                )
    return rs


def robustness_cell(
    dataset: str,
    method: str,
    hardware: str,
    sparsity: float,
    accs: dict[tuple[int, float], float],
    *,
    mark: tuple[str, str] | None = None,
) -> ResultSet:
    """Rows as ``spikemark.robustness.robustness`` writes them: per (T, σ) point, accuracy
    (Wilson), the workload metrics in the folded convention and batch-1 latency."""
    rs = _ml(dataset, method, "spikingjelly", hardware, sparsity, variant="robustness")
    if mark:
        rs.mark_cell(*mark)
        return rs
    for (t, sigma), acc in accs.items():
        at = dict(timesteps=t, noise=sigma)
        rs.add_summary("accuracy", Summary(acc, 450, acc - 0.03, acc + 0.02), "fraction", **at)
        rs.add("activation_sparsity", 0.9, "fraction", source="folded-convention", **at)
        rs.add("effective_macs", 64.0 * t, "ops/sample", source="folded-convention", **at)
        rs.add("effective_acs", 250.0 * t * (1 + sigma), "ops/sample", source="folded-convention", **at)
        rs.add("dense_synops", 4672.0 * t, "ops/sample", source="folded-convention", **at)
        rs.add("membrane_updates", 138.0 * t, "ops/sample", source="folded-convention", **at)
        rs.add_summary("latency_batch1", Summary(1e-4 * t, 5, 0.9e-4 * t, 1.1e-4 * t), "s", **at)
        rs.add_summary("latency_batch1_cpu", Summary(1e-4 * t, 5, 0.9e-4 * t, 1.1e-4 * t), "s", **at)
        rs.add("latency_batch1_peak_host_memory", 3.1e8, "bytes", source="vmhwm-reset", **at)
    return rs


#: Machine A's robustness points of the digits converted cell: the T sweep at σ = 0 (T = 32
#: beyond the measure stage's largest T = 16, so a leak into the ML tables would show) and
#: the σ sweep at the evaluation T = 16 (where σ = 0 is one point of both sweeps).
DIGITS_ROBUSTNESS = {
    (2, 0.0): 0.41,
    (8, 0.0): 0.93,
    (16, 0.0): 0.962,
    (32, 0.0): 0.971,
    (16, 0.1): 0.95,
    (16, 0.5): 0.62,
}
RANDMAN_ROBUSTNESS = {(2, 0.0): 0.5, (16, 0.0): 0.8, (16, 0.2): 0.71}


def machine_a() -> tuple[list[ResultSet], dict]:
    sets = [
        ann_cell("digits", 0.0, 0.975),
        ann_cell("digits", 0.5, 0.969),
        snn_cell("digits", 0.0, {4: 0.812, 16: 0.962}),
        snn_cell("digits", 0.5, {4: 0.700, 16: 0.951}),
        snn_cell("digits", 0.5, {4: 0.735, 16: 0.958}, pruning="lamp"),
        ann_cell("randman", 0.0, 0.88),
        snn_cell("randman", 0.0, {16: 0.80}),
    ]
    skipped = _ml("digits", "ann2snn", "spikingjelly", "cuda", 0.0)
    skipped.mark_cell("skipped", CUDA_SKIP)
    failed = _ml("randman", "ann2snn", "spikingjelly", "cpu", 0.5)
    failed.mark_cell("failed", FAILED)
    invalid = snn_cell("digits", 0.0, {4: 0.55}, method="surrogate")
    invalid.mark_cell("invalid", INVALID)
    sets += [skipped, failed, invalid]
    for threads in (1, 2):
        for seed in (1, 2):
            sets.append(sim_cell("nest", threads, seed, rtf=6.0 / threads))
    sets.append(sim_cell("pynn-nest", 2, 1, rtf=4.0, invalid=PYNN_INVALID))
    sets += [
        latency_cell("spikingjelly", "cpu", [128, 256, 512], seconds_per_unit=2e-5),
        latency_cell("norse", "cpu", [128, 256, 512], seconds_per_unit=5e-5),
        latency_cell("spikingjelly-triton", "cpu", [], seconds_per_unit=0, skipped=FUSED_SKIP),
        latency_cell("spikingjelly", "cuda", [], seconds_per_unit=0, skipped=CUDA_SKIP),
    ]
    sets += [
        robustness_cell("digits", "ann2snn", "cpu", 0.0, DIGITS_ROBUSTNESS),
        robustness_cell("randman", "ann2snn", "cpu", 0.0, RANDMAN_ROBUSTNESS),
        robustness_cell("digits", "ann2snn", "cuda", 0.0, {}, mark=("skipped", CUDA_SKIP)),
        robustness_cell("digits", "surrogate", "cpu", 0.0, {}, mark=("invalid", INVALID)),
    ]
    return sets, {
        "host": "laptop",
        "cpu_model": "AMD EPYC 7B13",
        "cpu_cores": "2",
        "gpu_model": "",
        "gpu_driver": "",
    }


def machine_b() -> tuple[list[ResultSet], dict]:
    sets = [
        ann_cell("digits", 0.0, 0.974, hardware="cuda", nvml=True),
        latency_cell("spikingjelly", "cuda", [4096, 8192], seconds_per_unit=1e-7, compiled=True),
        latency_cell("norse", "cuda", [4096, 8192], seconds_per_unit=3e-7, compiled=True, compile_fails=True),
    ]
    return sets, {
        "host": "gpunode",
        "cpu_model": "Intel Xeon 8468",
        "cpu_cores": "48",
        "gpu_model": "NVIDIA H100",
        "gpu_driver": "580",
    }


def machine_busy() -> tuple[list[ResultSet], dict]:
    """A shared, busy machine (issue 12): the skewed three-seed PD14 RTFs, a fourth seed
    the contention guard marked contended, a contended ML timing and an unstable latency
    timing; incrementally re-run, so its runs span two git commits and two torch versions.
    Its provenance has the machine-state columns."""
    sets = [
        sim_cell("nest", threads, seed, rtf=rtf)
        for threads, rtfs in SKEWED_RTF.items()
        for seed, rtf in enumerate(rtfs, start=1)
    ]
    sets.append(sim_cell("nest", 2, 4, rtf=96.0, contended=CONTENDED))
    ann = ann_cell("digits", 0.0, 0.975)
    for row in ann.rows:
        if row["metric"] in ("latency_batch1", "throughput"):
            row.update(status="invalid", reason=CONTENDED)
    sets.append(ann)
    latency = latency_cell("spikingjelly", "cpu", [128], seconds_per_unit=2e-5)
    for row in latency.rows:
        if row["metric"] == "inference_time":
            row.update(status="invalid", reason=UNSTABLE)
    sets.append(latency)
    per_run = [
        {
            "load_before": f"{0.1 + 0.5 * i:.2f}",
            "load_after": f"{0.3 + 0.5 * i:.2f}",
            "cpu_mhz": f"{2450 + 50 * i}",
            "git_commit": "abc1234def56" if i < len(sets) - 2 else "0fedcba98765",
            "packages": json.dumps({"numpy": "2.4.6", "torch": "2.14.1" if i < len(sets) - 1 else "2.14.0"}),
        }
        for i in range(len(sets))
    ]
    return sets, {
        "host": "busynode",
        "cpu_model": "AMD EPYC 7B13",
        "cpu_cores": "2",
        "gpu_model": "",
        "gpu_driver": "",
        "smt": "off",
        "cpu_governor": "performance",
        "cpu_max_mhz": "3500",
        "steal": "0.0",
        "memory_bytes": str(24 * 2**30),
        "per_run": per_run,
    }


def write_results(root: str | Path, machine=machine_a) -> Path:
    """Write ``metrics.csv`` and ``provenance.csv`` of one machine under ``root``
    (``per_run`` in the machine's provenance: one dict of overrides per result set)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    sets, prov = machine()
    per_run = prov.pop("per_run", [{}] * len(sets))
    with (root / "metrics.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for rs in sets:
            writer.writerows(rs.rows)
    records = [
        {"run_id": rs.run_id, **prov, "git_commit": "abc123", "config_hash": "f00", **extra}
        for rs, extra in zip(sets, per_run)
    ]
    fields = [*PROV_FIELDS, *sorted({k for r in records for k in r} - set(PROV_FIELDS))]
    with (root / "provenance.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    return root


# Fixtures shared by the report test modules (import them by name): machine A's results
# set, A and B combined (two platforms), and the busy machine alone.
@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    return write_results(root / "a"), write_results(root / "b", machine_b)


@pytest.fixture(scope="module")
def table(sets):
    return report.load_results([sets[0]])


@pytest.fixture(scope="module")
def combined(sets):
    return report.load_results(list(sets))


@pytest.fixture(scope="module")
def busy_set(tmp_path_factory):
    return write_results(tmp_path_factory.mktemp("results") / "busy", machine_busy)


@pytest.fixture(scope="module")
def busy(busy_set):
    return report.load_results([busy_set])


def only_row(frame, **where):
    """The one row of ``frame`` whose columns equal ``where`` (fails unless exactly one)."""
    sel = frame
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (where, sel)
    return sel.iloc[0]
