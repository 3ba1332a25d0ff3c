"""Framework registry: the runtimes that execute a pruned model in deploy and measure.

A framework loads a checkpoint onto a device and returns a :class:`Classifier`. Adding
one (snnTorch, Norse through NIR, PyNN) is one module and one line here.
"""

from __future__ import annotations

from spikemark.frameworks.spikingjelly_snn import SpikingJelly
from spikemark.frameworks.torch_ann import Torch
from spikemark.matrix import for_method  # noqa: F401 - re-exported for callers
from spikemark.registry import lookup

FRAMEWORKS = {fw.name: fw for fw in (Torch(), SpikingJelly())}


def get(name: str):
    return lookup(FRAMEWORKS, name, "framework")
