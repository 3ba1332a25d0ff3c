"""Architecture registry: the network shapes a model can have (``models.<dataset>.arch``).

An architecture has a builder per model kind it offers (``ann``, ``rate_snn``,
``spiking_snn``), named ``module:function`` and imported only when a model is built, so
the registry is cheap to read (the config schema takes its allowed values from it while
the Snakefile builds the DAG). A kind without a builder cannot be made from the
architecture: its cells are skipped with the reason. Adding one is its builders and one
line in :data:`ARCHITECTURES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Architecture:
    """Builders per model kind; ``options`` are checkpoint-meta keys passed as keywords."""

    name: str
    description: str
    #: kind → ``module:function`` of its builder ``(in_features, hidden, n_classes, ...)``.
    builders: dict[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    #: Whether the module takes samples shaped ``meta["input_shape"]`` instead of flat vectors.
    shaped_input: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.builders)

    def builder(self, kind: str) -> Callable[..., Any] | None:
        """The builder of ``kind`` (imported now), or None where the architecture has none."""
        target = self.builders.get(kind)
        if target is None:
            return None
        module, _, function = target.partition(":")
        return getattr(importlib.import_module(module), function)


def _models(**builders: str) -> dict[str, str]:
    """kind → builder function of that name in :mod:`spikemark.models`."""
    return {kind: f"spikemark.models:{name}" for kind, name in builders.items()}


ARCHITECTURES = {
    arch.name: arch
    for arch in (
        Architecture(
            "mlp",
            "Fully connected: Linear layers of models.<name>.hidden widths.",
            _models(ann="mlp_ann", rate_snn="mlp_rate_snn", spiking_snn="mlp_spiking_snn"),
        ),
        Architecture(
            "cnn",
            "Convolutional, for images [C,H,W] and event frames: 3x3 convolutions of models.<name>.channels, "
            "each with 2x2 average pooling, then the hidden Linear layers.",
            _models(ann="cnn_ann", rate_snn="cnn_rate_snn", spiking_snn="cnn_spiking_snn"),
            ("input_shape", "channels"),
            shaped_input=True,
        ),
        Architecture(
            "rsnn",
            "Recurrent LIF layers (surrogate only: ann and ann2snn cells are skipped with the reason).",
            _models(spiking_snn="rsnn_spiking_snn"),
        ),
    )
}
