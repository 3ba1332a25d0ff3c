"""Framework registry: the runtimes that deploy, measure and benchmark models.

Each entry is a :class:`~spikemark.frameworks.base.Framework` and declares what every
consumer asks of it (deploy, the latency benchmark, the probes, provenance, the config
schema; see :mod:`spikemark.frameworks.base`). Adding a framework is its module, one line
in :data:`FRAMEWORKS`, and its pins. Importing the registry imports no framework library:
each imports its own inside the methods that use it.
"""

from __future__ import annotations

from spikemark.frameworks.base import Framework, NeuronType
from spikemark.frameworks.library import LAVA_DL, ROCKPOOL_EXODUS, SINABS_EXODUS
from spikemark.frameworks.norse_snn import Norse
from spikemark.frameworks.rockpool_snn import Rockpool
from spikemark.frameworks.sinabs_snn import Sinabs
from spikemark.frameworks.snntorch_snn import SnnTorch
from spikemark.frameworks.spikingjelly_snn import SpikingJelly
from spikemark.frameworks.spyx_snn import Spyx
from spikemark.frameworks.torch_ann import Torch
from spikemark.matrix import for_method  # noqa: F401 - re-exported for callers
from spikemark.registry import lookup

FRAMEWORKS: dict[str, Framework] = {
    fw.name: fw
    for fw in (
        Torch(),
        SpikingJelly(),
        SpikingJelly("cuda"),
        SpikingJelly("triton"),
        SnnTorch(),
        Norse(),
        Rockpool(),
        Sinabs(),
        Spyx(),
        Spyx("float16"),
        LAVA_DL,
        SINABS_EXODUS,
        ROCKPOOL_EXODUS,
    )
}


def get(name: str) -> Framework:
    return lookup(FRAMEWORKS, name, "framework")


def snn_frameworks() -> dict[str, Framework]:
    """Frameworks that deploy SNNs: the allowed values of ``frameworks``."""
    return {name: fw for name, fw in FRAMEWORKS.items() if fw.deploys_snns}


def latency_frameworks() -> dict[str, Framework]:
    """Frameworks with a latency workload: the allowed values of ``latency_benchmark.frameworks``."""
    return {name: fw for name, fw in FRAMEWORKS.items() if fw.latency_workload is not None}


def neuron_types() -> list[tuple[NeuronType, type]]:
    """(neuron type, class) of every registered framework whose library is imported.

    Libraries not yet imported are not asked: a model that uses one has imported it.
    """
    found: dict[NeuronType, type] = {}
    for fw in FRAMEWORKS.values():
        for kind in fw.neurons:
            cls = kind.loaded()
            if cls is not None:
                found.setdefault(kind, cls)
    return list(found.items())
