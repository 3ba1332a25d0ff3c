"""Spiking Heidelberg Digits (Cramer et al. 2020): spoken digits as spikes of 700 channels.

Files, URL and MD5s are the ones tonic 1.7 publishes (``shd_{train,test}.h5.zip`` on
zenkelab.org). Each HDF5 file holds ``spikes/times`` (seconds) and ``spikes/units``
(channel 0..699) per sample as variable-length arrays, ``labels`` (0..19) and, in
``extra/keys``, the class names. Samples are binned into binary rasters
``[n_bins, 700 / channel_pool]`` over the first ``t_max`` seconds (a bin holds 1 where its
channel group spiked at least once).
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable

BASE_URL = "https://zenkelab.org/datasets/"
N_CHANNELS = 700
TRAIN, TEST = "shd_train.h5.zip", "shd_test.h5.zip"
#: Class names of the published files (English then German digits), used if a file lacks them.
DEFAULT_CLASSES = [f"{lang}-{d}" for lang in ("english", "german") for d in range(10)]


@contextmanager
def opened_h5(path: Path) -> Iterator[object]:
    """Open the HDF5 file inside a ``.zip`` / ``.gz`` download (extracted to a temporary file)."""
    import h5py

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        target = Path(tmp) / "data.h5"
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.endswith(".h5")]
                if len(members) != 1:
                    raise ValueError(f"{path.name}: expected one .h5 file inside, found {members}")
                with archive.open(members[0]) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        elif path.suffix == ".gz":
            with gzip.open(path, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            target = path
        with h5py.File(target, "r") as fh:
            yield fh


def bin_spikes(times: np.ndarray, units: np.ndarray, *, n_bins: int, t_max: float, channel_pool: int) -> np.ndarray:
    """One sample's spikes → binary raster ``[n_bins, ceil(700 / channel_pool)]``."""
    n_channels = -(-N_CHANNELS // channel_pool)
    keep = (times >= 0) & (times < t_max)
    bins = (times[keep] * (n_bins / t_max)).astype(np.int64)
    channels = units[keep].astype(np.int64) // channel_pool
    raster = np.zeros((n_bins, n_channels), dtype=np.uint8)
    inside = channels < n_channels
    raster[bins[inside], channels[inside]] = 1
    return raster


class Shd(Downloadable):
    name = "shd"
    version = "shd-h5-v1"
    kind = "spikes"
    class_names = DEFAULT_CLASSES
    files = [
        RawFile(TRAIN, BASE_URL + TRAIN, "f3252aeb598ac776c1b526422d90eecb"),
        RawFile(TEST, BASE_URL + TEST, "1503a5064faa34311c398fb0a1ed0a6f"),
    ]

    def parse(self, paths, select_train, select_test, *, n_bins: int = 100, t_max: float = 1.0, channel_pool: int = 1, **_):
        out = []
        for name, select in ((TRAIN, select_train), (TEST, select_test)):
            with opened_h5(paths[name]) as fh:
                labels = np.asarray(fh["labels"][()], dtype=np.int64)
                times, units = fh["spikes/times"], fh["spikes/units"]
                if len(times) != len(labels) or len(units) != len(labels):
                    raise ValueError(f"{name}: spikes/times, spikes/units and labels differ in length")
                idx = select(len(labels))
                x = np.stack(
                    [
                        bin_spikes(np.asarray(times[i], np.float64), np.asarray(units[i]), n_bins=n_bins, t_max=t_max, channel_pool=channel_pool)
                        for i in idx
                    ]
                ) if len(idx) else np.zeros((0, n_bins, -(-N_CHANNELS // channel_pool)), np.uint8)
                out += [x, labels[idx]]
        return tuple(out)
