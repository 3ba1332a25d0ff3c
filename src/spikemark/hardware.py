"""Hardware registry: where deploy, measure and the latency benchmark run.

An entry has a ``name`` (the ``hardware`` wildcard), the torch-style ``device`` string
frameworks are given, a one-line ``description`` (``config/README.md``), the ``gpus`` a
job on it asks the scheduler for, ``present_here()`` (a cheap guess without importing any
library, for the host that builds the DAG: a job there that would only record its skip
need not wait for a timing slot) and ``unavailable_reason()``, the verdict, asked on the
node that runs the job. Adding hardware is one class and one line in :data:`HARDWARE`.
"""

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
    description = "The host's CPU cores (always present)."
    gpus = 0

    def present_here(self) -> bool:
        return True

    def unavailable_reason(self) -> str | None:
        return None


class Cuda:
    name = "cuda"
    device = "cuda"
    description = "An NVIDIA GPU through CUDA (cells are skipped with the reason on a node without one)."
    gpus = 1

    def present_here(self) -> bool:
        return nvidia_driver_present()

    def unavailable_reason(self) -> str | None:
        host = socket.gethostname()
        if not nvidia_driver_present():
            return f"no CUDA device on host {host} (no NVIDIA driver: {', '.join(NVIDIA_DRIVER_FILES)} absent)"
        import torch

        if not torch.cuda.is_available():
            return f"no CUDA device on host {host} (torch.cuda.is_available() is False)"
        return None


HARDWARE = {hw.name: hw for hw in (Cpu(), Cuda())}


def get(name: str):
    return lookup(HARDWARE, name, "hardware")
