"""How a run ends: one line of cell counts, and a non-zero exit while any cell is failed.

``summary.json`` (written by ``aggregate``) counts the cells of the results by status. The
``cell_summary`` job, which every run's target needs, writes ``cells_ok.txt`` only when no
cell failed; otherwise it fails, so its output never exists and every later run — even one
with nothing else to do — runs it again and ends non-zero, until the failed cells are fixed
(re-run) or removed from the config. Deleting a cell's files alone does not re-run it:
Snakemake does not remake a missing intermediate file while everything downstream of it is
up to date; forcing the file (``--forcerun``) does.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FIX = (
    "fix the cause (e.g. delete a broken artefact the reason names), then re-run just these "
    "cells with `spikemark rerun --failed` (the same as snakemake's --forcerun on their "
    "files), or remove them from the config"
)


def summary_line(summary: dict) -> str:
    counts = summary["by_status"]
    return f"spikemark: {summary['cells']} cells: " + ", ".join(f"{n} {status}" for status, n in counts.items())


def print_cell_summary(summary_json: str | Path) -> None:
    """The run's last line (``onsuccess`` / ``onerror``); nothing if no summary exists yet."""
    path = Path(summary_json)
    if path.exists():
        print(summary_line(json.loads(path.read_text())), file=sys.stderr)


def check_cells(summary_json: str | Path, ok: str | Path, log: str | Path | None = None) -> None:
    """Write ``ok`` if no cell failed; else list the failed cells (terminal and ``log``) and exit 1."""
    summary = json.loads(Path(summary_json).read_text())
    failed = summary["failed"]
    lines = [summary_line(summary)]
    lines += [f"  failed: {cell.get('fragment') or json.dumps(cell, sort_keys=True)}: {cell['reason']}" for cell in failed]
    if failed:
        lines.append(f"spikemark: {len(failed)} failed cell(s): {FIX}")
    text = "\n".join(lines) + "\n"
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text(text)
    if not failed:
        Path(ok).write_text(text)
        return
    print(text, end="", file=sys.stderr)
    sys.exit(1)


def cells_to_rerun(
    summary_json: str | Path, statuses: tuple[str, ...] = ("failed",), hardware: str | None = None
) -> list[str]:
    """The fragment files of the cells with one of ``statuses`` (on ``hardware``, if given)."""
    summary = json.loads(Path(summary_json).read_text())
    problems = summary.get("problems") or [dict(c, status="failed") for c in summary["failed"]]
    return sorted(
        {
            p["fragment"]
            for p in problems
            if p["status"] in statuses and p.get("fragment") and (hardware is None or p.get("hardware") == hardware)
        }
    )


def outdate_pages_without_table(metrics_csv: str | Path, pages: list[str]) -> list[Path]:
    """Date the report pages back when the table they were rendered from is gone.

    Snakemake does not remake a missing intermediate file while its consumers look up to
    date: with ``metrics.csv`` deleted, ``snakemake report`` would say "Nothing to be done".
    A page older than its remaining inputs is out of date, so its rule runs, and with it the
    aggregate that writes the table. Only the pages' times change, never their content.
    """
    if Path(metrics_csv).exists():
        return []
    outdated = [Path(page) for page in pages if Path(page).exists()]
    for page in outdated:
        os.utime(page, (0, 0))
    return outdated
