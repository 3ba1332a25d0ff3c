"""The report inside the workflow: re-rendering from existing results runs no upstream rule."""

from __future__ import annotations

import os
import re

import pytest

from conftest import run_snakemake
from report_fixtures import write_results
from spikemark.report import manifest

pytestmark = pytest.mark.slow
REPORT_RULES = {"report", "report_dataset", "report_simulation", "all", "cell_summary"}
PAGE_RULES = {"report": manifest.INDEX, "report_simulation": manifest.SIMULATION}


def _jobs(dry_run_output: str) -> dict[str, int]:
    stats = dry_run_output.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, re.M)}


def test_rerender_with_unchanged_results_runs_no_upstream_rule(tmp_path):
    args = ["--nolock", "--configfile", "config/test.yaml", "--config", f"results_dir={tmp_path}"]
    summary = run_snakemake("--summary", *args)
    assert summary.returncode == 0, summary.stderr
    rows = [line.split("\t") for line in summary.stdout.splitlines()[1:] if "\t" in line]
    # every upstream output exists (oldest), then the aggregated results (newer)
    for path, _, rule, *_ in rows:
        if rule not in REPORT_RULES:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
            os.utime(path, (1_000_000, 1_000_000))
    write_results(tmp_path)  # metrics.csv and provenance.csv in the real format, newer
    # Files made here have no Snakemake metadata (no code / params records), so only the
    # mtime trigger is meaningful; a real run's metadata matches (checked on results-test).
    dry = run_snakemake("-n", "--rerun-triggers", "mtime", *args)
    assert dry.returncode == 0, dry.stderr
    jobs = _jobs(dry.stdout)
    assert set(jobs) == REPORT_RULES, jobs
    assert jobs["report_dataset"] == 2
    # each page's rule declares exactly the files of its page's outputs in the manifest
    declared = _declared_outputs(dry.stdout)
    for rule, page in PAGE_RULES.items():
        files = {f for o in manifest.outputs(page=page) for f in o.files}
        named = {os.path.basename(p) for p in declared[rule]} - {page, os.path.splitext(page)[0] + ".ipynb"}
        assert named == files | ({"report.ipynb"} if rule == "report" else set()), rule
    # the overview only links to the other pages: it does not wait for them
    assert not any("dataset_" in p for p in _job_inputs(dry.stdout)["report"])


def _job_blocks(dry_run_output: str) -> dict[str, str]:
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output)
    out = {}
    for block in blocks:
        m = re.match(r"(?:local)?rule (\w+):", block)
        if m:
            out.setdefault(m.group(1), block)
    return out


def _field(block: str, name: str) -> list[str]:
    m = re.search(rf"^\s+{name}: (.*)$", block, re.M)
    return [p.strip() for p in m.group(1).split(",")] if m else []


def _declared_outputs(dry_run_output: str) -> dict[str, list[str]]:
    return {rule: _field(block, "output") for rule, block in _job_blocks(dry_run_output).items()}


def _job_inputs(dry_run_output: str) -> dict[str, list[str]]:
    return {rule: _field(block, "input") for rule, block in _job_blocks(dry_run_output).items()}
