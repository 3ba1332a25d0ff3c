"""Datasets that are downloaded, through the field's own dataset classes.

A subclass names its library class (``torchvision.datasets.MNIST``, ``tonic.datasets.SHD``,
…) and says three things about it: how to point it at a URL and at checksums (through the
class's own attributes: ``mirrors``, ``url``, ``base_url``, ``resources``, ``*_md5``), which
files it downloads to where (:meth:`raw_files`), and how its samples become canonical
arrays (:meth:`arrays`). Downloading, MD5 checks, extraction and parsing are the library's;
the cache, the subset choice and what a failure means are ours
(:mod:`spikemark.datasets.download`). These datasets come with an official train/test
split, so ``test_fraction`` does not apply.

torchvision and tonic are imported only inside the methods that fetch or parse: the
Snakefile imports this package while it builds the DAG.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np

from spikemark.datasets.base import Dataset
from spikemark.datasets.download import (
    DEFAULT_TIMEOUT_S,
    RawFile,
    cache_root,
    classify_failure,
    connection_timeout,
    discard_corrupt,
    source_base,
)

log = logging.getLogger(__name__)

#: Options every downloadable dataset understands (the rest go to ``arrays``).
FETCH_OPTIONS = ("cache_dir", "mirror", "url", "checksums", "timeout")

#: Chooses which of ``n`` samples of a split to keep (sorted indices).
Selector = Callable[[int], np.ndarray]

#: Options (JSON schema) every downloadable dataset has.
DOWNLOAD_OPTIONS: dict[str, dict[str, Any]] = {
    "url": {
        "description": "Base URL serving this dataset's files (<url>/<file name>); overrides data.mirror.",
        "type": ["string", "null"],
        "default": None,
    },
    "checksums": {
        "description": (
            "Published MD5 per file name, overriding the library's (torchvision's / tonic's): for a "
            "mirror that repackages the files, and for tests. CIFAR-10 also checks the batch files "
            "inside its archive (data_batch_1..5, test_batch, batches.meta)."
        ),
        "type": "object",
        "additionalProperties": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"},
        "default": {},
    },
    "max_train": {
        "description": "Keep at most this many training samples (a seeded random subset); null keeps all.",
        "type": ["integer", "null"],
        "minimum": 1,
        "default": None,
    },
    "max_test": {
        "description": "Keep at most this many test samples; null keeps all.",
        "type": ["integer", "null"],
        "minimum": 1,
        "default": None,
    },
    "seed": {"description": "Seed of the subset choice.", "type": "integer", "default": 0},
}


def options_schema(description: str, **extra: dict[str, Any]) -> dict[str, Any]:
    """The ``dataset_options.<name>`` schema of a downloadable dataset: the download options
    every such dataset has, then its own (``extra``)."""
    return {
        "description": description,
        "type": "object",
        "additionalProperties": False,
        "properties": copy.deepcopy(DOWNLOAD_OPTIONS) | extra,
        "default": {},
    }


def library_subclass(base: type, **attributes: Any) -> type:
    """``base`` with some class attributes replaced, under the same name (the libraries name
    their folders after the class)."""
    return type(base.__name__, (base,), attributes)


def selector(limit: int | None, seed: int) -> Selector:
    """Keep at most ``limit`` samples, a seeded random (but sorted) choice; all if None."""

    def choose(n: int) -> np.ndarray:
        if limit is None or limit >= n:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).choice(n, size=int(limit), replace=False))

    return choose


def every_file(by_split: dict[bool, list[RawFile]]) -> list[RawFile]:
    """The files of both splits, each once (some libraries fetch all files for either split)."""
    return list({raw.filename: raw for files in by_split.values() for raw in files}.values())


class Downloadable:
    """Base class: subclasses set ``name``, ``version``, ``kind``, ``class_names``,
    ``options_schema`` and implement the four library hooks below."""

    name: str
    version: str
    kind: str
    class_names: list[str]
    options_schema: dict[str, Any]
    needs_download = True

    # -- the library hooks ---------------------------------------------------------------------
    def library(self, base_url: str | None, checksums: dict[str, str]) -> type:
        """The library's dataset class, pointed at ``base_url`` (None: the publisher) and
        checking ``checksums`` where given (file name -> MD5)."""
        raise NotImplementedError

    def raw_files(self, library: type, root: Path) -> dict[bool, list[RawFile]]:
        """The files ``library`` downloads into ``root`` for the train (True) and test split."""
        raise NotImplementedError

    def open_split(self, library: type, root: Path, train: bool) -> Any:
        """An instance of ``library`` for one split; downloads what is missing."""
        return library(str(root), train=train)

    def arrays(self, split: Any, select: Selector, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """The selected samples of one split as canonical ``(x, y)``."""
        raise NotImplementedError

    def channel_shape(self, **options: Any) -> tuple[int, ...] | None:
        return None

    # -- ours ----------------------------------------------------------------------------------
    def option_defaults(self) -> dict[str, Any]:
        """Defaults of the dataset's own options (beyond the download options), from its schema."""
        properties = self.options_schema["properties"]
        return {k: spec["default"] for k, spec in properties.items() if k not in DOWNLOAD_OPTIONS}

    @property
    def files(self) -> list[RawFile]:
        """Every file the library downloads from the publisher (default URLs and MD5s)."""
        return every_file(self.raw_files(self.library(None, {}), cache_root(None) / self.name))

    def fetch(
        self,
        *,
        cache_dir: str | None = None,
        mirror: str | None = None,
        url: str | None = None,
        checksums: dict[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> tuple[dict[bool, Any], list[RawFile]]:
        """Both splits opened by the library (downloading what the cache lacks), and the files.

        Other options (the dataset's own) are ignored here.
        """
        root = cache_root(cache_dir) / self.name
        library = self.library(source_base(self.name, url=url, mirror=mirror), dict(checksums or {}))
        files = self.raw_files(library, root)
        discard_corrupt(every_file(files))
        splits = {}
        with connection_timeout(timeout or DEFAULT_TIMEOUT_S):
            for train in (True, False):
                try:
                    splits[train] = self.open_split(library, root, train)
                except Exception as exc:
                    failure = classify_failure(self.name, files[train], exc)
                    if failure is None:
                        raise
                    raise failure from exc
        log.info("%s: raw files in %s", self.name, root)
        return splits, every_file(files)

    def build(
        self,
        *,
        seed: int,
        test_fraction: float | None = None,
        max_train: int | None = None,
        max_test: int | None = None,
        **options: Any,
    ) -> Dataset:
        splits, _ = self.fetch(**options)
        own = self.option_defaults() | {k: v for k, v in options.items() if k not in FETCH_OPTIONS}
        x_tr, y_tr = self.arrays(splits[True], selector(max_train, seed), **own)
        x_te, y_te = self.arrays(splits[False], selector(max_test, seed + 1), **own)
        return Dataset(
            self.name,
            self.version,
            self.kind,
            list(self.class_names),
            x_tr,
            np.asarray(y_tr, dtype=np.int64),
            x_te,
            np.asarray(y_te, dtype=np.int64),
            channel_shape=self.channel_shape(**own),
        )
