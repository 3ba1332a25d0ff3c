"""A stand-in for ``/sys/class/powercap`` (RAPL): the real file layout, counters the test advances.

Layout as the kernel writes it (``Documentation/power/powercap/powercap.rst``):
``intel-rapl:N/name``, ``energy_uj``, ``max_energy_range_uj``, nested subzones
``intel-rapl:N:M`` also linked at the top level, an ``intel-rapl-mmio`` duplicate.
Nothing is mocked: the RAPL meter reads these files exactly as it reads sysfs. Tests
advance the counters by hand, or let :class:`CpuPower` advance package 0 the way the
hardware would, from the CPU time this process uses.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

MAX_RANGE = 262143328850  # µJ, a real package's max_energy_range_uj

#: zone id → (name, starting counter in µJ)
ZONES = {
    "0": ("package-0", 1_000_000),
    "0:0": ("core", 2_000_000),
    "0:1": ("dram", 3_000_000),
    "1": ("package-1", 4_000_000),
    "1:0": ("dram", 5_000_000),
    "2": ("psys", 6_000_000),
}


class FakePowercap:
    """A stand-in powercap tree whose counters the test advances."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "intel-rapl").mkdir()  # the control-type directory, not a zone
        (root / "intel-rapl" / "enabled").write_text("1\n")
        self.paths: dict[str, Path] = {}
        for zone, (name, start) in ZONES.items():
            parent = zone.split(":")[0]
            path = (
                root / f"intel-rapl:{zone}"
                if ":" not in zone
                else root / f"intel-rapl:{parent}" / f"intel-rapl:{zone}"
            )
            path.mkdir(parents=True)
            (path / "name").write_text(name + "\n")
            (path / "max_energy_range_uj").write_text(f"{MAX_RANGE}\n")
            self.paths[zone] = path
            self.set(zone, start)
            if ":" in zone:  # sysfs also links every subzone at the top level
                (root / f"intel-rapl:{zone}").symlink_to(path)
        mmio = root / "intel-rapl-mmio:0"  # same counter through MMIO: must not be added
        mmio.mkdir()
        (mmio / "name").write_text("package-0\n")
        (mmio / "energy_uj").write_text("999\n")

    def get(self, zone: str) -> int:
        return int((self.paths[zone] / "energy_uj").read_text())

    def set(self, zone: str, microjoules: int) -> None:
        tmp = self.paths[zone] / ".energy_uj.tmp"
        tmp.write_text(f"{microjoules % (MAX_RANGE + 1)}\n")
        os.replace(tmp, self.paths[zone] / "energy_uj")  # atomic, like a sysfs read

    def add(self, zone: str, joules: float) -> None:
        self.set(zone, self.get(zone) + round(joules * 1e6))


@pytest.fixture
def powercap():
    # A world-traversable directory, so a process without root can walk it.
    root = Path(tempfile.mkdtemp(prefix="powercap-"))
    root.chmod(0o755)
    yield FakePowercap(root)
    shutil.rmtree(root)


def _package_power(powercap: FakePowercap, pid: int, idle_w: float, active_w: float, stop) -> None:
    import psutil

    process = psutil.Process(pid)

    def cpu() -> float:
        times = process.cpu_times()
        return times.user + times.system

    wall, used, energy = time.perf_counter(), cpu(), float(powercap.get("0"))
    while not stop.is_set():
        time.sleep(0.001)
        now, busy = time.perf_counter(), cpu()
        energy += 1e6 * (idle_w * (now - wall) + active_w * (busy - used))
        powercap.set("0", round(energy))
        wall, used = now, busy


class CpuPower:
    """Advances package 0's counter like a CPU package: ``idle_w`` all the time plus
    ``active_w`` per core this process keeps busy (its CPU time, read every millisecond).

    It runs in a process of its own, as the hardware does: a thread could not advance the
    counter while a simulator holds the interpreter's lock.
    """

    def __init__(self, powercap: FakePowercap, idle_w: float, active_w: float) -> None:
        context = multiprocessing.get_context("fork")
        self.stop = context.Event()
        self.process = context.Process(
            target=_package_power, args=(powercap, os.getpid(), idle_w, active_w, self.stop), daemon=True
        )

    def __enter__(self) -> CpuPower:
        self.process.start()
        time.sleep(0.05)  # the first readings are in place
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.process.join(timeout=10)
