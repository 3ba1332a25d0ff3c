"""Dataset registry: name → builder. Adding a dataset is one module and one line here."""

from __future__ import annotations

import json
from pathlib import Path

from spikemark.datasets.base import Dataset, load, save
from spikemark.datasets.digits import Digits
from spikemark.datasets.randman import Randman
from spikemark.registry import lookup

REGISTRY = {builder.name: builder for builder in (Digits(), Randman())}


def get(name: str):
    return lookup(REGISTRY, name, "dataset")


def prepare(name: str, path, *, options: dict, test_fraction: float, seed: int | None = None) -> dict:
    """Build dataset ``name`` and write its canonical file; returns the metadata."""
    opts = dict(options)
    seed = opts.pop("seed", 0) if seed is None else seed
    dataset = get(name).build(seed=seed, test_fraction=test_fraction, **opts)
    return save(dataset, path)


__all__ = ["Dataset", "REGISTRY", "get", "load", "prepare", "prepare_stage", "save"]


def prepare_stage(data: str, metadata: str, *, name: str, options: dict, test_fraction: float) -> dict:
    """The ``prepare_dataset`` stage: canonical file plus a readable metadata sidecar."""
    meta = prepare(name, data, options=options, test_fraction=test_fraction)
    Path(metadata).write_text(json.dumps(meta, indent=1) + "\n")
    return meta
