"""Training: the ReLU ANN (baseline of every table) and the surrogate-gradient SNN.

Both train once per (dataset, seed) on ``training.device``; per-epoch resume files let a
killed run continue where it stopped.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor, nn

from spikemark import datasets
from spikemark.models import Classifier, build_module, save_checkpoint

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> torch.Generator:
    """Seed every RNG a stage uses; returns the generator that shuffles batches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)


def batches(x: Tensor, y: Tensor, batch_size: int, generator: torch.Generator | None = None) -> Iterator:
    """Mini-batches in a seeded random order (sequential when no generator is given)."""
    order = torch.randperm(len(x), generator=generator) if generator is not None else torch.arange(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        yield x[idx], y[idx]


def to_tensors(ds: datasets.Dataset, split: str, device: str = "cpu") -> tuple[Tensor, Tensor]:
    x = torch.from_numpy(getattr(ds, f"x_{split}")).float().to(device)
    y = torch.from_numpy(getattr(ds, f"y_{split}")).long().to(device)
    return x, y


def model_meta(ds: datasets.Dataset, model_cfg: dict[str, Any], kind: str, method: str, seed: int) -> dict:
    return {
        "kind": kind,
        "method": method,
        "arch": model_cfg.get("arch", "mlp"),
        "hidden": list(model_cfg.get("hidden", [128, 64])),
        "in_features": int(np.prod(ds.sample_shape)) if kind != "spiking_snn" else ds.n_features,
        "n_classes": ds.n_classes,
        "dataset": ds.name,
        "dataset_sha256": ds.checksum(),
        "seed": seed,
        "native_timesteps": ds.n_steps,
        "input_shape": input_shape(ds, kind),
        "channels": list(model_cfg.get("channels", [16, 32])),
    }


def input_shape(ds: datasets.Dataset, kind: str) -> list[int] | None:
    """The ``[C, H, W]`` a convolutional model sees, or None where samples are not images.

    Images keep their shape (a flat square sample becomes ``[1, s, s]``); event frames are
    ``channel_shape`` per time step for a multi-step SNN, and time bins stacked as channels
    (``[T·C, H, W]``) for the ANN and the converted SNN, which see the whole sample at once.
    """
    shape = list(ds.sample_shape)
    if ds.kind == "spikes":
        if not ds.channel_shape:
            return None
        c, h, w = ds.channel_shape
        return [c, h, w] if kind == "spiking_snn" else [shape[0] * c, h, w]
    if len(shape) == 3:
        return shape
    side = int(round(float(np.prod(shape)) ** 0.5))
    return [1, side, side] if side * side == int(np.prod(shape)) else None


def accuracy(classifier: Classifier, x: Tensor, y: Tensor, timesteps: int | None, batch_size: int = 256) -> float:
    correct = 0
    with torch.no_grad():
        for xb, yb in batches(x, y, batch_size):
            correct += int((classifier.scores(xb, timesteps).argmax(1) == yb).sum())
    return correct / len(y)


def fit(
    classifier: Classifier,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    timesteps: int | None,
    generator: torch.Generator,
    resume_path: Path | None = None,
) -> None:
    """Adam over seeded mini-batches; saves a resume file after every epoch."""
    module = classifier.module
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    first = 0
    state = _resume_state(resume_path)
    if state is not None:
        module.load_state_dict(state["module"], strict=False)
        opt.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        first = int(state["epoch"]) + 1
        log.info("resuming from epoch %d (%s)", first, resume_path)
    for epoch in range(first, epochs):
        module.train()
        total, n = 0.0, 0
        for xb, yb in batches(x, y, batch_size, generator):
            opt.zero_grad()
            loss = loss_fn(classifier.scores(xb, timesteps), yb)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(yb)
            n += len(yb)
        log.info("epoch %d/%d loss %.4f", epoch + 1, epochs, total / max(n, 1))
        if resume_path is not None:
            partial = resume_path.with_name(resume_path.name + ".part")
            torch.save(
                {
                    "epoch": epoch,
                    "module": module.state_dict(),
                    "optimizer": opt.state_dict(),
                    "generator": generator.get_state(),
                    "torch_rng": torch.get_rng_state(),
                },
                partial,
            )
            partial.replace(resume_path)  # atomic: a kill mid-write leaves the last good epoch
    module.eval()


def _resume_state(resume_path: Path | None) -> dict | None:
    """The last epoch's saved state, or None (none yet, or unreadable: then start over)."""
    if resume_path is None or not resume_path.exists():
        return None
    try:
        return torch.load(resume_path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a broken resume file only costs the epochs
        log.warning("ignoring unreadable resume file %s (%s); training from epoch 0", resume_path, exc)
        return None


def cross_entropy(scores: Tensor, y: Tensor) -> Tensor:
    return nn.functional.cross_entropy(scores, y)


def _train(
    kind: str, method: str, loss_fn, dataset: str, model: str, *, model_cfg, training, seed, timesteps
) -> float:
    ds = datasets.load(dataset)
    generator = seed_everything(seed)
    device = training.get("device", "cpu")
    meta = model_meta(ds, model_cfg, kind, method, seed)
    classifier = Classifier(kind, build_module(meta).to(device), meta)
    x, y = to_tensors(ds, "train", device)
    epochs = training["epochs"] if kind == "ann" else training["snn_epochs"]
    lr = training["lr"] if kind == "ann" else training["snn_lr"]
    resume = Path(str(model) + ".resume.pt")
    fit(
        classifier,
        x,
        y,
        epochs=epochs,
        batch_size=training["batch_size"],
        lr=lr,
        loss_fn=loss_fn,
        timesteps=timesteps,
        generator=generator,
        resume_path=resume,
    )
    acc = accuracy(classifier, *to_tensors(ds, "test", device), timesteps)
    meta["train_timesteps"] = timesteps
    meta["test_accuracy"] = acc
    save_checkpoint(model, classifier.module, meta)
    resume.unlink(missing_ok=True)
    log.info("%s on %s: test accuracy %.4f", method, ds.name, acc)
    return acc


def train_ann(dataset: str, model: str, *, model_cfg: dict, training: dict, seed: int) -> float:
    """Train the ReLU ANN; writes its checkpoint to ``model`` and returns test accuracy."""
    return _train("ann", "ann", cross_entropy, dataset, model, model_cfg=model_cfg, training=training, seed=seed, timesteps=None)


def train_snn(dataset: str, model: str, *, model_cfg: dict, training: dict, seed: int) -> float:
    """Train the LIF SNN with surrogate gradients through time (BPTT)."""
    ds_kind = datasets.load(dataset).kind
    timesteps = None if ds_kind == "spikes" else training["snn_timesteps"]
    return _train(
        "spiking_snn", "surrogate", cross_entropy, dataset, model, model_cfg=model_cfg, training=training, seed=seed, timesteps=timesteps
    )
