"""What the report says before any number: the banner about contended or invalid timings
and mixed commits, reason categories, and the Machines table with the machine state."""

from __future__ import annotations

import pytest

from report_fixtures import (  # noqa: F401 (fixtures)
    CONTENDED,
    CUDA_SKIP,
    FAILED,
    UNSTABLE,
    busy,
    busy_set,
    combined,
    only_row,
    sets,
    table,
)
from spikemark import report


@pytest.mark.parametrize(
    "reason, category",
    [
        (CONTENDED, "contended"),
        (UNSTABLE, "unstable"),
        (FAILED, "RuntimeError"),
        (
            "no CUDA device on host laptop (no NVIDIA driver: /dev/nvidiactl absent)",
            "no CUDA device on host laptop",
        ),
        ("no CUDA device on host x (torch.cuda.is_available() is False)", "no CUDA device on host x"),
        ("dataset mnist: no network and no cached file", "dataset mnist"),
        (CUDA_SKIP, CUDA_SKIP),
        ("", "no reason given"),
    ],
)
def test_reason_category_is_the_words_before_the_first_colon(reason, category):
    assert report.reason_category(reason) == category


def test_banner_counts_contended_and_other_invalid_timings_and_names_mixed_commits(busy, busy_set):
    text = report.banner(busy, report.load_provenance([busy_set]))
    assert text.startswith("⚠ ") and "\n" not in text  # one line
    # the contended PD14 seed (rtf and time_simulate) and the ML cell's two timings
    assert "4 timings in 2 runs contended" in text
    assert "1 other timing invalid (unstable: 1)" in text
    assert "2 git commits: abc1234def56 (7 runs), 0fedcba98765 (2 runs)" in text
    assert "package versions torch 2.14.0 / 2.14.1" in text and "numpy" not in text


def test_no_banner_for_a_quiet_single_commit_run(table, sets):
    assert report.banner(table, report.load_provenance([sets[0]])) == ""


def test_banner_names_the_results_set_when_several_are_combined(busy_set, sets):
    paths = [sets[0], busy_set]
    text = report.banner(report.load_results(paths), report.load_provenance(paths))
    assert "Results set 2 (busynode) mixes runs of 2 git commits" in text


def test_machines_table_shows_the_state_columns_provenance_has(busy, busy_set, table, sets):
    machines = report.machines(busy, report.load_provenance([busy_set]))
    row = only_row(machines, host="busynode")
    assert (row["cores"], row["SMT"], row["governor"], row["max clock (MHz)"]) == (
        "2",
        "off",
        "performance",
        "3500",
    )
    assert row["load before"] == "0.1–4.1"  # a range over the runs: 0.1 + 0.5 i for 9 runs
    assert row["memory (GiB)"] == "24"
    assert "cgroup CPU quota" not in machines  # not in this provenance: not shown
    plain = report.machines(table, report.load_provenance([sets[0]]))
    assert list(plain.columns) == ["platform", "host", "cpu_model", "gpu_model", "runs", "rows", "cores"]
