"""The job protocol (spikemark.pipeline.run_stage) with Snakemake's own containers.

The ``snakemake`` object a job script receives is built here from Snakemake's real
``Namedlist`` (``snakemake.iocontainers``), laid out as Snakemake lays out named inputs,
outputs and params; only the script-runner around it is missing.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

from snakemake.iocontainers import Namedlist

from spikemark import pipeline, provenance
from spikemark.results import ResultSet


def named(**entries) -> Namedlist:
    """A Namedlist as Snakemake builds one: list-valued entries are flattened and named by span."""
    out = Namedlist()
    for name, value in entries.items():
        start = len(out)
        if isinstance(value, list):
            out.extend(value)
            out._set_name(name, start, len(out))
        else:
            out.append(value)
            out._set_name(name, start)
    return out


def job(tmp_path: Path, *, inputs: dict, outputs: dict, params: dict, rule: str = "measure"):
    return SimpleNamespace(
        input=named(**inputs), output=named(**outputs), params=named(**params),
        log=named(log=str(tmp_path / "logs" / "job.log")), threads=1, rule=rule,
    )  # fmt: skip


def sweep_stage(dataset: str, model: str, metrics: str, *, coords: dict, scale: float) -> ResultSet:
    """A stand-in stage: one row per cell, and a failure at sparsity 0.5."""
    if coords["sparsity"] == 0.5:
        raise RuntimeError(f"cannot read {model}")
    rs = ResultSet("ml", coords)
    rs.add("accuracy", scale * (1 - coords["sparsity"]), "fraction")
    rs.write_csv(metrics)
    return rs


def test_a_sweep_runs_every_cell_and_a_failing_cell_alone_gets_tombstones(tmp_path):
    levels = [0.0, 0.5, 0.9]
    cells = [{"coords": {"dataset": "digits", "method": "ann", "sparsity": s, "pruning": "lamp"}} for s in levels]
    metrics = [str(tmp_path / f"s{s}" / "metrics.csv") for s in levels]
    prov = [str(tmp_path / f"s{s}" / "provenance.json") for s in levels]
    snakemake = job(
        tmp_path,
        inputs={"dataset": "digits.npz", "model": [f"m{s}.pt" for s in levels]},
        outputs={"metrics": metrics, "provenance": prov},
        params={"cells": cells, "scale": 0.8, "track": "ml"},
    )
    pipeline.run_stage(snakemake, sweep_stage)

    rows = [list(csv.DictReader(open(path))) for path in metrics]
    assert [r[0]["metric"] for r in rows] == ["accuracy", "cell", "accuracy"]
    assert float(rows[2][0]["value"]) == 0.8 * (1 - 0.9)
    failed = rows[1][0]
    assert failed["status"] == "failed" and "cannot read m0.5.pt" in failed["reason"]
    assert failed["sparsity"] == "0.5" and failed["pruning"] == "lamp"  # the cell's own coordinates
    records = [json.loads(Path(p).read_text()) for p in prov]
    assert [r["run_id"] for r in records] == [r[0]["run_id"] for r in rows]
    for record, cell in zip(records, cells):
        used = json.loads(record["config_slice"])
        # the slice is what the stage received: no wrapper params, no other cell's coordinates
        assert used == {"scale": 0.8, "coords": cell["coords"]}
        assert record["config_hash"] == provenance.config_hash(used) and record["rule"] == "measure"
    log = (tmp_path / "logs" / "job.log").read_text()
    assert "RuntimeError: cannot read m0.5.pt" in log  # the traceback stays in the log
    events = [line.split()[-2] for line in log.splitlines() if pipeline.TIMELINE in line]
    assert events[:2] == ["process-start", "stage-start"] and events[-1] == "stage-end"


def noisy_stage(note: str, *, text: str) -> None:
    print(f"python says {text}")
    os.write(1, b"a C library writes to fd 1\n")
    os.write(2, b"and to fd 2\n")
    subprocess.run(["sh", "-c", "echo a child process inherits them"], check=True)
    Path(note).write_text("done\n")


def test_everything_the_job_writes_lands_in_its_log(tmp_path, capfd):
    snakemake = job(tmp_path, inputs={}, outputs={"note": str(tmp_path / "note.txt")}, params={"text": "hello"},
                    rule="simulate_pd14")  # fmt: skip
    pipeline.run_stage(snakemake, noisy_stage)
    log = (tmp_path / "logs" / "job.log").read_text()
    for line in ("python says hello", "a C library writes to fd 1", "and to fd 2", "a child process inherits them"):
        assert line in log
    captured = capfd.readouterr()
    assert "C library" not in captured.out + captured.err  # nothing escaped to the terminal
    print("after the job")  # and the terminal is the terminal again
    assert "after the job" in capfd.readouterr().out
