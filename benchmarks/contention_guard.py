"""Does the contention guard flag busy runs, and only those?

First checks that the machine is quiet (other processes' CPU load over a few seconds,
from ``/proc/stat``, and the load average) and refuses if it is not (``--force`` runs
anyway and says so). Then times one small workload — NumPy matrix products on
``--threads`` threads, pinned to that many CPUs, for about ``--seconds`` per run —
``--runs`` times alone and ``--runs`` times beside a bounded CPU hog that it starts and
stops itself (one busy process pinned to each CPU the workload uses, for the run's
duration), alternating. Each run is one guarded window with the default thresholds
(``measure.contention``) and no retry, so every run gets its own verdict. Prints each run's
CPU share, run-queue wait and other load, and how many of each kind the guard flagged.
Target: every loaded run flagged, no quiet run flagged.

    PYTHONPATH=src python benchmarks/contention_guard.py --runs 10 --threads 1
    PYTHONPATH=src python benchmarks/contention_guard.py --runs 10 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from spikemark.measure.contention import CpuHog, Guard, Settings, Snapshot, affinity  # noqa: E402

#: Quiet: other processes keep less than this many cores busy, and the 1-minute load
#: average (which counts every runnable task) is below this per core.
QUIET_LOAD = 0.1
QUIET_LOADAVG_PER_CORE = 0.25


def other_load(seconds: float) -> float:
    """Cores kept busy by everything else over ``seconds`` (this process sleeps)."""
    start = Snapshot.take()
    time.sleep(seconds)
    end = Snapshot.take()
    from spikemark.measure.contention import Observation

    seen = Observation.between(start, end, 1, affinity(), float(len(affinity())))
    return seen.other_load if seen.other_load is not None else float("nan")


def quiet_check(seconds: float) -> tuple[bool, str]:
    load = other_load(seconds)
    loadavg = float(Path("/proc/loadavg").read_text().split()[0])
    cores = len(affinity())
    quiet = load < QUIET_LOAD and loadavg < QUIET_LOADAVG_PER_CORE * cores
    return (
        quiet,
        f"other load {load:.2f} cores over {seconds:g} s, load average {loadavg:.2f} on {cores} cores",
    )


def workload(seconds: float):
    """NumPy matrix products for about ``seconds`` (sized once, then a fixed count)."""
    import numpy as np

    a = np.random.default_rng(0).random((384, 384))
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < 0.2:
        a @ a
        count += 1
    calls = max(1, int(count * seconds / (time.perf_counter() - start)))

    def run() -> None:
        for _ in range(calls):
            a @ a

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each kind (at least 10)")
    parser.add_argument("--threads", type=int, default=1, help="threads of the workload (and hog processes)")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one run")
    parser.add_argument("--quiet-seconds", type=float, default=5.0, help="length of the quiet check")
    parser.add_argument("--force", action="store_true", help="run even if the machine is not quiet")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("--runs must be at least 10")
    cpus = affinity()[: args.threads]
    if len(cpus) < args.threads:
        parser.error(f"--threads {args.threads}: this process may use only {len(affinity())} CPUs")

    quiet, seen = quiet_check(args.quiet_seconds)
    if not quiet and not args.force:
        print(f"refusing: the machine is not quiet ({seen}); rerun when it is, or --force")
        return 2
    print(f"machine {'quiet' if quiet else 'NOT quiet (--force): the quiet runs are not quiet'}: {seen}")

    # The workload's threads (BLAS / OpenMP) are created on first use: pin first, then import.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.sched_setaffinity(0, set(cpus))
    run = workload(args.seconds)
    run()  # warm-up
    settings = Settings(retries=0)
    guard = Guard(settings, threads=args.threads)
    print(
        f"workload: {args.threads} thread(s) pinned to CPU {cpus}; defaults min_share {settings.min_share}, "
        f"load_margin {settings.load_margin}"
    )
    results: dict[str, list] = {"quiet": [], "loaded": []}
    for i in range(args.runs):
        for kind in ("quiet", "loaded"):
            if kind == "loaded":
                with CpuHog(cpus, seconds=args.seconds * 10 + 30):
                    guarded = guard.run(run)
            else:
                guarded = guard.run(run)
            o = guarded.observation
            results[kind].append((bool(guarded.reason), o))
            wait = "n/a" if o.wait is None else f"{o.wait:.2f}"
            load = "n/a" if o.other_load is None else f"{o.other_load:.2f}"
            print(
                f"  {kind:6s} run {i + 1:2d}: wall {o.wall_s:.3f} s  share {o.share:.2f}  wait {wait}  "
                f"other load {load}  {'FLAGGED' if guarded.reason else 'ok'}"
            )
    print()
    for kind, rows in results.items():
        shares = [o.share for _, o in rows]
        flagged = sum(f for f, _ in rows)
        print(
            f"{kind}: {flagged} of {len(rows)} flagged; share median {statistics.median(shares):.2f} "
            f"(min {min(shares):.2f}, max {max(shares):.2f})"
        )
    quiet_flagged = sum(f for f, _ in results["quiet"])
    loaded_missed = sum(not f for f, _ in results["loaded"])
    met = quiet_flagged == 0 and loaded_missed == 0
    print(f"target (every loaded run flagged, no quiet run flagged): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
