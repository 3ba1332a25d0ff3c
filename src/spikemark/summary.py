"""The line every pipeline run ends with: how many cells ran, were skipped or failed."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def exit_with_cell_summary(summary_json: str | Path) -> None:
    """Print the cell counts of ``summary.json``; exit non-zero if any cell failed."""
    path = Path(summary_json)
    if not path.exists():
        return
    summary = json.loads(path.read_text())
    counts = summary["by_status"]
    print(
        f"spikemark: {summary['cells']} cells: " + ", ".join(f"{n} {status}" for status, n in counts.items()),
        file=sys.stderr,
    )
    for cell in summary["failed"]:
        print(f"  failed: {cell}", file=sys.stderr)
    if counts.get("failed", 0):
        sys.exit(1)
