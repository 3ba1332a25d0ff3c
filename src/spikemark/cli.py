"""The ``spikemark`` command: the pipeline's everyday tasks in one place.

    spikemark run [SNAKEMAKE OPTIONS]       run the pipeline (snakemake -c all in the checkout)
    spikemark plan [SNAKEMAKE OPTIONS]      what a config would cost: jobs and resources per rule
    spikemark check CONFIG                  validate a config file and count its cells
    spikemark rerun --failed [...]          re-run the failed (skipped, invalid) cells of a results dir
    spikemark report --results A [B ...]    re-render the report from existing results
    spikemark config-docs                   every config key (config/README.md)
    spikemark build-nest                    build NEST with MPI into this environment (README, HPC runs)

Everything after the sub-command's own options goes to Snakemake unchanged (e.g.
``spikemark run --configfile config/test.yaml --dry-run``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("spikemark")
    except metadata.PackageNotFoundError:
        return "unknown"


def snakemake_executable() -> str:
    """The ``snakemake`` beside this interpreter (the project's environment), else on PATH."""
    beside = Path(sys.executable).with_name("snakemake")
    return str(beside) if beside.exists() else (shutil.which("snakemake") or "snakemake")


def run(args: list[str]) -> int:
    """``snakemake`` in the checkout that holds this package (default: all cores)."""
    if not (REPO / "Snakefile").exists():
        print(f"spikemark: no Snakefile beside the package ({REPO}); run from a checkout", file=sys.stderr)
        return 2
    chosen = any(a.split("=")[0] in ("-c", "--cores", "-j", "--jobs", "--profile") for a in args)
    cores = [] if chosen else ["-c", "all"]
    return subprocess.call([snakemake_executable(), *cores, *args], cwd=REPO)


def rerun(args: argparse.Namespace, snakemake_args: list[str]) -> int:
    """Force the fragments of the chosen cells (and what depends on them) to be made again."""
    from spikemark.summary import cells_to_rerun

    statuses = tuple(s for s in ("failed", "skipped", "invalid") if getattr(args, s))
    if not statuses:
        print("spikemark rerun: say which cells: --failed, --skipped and/or --invalid", file=sys.stderr)
        return 2
    summary = Path(args.results) / "summary.json"
    if not summary.exists():
        print(f"spikemark rerun: no {summary}: run the pipeline first", file=sys.stderr)
        return 2
    files = cells_to_rerun(summary, statuses, args.hardware)
    if not files:
        print(f"spikemark rerun: no {'/'.join(statuses)} cells in {args.results}", file=sys.stderr)
        return 0
    results_dir = [] if any(a.startswith("results_dir=") for a in snakemake_args) else [
        "--config", f"results_dir={args.results}"
    ]  # fmt: skip
    print(f"spikemark rerun: {len(files)} cell(s)", file=sys.stderr)
    return run([*snakemake_args, *results_dir, "--forcerun", *files])


def check(path: str) -> int:
    """Validate a config file (one line naming the key if it is wrong) and count its jobs."""
    from spikemark.config import ConfigError, load
    from spikemark.matrix import Plan

    try:
        plan = Plan(load(path))
    except (ConfigError, OSError) as exc:
        print(f"spikemark: invalid configuration: {exc}", file=sys.stderr)
        return 2
    print(
        f"{path}: valid; {len(plan.ml_cells())} ML cells in {len(plan.sweeps())} sweeps, "
        f"{len(plan.robustness_sweeps())} robustness sweeps, {len(plan.latency_cells())} latency cells, "
        f"{len(plan.sim_runs())} simulation runs"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spikemark",
        description="Reproducible HPC benchmarks for neuronal networks, as one Snakemake pipeline.",
        epilog="Sub-command help: spikemark <command> --help",
    )
    parser.add_argument("--version", action="version", version=f"spikemark {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="command")
    commands.add_parser("run", help="run the pipeline (snakemake -c all in the checkout; options go to snakemake)",
                        add_help=False)  # fmt: skip
    commands.add_parser("plan", help="jobs and requested resources per rule for a config (snakemake -n)",
                        add_help=False)  # fmt: skip
    checker = commands.add_parser("check", help="validate a config file and count its cells")
    checker.add_argument("config", help="a YAML config file")
    rerunner = commands.add_parser(
        "rerun", help="re-run the failed, skipped or invalid cells of a results directory (other options go to snakemake)"
    )
    rerunner.add_argument("--failed", action="store_true", help="cells that raised")
    rerunner.add_argument("--skipped", action="store_true", help="cells that could not run where they ran (e.g. no GPU)")
    rerunner.add_argument("--invalid", action="store_true", help="cells that failed validation")
    rerunner.add_argument("--hardware", default=None, help="only cells on this hardware (e.g. cuda)")
    rerunner.add_argument("--results", default="results", help="the results directory (default: results)")
    commands.add_parser("report", help="re-render the report from existing results (no pipeline step)", add_help=False)
    commands.add_parser("config-docs", help="print every config key with its meaning, default and allowed values")
    commands.add_parser("build-nest", help="build NEST 3.10.0 with MPI into this environment (cached wheel)",
                        add_help=False)  # fmt: skip
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        if rest[:1] in (["--help"], ["-h"]):
            print(run.__doc__ + "\nOptions are snakemake's: snakemake --help")
            return 0
        return run(rest)
    if args.command == "plan":
        from spikemark import plan

        return plan.main(rest)
    if args.command == "rerun":
        return rerun(args, rest)
    if args.command == "build-nest":
        from spikemark.simulation.nest_build import main as build_main

        return build_main(rest)
    if args.command == "report":
        from spikemark.report.__main__ import main as report_main

        return report_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "check":
        return check(args.config)
    if args.command == "config-docs":
        from spikemark.config import document

        print(document(), end="")
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
