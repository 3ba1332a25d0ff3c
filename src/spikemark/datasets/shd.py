"""Spiking Heidelberg Digits (Cramer et al. 2020): spoken digits as spikes of 700 channels.

Through ``tonic.datasets.SHD``: its files (``shd_{train,test}.h5.zip`` on zenkelab.org), MD5s,
download, extraction and HDF5 reading. Each sample's spikes are binned into a binary raster
``[n_bins, 700 / channel_pool]`` over the first ``t_max`` seconds (a bin holds 1 where its
channel group spiked at least once), through tonic's ``Downsample`` and ``ToFrame``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.events import EventDataset
from spikemark.datasets.remote import library_subclass, options_schema

#: Class names of the published files (English then German digits).
CLASS_NAMES = [f"{lang}-{d}" for lang in ("english", "german") for d in range(10)]


class Shd(EventDataset):
    name = "shd"
    version = "shd-h5-v1"
    class_names = CLASS_NAMES
    library_name = "SHD"
    options_schema = options_schema(
        "Spiking Heidelberg Digits (tonic.datasets.SHD, HDF5), binned into [n_bins, 700 / channel_pool] binary rasters.",
        n_bins={"description": "Time bins per sample (the SNN's native T).", "type": "integer", "minimum": 1, "default": 100},
        t_max={
            "description": "Seconds of each recording that are binned (later spikes are dropped).",
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 1.0,
        },
        channel_pool={
            "description": "Adjacent channels merged into one (700 / channel_pool inputs).",
            "type": "integer",
            "minimum": 1,
            "default": 1,
        },
    )

    def library(self, base_url, checksums):
        shd = self.tonic_class()
        attributes = {
            "train_md5": checksums.get(shd.train_zip, shd.train_md5),
            "test_md5": checksums.get(shd.test_zip, shd.test_md5),
        }
        if base_url:
            attributes["base_url"] = base_url
        return library_subclass(shd, **attributes)

    def raw_files(self, library, root: Path):
        folder = root / library.__name__
        files = {}
        for train, archive, md5 in ((True, library.train_zip, library.train_md5), (False, library.test_zip, library.test_md5)):
            # tonic extracts <name>.h5.zip to <name>.h5 beside it
            files[train] = [RawFile(archive, library.base_url + archive, md5, folder / archive, (folder / archive[: -len(".zip")],))]
        return files

    def order(self, split: Any) -> np.ndarray:
        return np.arange(len(split))  # the HDF5 file's sample order

    def binning(self, *, n_bins: int, t_max: float, channel_pool: int, **_: Any) -> tuple[int, int, float]:
        return int(channel_pool), int(n_bins), float(t_max) * 1e6

    def channel_shape(self, **options: Any) -> None:
        return None  # channels are places along a cochlea model, not pixels
