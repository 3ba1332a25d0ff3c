"""The tidy results format shared by every stage (README, "Results format").

One row per value. A job collects its rows in a :class:`ResultSet` and writes one CSV
fragment; ``aggregate`` concatenates the fragments into ``results/metrics.csv``.
"""

from __future__ import annotations

import csv
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spikemark.stats import Summary

#: Coordinate columns; empty where they do not apply. ``pruning`` is the pruning method of
#: an ML cell (``global_magnitude``, ``lamp``), so tables can compare methods; ``ranks`` the
#: MPI processes of a simulation run (``threads`` is then the threads of each).
COORDS = (
    "dataset",
    "framework",
    "hardware",
    "method",
    "sparsity",
    "timesteps",
    "scale",
    "threads",
    "seed",
    "population",
    "size",
    "backend",
    "noise",
    "variant",
    "pruning",
    "ranks",
)
COLUMNS = (
    "run_id",
    "track",
    *COORDS,
    "metric",
    "value",
    "unit",
    "source",
    "n",
    "ci_low",
    "ci_high",
    "status",
    "reason",
)
TRACKS = ("ml", "simulation", "latency")
STATUSES = ("ok", "skipped", "unavailable", "failed", "invalid")
#: ``metric`` of the single row that stands for a whole skipped or failed cell.
CELL_METRIC = "cell"


def new_run_id() -> str:
    """A fresh identifier joining metric rows to their provenance row."""
    return uuid.uuid4().hex[:12]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


@dataclass
class ResultSet:
    """The rows one job produces, all sharing its run id, track and coordinates."""

    track: str
    coords: dict[str, Any] = field(default_factory=dict)
    run_id: str = field(default_factory=new_run_id)
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: Facts about the run for its provenance record (e.g. MPI ranks and nodes), which the
    #: job protocol adds to it.
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.track not in TRACKS:
            raise ValueError(f"track must be one of {TRACKS}, not {self.track!r}")
        unknown = set(self.coords) - set(COORDS)
        if unknown:
            raise ValueError(f"unknown coordinate columns: {sorted(unknown)}")

    def add(
        self,
        metric: str,
        value: float | None,
        unit: str,
        *,
        source: str = "measured",
        n: int = 1,
        ci_low: float | None = None,
        ci_high: float | None = None,
        status: str = "ok",
        reason: str = "",
        **coords: Any,
    ) -> None:
        """Add one value. ``coords`` override or extend the set's coordinates."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        if status != "ok" and not reason:
            raise ValueError(f"a {status} row needs a reason ({metric})")
        if status == "ok" and (value is None or not math.isfinite(float(value))):
            raise ValueError(f"an ok row needs a finite value ({metric}={value!r})")
        unknown = set(coords) - set(COORDS)
        if unknown:
            raise ValueError(f"unknown coordinate columns: {sorted(unknown)}")
        row = dict.fromkeys(COLUMNS, "")
        row.update(run_id=self.run_id, track=self.track)
        row.update({k: _cell(v) for k, v in {**self.coords, **coords}.items()})
        row.update(
            metric=metric,
            value=_cell(value),
            unit=unit,
            source=source,
            n=n,
            ci_low=_cell(ci_low),
            ci_high=_cell(ci_high),
            status=status,
            reason=reason,
        )
        self.rows.append(row)

    def add_summary(
        self, metric: str, summary: Summary, unit: str, *, source: str = "measured", **coords: Any
    ) -> None:
        """Add a value with its interval and number of repeats."""
        self.add(
            metric,
            summary.value,
            unit,
            source=source,
            n=summary.n,
            ci_low=summary.ci_low,
            ci_high=summary.ci_high,
            **coords,
        )

    def add_unavailable(self, metric: str, unit: str, reason: str, *, source: str, **coords: Any) -> None:
        """Record that ``metric`` cannot be measured here, and why (never a zero)."""
        self.add(metric, None, unit, source=source, status="unavailable", reason=reason, **coords)

    def mark_cell(self, status: str, reason: str) -> None:
        """Record the whole cell as skipped, failed or invalid: one ``metric = cell`` row."""
        if status not in ("skipped", "failed", "invalid"):
            raise ValueError("mark_cell takes skipped, failed or invalid")
        self.add(CELL_METRIC, None, "", source="pipeline", status=status, reason=reason)

    def write_csv(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)
