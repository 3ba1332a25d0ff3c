"""NVIDIA GPU energy from the driver's total-energy counter (nvidia-ml-py).

``nvmlDeviceGetTotalEnergyConsumption`` gives millijoules since the driver was loaded
(Volta and newer). The GPUs measured are those this process may use: the entries of
``CUDA_VISIBLE_DEVICES`` (indices or ``GPU-…`` UUIDs) where it is set, else all.
"""

from __future__ import annotations

import os
from typing import Any

from spikemark.measure.energy.base import Meter, MeterUnavailable


def _pynvml() -> Any:
    try:
        import pynvml
    except ImportError as err:  # nvidia-ml-py not installed
        raise MeterUnavailable(f"nvidia-ml-py is not installed ({err})") from err
    return pynvml


class NvmlMeter(Meter):
    name = "nvml"

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self._start: dict[str, int] = {}

    def unavailable_reason(self) -> str | None:
        try:
            self._open()
        except MeterUnavailable as err:
            return str(err)
        finally:
            self._close()
        return None

    def _open(self) -> dict[str, Any]:
        """Initialise NVML and return a handle per visible GPU whose counter works."""
        nvml = _pynvml()
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as err:
            raise MeterUnavailable(f"NVML cannot start: {err} (no NVIDIA driver or GPU here)") from err
        self._initialised = True
        try:
            handles = self._visible(nvml)
        except nvml.NVMLError as err:
            raise MeterUnavailable(f"NVML cannot open the visible GPUs: {err}") from err
        if not handles:
            raise MeterUnavailable("NVML sees no GPU")
        for name, handle in handles.items():
            try:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            except nvml.NVMLError as err:
                raise MeterUnavailable(
                    f"{name}: no total-energy counter ({err}; needs Volta or newer)"
                ) from err
        return handles

    def _close(self) -> None:
        if getattr(self, "_initialised", False):
            try:
                _pynvml().nvmlShutdown()
            except Exception:  # noqa: BLE001 - closing must not mask the reading
                pass
            self._initialised = False

    @staticmethod
    def _visible(nvml: Any) -> dict[str, Any]:
        wanted = os.environ.get("CUDA_VISIBLE_DEVICES")
        if wanted is None:
            return {f"gpu{i}": nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())}
        handles = {}
        for position, entry in enumerate(e.strip() for e in wanted.split(",") if e.strip()):
            if entry.isdigit():
                handles[f"gpu{position}"] = nvml.nvmlDeviceGetHandleByIndex(int(entry))
            else:
                handles[f"gpu{position}"] = nvml.nvmlDeviceGetHandleByUUID(entry)
        return handles

    def start(self) -> None:
        self.reasons = {}
        self._handles = self._open()
        nvml = _pynvml()
        self._start = {n: nvml.nvmlDeviceGetTotalEnergyConsumption(h) for n, h in self._handles.items()}

    def stop(self) -> dict[str, float | None]:
        nvml = _pynvml()
        try:
            end = {n: nvml.nvmlDeviceGetTotalEnergyConsumption(h) for n, h in self._handles.items()}
        finally:
            self._close()
        return {n: (end[n] - self._start[n]) * 1e-3 for n in self._handles}
