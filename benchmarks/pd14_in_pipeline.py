"""One PD14 cell inside the pipeline against the same cell in a plain process.

Runs the timed cell (NEST, N = K = ``--scale``, ``--threads`` threads, DC drive, one seed)
through the real workflow (``snakemake -c all`` on a config with only this cell; the
first time also its validation, untimed) and through the same stage function,
``spikemark.simulation.cells.simulate``, with the same config slice in a plain Python
process, alternately (which goes first alternates too, so drifts in the machine cancel).
Prints per pair the simulate phase's wall time in both, the CPU share each got and the
other processes' load on its cores (the contention guard's rows), the busiest other
processes during the in-pipeline simulate phase (from the job's log), and the median
ratio pipeline / plain of the simulate phase (target <= 1.05). The guard is told not to
repeat contended phases here, so both sides report their first window.

    PYTHONPATH=src python benchmarks/pd14_in_pipeline.py --pairs 5 --threads 2
    # a variant of the pipeline, e.g. the greedy scheduler, or an OpenMP setting for both:
    PYTHONPATH=src python benchmarks/pd14_in_pipeline.py --snakemake-arg=--scheduler --snakemake-arg=greedy
    PYTHONPATH=src python benchmarks/pd14_in_pipeline.py --env OMP_WAIT_POLICY=ACTIVE

Run it on a quiet machine: it compares two ways of running one job, and anything else on
the machine lands on one of them at random.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
sys.path.insert(0, str(SRC))

#: The guard's per-phase rows (spikemark.simulation.run.record_rows).
SEEN = ("time_simulate", "cpu_share_simulate", "other_load_simulate")


def merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = (
            merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def one_cell_config(args) -> dict:
    """The default config with only this PD14 cell (no ML track, no latency, no robustness)."""
    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return merge(
        base,
        {
            "ml_track": False,
            "datasets": [],
            "latency_benchmark": {"enabled": False},
            "robustness": {"enabled": False},
            "simulation": {
                "frameworks": ["nest"],
                "scales": [{"N": args.scale, "K": args.scale}],
                "threads": [args.threads],
                "seeds": [args.seed],
                "drive": "dc",
                "validation": {"reference_seeds": [1001, 1002]},
            },
            "measure": {"contention": {"retries": 0}},
        },
    )


def rows_of(metrics: Path) -> dict[str, float]:
    with metrics.open() as fh:
        rows = {
            r["metric"]: r for r in csv.DictReader(fh) if r["variant"] == "" and r["source"] != "estimate-tdp"
        }
    return {
        m: float(rows[m]["value"]) if m in rows and rows[m]["value"] != "" else float("nan") for m in SEEN
    }


def busiest_others(log: Path) -> str:
    """The guard's log line of the simulate phase: what it saw and who ran beside it."""
    lines = [
        line for line in log.read_text(errors="replace").splitlines() if "contention-guard simulate:" in line
    ]
    return (
        lines[-1].split("contention-guard simulate:", 1)[1].strip() if lines else "(no guard line in the log)"
    )


class Cell:
    def __init__(self, args, work: Path):
        from spikemark.config import load
        from spikemark.matrix import SIM_DIR, SIM_RUN, Plan

        self.args, self.work = args, work
        self.results = work / "results"
        self.configfile = work / "config.yaml"
        self.configfile.write_text(
            yaml.safe_dump({**one_cell_config(args), "results_dir": str(self.results)})
        )
        self.plan = Plan(load(self.configfile))
        run = self.plan.sim_runs()[0]
        self.run_dir = f"{SIM_DIR}/{SIM_RUN}".format(**run)
        self.metrics = self.results / self.run_dir / "metrics.csv"
        self.log = self.results / "logs" / f"{self.run_dir}.log"
        self.verdict = self.results / SIM_DIR / "validation" / run["scale"] / "nest" / "verdict.json"
        self.params = {
            "coords": self.plan.sim_run_coords(**run),
            "network": self.plan.sim_network("nest"),
            "tdp_watts_per_core": self.plan.sim_tdp_watts_per_core(),
            "measure_cfg": self.plan.sim_measure_settings(),
        }
        self.env = {**os.environ, **dict(kv.split("=", 1) for kv in args.env)}
        self.env.pop("PYTHONPATH", None)  # the Snakefile and job scripts put their own src/ first

    def snakemake(self, force: bool) -> dict[str, float]:
        # The config file holds results_dir; the target goes before the options that take lists.
        cmd = [
            str(Path(sys.executable).with_name("snakemake")),
            str(self.metrics),
            "-c",
            "all",
            "--configfile",
            str(self.configfile),
            *(["--forcerun", "simulate_pd14"] if force else []),
            *self.args.snakemake_arg,
        ]
        out = subprocess.run(cmd, cwd=REPO, env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"snakemake failed:\n{out.stderr[-3000:]}")
        return rows_of(self.metrics)

    def plain(self) -> dict[str, float]:
        out = self.work / "plain" / "metrics.csv"
        code = (
            "import json, sys\n"
            "from spikemark.simulation.cells import simulate\n"
            "p = json.loads(sys.argv[1])\n"
            "simulate(p['verdict'], p['metrics'], coords=p['coords'], network=p['network'],\n"
            "         tdp_watts_per_core=p['tdp_watts_per_core'], measure_cfg=p['measure_cfg'])\n"
        )
        params = {**self.params, "verdict": str(self.verdict), "metrics": str(out)}
        # As the job protocol does: the job's threads for OpenMP (spikemark.pipeline).
        env = {**self.env, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": str(self.args.threads)}
        subprocess.run(
            [sys.executable, "-c", code, json.dumps(params)], env=env, check=True, capture_output=True
        )
        return rows_of(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2, help="N = K scaling")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument(
        "--snakemake-arg", action="append", default=[], help="extra snakemake option (repeat)"
    )
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for both runs (repeat)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="pd14-in-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    cell = Cell(args, work)
    print(f"cell {cell.run_dir}; first run also validates (untimed) ...", flush=True)
    cell.snakemake(force=False)
    ratios = []
    for k in range(args.pairs):
        order = ("pipeline", "plain") if k % 2 == 0 else ("plain", "pipeline")
        res = {which: cell.snakemake(force=True) if which == "pipeline" else cell.plain() for which in order}
        ratios.append(res["pipeline"]["time_simulate"] / res["plain"]["time_simulate"])
        print(
            f"pair {k + 1} ({order[0]} first): simulate {res['pipeline']['time_simulate']:.2f} s in the pipeline / "
            f"{res['plain']['time_simulate']:.2f} s plain = {ratios[-1]:.3f}",
            flush=True,
        )
        for which in ("pipeline", "plain"):
            r = res[which]
            print(
                f"    {which:8s} CPU share {r['cpu_share_simulate']:.2f}, other load {r['other_load_simulate']:.2f} cores"
            )
        print(f"    beside the pipeline's simulate phase: {busiest_others(cell.log)}", flush=True)
    median = statistics.median(ratios)
    print(
        f"median ratio simulate phase, pipeline / plain (n={len(ratios)}): {median:.3f}  "
        f"[target <= 1.05: {'meets' if median <= 1.05 else 'MISSES'}]"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
