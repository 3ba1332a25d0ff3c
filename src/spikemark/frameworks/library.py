"""The other SNN libraries of the field's comparison: latency-benchmarked, deployment refused.

Rockpool, Sinabs and Spyx each import NIR, but none of their imports reproduces the
hard-reset LIF networks SpikingJelly exports (each module says why, and
``tests/test_frameworks_libraries.py`` shows it on a real export). They are still
``frameworks`` a config may name: their cells are ``skipped`` with that reason, so a
comparison that lists them shows why they have no accuracy rows. Lava-DL and the EXODUS
kernels cannot be installed where this project runs; they are registered as
:class:`Uninstallable`, whose cells are ``skipped`` with the concrete reason.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING, Callable

from spikemark.errors import StageFailed
from spikemark.frameworks.base import Framework

if TYPE_CHECKING:
    from spikemark.frameworks.workload import LayerSpec, Workload
    from spikemark.models import Classifier


def importable(module: str) -> bool:
    """Whether ``module`` (dotted names too) can be found, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


def not_installed(module: str, distribution: str) -> str | None:
    """Why ``module`` cannot be imported here (None if it can be found)."""
    return None if importable(module) else f"{distribution} is not installed in this environment"


def batch_major(linear, neuron, reset: Callable[[], None]) -> Callable:
    """``run(x_seq [T, B, n])`` for a torch library whose neuron layer takes the whole
    sequence batch-first (Rockpool, Sinabs) and keeps its membrane between calls: reset it,
    then the Linear over the sequence, transposed in and out."""

    def run(x_seq):
        reset()
        return neuron(linear(x_seq).transpose(0, 1)).transpose(0, 1)

    return run


class BenchmarkedLibrary(Framework):
    """A library whose own LIF layer the latency benchmark times; its deployment is refused.

    Subclasses set ``name``, ``description``, ``packages``, ``module`` (the import name),
    ``nir_reason`` (why a surrogate-trained SNN does not run there) and ``latency_reset``.
    """

    kinds = ("spiking_snn",)
    #: Import name of the library: where it is missing, every cell is skipped saying so.
    module: str
    #: Why a surrogate-trained (hard-reset LIF) SNN exported to NIR cannot be deployed on it.
    nir_reason: str
    #: How its latency layer resets: ``hard`` (to 0, the workload's) or ``subtract``.
    latency_reset = "hard"

    def unsupported_reason(self, kind: str) -> str | None:
        if kind == "spiking_snn":
            return self.nir_reason
        if kind == "rate_snn":
            return (
                f"{self.name} cannot run converted (soft-reset IF) SNNs: NIR carries no soft reset and "
                "spikemark maps them directly to snnTorch only"
            )
        return super().unsupported_reason(kind)

    def unavailable_reason(self, device: str) -> str | None:
        return not_installed(self.module, self.packages[0])

    def load(self, checkpoint: str, device: str) -> Classifier:
        from spikemark.models import load_checkpoint

        raise StageFailed("skipped", self.unsupported_reason(load_checkpoint(checkpoint).kind))


class Uninstallable(Framework):
    """A library of the published comparison that cannot be installed here: every cell is
    ``skipped`` with ``reason`` (asked only where the library really is missing)."""

    kinds = ("spiking_snn",)

    def __init__(self, name: str, description: str, module: str, distribution: str, reason: str):
        self.name = name
        self.description = description
        self.module = module
        self.packages = (distribution,)
        self.reason = reason

    def _why(self) -> str:
        if not importable(self.module):
            return self.reason
        return f"{self.packages[0]} is installed, but spikemark has no {self.name} workload or mapping yet"

    def unsupported_reason(self, kind: str) -> str | None:
        return self._why()

    def unavailable_reason(self, device: str) -> str | None:
        return self._why()

    def load(self, checkpoint: str, device: str) -> Classifier:
        raise StageFailed("skipped", self._why())

    def latency_workload(self, spec: LayerSpec) -> Workload:
        raise StageFailed("skipped", self._why())


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


LAVA_DL = Uninstallable(
    "lava-dl",
    "Lava-DL (SLAYER): skipped, every release requires Python < 3.11.",
    "lava.lib.dl",
    "lava-dl",
    f"lava-dl requires Python < 3.11 (every release, 0.4.0-0.6.0, and its lava-nc dependency); this is "
    f"Python {python_version()}",
)
#: EXODUS (Sinabs' and Rockpool's fused CUDA LIF kernels) ships as an sdist only.
EXODUS_REASON = (
    "sinabs-exodus 2.0.0, the EXODUS CUDA kernels, is an sdist only: its setup.py imports torch and "
    "compiles a CUDA extension against the installed torch, so no wheel can be carried to a GPU machine"
)
SINABS_EXODUS = Uninstallable(
    "sinabs-exodus", "Sinabs with its EXODUS CUDA kernels: skipped (sdist-only CUDA build).", "sinabs.exodus",
    "sinabs-exodus", EXODUS_REASON,
)
ROCKPOOL_EXODUS = Uninstallable(
    "rockpool-exodus", "Rockpool's LIFExodus (the EXODUS CUDA kernels): skipped (sdist-only CUDA build).",
    "sinabs.exodus", "sinabs-exodus", EXODUS_REASON,
)
