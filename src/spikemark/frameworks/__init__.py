"""Framework registry: the runtimes that execute a pruned model in deploy and measure.

A framework loads a checkpoint onto a device and returns a :class:`Classifier`. Adding
one (snnTorch, Norse through NIR, PyNN) is one module and one line here.
"""

from __future__ import annotations

from spikemark.frameworks.spikingjelly_snn import SpikingJelly
from spikemark.frameworks.torch_ann import Torch
from spikemark.registry import lookup

FRAMEWORKS = {fw.name: fw for fw in (Torch(), SpikingJelly())}


def get(name: str):
    return lookup(FRAMEWORKS, name, "framework")


def for_method(method: str, snn_frameworks: list[str]) -> list[str]:
    """Frameworks a method is deployed on: torch for the ANN, the SNN runtimes otherwise."""
    return ["torch"] if method == "ann" else list(snn_frameworks)
