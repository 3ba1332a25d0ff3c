"""A fixture results set in the real format (written through ``ResultSet``), two machines.

Machine A (``laptop``, no GPU): digits and randman, ANN / converted / surrogate cells, with a
skipped cuda cell, a failed cell, an invalid (deployment disagrees) cell, energy meters
unavailable and an ``estimate-ops`` estimate, and the PD14 simulation track on NEST (two
thread counts, two seeds) plus an invalid PyNN run. Machine B (``gpunode``, H100): one ANN
cell on cuda with an NVML reading.
"""

from __future__ import annotations

import csv
from pathlib import Path

from spikemark.results import COLUMNS, ResultSet
from spikemark.stats import Summary

NO_RAPL = "no readable /sys/class/powercap/intel-rapl"
NO_NVML = "NVML: no GPU"
CUDA_SKIP = "CUDA is not available on this node"
FAILED = "RuntimeError: out of memory in deploy"
INVALID = "deployed outputs disagree with the source model (agreement 0.62 < 0.99)"
PYNN_INVALID = "L23E rate 41.2 Hz outside the reference band"

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


def _ml(dataset, method, framework, hardware, sparsity, seed=0, pruning=None) -> ResultSet:
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


def sim_cell(framework: str, threads: int, seed: int, *, rtf: float, invalid: str = "") -> ResultSet:
    rs = ResultSet(
        "simulation", dict(framework=framework, hardware="cpu", scale="N0.2_K0.2", threads=threads, seed=seed)
    )
    rs.add("rtf", rtf, "1", source="nest-kernel")
    for phase, t in (
        ("time_create", 0.5),
        ("time_connect", 4.0 / threads),
        ("time_presimulate", 0.3),
        ("time_simulate", rtf),
    ):
        rs.add(phase, t + 0.01 * seed, "s", source="nest-kernel")
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
    return sets, {
        "host": "laptop",
        "cpu_model": "AMD EPYC 7B13",
        "cpu_cores": "2",
        "gpu_model": "",
        "gpu_driver": "",
    }


def machine_b() -> tuple[list[ResultSet], dict]:
    sets = [ann_cell("digits", 0.0, 0.974, hardware="cuda", nvml=True)]
    return sets, {
        "host": "gpunode",
        "cpu_model": "Intel Xeon 8468",
        "cpu_cores": "48",
        "gpu_model": "NVIDIA H100",
        "gpu_driver": "580",
    }


def write_results(root: str | Path, machine=machine_a) -> Path:
    """Write ``metrics.csv`` and ``provenance.csv`` of one machine under ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    sets, prov = machine()
    with (root / "metrics.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for rs in sets:
            writer.writerows(rs.rows)
    with (root / "provenance.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PROV_FIELDS)
        writer.writeheader()
        for rs in sets:
            writer.writerow({"run_id": rs.run_id, **prov, "git_commit": "abc123", "config_hash": "f00"})
    return root
