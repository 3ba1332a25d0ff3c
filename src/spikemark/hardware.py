"""Hardware registry: where deploy and measure run. Availability is decided on the node
that runs the job, never when the DAG is built."""

from __future__ import annotations

import os
import socket

from spikemark.registry import lookup

#: Files the NVIDIA driver creates; without them there is no CUDA device to find, and the
#: check needs no torch import (a skipped cell then costs no framework start-up).
NVIDIA_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl")


def nvidia_driver_present() -> bool:
    """Whether this host has an NVIDIA driver (cheap: file checks only, no torch)."""
    return any(os.path.exists(f) for f in NVIDIA_DRIVER_FILES)


class Cpu:
    name = "cpu"
    device = "cpu"

    def unavailable_reason(self) -> str | None:
        return None

    def synchronize(self) -> None:
        """CPU work is synchronous: nothing to wait for."""


class Cuda:
    name = "cuda"
    device = "cuda"

    def unavailable_reason(self) -> str | None:
        host = socket.gethostname()
        if not nvidia_driver_present():
            return f"no CUDA device on host {host} (no NVIDIA driver: {', '.join(NVIDIA_DRIVER_FILES)} absent)"
        import torch

        if not torch.cuda.is_available():
            return f"no CUDA device on host {host} (torch.cuda.is_available() is False)"
        return None

    def synchronize(self) -> None:
        import torch

        torch.cuda.synchronize()


HARDWARE = {hw.name: hw for hw in (Cpu(), Cuda())}


def get(name: str):
    return lookup(HARDWARE, name, "hardware")
