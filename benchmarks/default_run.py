"""Where the time of a finished pipeline run went, per rule, from its own records.

Reads the Snakemake benchmark file (``results/benchmarks/…tsv``: wall seconds of the whole
job process) and the job's log (``results/logs/…log``: the timeline lines that
``spikemark.pipeline`` writes — ``process-start``, ``stage-start``, ``imports-done``,
``measurement-start`` / ``measurement-end`` per cell, ``stage-end``) of every job, and
prints per rule: jobs, summed wall time, and how much of it was start-up and imports
(process start to the first measurement), measurement, and the rest (writing results,
provenance, skips). The timed rules (those holding the ``timing`` resource) run one at a
time: their sum is the serial timed path, whose start-up share is what fewer, leaner jobs
save.

    /usr/bin/time -v .venv/bin/snakemake -c all --config results_dir=/tmp/default-run
    .venv/bin/python benchmarks/default_run.py /tmp/default-run
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TIMELINE = "spikemark-timeline"
#: Rules whose jobs hold the `timing` resource (workflow/rules/*.smk).
TIMED_RULES = ("measure", "robustness", "latency_benchmark", "simulate_pd14")


@dataclass
class Job:
    rule: str
    wall: float
    marks: list[tuple[str, float]] = field(default_factory=list)

    def first(self, event: str) -> float | None:
        return next((t for e, t in self.marks if e == event), None)

    def startup(self) -> float | None:
        """Process start to the first measurement (or to the stage, for jobs that measure nothing)."""
        start = self.first("process-start")
        until = self.first("measurement-start") or self.first("stage-start")
        return until - start if start is not None and until is not None else None

    def measurement(self) -> float:
        total, opened = 0.0, None
        for event, t in self.marks:
            if event == "measurement-start":
                opened = t
            elif event == "measurement-end" and opened is not None:
                total, opened = total + t - opened, None
        return total


def rule_of(relative: Path) -> str:
    """The rule of a benchmark file, from its path under ``benchmarks/``."""
    top = relative.parts[0]
    if top == "simulation":
        if relative.parts[1].startswith("validation"):
            return "validate_pd14" if relative.stem == "validate" else "pd14_validation_run"
        return "simulate_pd14"
    if top == "latency":
        return "latency_benchmark"
    if top == "aggregate.tsv":
        return "aggregate"
    return top


def marks_of(log: Path) -> list[tuple[str, float]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if TIMELINE in line:
            parts = line.split(TIMELINE, 1)[1].split()
            if len(parts) >= 2:
                out.append((parts[0], float(parts[1])))
    return out


def read_jobs(results: Path) -> list[Job]:
    jobs = []
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        relative = tsv.relative_to(results / "benchmarks")
        with tsv.open() as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows:
            continue
        log = (results / "logs" / relative).with_suffix(".log")
        jobs.append(Job(rule_of(relative), float(rows[-1]["s"]), marks_of(log)))
    return jobs


def table(jobs: list[Job]) -> str:
    by_rule: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        by_rule[job.rule].append(job)
    header = ("rule", "jobs", "wall_s", "startup_imports_s", "measurement_s", "other_s", "timed")
    rows = [header]
    sums = defaultdict(float)
    for rule, group in sorted(by_rule.items(), key=lambda kv: -sum(j.wall for j in kv[1])):
        wall = sum(j.wall for j in group)
        startup = sum(j.startup() or 0.0 for j in group)
        measured = sum(j.measurement() for j in group)
        timed = rule in TIMED_RULES
        if timed:
            sums["wall"] += wall
            sums["startup"] += startup
            sums["measurement"] += measured
        rows.append((rule, str(len(group)), f"{wall:.1f}", f"{startup:.1f}", f"{measured:.1f}",
                     f"{wall - startup - measured:.1f}", "yes" if timed else ""))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    starts = [t for j in jobs for e, t in j.marks if e == "process-start"]
    ends = [t for j in jobs for e, t in j.marks if e == "stage-end"]
    if starts and ends:
        lines.append(f"first job start to last job end: {max(ends) - min(starts):.0f} s")
    if sums["wall"]:
        lines.append(
            f"serial timed path: {sums['wall']:.0f} s in all; start-up and imports {sums['startup']:.0f} s "
            f"({sums['startup'] / sums['wall']:.0%}), measurement {sums['measurement']:.0f} s "
            f"({sums['measurement'] / sums['wall']:.0%})"
        )
    lines.append(f"all jobs: {sum(j.wall for j in jobs):.0f} s of job wall time in {len(jobs)} jobs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", default="results", help="results directory of a finished run")
    args = parser.parse_args(argv)
    jobs = read_jobs(Path(args.results))
    if not jobs:
        print(f"no benchmark files under {args.results}/benchmarks", file=sys.stderr)
        return 1
    print(table(jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
