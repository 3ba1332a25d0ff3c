"""What every energy meter is: a counter read around a workload, or an estimate from it.

A *counter* meter (RAPL, NVML, Slurm) reports joules per domain between ``start`` and
``stop``; the runner subtracts an idle baseline measured the same way. An *estimator*
(``estimate-ops``, ``estimate-tdp``) computes joules from what the workload did
(:class:`Window`). Either can be unavailable, with a reason that ends up in the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping


class MeterUnavailable(Exception):
    """This meter cannot measure here; the message is the reason recorded in the row."""


@dataclass(frozen=True)
class Window:
    """What one measured run of the workload did."""

    wall_s: float
    cpu_s: float
    inferences: int
    macs_per_inference: float | None = None  # effective MACs per sample (neuro.workload_metrics)
    acs_per_inference: float | None = None
    ops_source: str = ""  # which convention the operation counts follow


class Meter:
    """Base of all meters. Subclasses set ``name`` (its registry key and row ``source``)."""

    name: ClassVar[str]
    #: True for hardware counters (idle baseline subtracted), False for estimates.
    measured: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})
        #: Reasons for domains that could not be read in the last ``stop``.
        self.reasons: dict[str, str] = {}

    def unavailable_reason(self) -> str | None:
        """Why this meter cannot work here, or None if it can."""
        return None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> dict[str, float | None]:
        """Joules per domain since ``start``; None where a domain failed (see ``reasons``)."""
        raise NotImplementedError

    def total_domains(self, domains: list[str]) -> list[str]:
        """The domains whose sum is the meter's total (no domain counted twice)."""
        return domains

    def estimate(self, window: Window) -> float:
        """Joules of the whole window (estimators only)."""
        raise NotImplementedError
