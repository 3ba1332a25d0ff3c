"""ANN → SNN conversion with SpikingJelly's rate-coding converter, scales folded.

SpikingJelly returns Linear → VoltageScaler(1/s) → IF(θ=1, soft reset) → VoltageScaler(s)
→ Linear. We fold the first scaler into the neuron's threshold (θ = s) and the second into
the next layer's weights. The network computes the same function, can be exported where
``VoltageScaler`` cannot (NIR), and layers fed only by spikes count as accumulates.
"""

from __future__ import annotations

import logging

import torch
from spikingjelly.activation_based.ann2snn import Converter
from spikingjelly.activation_based.ann2snn.modules import VoltageScaler
from spikingjelly.activation_based.ann2snn.recipes.rate_coding import RateCodingRecipe
from torch import nn

from spikemark import datasets
from spikemark.models import Classifier, build_module, load_checkpoint, save_checkpoint
from spikemark.train import accuracy, batches, seed_everything, to_tensors

log = logging.getLogger(__name__)


def spikingjelly_mode(normalisation: str) -> str:
    """Our config says ``max`` or ``99.9%``; SpikingJelly says ``Max`` or ``99.9%``."""
    return "Max" if normalisation == "max" else normalisation


def convert_with_spikingjelly(ann: nn.Module, calibration, normalisation: str) -> nn.Module:
    recipe = RateCodingRecipe(list(calibration), mode=spikingjelly_mode(normalisation))
    return Converter(recipe=recipe).convert(ann)


def fold_scales(converted: nn.Module) -> tuple[list[nn.Linear], list[float]]:
    """Linear layers with post-neuron scales folded in, and the thresholds they imply."""
    linears, scalers = [], []
    for module in converted.modules():
        if isinstance(module, nn.Linear):
            linears.append(module)
        elif isinstance(module, VoltageScaler):
            scalers.append(float(module.scale))
    if len(scalers) != 2 * (len(linears) - 1):
        raise ValueError("unexpected converter graph: need a scaler pair around every hidden neuron layer")
    thresholds = [1.0 / scalers[2 * i] for i in range(len(linears) - 1)]
    folded = []
    for i, lin in enumerate(linears):
        lin = nn.Linear(lin.in_features, lin.out_features).requires_grad_(False)
        lin.weight.copy_(linears[i].weight)
        lin.bias.copy_(linears[i].bias)
        if i > 0:
            lin.weight.mul_(scalers[2 * i - 1])
        folded.append(lin)
    return folded, thresholds


def convert_ann2snn(dataset: str, ann: str, snn: str, *, normalisation: str, timesteps: list[int], seed: int) -> dict:
    """Convert the trained ANN; writes the folded SNN and returns accuracy at each T."""
    seed_everything(seed)
    ds = datasets.load(dataset)
    source = load_checkpoint(ann)
    x, y = to_tensors(ds, "train")
    calibration = ((xb.reshape(len(xb), -1), yb) for xb, yb in batches(x, y, 256))
    converted = convert_with_spikingjelly(source.module, calibration, normalisation)
    linears, thresholds = fold_scales(converted)
    meta = {**source.meta, "kind": "rate_snn", "method": "ann2snn", "thresholds": thresholds, "normalisation": normalisation}
    module = build_module(meta)
    with torch.no_grad():
        for target, lin in zip((m for m in module.modules() if isinstance(m, nn.Linear)), linears):
            target.weight.copy_(lin.weight)
            target.bias.copy_(lin.bias)
    snn_model = Classifier("rate_snn", module, meta)
    xt, yt = to_tensors(ds, "test")
    accs = {int(t): accuracy(snn_model, xt, yt, t) for t in timesteps}
    meta["test_accuracy_by_t"] = {str(t): a for t, a in accs.items()}
    save_checkpoint(snn, module, meta)
    for t, a in accs.items():
        log.info("converted SNN T=%d accuracy %.4f (ANN %.4f)", t, a, source.meta.get("test_accuracy", float("nan")))
    return accs
