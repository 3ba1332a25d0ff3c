"""The contention guard: did a timed phase get the CPU it asked for, and get it alone?

The ``timing`` resource keeps our own timed jobs apart; it cannot see anyone else's work,
nor what the pipeline runs beside a job. So every timed phase is watched over its window:

- **CPU share**: CPU time of this process (all threads, plus children reaped in the
  window) / (wall time × requested threads);
- **run-queue wait** (where the kernel reports it, ``/proc/self/task/*/schedstat``): how
  long this process's threads were runnable but waited for a CPU, as a fraction of the
  requested core time;
- **other load**: cores kept busy by other processes on the CPUs this process may use
  (``/proc/stat`` per-CPU busy time, minus our own CPU time, plus steal time — another
  virtual machine on our core), averaged over the window;
- the **cores available** to the process: its CPU affinity, capped by a cgroup CPU quota.

A phase is *contended* when its process got less than ``min_share`` of the cores it
asked for *and* (where run-queue waits are readable) its threads waited for a CPU more
than ``1 - min_share`` of that time — so a workload that simply cannot keep all its
threads busy is not mistaken for a held-back one — or when the other load exceeded the
cores the job does not use by more than ``load_margin`` (beyond the counters' tick
resolution). The pipeline's own untimed jobs on other cores are therefore fine; anyone on
the job's cores is not. A contended phase is repeated (``retries``, with a doubling
``backoff_s`` pause); still contended, its timings become ``invalid`` with a reason that
starts with the stable category ``contended:``. A job whose threads exceed its cores is
``oversubscribed:`` from the start (repeating cannot help).
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, Mapping, TypeVar

T = TypeVar("T")

CONTENDED = "contended"
OVERSUBSCRIBED = "oversubscribed"
#: ``source`` of the rows the guard writes.
SOURCE = "contention-guard"
#: Core-seconds a window may lose without counting as held back: the kernel's own
#: housekeeping (interrupts, a kernel worker) takes tens of microseconds at a time, another
#: process a time slice of milliseconds. Matters only for windows of a few milliseconds.
NOISE_FLOOR_S = 0.001
#: Clock ticks per second of /proc/stat (USER_HZ).
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Settings:
    """``measure.contention`` of the config (schema: workflow/schemas/config.schema.yaml)."""

    enabled: bool = True
    min_share: float = 0.9
    load_margin: float = 0.5
    retries: int = 2
    backoff_s: float = 1.0

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> Settings | None:
        """The settings of a config section; None (no guard) where the section is absent."""
        if section is None:
            return None
        known = {k: section[k] for k in cls.__dataclass_fields__ if k in section}
        return cls(**known)


# -- what the process may use ---------------------------------------------------------------
def affinity() -> list[int]:
    """CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _cgroup_dirs(proc_cgroup: Path, root: Path) -> list[Path]:
    """This process's cgroup directories for the CPU controller, innermost first, with
    every ancestor up to the root (a quota anywhere above applies too)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return []
    dirs = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: one unified hierarchy
            base = root
        elif "cpu" in controllers.split(","):  # cgroup v1: the cpu controller's hierarchy
            base = next((root / c for c in (controllers, "cpu,cpuacct", "cpu") if (root / c).is_dir()), None)
            if base is None:
                continue
        else:
            continue
        here = base / path.lstrip("/")
        while True:
            dirs.append(here)
            if here == base:
                break
            here = here.parent
    return dirs


def cgroup_cpu_quota(
    root: str | Path = "/sys/fs/cgroup", proc_cgroup: str | Path = "/proc/self/cgroup"
) -> float | None:
    """Cores this process's cgroups allow (quota / period, the tightest level), or None.

    cgroup v2: ``cpu.max`` (``"<quota> <period>"`` or ``"max <period>"``); v1:
    ``cpu.cfs_quota_us`` (-1: none) and ``cpu.cfs_period_us``.
    """
    quotas = []
    for folder in _cgroup_dirs(Path(proc_cgroup), Path(root)):
        try:
            if (folder / "cpu.max").exists():
                quota, period = (folder / "cpu.max").read_text().split()[:2]
                if quota != "max":
                    quotas.append(int(quota) / int(period))
            elif (folder / "cpu.cfs_quota_us").exists():
                quota = int((folder / "cpu.cfs_quota_us").read_text())
                if quota > 0:
                    quotas.append(quota / int((folder / "cpu.cfs_period_us").read_text()))
        except (OSError, ValueError):
            continue
    return min(quotas) if quotas else None


def available_cores(cpus: list[int] | None = None, quota: float | None = None) -> float:
    """Cores the process can use at once: its affinity, capped by a cgroup quota."""
    count = float(len(cpus if cpus is not None else affinity()))
    return min(count, quota) if quota is not None else count


def requested_threads() -> int:
    """The threads a job asked for: ``OMP_NUM_THREADS``, which the job protocol sets to the
    rule's threads (``spikemark.pipeline``), else 1."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ValueError:
        return 1


def cores_label(cores: float) -> str:
    return f"{cores:g}" if cores == int(cores) else f"{cores:.2f}"


def oversubscribed(threads: int, cores: float) -> str | None:
    """The reason a job with ``threads`` threads cannot be timed on ``cores`` cores, or None."""
    if threads > cores:
        return f"{OVERSUBSCRIBED}: {threads} threads on {cores_label(cores)} cores"
    return None


# -- counters -------------------------------------------------------------------------------
_CPU_LINE = re.compile(r"^cpu(\d+)\s+(.*)$")


def cpu_ticks(stat: str | Path = "/proc/stat") -> dict[int, tuple[int, int]] | None:
    """Per CPU: (busy ticks, steal ticks) from ``/proc/stat``; None where it is unreadable.

    Busy is user + nice + system + irq + softirq (guest time is inside user); idle and
    iowait are not busy; steal is time a hypervisor gave our virtual CPU to someone else.
    """
    try:
        text = Path(stat).read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        match = _CPU_LINE.match(line)
        if match:
            fields = [int(v) for v in match.group(2).split()] + [0] * 8
            user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
            out[int(match.group(1))] = (user + nice + system + irq + softirq, steal)
    return out


def run_queue_wait_ns(task_dir: str | Path = "/proc/self/task") -> int | None:
    """Nanoseconds this process's live threads have waited on a run queue (schedstat's
    second field); None where the kernel does not report it."""
    total, seen = 0, False
    try:
        tasks = os.listdir(task_dir)
    except OSError:
        return None
    for task in tasks:
        try:
            total += int(Path(task_dir, task, "schedstat").read_text().split()[1])
            seen = True
        except (OSError, ValueError, IndexError):
            continue
    return total if seen else None


def process_ticks(proc: str | Path = "/proc") -> dict[int, int]:
    """CPU ticks (user + system) of every other process, by pid (``/proc/<pid>/stat``)."""
    own = os.getpid()
    out = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # the process ended
        fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
        out[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime, stime
    return out


def command_label(pid: int, proc: str | Path = "/proc") -> str:
    """A short name for a process: its program and, for an interpreter, its script or module."""
    try:
        argv = Path(proc, str(pid), "cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [Path(a.decode(errors="replace")).name for a in argv if a]
    if not words:
        return f"pid {pid}"
    if words[0].startswith("python") and len(words) > 1:
        rest = words[2] if words[1] == "-m" and len(words) > 2 else words[1]
        return f"{words[0]} {rest}"
    return words[0]


def top_others(
    before: dict[int, int], after: dict[int, int], wall_s: float, count: int = 3
) -> list[tuple[str, float]]:
    """The other processes that used the most CPU between two :func:`process_ticks`
    readings: (label, cores on average over ``wall_s``), largest first."""
    used = {pid: after[pid] - before.get(pid, 0) for pid in after}
    top = sorted((t, pid) for pid, t in used.items() if t > 0)[-count:][::-1]
    return [(f"{command_label(pid)} [{pid}]", t / TICKS / wall_s) for t, pid in top]


def _own_cpu() -> float:
    """CPU seconds of this process's threads and of its children reaped so far."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Snapshot:
    wall: float
    cpu: float
    ticks: dict[int, tuple[int, int]] | None
    wait_ns: int | None

    @classmethod
    def take(cls) -> Snapshot:
        ticks, wait = cpu_ticks(), run_queue_wait_ns()
        return cls(time.perf_counter(), _own_cpu(), ticks, wait)


@dataclass(frozen=True)
class Observation:
    """What the guard saw over one window (see the module docstring)."""

    wall_s: float
    cpu_s: float
    threads: int
    cores: float
    other_load: float | None  # cores; None where /proc/stat is unreadable
    steal: float | None  # cores, included in other_load
    resolution: float  # cores: the tick counters' uncertainty over this window
    wait: float | None  # run-queue wait / (wall × threads)

    @classmethod
    def between(
        cls, start: Snapshot, end: Snapshot, threads: int, cpus: list[int], cores: float
    ) -> Observation:
        wall = max(end.wall - start.wall, 1e-9)
        cpu = max(end.cpu - start.cpu, 0.0)
        other = steal = None
        if start.ticks is not None and end.ticks is not None:
            here = [c for c in cpus if c in start.ticks and c in end.ticks]
            busy = sum(end.ticks[c][0] - start.ticks[c][0] for c in here) / TICKS
            stolen = sum(end.ticks[c][1] - start.ticks[c][1] for c in here) / TICKS
            steal = stolen / wall
            other = max(busy - cpu, 0.0) / wall + steal
        wait = None
        if start.wait_ns is not None and end.wait_ns is not None:
            wait = max(end.wait_ns - start.wait_ns, 0) * 1e-9 / (wall * threads)
        # Each CPU's counters are read twice, each reading up to one tick off.
        resolution = 2 * len(cpus) / (TICKS * wall)
        return cls(wall, cpu, threads, cores, other, steal, resolution, wait)

    @property
    def share(self) -> float:
        """CPU time / (wall time × requested threads)."""
        return self.cpu_s / (self.wall_s * self.threads)

    @property
    def free_cores(self) -> float:
        return max(self.cores - self.threads, 0.0)

    def contended(self, settings: Settings, *, cpu_bound: bool = True) -> bool:
        """Whether this window was contended (``cpu_bound=False``: a phase that waits by
        design, e.g. an idle baseline or a GPU workload, is judged by the other load only)."""
        lost = self.wall_s * self.threads - self.cpu_s  # core-seconds asked for and not had
        held_back = cpu_bound and self.share < settings.min_share and lost >= NOISE_FLOOR_S
        if held_back and self.wait is not None:
            held_back = self.wait > 1 - settings.min_share
        crowded = (
            self.other_load is not None
            and self.other_load - self.resolution > self.free_cores + settings.load_margin
        )
        return held_back or crowded

    def describe(self) -> str:
        """What was seen, e.g. "got 0.43 of 2 requested cores; other load 3.1 on 0 free cores"."""
        text = f"got {self.cpu_s / self.wall_s:.2f} of {self.threads} requested cores"
        if self.wait is not None:
            text += f", waited {self.wait:.0%} of the time for a CPU"
        if self.other_load is not None:
            text += f"; other load {self.other_load:.2f} on {cores_label(self.free_cores)} free cores"
            if self.steal:
                text += f" (steal {self.steal:.2f})"
        return text


@dataclass(frozen=True)
class Guarded(Generic[T]):
    """A phase's result, the observation of its last attempt, and the verdict."""

    value: T
    observation: Observation | None
    attempts: int
    reason: str = ""  # "" if the timing can be trusted


class Guard:
    """Watches timed phases of one job that asked for ``threads`` threads."""

    def __init__(
        self,
        settings: Settings,
        threads: int | None = None,
        *,
        cpu_bound: bool = True,
        attribute: bool = False,
    ):
        self.settings = settings
        self.threads = threads or requested_threads()
        self.cpu_bound = cpu_bound
        self.cpus = affinity()
        self.cores = available_cores(self.cpus, cgroup_cpu_quota())
        #: Name the busiest other processes of each window (reads every process's
        #: counters before and after it: for long windows, e.g. PD14 phases).
        self.attribute = attribute
        self.others: list[tuple[str, float]] = []

    def watch(self, phase: Callable[[], T]) -> tuple[T, Observation]:
        """Run ``phase`` once; its result and what the guard saw. With ``attribute``, the
        other processes that used the most CPU over the window are in :attr:`others`."""
        others = process_ticks() if self.attribute else None
        start = Snapshot.take()
        value = phase()
        end = Snapshot.take()
        observation = Observation.between(start, end, self.threads, self.cpus, self.cores)
        if others is not None:
            self.others = top_others(others, process_ticks(), observation.wall_s)
        return value, observation

    def retry(self, attempt: Callable[[int], tuple[T, Observation | None, str]]) -> Guarded[T]:
        """Call ``attempt(number)`` — it runs a phase and returns (value, observation,
        verdict) — until the verdict is trusted or the retries are spent, pausing
        ``backoff_s`` × 2^(n-1) in between. Oversubscription is not retried: more attempts
        cannot give the job more cores."""
        number = 0
        while True:
            number += 1
            value, observation, reason = attempt(number)
            if not reason or reason.startswith(OVERSUBSCRIBED) or number > self.settings.retries:
                return Guarded(value, observation, number, reason)
            time.sleep(self.settings.backoff_s * 2 ** (number - 1))

    def run(self, phase: Callable[[], T], *, cpu_bound: bool | None = None) -> Guarded[T]:
        """Run ``phase`` until a window is not contended or the retries are spent."""

        def attempt(number: int) -> tuple[T, Observation, str]:
            value, observation = self.watch(phase)
            return value, observation, self.check(observation, number, cpu_bound=cpu_bound)

        return self.retry(attempt)

    def check(self, observation: Observation, attempts: int = 1, *, cpu_bound: bool | None = None) -> str:
        """The verdict of one window: ``""`` if it can be trusted (always, where the guard
        is disabled), else the ``invalid`` reason."""
        if not self.settings.enabled:
            return ""
        over = oversubscribed(self.threads, self.cores)
        if over:
            return over
        if observation.contended(self.settings, cpu_bound=self.cpu_bound if cpu_bound is None else cpu_bound):
            tries = f" ({attempts} attempt{'s' if attempts > 1 else ''})"
            return f"{CONTENDED}: {observation.describe()}{tries}"
        return ""


def guard_for(section: Mapping[str, Any] | None, threads: int | None = None, **options: Any) -> Guard | None:
    """The guard of a job whose config slice holds ``section`` (``measure.contention``), or
    None where the slice has none or disables it (then no phase is watched and no guard row
    written); ``options`` are :class:`Guard`'s keywords."""
    settings = Settings.from_config(section)
    return Guard(settings, threads, **options) if settings is not None and settings.enabled else None


def add_guard_rows(results, name: str, guarded: Any, **coords: Any) -> None:
    """Rows of what the guard saw for the timing ``name``: ``<name>_cpu_share`` (fraction of
    the requested cores), ``<name>_other_load`` (cores) and ``<name>_attempts``. They are
    facts about the machine, always ``ok``; the timing rows carry the verdict. ``guarded``
    is a :class:`Guarded` or anything with its ``observation`` and ``attempts`` (a
    :class:`~spikemark.measure.timing.Timing`)."""
    observation = guarded.observation
    if observation is None:
        return
    results.add(f"{name}_cpu_share", observation.share, "fraction", source=SOURCE, **coords)
    if observation.other_load is not None and math.isfinite(observation.other_load):
        results.add(f"{name}_other_load", observation.other_load, "cores", source=SOURCE, **coords)
    results.add(f"{name}_attempts", guarded.attempts, "1", source=SOURCE, **coords)


# -- a bounded load, for the guard's own tests and benchmark ---------------------------------
#: One busy process: pinned to a CPU (or not, -1), spinning until its deadline. The
#: deadline is in the child itself, so the load ends even if whoever started it dies.
_SPIN = """
import os, sys, time
cpu, until = int(sys.argv[1]), float(sys.argv[2])
if cpu >= 0:
    os.sched_setaffinity(0, {cpu})
print("spinning", flush=True)
while time.time() < until:
    for _ in range(100000):
        pass
"""


class CpuHog:
    """Busy processes, one per entry of ``cpus`` (a CPU number to pin it to, or None),
    for at most ``seconds``; a context manager that starts and stops them.

    Used by ``tests/test_contention.py`` and ``benchmarks/contention_guard.py`` to make a
    machine busy on purpose, never by the pipeline.
    """

    def __init__(self, cpus: list[int | None], seconds: float = 60.0) -> None:
        self.cpus, self.seconds = list(cpus), seconds
        self.processes: list = []

    def __enter__(self) -> CpuHog:
        import subprocess
        import sys

        until = time.time() + self.seconds
        for cpu in self.cpus:
            command = [sys.executable, "-c", _SPIN, str(-1 if cpu is None else cpu), repr(until)]
            self.processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
        for process in self.processes:  # each has started and spins
            process.stdout.readline()
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=10)
            process.stdout.close()
        self.processes = []
