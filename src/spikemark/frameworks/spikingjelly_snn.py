"""SpikingJelly: the reference SNN runtime (our SNNs are built from its layers and
neurons, so deployment is the identity export; the torch backend is used)."""

from __future__ import annotations

from spikemark.models import Classifier, load_checkpoint


class SpikingJelly:
    name = "spikingjelly"
    kinds = ("rate_snn", "spiking_snn")

    def unsupported_reason(self, kind: str) -> str | None:
        return None if kind in self.kinds else f"spikingjelly deploys SNNs, not {kind}"

    def load(self, checkpoint: str, device: str) -> Classifier:
        return load_checkpoint(checkpoint, device)
