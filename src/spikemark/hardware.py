"""Hardware registry: where deploy and measure run. Availability is decided on the node
that runs the job, never when the DAG is built."""

from __future__ import annotations

import socket

import torch

from spikemark.registry import lookup


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
        if not torch.cuda.is_available():
            return f"no CUDA device on host {socket.gethostname()} (torch.cuda.is_available() is False)"
        return None

    def synchronize(self) -> None:
        torch.cuda.synchronize()


HARDWARE = {hw.name: hw for hw in (Cpu(), Cuda())}


def get(name: str):
    return lookup(HARDWARE, name, "hardware")
