"""What a config will cost before it runs: jobs per rule and the resources each requests.

    spikemark plan --profile slurm --configfile config/config.yaml

runs ``snakemake -n`` with the given arguments in the repository root, reads the job
blocks it prints, and tables per rule: how many jobs, CPUs, memory, wall-time limit,
GPUs and partition per job, with totals (CPU-hours and GPU-hours requested — an upper
bound, since ``runtime`` is a limit). Jobs whose outputs are up to date are not counted.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field

LOCAL_RULES = {"all", "cell_summary", "download"}  # run on the submitting host, no Slurm job


@dataclass
class Job:
    rule: str
    group: str | None = None  # jobs of one group job run as one Slurm job
    threads: int = 1
    resources: dict[str, str] = field(default_factory=dict)
    wildcards: dict[str, str] = field(default_factory=dict)

    def number(self, key: str, default: float = 0.0) -> float:
        try:
            return float(self.resources.get(key, default))
        except ValueError:
            return default


def parse_dry_run(text: str) -> list[Job]:
    """The jobs of a ``snakemake -n`` output (rule, threads, resources, wildcards)."""
    jobs: list[Job] = []
    current: Job | None = None
    group: str | None = None
    groups = 0
    for line in text.splitlines():
        header = re.search(r"\] Group job (\S+)", line)
        if header:
            groups += 1
            group = f"{header.group(1)}#{groups}"
            continue
        head = re.match(r"^(\s*)(?:local)?rule (\w+):\s*$", line)
        if head:  # the jobs of a group job are indented below its header
            current = Job(head.group(2), group=group if head.group(1) else None)
            jobs.append(current)
            continue
        if current is None or not line.startswith("    "):
            continue
        key, _, value = line.strip().partition(": ")
        if key == "threads":
            current.threads = int(value)
        elif key in ("resources", "wildcards"):
            target = current.resources if key == "resources" else current.wildcards
            for item in value.split(", "):
                name, _, val = item.partition("=")
                target[name.strip()] = val.strip()
    return jobs


def _fmt(values: set) -> str:
    return ",".join(sorted(str(v) for v in values)) or "-"


def _num(value: float) -> str:
    return f"{value:g}"


def summarise(jobs: list[Job]) -> str:
    by_rule: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        if job.rule not in LOCAL_RULES:
            by_rule[job.rule].append(job)
    header = ["rule", "jobs", "cpus", "mem_mb", "runtime_min", "gpus", "partition"]
    rows = [header]
    cpu_h = gpu_h = 0.0
    for rule, group in by_rule.items():
        for job in group:
            hours = job.number("runtime") / 60
            cpu_h += job.number("cpus_per_task", job.threads) * hours
            gpu_h += job.number("gpu") * hours
        rows.append(
            [
                rule,
                str(len(group)),
                _fmt({int(j.number("cpus_per_task", j.threads)) for j in group}),
                _fmt({_num(j.number("mem_mb")) for j in group}),
                _fmt({_num(j.number("runtime")) for j in group}),
                _fmt({_num(j.number("gpu")) for j in group}),
                _fmt({j.resources.get("slurm_partition", "") or "default" for j in group}),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    total = sum(len(g) for g in by_rule.values())
    grouped = {job.group for group in by_rule.values() for job in group if job.group}
    slurm_jobs = len(grouped) + sum(1 for group in by_rule.values() for job in group if not job.group)
    lines.append(
        f"{total} jobs in {slurm_jobs} cluster jobs; at most {cpu_h:.1f} CPU-hours and {gpu_h:.1f} GPU-hours requested "
        "(runtime is a limit: the real cost is lower)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spikemark plan",
        description=__doc__.split("\n\n")[0],
        epilog="Any other arguments go to `snakemake -n` (e.g. --profile slurm --configfile ...).",
    )
    parser.add_argument("--snakemake", default=None, help="the snakemake executable")
    args, rest = parser.parse_known_args(argv)
    from spikemark.cli import REPO, snakemake_executable

    exe = args.snakemake or snakemake_executable()
    proc = subprocess.run([exe, "-n", *rest], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr or proc.stdout)
        return proc.returncode
    print(summarise(parse_dry_run(proc.stdout + "\n" + proc.stderr)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
