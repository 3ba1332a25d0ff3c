"""The GPU run in one shot, without Snakemake: the default config's cuda cells, SpikingJelly's
fused backends and the latency benchmark, within a time budget (``benchmarks/gpu_run.sh``).

A lent GPU machine has Python, torch, JAX and CuPy but no package registry and no
Snakemake, and is lent for minutes. This driver runs the jobs of those rules of the
workflow that need a GPU — ``deploy``, ``measure``, ``robustness`` and
``latency_benchmark`` — for the plan of ``config/config.yaml`` overlaid with
``benchmarks/gpu.yaml``: each job gets the inputs, outputs and params its rule declares
(``workflow/rules/*.smk``; :func:`jobs` mirrors them) and runs through the same job
protocol (:func:`spikemark.pipeline.run_stage`: logs, tombstones, provenance), then
:func:`spikemark.aggregate.aggregate` writes ``metrics.csv`` and ``provenance.csv``, which
``spikemark report --results results results-gpu`` merges with the CPU run's. Models and
prepared datasets are not made here: ``--prepare`` copies the CPU run's into the carried
folder, so every hardware measures the same models.

Jobs run in priority order — the default config's cuda cells, then the latency benchmark,
then the SpikingJelly backends' cells and the robustness sweeps — and a job that would start
after ``--budget-s`` is not started: its cells are ``skipped`` with that reason.

    python benchmarks/gpu_run.py --inputs CARRIED/inputs            # on the GPU machine
    python benchmarks/gpu_run.py --inputs ... --overlay benchmarks/gpu_smoke.yaml   # CPU smoke
    python benchmarks/gpu_run.py --prepare results --carry CARRIED  # on the CPU machine
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from spikemark.config import validate  # noqa: E402
from spikemark.matrix import CELL, LATENCY_CELL, PRUNED_MODEL, SWEEP, Plan  # noqa: E402

OVERLAY = REPO / "benchmarks" / "gpu.yaml"
#: Frameworks of the default config's ML cells (the rest of `frameworks` are extra backends).
DEFAULT_FRAMEWORKS = ("torch", "spikingjelly")


def merged(base: dict, overlay: dict) -> dict:
    """``base`` with ``overlay``'s keys replacing its own, nested mappings merged key by key
    (as Snakemake merges a --configfile over the default)."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def gpu_config(overlays: list[Path], results_dir: str | None = None) -> dict:
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for path in overlays:
        raw = merged(raw, yaml.safe_load(Path(path).read_text()))
    if results_dir:
        raw["results_dir"] = results_dir
    return validate(raw)


def _fill(paths: list[str], wildcards: dict) -> list[str]:
    return [p.format(**wildcards) for p in paths]


def sweep_job(plan: Plan, rule: str, sweep: dict) -> SimpleNamespace:
    """One deploy / measure / robustness job, as ``workflow/rules/{rule}.smk`` declares it."""
    config, wc = plan.config, {k: sweep[k] for k in ("dataset", "method", "framework", "hardware", "seed")}
    levels = plan.robustness_levels if rule == "robustness" else None
    models = _fill(plan.cell_files(PRUNED_MODEL, levels), wc)
    records = _fill(plan.cell_files(f"cells/{CELL}/deployment.json", levels), wc)
    inputs = {"dataset": plan.results(f"data/{wc['dataset']}.npz"), "model": models}
    params = {"cells": plan.sweep_cells(**wc, levels=levels),
              "conversion_timesteps": plan.conversion_timesteps(wc["method"])}
    if rule == "deploy":
        outputs = {"record": records}
        params |= {"framework": wc["framework"], "hardware_name": wc["hardware"],
                   "agreement_threshold": config["deploy"]["agreement_threshold"]}
    elif rule == "measure":
        inputs["deployment"] = records
        outputs = {"metrics": _fill(plan.cell_files(f"cells/{CELL}/metrics.csv"), wc),
                   "provenance": _fill(plan.cell_files(f"cells/{CELL}/provenance.json"), wc)}
        params |= {"measure_cfg": plan.measure_settings(), "track": "ml"}
    else:
        inputs["deployment"] = records
        outputs = {"metrics": _fill(plan.cell_files(f"cells/{CELL}/robustness.csv", levels), wc),
                   "provenance": _fill(plan.cell_files(f"cells/{CELL}/robustness_provenance.json", levels), wc)}
        params |= {"robustness_cfg": plan.robustness_settings(), "batch_size": config["measure"]["batch_size"],
                   "track": "ml"}
    threads = 1 if rule == "deploy" else config["measure"]["threads"]
    return SimpleNamespace(rule=rule, input=inputs, output=outputs, params=params, threads=threads,
                           log=[plan.logs(f"{rule}/{SWEEP.format(**wc)}.log")])


def latency_job(plan: Plan, cell: dict) -> SimpleNamespace:
    """One latency job, as ``workflow/rules/latency.smk`` declares it."""
    where = LATENCY_CELL.format(**cell)
    return SimpleNamespace(
        rule="latency_benchmark",
        input={},
        output={"metrics": plan.results(f"latency/{where}/metrics.csv"),
                "provenance": plan.results(f"latency/{where}/provenance.json")},
        params={"coords": dict(cell), "bench_cfg": plan.latency_settings(cell["hardware"]), "track": "latency"},
        threads=plan.config["latency_benchmark"]["threads"],
        log=[plan.logs(f"latency/{where}.log")],
    )


def jobs(plan: Plan) -> list[SimpleNamespace]:
    """Every job of the plan's GPU rules, in priority order (see the module docstring)."""
    default = [s for s in plan.sweeps() if s["framework"] in DEFAULT_FRAMEWORKS]
    backends = [s for s in plan.sweeps() if s["framework"] not in DEFAULT_FRAMEWORKS]
    ordered = [job for s in default for job in (sweep_job(plan, "deploy", s), sweep_job(plan, "measure", s))]
    ordered += [latency_job(plan, c) for c in plan.latency_cells()]
    ordered += [job for s in backends for job in (sweep_job(plan, "deploy", s), sweep_job(plan, "measure", s))]
    ordered += [sweep_job(plan, "robustness", s) for s in plan.robustness_sweeps()]
    return ordered


def stage_of(rule: str):
    if rule == "deploy":
        from spikemark.deploy import deploy

        return deploy
    if rule == "measure":
        from spikemark.measure.cell import measure

        return measure
    if rule == "robustness":
        from spikemark.robustness import robustness

        return robustness
    from spikemark.latency import latency_benchmark

    return latency_benchmark


def skip_job(job: SimpleNamespace, reason: str) -> None:
    """Tombstones for a job not started: every output says ``skipped`` with the reason."""
    from spikemark import provenance
    from spikemark.pipeline import _per_cell, write_tombstones

    cells = job.params.get("cells") or [{}]
    for i, cell in enumerate(cells):
        outputs = _per_cell(job.output, i) if job.params.get("cells") else job.output
        params = {**job.params, **cell}
        write_tombstones({k: v for k, v in outputs.items() if k != "provenance"}, "skipped", reason, params)
        if "provenance" in outputs:
            record = provenance.collect("", started=provenance.utc_now(), rule=job.rule,
                                        config_hash=provenance.config_hash(params), config_slice="{}")
            provenance.write(record, outputs["provenance"])


def fragments(job: SimpleNamespace) -> tuple[list[str], list[str]]:
    """The metric fragments and provenance files a job leaves (deploy leaves records only)."""
    if job.rule == "deploy":
        return [], []

    def as_list(value):
        return value if isinstance(value, list) else [value]

    return as_list(job.output["metrics"]), as_list(job.output["provenance"])


def run(plan: Plan, budget_s: float) -> dict:
    from spikemark.aggregate import aggregate
    from spikemark.pipeline import run_stage

    start = time.monotonic()
    metrics, provenance_files = [], []
    for job in jobs(plan):
        spent = time.monotonic() - start
        if spent > budget_s:
            skip_job(job, f"not run: the GPU run's time budget of {budget_s:.0f} s was spent ({spent:.0f} s)")
        else:
            run_stage(job, stage_of(job.rule))
        found, prov = fragments(job)
        metrics += found
        provenance_files += prov
        print(f"gpu_run: {job.rule} {job.log[0]} done at {time.monotonic() - start:.0f} s", flush=True)
    return aggregate(metrics, provenance_files, plan.results("metrics.csv"), plan.results("provenance.csv"),
                     plan.results("metrics.nc"), plan.results("summary.json"), config_hash=plan.config_hash,
                     config_text=json.dumps(plan.config, sort_keys=True))


def inputs_of(plan: Plan) -> list[str]:
    """The files the plan's jobs read that only the CPU run makes: datasets and pruned models."""
    needed = set()
    for job in jobs(plan):
        for value in job.input.values():
            for path in value if isinstance(value, list) else [value]:
                if "/models/" in path or "/data/" in path:
                    needed.add(path)
    return sorted(needed)


def relative(plan: Plan, path: str) -> str:
    return str(Path(path).relative_to(plan.results_dir))


def prepare(plan: Plan, cpu_results: Path, carry: Path) -> None:
    """Copy the CPU run's datasets and pruned models the plan reads into ``carry``."""
    missing = []
    for path in inputs_of(plan):
        source = cpu_results / relative(plan, path)
        if not source.exists():
            missing.append(str(source))
            continue
        target = carry / relative(plan, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    if missing:
        raise SystemExit(f"gpu_run: {len(missing)} inputs missing in {cpu_results} (train first), e.g. {missing[0]}")


def unpack(plan: Plan, carried: Path) -> None:
    """Put the carried inputs where the plan's jobs look for them."""
    for path in inputs_of(plan):
        source = carried / relative(plan, path)
        if not source.exists():
            raise SystemExit(f"gpu_run: carried input {source} is missing (run with --prepare first)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlay", action="append", type=Path, default=[],
                        help="config overlays after benchmarks/gpu.yaml (e.g. benchmarks/gpu_smoke.yaml)")
    parser.add_argument("--results", help="results folder (default: the overlay's results_dir)")
    parser.add_argument("--inputs", type=Path, help="carried inputs (datasets, pruned models) to run from")
    parser.add_argument("--prepare", type=Path, metavar="CPU_RESULTS", help="copy inputs from a CPU results folder")
    parser.add_argument("--carry", type=Path, help="with --prepare: where the inputs go")
    parser.add_argument("--budget-s", type=float, default=480.0, help="start no job after this many seconds")
    args = parser.parse_args(argv)
    plan = Plan(gpu_config([OVERLAY, *args.overlay], args.results))
    if args.prepare:
        prepare(plan, args.prepare, args.carry)
        return 0
    if args.inputs:
        unpack(plan, args.inputs)
    summary = run(plan, args.budget_s)
    print(f"gpu_run: {json.dumps(summary['by_status'])} in {plan.results_dir}")
    return 1 if summary["by_status"].get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
