"""ANN → SNN conversion with SpikingJelly's rate-coding converter, scales folded.

SpikingJelly returns Linear → VoltageScaler(1/s) → IF(θ=1, soft reset) → VoltageScaler(s)
→ Linear. We fold the first scaler into the neuron's threshold (θ = s) and the second into
the next layer's weights. The network computes the same function, can be exported where
``VoltageScaler`` cannot (NIR), and layers fed only by spikes count as accumulates.
"""

from __future__ import annotations

import logging
from copy import deepcopy

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


#: Layers that carry synapses (weights) in our architectures.
SYNAPTIC = (nn.Linear, nn.Conv2d)


def _in_execution_order(converted: nn.Module) -> list[nn.Module]:
    """Modules in the order the forward pass calls them (an fx graph's node order)."""
    if isinstance(converted, torch.fx.GraphModule):
        modules = dict(converted.named_modules())
        return [modules[n.target] for n in converted.graph.nodes if n.op == "call_module"]
    return list(converted.modules())


def fold_scales(converted: nn.Module) -> tuple[list[nn.Module], list[float]]:
    """Synaptic layers (Linear, Conv2d) with post-neuron scales folded in, and the
    thresholds they imply (one per neuron layer, in forward order)."""
    layers, scalers = [], []
    for module in _in_execution_order(converted):
        if isinstance(module, SYNAPTIC):
            layers.append(module)
        elif isinstance(module, VoltageScaler):
            if module.scale.numel() != 1:
                raise ValueError("channel-wise converter scales cannot be folded into one threshold per layer")
            scalers.append(float(module.scale))
    if len(scalers) != 2 * (len(layers) - 1):
        raise ValueError("unexpected converter graph: need a scaler pair around every hidden neuron layer")
    thresholds = [1.0 / scalers[2 * i] for i in range(len(layers) - 1)]
    folded = []
    for i, source in enumerate(layers):
        copy = deepcopy(source).requires_grad_(False)
        if i > 0:
            # Scaling the spikes by s before a linear map (pooling, then conv or Linear) is
            # scaling that map's weights by s.
            copy.weight.mul_(scalers[2 * i - 1])
        folded.append(copy)
    return folded, thresholds


def convert_ann2snn(dataset: str, ann: str, snn: str, *, normalisation: str, timesteps: list[int], seed: int) -> dict:
    """Convert the trained ANN; writes the folded SNN and returns accuracy at each T."""
    seed_everything(seed)
    ds = datasets.load(dataset)
    source = load_checkpoint(ann)
    x, y = to_tensors(ds, "train")
    calibration = ((source.shaped(xb.reshape(len(xb), -1)), yb) for xb, yb in batches(x, y, 256))
    converted = convert_with_spikingjelly(source.module, calibration, normalisation)
    linears, thresholds = fold_scales(converted)
    meta = {**source.meta, "kind": "rate_snn", "method": "ann2snn", "thresholds": thresholds, "normalisation": normalisation}
    module = build_module(meta)
    with torch.no_grad():
        targets = [m for m in module.modules() if isinstance(m, SYNAPTIC)]
        if len(targets) != len(linears):
            raise ValueError(f"converted graph has {len(linears)} synaptic layers, the SNN {len(targets)}")
        for target, lin in zip(targets, linears):
            target.weight.copy_(lin.weight)
            if lin.bias is not None:
                target.bias.copy_(lin.bias)
    snn_model = Classifier("rate_snn", module, meta)
    xt, yt = to_tensors(ds, "test")
    accs = {int(t): accuracy(snn_model, xt, yt, t) for t in timesteps}
    meta["test_accuracy_by_t"] = {str(t): a for t, a in accs.items()}
    save_checkpoint(snn, module, meta)
    for t, a in accs.items():
        log.info("converted SNN T=%d accuracy %.4f (ANN %.4f)", t, a, source.meta.get("test_accuracy", float("nan")))
    return accs
