"""Shared machinery of datasets that are downloaded: fetch, subset, official split.

A downloadable dataset declares its raw files (``files``) and parses them
(``parse(paths, select_train, select_test, **options)``). Fetching, checksum checks, the
cache and the mirror are handled here (see :mod:`spikemark.datasets.download`). These
datasets come with an official train/test split, so ``test_fraction`` does not apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from spikemark.datasets.base import Dataset
from spikemark.datasets.download import RawFile, fetch

#: Options every downloadable dataset understands (the rest go to ``parse``).
FETCH_OPTIONS = ("cache_dir", "mirror", "url", "checksums", "timeout")

#: Chooses which of ``n`` samples of a split to keep (sorted indices).
Selector = Callable[[int], np.ndarray]


def selector(limit: int | None, seed: int) -> Selector:
    """Keep at most ``limit`` samples, a seeded random (but sorted) choice; all if None."""

    def choose(n: int) -> np.ndarray:
        if limit is None or limit >= n:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).choice(n, size=int(limit), replace=False))

    return choose


class Downloadable:
    """Base class: subclasses set ``name``, ``version``, ``kind``, ``class_names``, ``files``."""

    name: str
    version: str
    kind: str
    class_names: list[str]
    files: list[RawFile]
    needs_download = True

    def fetch(self, **options: Any) -> dict[str, Path]:
        opts = {k: options[k] for k in FETCH_OPTIONS if options.get(k) is not None}
        return fetch(self.name, self.files, **opts)

    def parse(self, paths: dict[str, Path], select_train: Selector, select_test: Selector, **options: Any):
        """Return ``x_train, y_train, x_test, y_test`` (and optionally a channel shape)."""
        raise NotImplementedError

    def build(
        self,
        *,
        seed: int,
        test_fraction: float | None = None,
        max_train: int | None = None,
        max_test: int | None = None,
        **options: Any,
    ) -> Dataset:
        paths = self.fetch(**options)
        parse_options = {k: v for k, v in options.items() if k not in FETCH_OPTIONS}
        out = self.parse(paths, selector(max_train, seed), selector(max_test, seed + 1), **parse_options)
        x_tr, y_tr, x_te, y_te, *rest = out
        channel_shape = tuple(rest[0]) if rest else None
        return Dataset(
            self.name,
            self.version,
            self.kind,
            list(self.class_names),
            x_tr,
            y_tr.astype(np.int64),
            x_te,
            y_te.astype(np.int64),
            channel_shape=channel_shape,
        )


def events_to_raster(
    x: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    t_us: np.ndarray,
    *,
    sensor: tuple[int, int],
    downsample: int,
    n_bins: int,
    window_us: float,
) -> np.ndarray:
    """Event stream → binary raster ``[n_bins, 2·H'·W']`` (polarity, row, column flattened).

    Events at or after ``window_us`` are dropped; pixels are pooled ``downsample``×``downsample``.
    """
    width, height = (-(-s // downsample) for s in sensor)
    keep = (t_us >= 0) & (t_us < window_us)
    xs = np.asarray(x[keep], dtype=np.int64) // downsample
    ys = np.asarray(y[keep], dtype=np.int64) // downsample
    ps = np.asarray(p[keep], dtype=np.int64).clip(0, 1)
    bins = (np.asarray(t_us[keep], dtype=np.float64) * n_bins / window_us).astype(np.int64)
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    raster = np.zeros((n_bins, 2 * height * width), dtype=np.uint8)
    channel = (ps * height + ys) * width + xs
    raster[bins[inside], channel[inside]] = 1
    return raster


def frame_shape(sensor: tuple[int, int], downsample: int) -> tuple[int, int, int]:
    width, height = (-(-s // downsample) for s in sensor)
    return (2, height, width)
