"""The contention guard on real processes: a bounded CPU hog pinned to our CPU, the real
/proc counters, stand-in cgroup trees in the kernel's file formats.

This machine may be busy with other work while the tests run, so no test asserts that a
window was quiet; the loaded cases pin a hog to the very CPU the measured code is pinned
to, which contends it however busy the rest of the machine is.
"""

from __future__ import annotations

import os
import time

import pytest

from spikemark.measure.contention import (
    CONTENDED,
    OVERSUBSCRIBED,
    CpuHog,
    Guard,
    Observation,
    Settings,
    affinity,
    available_cores,
    cgroup_cpu_quota,
    cpu_ticks,
    oversubscribed,
    run_queue_wait_ns,
)
from spikemark.measure.timing import Stability, add_timing_rows, measure_time
from spikemark.results import ResultSet

FAST = Settings(retries=1, backoff_s=0.05)


def spin(seconds: float) -> None:
    """Busy for ``seconds`` of wall time."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@pytest.fixture
def on_one_cpu():
    """This process (its calling thread and the threads it starts) pinned to its first CPU."""
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    yield cpu
    os.sched_setaffinity(0, before)


def seen(**kw) -> Observation:
    values = dict(
        wall_s=1.0, cpu_s=1.0, threads=1, cores=2.0, other_load=0.0, steal=0.0, resolution=0.02, wait=0.0
    )
    return Observation(**{**values, **kw})


def test_decision_rules():
    settings = Settings()
    assert not seen().contended(settings)
    # held back: half the CPU it asked for, and its thread waited for a CPU the other half
    assert seen(cpu_s=0.5, wait=0.5).contended(settings)
    # a window of a millisecond that lost a tenth of it to the kernel's housekeeping is not
    assert not seen(wall_s=0.001, cpu_s=0.0008, wait=0.2).contended(settings)
    assert seen(wall_s=0.01, cpu_s=0.005, wait=0.5).contended(settings)  # a time slice lost
    # a workload that leaves a requested thread idle is not held back (it never waited)
    assert not seen(cpu_s=1.0, threads=2, wait=0.0).contended(settings)
    # without run-queue waits the share decides alone; a phase that waits by design is
    # judged by the other load only
    assert seen(cpu_s=0.5, wait=None).contended(settings)
    assert not seen(cpu_s=0.0, wait=None).contended(settings, cpu_bound=False)
    # other processes on the core the job leaves free are fine; beyond it they are not
    assert not seen(other_load=1.3).contended(settings)
    assert seen(other_load=1.6).contended(settings)
    assert seen(threads=2, other_load=0.6).contended(settings)
    # ... unless the counters cannot resolve that much over so short a window
    assert not seen(threads=2, other_load=0.6, resolution=0.2).contended(settings)
    text = seen(cpu_s=0.43, threads=2, cores=2.0, other_load=3.1, wait=0.6).describe()
    assert text.startswith("got 0.43 of 2 requested cores") and "other load 3.10 on 0 free cores" in text


def test_oversubscription_names_threads_and_cores():
    assert oversubscribed(64, 2.0) == f"{OVERSUBSCRIBED}: 64 threads on 2 cores"
    assert (
        oversubscribed(2, 2.0) is None
        and oversubscribed(2, 1.5) == f"{OVERSUBSCRIBED}: 2 threads on 1.50 cores"
    )
    guard = Guard(FAST, threads=len(affinity()) + 1)
    guarded = guard.run(lambda: spin(0.01))
    assert guarded.reason == oversubscribed(len(affinity()) + 1, guard.cores)
    assert guarded.attempts == 1  # more attempts cannot give it more cores


def test_real_counters_are_read():
    ticks = cpu_ticks()
    assert ticks is not None and set(affinity()) <= set(ticks)
    assert all(busy >= 0 and steal >= 0 for busy, steal in ticks.values())
    wait = run_queue_wait_ns()
    assert wait is None or wait >= 0
    guard = Guard(Settings(), threads=1)
    _, observation = guard.watch(lambda: spin(0.2))
    assert observation.wall_s >= 0.2 and 0 < observation.cpu_s <= observation.wall_s * 1.05
    assert observation.other_load is not None and observation.other_load >= 0


def test_stand_in_proc_stat(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  10 0 5 100 0 0 0 3 0 0\n"
        "cpu0 4 1 2 50 7 1 1 2 9 0\n"
        "cpu1 6 0 3 50 0 0 0 1 0 0\n"
        "intr 1 2 3\nprocs_running 3\n"
    )
    # busy = user + nice + system + irq + softirq (guest is inside user); steal apart
    assert cpu_ticks(stat) == {0: (9, 2), 1: (9, 1)}
    assert cpu_ticks(tmp_path / "absent") is None


def test_cgroup_quota_v2_and_v1(tmp_path):
    v2 = tmp_path / "v2"
    (v2 / "job" / "step").mkdir(parents=True)
    (v2 / "cpu.max").write_text("max 100000\n")
    (v2 / "job" / "cpu.max").write_text("150000 100000\n")  # 1.5 cores for the job
    (v2 / "job" / "step" / "cpu.max").write_text("max 100000\n")
    proc = tmp_path / "cgroup2"
    proc.write_text("0::/job/step\n")
    assert cgroup_cpu_quota(v2, proc) == pytest.approx(1.5)
    assert available_cores([0, 1, 2, 3], 1.5) == 1.5 and available_cores([0, 1], None) == 2

    v1 = tmp_path / "v1"
    (v1 / "cpu,cpuacct" / "slurm").mkdir(parents=True)
    (v1 / "cpu,cpuacct" / "slurm" / "cpu.cfs_quota_us").write_text("200000\n")
    (v1 / "cpu,cpuacct" / "slurm" / "cpu.cfs_period_us").write_text("100000\n")
    (v1 / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu,cpuacct" / "cpu.cfs_period_us").write_text("100000\n")
    proc1 = tmp_path / "cgroup1"
    proc1.write_text("4:memory:/slurm\n2:cpu,cpuacct:/slurm\n0::/\n")
    assert cgroup_cpu_quota(v1, proc1) == pytest.approx(2.0)
    proc.write_text("0::/\n")
    assert cgroup_cpu_quota(v2, proc) is None  # "max": no quota


def test_a_hog_on_our_cpu_is_contended_and_retried(on_one_cpu):
    guard = Guard(FAST, threads=1)
    assert guard.cores == 1
    start = time.perf_counter()
    with CpuHog([on_one_cpu], seconds=30):
        guarded = guard.run(lambda: spin(0.3))
    assert guarded.attempts == 2 and time.perf_counter() - start >= 0.6 + FAST.backoff_s
    assert guarded.reason.startswith(f"{CONTENDED}: got ") and "(2 attempts)" in guarded.reason
    assert guarded.observation.share < 0.75
    assert guarded.observation.other_load is None or guarded.observation.other_load > 0.25


def test_contended_timing_rows_are_invalid_the_rest_unaffected(on_one_cpu):
    guard = Guard(FAST, threads=1)
    with CpuHog([on_one_cpu], seconds=30):
        timing = measure_time(lambda: spin(0.02), warmup=1, repeats=10, guard=guard)
    assert timing.reason.startswith(CONTENDED) and timing.attempts == 2
    rs = ResultSet("ml")
    add_timing_rows(rs, "latency_batch1", timing)
    rows = {r["metric"]: r for r in rs.rows}
    for metric in ("latency_batch1", "latency_batch1_cpu"):
        assert rows[metric]["status"] == "invalid" and rows[metric]["reason"] == timing.reason
        assert rows[metric]["value"] > 0  # shown with its reason, never dropped
    for metric in ("latency_batch1_peak_host_memory", "latency_batch1_cpu_share", "latency_batch1_attempts"):
        assert rows[metric]["status"] == "ok"
    assert rows["latency_batch1_attempts"]["value"] == 2
    assert rows["latency_batch1_cpu_share"]["value"] == pytest.approx(timing.observation.share)


def test_repeats_until_stable():
    assert Stability(max_repeats=12, halfwidth=0.05).stable([1.0] * 9 + [1.01])
    assert not Stability(max_repeats=12, halfwidth=0.05).stable([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    # never stable: repeats go on to the maximum, and n says so
    timing = measure_time(
        lambda: None, warmup=0, repeats=3, stability=Stability(max_repeats=9, halfwidth=1e-12)
    )
    assert timing.wall.n == 9
    # stable at once: the minimum is enough
    timing = measure_time(
        lambda: None, warmup=0, repeats=3, stability=Stability(max_repeats=9, halfwidth=1e6)
    )
    assert timing.wall.n == 3
    # the time budget stops a timing that would take long
    slow = measure_time(
        lambda: time.sleep(0.05), warmup=0, repeats=2, stability=Stability(50, 1e-12, budget_s=0.2)
    )
    assert 4 <= slow.wall.n <= 6


def test_the_busiest_other_processes_are_named():
    from spikemark.measure.contention import process_ticks, top_others

    with CpuHog([None], seconds=30) as hog:
        before = process_ticks()
        spin(0.5)
        others = dict(top_others(before, process_ticks(), 0.5, count=100))
        pid = hog.processes[0].pid
    label = next(name for name in others if name.endswith(f"[{pid}]"))
    assert label.startswith("python") and others[label] > 0.05  # it spun (however busy the machine)


@pytest.mark.slow
def test_workflow_beside_a_hog_records_contended_timings(tmp_path):
    """config/test.yaml (one dataset, CPU only) through the snakemake CLI while one busy
    process per core competes:
    the run completes, contended timings were measured again and, still contended, are
    invalid 'contended: ...'; accuracy is unaffected; no row has a negative bound."""
    import importlib.util

    import pandas as pd
    from conftest import run_snakemake
    from test_measure_bounds import negative_bounds

    out = tmp_path / "results"
    # test.yaml, narrowed to one dataset on the CPU (every kind of timed job still runs)
    narrower = ["datasets=[digits]", "methods=[ann, ann2snn]", "hardware=[cpu]", "simulation={mpi_ranks: [1]}",
                "latency_benchmark={frameworks: [spikingjelly], hardware: [cpu]}"]  # fmt: skip
    with CpuHog(affinity(), seconds=1800):
        proc = run_snakemake(
            "-c", "2", "--configfile", "config/test.yaml", "--config", f"results_dir={out}", *narrower
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "0 failed" in proc.stderr
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False, dtype=str)
    timing = table[(table.unit == "s") & (table.status != "unavailable") & (table.metric != "cell")]
    timing = timing[timing.source.isin(["measured", "nest-kernel"]) & (timing.metric != "t_model")]
    invalid = timing[timing.status == "invalid"]
    categories = {r.split(":", 1)[0] for r in invalid.reason}
    assert len(invalid) and categories <= {CONTENDED, "validation invalid"}, categories
    busy = invalid[invalid.reason.str.startswith(f"{CONTENDED}: got ")]
    assert set(busy.track) >= {"simulation"}, "the PD14 phases (tenths of a second) cannot escape the hog"
    # ... and were measured again before being given up (retries: 1 in config/test.yaml)
    attempts = table[table.metric.str.endswith("_attempts") | table.metric.str.startswith("attempts_")]
    assert (attempts.value.astype(float) == 2).any()
    assert (attempts.value.astype(float) <= 2).all()
    simulate = table[(table.metric == "attempts_simulate")]
    assert len(simulate) and (simulate.value.astype(float) == 2).all()
    # non-timing metrics of the same cells are not touched by the guard
    accuracy = table[(table.metric == "accuracy") & (table.hardware == "cpu")]
    assert len(accuracy) and (accuracy.status == "ok").all()
    assert negative_bounds(table.to_dict("records")) == []
    # the report's banner, where the report knows about contention (report branch)
    if importlib.util.find_spec("spikemark.report.status") is not None:
        assert CONTENDED in (out / "report" / "index.html").read_text()
