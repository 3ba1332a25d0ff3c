"""How a run ends: one line of cell counts, and a non-zero exit while any cell is failed.

``summary.json`` (written by ``aggregate``) counts the cells of the results by status. The
``cell_summary`` job, which every run's target needs, writes ``cells_ok.txt`` only when no
cell failed; otherwise it fails, so its output never exists and every later run — even one
with nothing else to do — runs it again and ends non-zero, until the failed cells are fixed
(re-run) or removed from the config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIX = (
    "fix the cause, then re-run the failed cells: delete their folders under cells/ (or the "
    "simulation run's folder) and run the same command again, or remove them from the config"
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
    lines += [f"  failed: {json.dumps(cell, sort_keys=True)}" for cell in failed]
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
