"""The one job protocol: how every Snakemake job runs its stage function.

A rule's ``script:`` calls :func:`run_stage` with its stage function. Named inputs,
outputs and params become keyword arguments (only those the stage's signature names).

- **Logs**: everything the job writes — Python logging, prints, and the C++ output of
  NEST or any other library — goes to the rule's log file: the redirection is at the
  file-descriptor level, so output that bypasses ``sys.stdout`` lands there too.
- **Timeline**: the log records when the process started, when the stage began, and the
  marks stages set with :func:`mark` (``imports-done``, ``measurement-start``,
  ``measurement-end``); ``benchmarks/default_run.py`` reads them.
- **Failures**: if the stage raises, the job still succeeds from Snakemake's point of view
  but leaves a *tombstone* in each output (a checkpoint that says failed, a deployment
  record that says failed, a metrics CSV with a ``failed`` row), so one broken cell never
  stops the others and the report shows why it broke.
- **Sweeps**: a job whose params hold ``cells`` (a list of per-cell keyword arguments, see
  ``spikemark.matrix``) runs the stage once per cell; its list-valued inputs and outputs
  are per cell (element *i* belongs to cell *i*), the rest shared. A cell that raises gets
  its own tombstones; the next cell still runs.
- **Provenance**: an output named ``provenance`` receives the provenance record of its
  cell, whose ``config_slice`` is exactly the params the stage received (the part of the
  config this job used) and ``config_hash`` that slice's hash.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from spikemark import provenance
from spikemark.errors import StageFailed
from spikemark.results import ResultSet

#: Params read by the wrapper itself: the track of tombstone rows and the per-cell list.
WRAPPER_PARAMS = ("track", "cells")
#: Prefix of the log lines :func:`mark` writes (``benchmarks/default_run.py`` parses them).
TIMELINE = "spikemark-timeline"

log = logging.getLogger(__name__)


def mark(event: str, at: float | None = None) -> None:
    """Write one timeline line ``spikemark-timeline <event> <unix time>`` to the job's log."""
    log.info("%s %s %.3f", TIMELINE, event, time.time() if at is None else at)


def process_start_time() -> float:
    """Unix time at which this process started (before Python and Snakemake's preamble)."""
    try:
        import psutil

        return float(psutil.Process().create_time())
    except Exception:  # noqa: BLE001 - a timeline mark is never worth failing a job
        return time.time()


def failure(exc: BaseException, rule: str) -> tuple[str, str]:
    """Status and one-line reason for an exception raised inside a stage."""
    if isinstance(exc, StageFailed):
        return exc.status, exc.reason
    summary = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return "failed", f"{rule}: {type(exc).__name__}: {summary}"[:500]


def write_tombstones(outputs: dict[str, str], status: str, reason: str, params: dict[str, Any]) -> None:
    """Make every output exist and say ``status`` with ``reason``."""
    for path in outputs.values():
        suffix = Path(path).suffix
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".pt":
            from spikemark.models import save_failure

            save_failure(path, status, reason)
        elif suffix == ".npz":
            from spikemark.datasets.base import save_failure as save_dataset_failure

            save_dataset_failure(path, status, reason)
        elif suffix == ".json":
            Path(path).write_text(json.dumps({"status": status, "reason": reason}) + "\n")
        elif suffix == ".csv":
            rs = ResultSet(params.get("track", "ml"), dict(params.get("coords", {})))
            rs.mark_cell(status if status in ("skipped", "failed", "invalid") else "failed", reason)
            rs.write_csv(path)
        else:
            Path(path).write_text(f"{status}: {reason}\n")


@contextlib.contextmanager
def logging_to(path: str | None):
    """Send the job's logging, prints and any library's C output to the log file.

    File descriptors 1 and 2 are pointed at the log (and restored afterwards), so text that
    a compiled library writes straight to them lands in the log, not on the terminal.
    """
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w", buffering=1) as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        previous_level = root.level
        root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            fh.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _named(items) -> dict[str, Any]:
    return {k: v for k, v in items.items()}


def _per_cell(named: dict[str, Any], i: int) -> dict[str, Any]:
    """Element ``i`` of every list-valued entry (a per-cell file), the rest unchanged."""
    return {k: (v[i] if isinstance(v, list) else v) for k, v in named.items()}


def _accepted(stage: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(stage).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}


def run_one(
    stage: Callable[..., Any], inputs: dict[str, Any], outputs: dict[str, str], params: dict[str, Any], rule: str
) -> None:
    """Run ``stage`` for one cell: tombstones if it raises, provenance if asked for."""
    started = provenance.utc_now()
    machine_before = provenance.machine_snapshot() if "provenance" in outputs else None
    stage_outputs = {k: v for k, v in outputs.items() if k != "provenance"}
    stage_params = {k: v for k, v in params.items() if k not in WRAPPER_PARAMS}
    run_id, facts = None, {}
    try:
        result = stage(**_accepted(stage, {**inputs, **stage_outputs, **stage_params}))
        run_id = getattr(result, "run_id", None)
        facts = dict(getattr(result, "provenance", None) or {})
    except Exception as exc:  # noqa: BLE001 - recorded as a failed cell, traceback in the log
        traceback.print_exc(file=sys.stderr)
        status, reason = failure(exc, rule)
        log.error("%s: %s", status, reason)
        write_tombstones(stage_outputs, status, reason, params)
        run_id = _tombstone_run_id(stage_outputs)
    if "provenance" in outputs:
        record = provenance.collect(
            run_id or "",
            started=started,
            machine_before=machine_before,
            rule=rule,
            config_hash=provenance.config_hash(stage_params),
            config_slice=json.dumps(stage_params, sort_keys=True, default=str),
            **facts,
        )
        provenance.write(record, outputs["provenance"])


def run_stage(snakemake, stage: Callable[..., Any]) -> None:
    """Run ``stage`` with the job's inputs, outputs and params; never raise for a stage error."""
    process_started = process_start_time()
    inputs, outputs, params = _named(snakemake.input), _named(snakemake.output), _named(snakemake.params)
    log_path = snakemake.log[0] if len(snakemake.log) else None
    _limit_torch_threads(int(snakemake.threads))
    with logging_to(log_path):
        mark("process-start", process_started)
        mark("stage-start")
        cells = params.get("cells")
        if cells is None:
            run_one(stage, inputs, outputs, params, snakemake.rule)
        else:
            for i, cell in enumerate(cells):
                run_one(stage, _per_cell(inputs, i), _per_cell(outputs, i), {**params, **cell}, snakemake.rule)
        mark("stage-end")


def _tombstone_run_id(outputs: dict[str, str]) -> str | None:
    import csv

    for path in outputs.values():
        if path.endswith(".csv"):
            with open(path) as fh:
                for row in csv.DictReader(fh):
                    return row["run_id"]
    return None


def _limit_torch_threads(threads: int) -> None:
    """Give torch and OpenMP exactly the job's threads (the scheduler counted on that many cores).

    Through the environment, read when torch is first imported (stages import it lazily),
    and directly if it is already loaded.
    """
    threads = max(1, threads)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
