"""Deploy: load the pruned model in its target framework on its target hardware, run the
test set, and record how well the deployed outputs agree with the source model."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spikemark import hardware

if TYPE_CHECKING:
    import torch

    from spikemark.models import Classifier

# torch, the frameworks and the data are imported inside the functions that use them: a
# cell skipped for lack of hardware then finishes without paying their start-up.

log = logging.getLogger(__name__)


def evaluation_timesteps(classifier: Classifier, conversion_timesteps: list[int]) -> list[int | None]:
    """The T values a model is evaluated at: none for the ANN, the conversion list for a
    converted SNN, the training T (or the data's own bins) for a surrogate SNN."""
    if classifier.kind == "ann":
        return [None]
    if classifier.kind == "rate_snn":
        return sorted(int(t) for t in conversion_timesteps)
    return [classifier.meta.get("train_timesteps") or classifier.meta.get("native_timesteps")]


def scores_on(classifier: Classifier, x: torch.Tensor, y: torch.Tensor, timesteps: int | None) -> torch.Tensor:
    import torch

    from spikemark.train import batches

    with torch.no_grad():
        return torch.cat([classifier.scores(xb, timesteps).float().cpu() for xb, _ in batches(x, y, 256)])


def agreement(source: torch.Tensor, deployed: torch.Tensor) -> dict[str, float]:
    """Fraction of identical predictions and max |difference| of the output scores."""
    same = float((source.argmax(1) == deployed.argmax(1)).float().mean())
    return {"agreement": same, "max_abs_diff": float((source - deployed).abs().max())}


def write_record(path: str | Path, record: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def read_record(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def deploy(
    dataset: str,
    model: str,
    record: str,
    *,
    framework: str,
    hardware_name: str,
    conversion_timesteps: list[int],
    agreement_threshold: float,
) -> dict[str, Any]:
    """Writes the deployment record (status ok / invalid / skipped) and returns it."""
    target = hardware.get(hardware_name)
    base = {"framework": framework, "hardware": hardware_name, "host": socket.gethostname()}
    reason = target.unavailable_reason()
    if reason:
        result = {**base, "status": "skipped", "reason": reason}
        write_record(record, result)
        return result
    from spikemark import datasets, frameworks
    from spikemark.models import load_checkpoint
    from spikemark.train import to_tensors

    runtime = frameworks.get(framework)
    source = load_checkpoint(model, "cpu")
    reason = runtime.unsupported_reason(source.kind)
    if reason:
        result = {**base, "status": "skipped", "reason": reason}
        write_record(record, result)
        return result
    deployed = runtime.load(model, target.device)
    ds = datasets.load(dataset)
    x, y = to_tensors(ds, "test")
    t = evaluation_timesteps(source, conversion_timesteps)[-1]
    ref = scores_on(source, x, y, t)
    out = scores_on(deployed, x.to(target.device), y.to(target.device), t)
    result = {**base, **agreement(ref, out), "timesteps": t, "checkpoint": str(model)}
    if result["agreement"] < agreement_threshold:
        result["status"] = "invalid"
        result["reason"] = (
            f"deployed outputs disagree with the source model: {result['agreement']:.4f} identical "
            f"predictions < threshold {agreement_threshold}"
        )
    else:
        result["status"], result["reason"] = "ok", ""
    log.info("deployed on %s/%s: agreement %.4f, max |diff| %.3g", framework, hardware_name, result["agreement"], result["max_abs_diff"])
    write_record(record, result)
    return result
