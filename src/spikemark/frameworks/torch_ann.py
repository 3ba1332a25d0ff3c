"""Plain PyTorch: the runtime of the ReLU ANN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spikemark.frameworks.base import Framework

if TYPE_CHECKING:
    from spikemark.models import Classifier


class Torch(Framework):
    name = "torch"
    description = "Plain PyTorch: the runtime of the ReLU ANN (method ann; implied, never configured)."
    kinds = ("ann",)
    packages = ("torch",)

    def load(self, checkpoint: str, device: str) -> Classifier:
        from spikemark.models import load_checkpoint

        return load_checkpoint(checkpoint, device)
