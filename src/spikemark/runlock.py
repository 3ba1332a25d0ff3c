"""One run per results directory, and no lock outlives its run.

The pipeline's own lock replaces Snakemake's (the workflow profile sets ``nolock``):
Snakemake's lock files stay behind when a run is killed, and the next run then refuses to
start until ``--unlock``. Ours is an ``flock`` on ``<results_dir>/.spikemark.lock``, held
by the running ``snakemake`` process: the kernel releases it when that process ends, however
it ends, so a killed run never blocks the next one, while a second run started beside a
live one is told plainly which run holds the directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import IO

LOCK_NAME = ".spikemark.lock"
#: The open lock file of this process (the lock lasts as long as it stays open).
_held: IO[str] | None = None


class ResultsDirBusy(RuntimeError):
    """Another live run holds the results directory; the message says which."""


def holder(path: Path) -> str:
    """Who holds the lock, as its holder wrote it (pid, host, start, command)."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another run"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("since", 0)))
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, running since {since}: {info.get('command', '')}"


def acquire(results_dir: str | Path) -> Path:
    """Hold the results directory's lock for the rest of this process, or raise ResultsDirBusy."""
    global _held
    path = Path(results_dir) / LOCK_NAME
    if _held is not None and not _held.closed and Path(_held.name) == path:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ResultsDirBusy(
            f"another run holds results directory {results_dir} ({holder(path)}); wait for it to end "
            "or stop it, or write elsewhere with --config results_dir=OTHER"
        ) from None
    handle.seek(0)
    handle.truncate()
    info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "command": " ".join(sys.argv)}
    handle.write(json.dumps(info))
    handle.flush()
    _held = handle
    return path


def acquire_or_exit(results_dir: str | Path) -> None:
    """For the Snakefile's ``onstart``: one line and exit status 2 when the directory is busy."""
    try:
        acquire(results_dir)
    except ResultsDirBusy as exc:
        print(f"spikemark: {exc}", file=sys.stderr, flush=True)
        os._exit(2)  # from inside Snakemake's run loop: leave at once, touching nothing


def cancel_wake_up_timers() -> int:
    """Cancel this process's pending ``threading.Timer`` wake-ups; how many there were.

    Snakemake's scheduler arms a (non-daemon) ``threading.Timer`` of one rate-limit timespan
    after each pass while jobs wait. The workflow profile makes that timespan a minute, so
    that the scheduler does not wake every second beside a timed job; the last timer would
    then keep the finished ``snakemake`` process alive for up to a minute (seen: 62 s
    between "Elapsed time" and exit). Called from ``onsuccess`` / ``onerror``, when no job
    is left to schedule.
    """
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
    for timer in timers:
        timer.cancel()
    return len(timers)
