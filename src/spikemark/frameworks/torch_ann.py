"""Plain PyTorch: the runtime of the ReLU ANN."""

from __future__ import annotations

from spikemark.models import Classifier, load_checkpoint


class Torch:
    name = "torch"
    kinds = ("ann",)

    def unsupported_reason(self, kind: str) -> str | None:
        return None if kind in self.kinds else f"torch runs ANNs only, not {kind}"

    def load(self, checkpoint: str, device: str) -> Classifier:
        return load_checkpoint(checkpoint, device)
