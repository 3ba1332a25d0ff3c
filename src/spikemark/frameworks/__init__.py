"""Framework registry: the runtimes that execute a pruned model in deploy and measure.

A framework loads a checkpoint onto a device and returns a :class:`Classifier`. Adding
one (PyNN, …) is one module and one line here. Heavy libraries (snnTorch, Norse,
NIR) are imported only when a framework loads a model.
"""

from __future__ import annotations

from spikemark.frameworks.norse_snn import Norse
from spikemark.frameworks.snntorch_snn import SnnTorch
from spikemark.frameworks.spikingjelly_snn import SpikingJelly
from spikemark.frameworks.torch_ann import Torch
from spikemark.matrix import for_method  # noqa: F401 - re-exported for callers
from spikemark.registry import lookup

FRAMEWORKS = {
    fw.name: fw
    for fw in (
        Torch(),
        SpikingJelly(),
        SpikingJelly("cuda"),
        SpikingJelly("triton"),
        SnnTorch(),
        Norse(),
    )
}


def get(name: str):
    return lookup(FRAMEWORKS, name, "framework")
