"""Dataset registry: name → builder. Adding a dataset is one module and one line here."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from spikemark.datasets.base import Dataset, load, save, save_failure
from spikemark.datasets.cifar10 import Cifar10
from spikemark.datasets.digits import Digits
from spikemark.datasets.download import ChecksumMismatch, DownloadUnavailable, manifest
from spikemark.datasets.dvs_gesture import DvsGesture
from spikemark.datasets.mnist import FashionMnist, Mnist
from spikemark.datasets.nmnist import Nmnist
from spikemark.datasets.randman import Randman
from spikemark.datasets.shd import Shd
from spikemark.errors import StageFailed
from spikemark.registry import lookup

REGISTRY = {
    builder.name: builder
    for builder in (Digits(), Randman(), Mnist(), FashionMnist(), Cifar10(), Shd(), Nmnist(), DvsGesture())
}


def get(name: str):
    return lookup(REGISTRY, name, "dataset")


def option_schemas() -> dict[str, dict]:
    """``dataset_options.<name>`` of the config schema, for every dataset that has options:
    each dataset class's ``options_schema`` (a JSON schema with a description and a default
    for every key)."""
    return {
        name: copy.deepcopy(builder.options_schema)
        for name, builder in REGISTRY.items()
        if getattr(builder, "options_schema", None)
    }


def needs_download(name: str) -> bool:
    return bool(getattr(get(name), "needs_download", False))


def source_options(name: str, options: dict, data: dict | None) -> dict:
    """A dataset's options plus where its raw files live (``data.cache_dir``, ``data.mirror``)."""
    opts = dict(options)
    if needs_download(name):
        data = data or {}
        opts.setdefault("cache_dir", data.get("cache_dir"))
        opts.setdefault("mirror", data.get("mirror"))
    return opts


def prepare(
    name: str, path, *, options: dict, test_fraction: float, seed: int | None = None, data: dict | None = None
) -> dict:
    """Build dataset ``name`` and write its canonical file; returns the metadata.

    A dataset that must be downloaded but cannot be (no network, mirror unreachable) raises
    :class:`StageFailed` with status ``skipped`` and the reason.
    """
    opts = source_options(name, options, data)
    seed = opts.pop("seed", 0) if seed is None else seed
    try:
        dataset = get(name).build(seed=seed, test_fraction=test_fraction, **opts)
    except DownloadUnavailable as exc:
        raise StageFailed("skipped", f"dataset {name}: {exc}") from exc
    return save(dataset, path)


def fetch_raw(name: str, *, options: dict, data: dict | None = None) -> dict:
    """Fetch the raw files of ``name`` into the cache (the library downloads and extracts
    them; no canonical file is written); returns a manifest of the downloaded files."""
    if not needs_download(name):
        return {}
    _, files = get(name).fetch(**source_options(name, options, data))
    return manifest(files)


__all__ = [
    "ChecksumMismatch",
    "Dataset",
    "DownloadUnavailable",
    "REGISTRY",
    "fetch_raw",
    "download_stage",
    "get",
    "load",
    "needs_download",
    "option_schemas",
    "prepare",
    "prepare_stage",
    "save",
    "save_failure",
]


def prepare_stage(
    data: str, metadata: str, *, name: str, options: dict, test_fraction: float, source: dict | None = None
) -> dict:
    """The ``prepare_dataset`` stage: canonical file plus a readable metadata sidecar.

    ``source`` is the config's ``data`` section (cache folder, mirror).
    """
    meta = prepare(name, data, options=options, test_fraction=test_fraction, data=source)
    Path(metadata).write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def download_stage(manifest: str, *, name: str, options: dict, source: dict | None = None) -> dict:
    """The ``download_dataset`` stage: raw files into the cache, and a manifest of them."""
    record = {"dataset": name, "files": fetch_raw(name, options=options, data=source)}
    Path(manifest).parent.mkdir(parents=True, exist_ok=True)
    Path(manifest).write_text(json.dumps(record, indent=1) + "\n")
    return record
