"""Global magnitude pruning of synaptic weights, with optional fine-tuning.

Pruning acts on every Linear and Conv2d weight (biases stay), ranked globally by magnitude.
The mask is made permanent before the checkpoint is written, so the metrics see plain
weights with zeros, never ``weight_orig`` and a mask.
"""

from __future__ import annotations

import logging

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from spikemark import datasets
from spikemark.models import Classifier, load_checkpoint, save_checkpoint
from spikemark.train import cross_entropy, fit, seed_everything, to_tensors

log = logging.getLogger(__name__)

PRUNING_METHODS = ("global_magnitude",)


def synaptic_layers(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def weight_sparsity(module: nn.Module) -> float:
    """Fraction of zero synaptic weights (biases excluded)."""
    weights = [m.weight for m in synaptic_layers(module)]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def apply_global_magnitude(module: nn.Module, sparsity: float) -> None:
    """Attach global L1 masks removing the ``sparsity`` fraction of smallest weights."""
    params = [(m, "weight") for m in synaptic_layers(module)]
    torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=float(sparsity))


def make_permanent(module: nn.Module) -> None:
    for m in synaptic_layers(module):
        if torch_prune.is_pruned(m):
            torch_prune.remove(m, "weight")


def finetune_timesteps(classifier: Classifier, training: dict) -> int | None:
    if classifier.kind == "ann":
        return None
    return classifier.meta.get("train_timesteps") or training["snn_timesteps"]


def prune_model(
    dataset: str,
    model: str,
    pruned: str,
    *,
    sparsity: float,
    method: str,
    finetune_epochs: int,
    training: dict,
    seed: int,
) -> float:
    """Prune ``model`` to ``sparsity``; fine-tune if asked; returns the achieved sparsity."""
    if method not in PRUNING_METHODS:
        raise ValueError(f"unknown pruning method {method!r}; known: {PRUNING_METHODS}")
    generator = seed_everything(seed)
    classifier = load_checkpoint(model)
    if sparsity > 0:
        apply_global_magnitude(classifier.module, sparsity)
    if finetune_epochs > 0:
        # BPTT with surrogate gradients for SNNs (converted IF nodes carry one too); the
        # masks stay attached, so pruned weights stay zero while the rest adapt.
        x, y = to_tensors(datasets.load(dataset), "train")
        fit(
            classifier,
            x,
            y,
            epochs=finetune_epochs,
            batch_size=training["batch_size"],
            lr=training["lr"],
            loss_fn=cross_entropy,
            timesteps=finetune_timesteps(classifier, training),
            generator=generator,
        )
    make_permanent(classifier.module)
    achieved = weight_sparsity(classifier.module)
    meta = {**classifier.meta, "sparsity_target": sparsity, "sparsity": achieved, "pruning": method}
    meta["finetune_epochs"] = finetune_epochs
    save_checkpoint(pruned, classifier.module, meta)
    log.info("pruned to %.4f weight sparsity (target %.4f)", achieved, sparsity)
    return achieved
