"""Glue between Snakemake jobs and stage functions.

A rule's ``script:`` calls :func:`run_stage` with its stage function. Named inputs,
outputs and params become keyword arguments. If the stage raises, the job still succeeds
from Snakemake's point of view but leaves a *tombstone* in each output (a checkpoint that
says failed, a deployment record that says failed, a metrics CSV with a ``failed`` row),
so one broken cell never stops the others and the report shows why it broke.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from spikemark import provenance
from spikemark.errors import StageFailed
from spikemark.results import ResultSet


#: Params read by the wrapper itself, not passed to the stage: the track and coordinates
#: of tombstone rows, and the config whose hash goes into provenance.
WRAPPER_PARAMS = ("track", "provenance_config")


def _named(items) -> dict[str, Any]:
    return {k: v for k, v in items.items()}


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
    """Send the stage's logging and stray prints to the rule's log file."""
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.removeHandler(handler)


def run_stage(snakemake, stage: Callable[..., Any], *, provenance_output: str | None = None) -> None:
    """Run ``stage`` with the job's inputs, outputs and params; never raise for a stage error."""
    inputs, outputs, params = _named(snakemake.input), _named(snakemake.output), _named(snakemake.params)
    run_id = None
    started = provenance.utc_now()
    log_path = snakemake.log[0] if len(snakemake.log) else None
    _limit_torch_threads(int(snakemake.threads))
    stage_outputs = {k: v for k, v in outputs.items() if k != "provenance"}
    with logging_to(log_path):
        try:
            stage_params = {k: v for k, v in params.items() if k not in WRAPPER_PARAMS}
            result = stage(**inputs, **stage_outputs, **stage_params)
            run_id = getattr(result, "run_id", None)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed cell, traceback in the log
            traceback.print_exc(file=sys.stderr)
            status, reason = failure(exc, snakemake.rule)
            logging.getLogger(__name__).error("%s: %s", status, reason)
            write_tombstones(stage_outputs, status, reason, params)
            run_id = _tombstone_run_id(stage_outputs)
        if "provenance" in outputs:
            config = params.get("provenance_config")
            record = provenance.collect(run_id or "", config=config, started=started, rule=snakemake.rule)
            provenance.write(record, outputs["provenance"])


def _tombstone_run_id(outputs: dict[str, str]) -> str | None:
    import csv

    for path in outputs.values():
        if path.endswith(".csv"):
            with open(path) as fh:
                for row in csv.DictReader(fh):
                    return row["run_id"]
    return None


def _limit_torch_threads(threads: int) -> None:
    """Give torch exactly the job's threads (the scheduler counted on that many cores).

    Through the environment, read when torch is first imported (stages import it lazily),
    and directly if it is already loaded.
    """
    threads = max(1, threads)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
