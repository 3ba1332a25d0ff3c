"""Magnitude pruning of synaptic weights, with optional fine-tuning.

Pruning acts on every Linear and Conv2d weight (biases stay). Methods
(``spikemark.matrix.PRUNING_METHODS``; ``none`` for the dense baseline at sparsity 0):

- ``global_magnitude``: all weights ranked globally by magnitude;
- ``lamp``: layer-adaptive magnitude pruning (Lee et al., ICLR 2021): each weight's score
  is its squared magnitude divided by the sum of the squared magnitudes of the weights of
  its layer that are at least as large; the lowest scores are removed globally. The
  largest weight of every layer scores 1, so no layer is cut off entirely.

The mask is made permanent before the checkpoint is written, so the metrics see plain
weights with zeros, never ``weight_orig`` and a mask.
"""

from __future__ import annotations

import logging

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from spikemark import datasets
from spikemark.matrix import DENSE, PRUNING_METHODS
from spikemark.models import Classifier, load_checkpoint, save_checkpoint
from spikemark.train import cross_entropy, fit, seed_everything, to_tensors

log = logging.getLogger(__name__)



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


def lamp_scores(weight: torch.Tensor) -> torch.Tensor:
    """LAMP score of every entry of ``weight`` (same shape).

    With the layer's weights sorted by magnitude, ``w_(1) ≤ … ≤ w_(n)``, the score of
    ``w_(u)`` is ``w_(u)² / Σ_{v ≥ u} w_(v)²``. Ties share the order torch's stable sort
    gives them. An all-zero layer scores 0 everywhere.
    """
    squared = weight.detach().flatten().double() ** 2
    order = torch.sort(squared, stable=True).indices
    ranked = squared[order]
    suffix = torch.flip(torch.cumsum(torch.flip(ranked, [0]), 0), [0])
    sorted_scores = torch.where(suffix > 0, ranked / suffix.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
    scores = torch.empty_like(squared)
    scores[order] = sorted_scores
    return scores.view_as(weight)


def apply_lamp(module: nn.Module, sparsity: float) -> None:
    """Attach masks removing the ``sparsity`` fraction of weights with the lowest LAMP scores.

    Exactly ``round(sparsity · n)`` weights go (n: all synaptic weights); the largest
    weight of each layer is never among them.
    """
    layers = synaptic_layers(module)
    scores = []
    for m in layers:
        s = lamp_scores(m.weight).flatten().clone()
        s[torch.argmax(m.weight.detach().abs().flatten())] = float("inf")  # keep one per layer
        scores.append(s)
    flat = torch.cat(scores)
    n_prune = min(int(round(float(sparsity) * flat.numel())), flat.numel() - len(layers))
    keep = torch.ones_like(flat, dtype=torch.bool)
    if n_prune > 0:
        keep[torch.sort(flat, stable=True).indices[:n_prune]] = False
    start = 0
    for m in layers:
        n = m.weight.numel()
        torch_prune.custom_from_mask(m, "weight", keep[start : start + n].view_as(m.weight).to(m.weight.device))
        start += n


#: Pruning method name → function attaching its masks to a module.
PRUNERS = {"global_magnitude": apply_global_magnitude, "lamp": apply_lamp}


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
    if method not in (*PRUNING_METHODS, DENSE):
        raise ValueError(f"unknown pruning method {method!r}; known: {PRUNING_METHODS} (or {DENSE!r})")
    if method == DENSE and sparsity > 0:
        raise ValueError(f"pruning method {DENSE!r} removes no weights; sparsity {sparsity} needs a method")
    generator = seed_everything(seed)
    classifier = load_checkpoint(model)
    if sparsity > 0:
        PRUNERS[method](classifier.module, sparsity)
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
