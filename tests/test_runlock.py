"""The end of a run: no pending scheduler wake-up keeps the finished snakemake alive."""

from __future__ import annotations

import threading

from spikemark.runlock import cancel_wake_up_timers


def test_pending_timers_are_cancelled_and_their_threads_end():
    # A real threading.Timer, as Snakemake's scheduler arms one per pass (a minute here).
    fired = []
    timer = threading.Timer(60.0, lambda: fired.append(True))
    timer.start()
    assert cancel_wake_up_timers() >= 1
    timer.join(timeout=5.0)
    assert not timer.is_alive() and not fired


def test_without_pending_timers_nothing_is_cancelled():
    assert cancel_wake_up_timers() == 0
