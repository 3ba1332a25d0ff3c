"""Intel / AMD RAPL energy counters through the Linux powercap sysfs.

Layout (``Documentation/power/powercap/powercap.rst``): ``<root>/intel-rapl:N`` is a
package zone (``name`` = ``package-N``, or ``psys`` for the platform), with subzones
``intel-rapl:N:M`` (``core``, ``uncore``, ``dram``) both nested inside it and linked at
the top level. Each zone has ``energy_uj`` (a counter that wraps to 0 after
``max_energy_range_uj``) and ``max_energy_range_uj``. ``intel-rapl-mmio`` zones repeat the
package counters through another interface and are skipped.

The total is the sum of the package zones and their ``dram`` subzones: ``core`` and
``uncore`` are parts of their package, and ``psys`` covers the packages too, so adding
them would count energy twice. Since Linux 5.10 (CVE-2020-8694) ``energy_uj`` is readable
by root only; that is reported as the reason, never as zero.

One wrap per window is corrected; a window longer than a full counter range (about
``max_energy_range_uj`` / power, typically minutes to hours) cannot be measured this way.
"""

from __future__ import annotations

import re
from pathlib import Path

from spikemark.measure.energy.base import Meter, MeterUnavailable

DEFAULT_ROOT = "/sys/class/powercap"
_ZONE = re.compile(r"intel-rapl:(\d+)(?::(\d+))?$")


class RaplMeter(Meter):
    name = "rapl"

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self.root = Path(self.config.get("rapl_root") or DEFAULT_ROOT)
        self._start: dict[str, int | None] = {}

    # --- discovery ---------------------------------------------------------------

    def zones(self) -> dict[str, Path]:
        """Domain name (``package-0``, ``package-0/dram``) → zone directory."""
        by_id: dict[tuple[int, ...], Path] = {}
        for path in sorted(self.root.glob("intel-rapl:*")) + sorted(
            self.root.glob("intel-rapl:*/intel-rapl:*")
        ):
            match = _ZONE.match(path.name)
            if match:
                key = tuple(int(g) for g in match.groups() if g is not None)
                by_id.setdefault(key, path)
        names = {key: _read_text(path / "name") for key, path in by_id.items()}
        domains = {}
        for key, path in sorted(by_id.items()):
            parent = names.get(key[:1], f"zone-{key[0]}")
            domains[parent if len(key) == 1 else f"{parent}/{names[key]}"] = path
        return domains

    def unavailable_reason(self) -> str | None:
        if not self.root.is_dir():
            return f"no powercap sysfs at {self.root} (not Linux, or RAPL not exposed, e.g. in a VM)"
        if not self.zones():
            return f"no intel-rapl zones under {self.root} (CPU or kernel without RAPL powercap)"
        return None

    def total_domains(self, domains: list[str]) -> list[str]:
        return [d for d in domains if d.startswith("package") and (d.count("/") == 0 or d.endswith("/dram"))]

    # --- counting ----------------------------------------------------------------

    def start(self) -> None:
        self._zones = self.zones()
        if not self._zones:
            raise MeterUnavailable(self.unavailable_reason() or "no RAPL zones")
        self.reasons = {}
        self._start = {domain: self._read(domain, path) for domain, path in self._zones.items()}

    def stop(self) -> dict[str, float | None]:
        joules: dict[str, float | None] = {}
        for domain, path in self._zones.items():
            end = self._read(domain, path)
            begin = self._start.get(domain)
            if begin is None or end is None:
                joules[domain] = None
                continue
            delta = end - begin
            if delta < 0:  # the counter wrapped past max_energy_range_uj
                delta += self._max_range(path)
            joules[domain] = delta * 1e-6
        return joules

    def _read(self, domain: str, path: Path) -> int | None:
        try:
            return int((path / "energy_uj").read_text())
        except PermissionError:
            self.reasons[domain] = (
                f"permission denied reading {path / 'energy_uj'} "
                "(root-only since Linux 5.10, CVE-2020-8694; grant read access to use RAPL)"
            )
        except (OSError, ValueError) as err:
            self.reasons[domain] = f"cannot read {path / 'energy_uj'}: {err}"
        return None

    @staticmethod
    def _max_range(path: Path) -> int:
        return int((path / "max_energy_range_uj").read_text())


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return path.parent.name
