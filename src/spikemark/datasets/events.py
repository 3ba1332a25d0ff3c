"""Event datasets of tonic, binned into binary frames through tonic's transforms.

An event camera's (or a cochlea model's) events become a raster ``[n_bins, P·H'·W']``: the
first ``window_us`` of a recording cut into ``n_bins`` equal time windows, the sensor's
pixels pooled ``downsample``×``downsample`` (tonic's ``Downsample``), events counted per
window, polarity and pixel (tonic's ``ToFrame``), and a 1 wherever at least one event fell.
The channel axis unflattens to ``[P, H', W']`` (polarity, row, column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable, Selector, library_subclass


def frame_shape(sensor_size: tuple[int, int, int], downsample: int) -> tuple[int, int, int]:
    """``(P, H', W')`` of a sensor given as tonic's ``(W, H, P)``, pooled by ``downsample``."""
    width, height, polarities = sensor_size
    return (polarities, -(-height // downsample), -(-width // downsample))


def framer(
    sensor_size: tuple[int, int, int], *, downsample: int, n_bins: int, window_us: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A function: one recording's structured events (``t`` in µs) → binary raster."""
    from tonic.transforms import Compose, Downsample, ToFrame

    polarities, height, width = frame_shape(sensor_size, downsample)
    # A fixed window from t = 0 rather than the recording's own first and last event, so
    # every sample has n_bins frames of the same duration. include_incomplete keeps the last
    # window where n_bins does not divide window_us exactly; a surplus frame is cut below.
    to_frames = Compose(
        [
            Downsample(spatial_factor=1.0 / downsample),
            ToFrame(
                sensor_size=(width, height, polarities),
                time_window=window_us / n_bins,
                start_time=0,
                end_time=window_us,
                include_incomplete=True,
            ),
        ]
    )
    n_channels = polarities * height * width

    def raster(events: np.ndarray) -> np.ndarray:
        events = events[(events["t"] >= 0) & (events["t"] < window_us)]
        # ToFrame finds its windows by binary search on t: the events must be in time order.
        events = events[np.argsort(events["t"], kind="stable")]
        if len(events) == 0:  # ToFrame answers an empty recording with a single frame
            return np.zeros((n_bins, n_channels), np.uint8)
        frames = to_frames(events)[:n_bins]
        return (frames.reshape(n_bins, n_channels) > 0).astype(np.uint8)

    return raster


class EventDataset(Downloadable):
    """A tonic event dataset, binned into rasters (``kind = spikes``).

    Subclasses implement the library hooks and :meth:`binning`, which turns their options
    into ``(downsample, n_bins, window_us)``.
    """

    kind = "spikes"
    #: The class in ``tonic.datasets``.
    library_name: str

    def tonic_class(self) -> type:
        from tonic import datasets

        return getattr(datasets, self.library_name)

    def binning(self, **options: Any) -> tuple[int, int, float]:
        raise NotImplementedError

    def order(self, split: Any) -> np.ndarray:
        """Sample order (tonic lists some datasets' files in directory order: sorted here)."""
        return np.argsort(np.asarray(split.data, dtype=str), kind="stable")

    def channel_shape(self, **options: Any) -> tuple[int, int, int] | None:
        downsample, _, _ = self.binning(**options)
        return frame_shape(self.tonic_class().sensor_size, downsample)

    def arrays(self, split: Any, select: Selector, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        downsample, n_bins, window_us = self.binning(**options)
        raster = framer(split.sensor_size, downsample=downsample, n_bins=n_bins, window_us=window_us)
        n_channels = int(np.prod(frame_shape(split.sensor_size, downsample)))
        chosen = self.order(split)[select(len(split))]
        x = np.zeros((len(chosen), n_bins, n_channels), np.uint8)
        y = np.zeros(len(chosen), np.int64)
        for row, i in enumerate(chosen):
            events, y[row] = split[int(i)]
            x[row] = raster(events)
        return x, y


def camera_options(*, n_bins: int, window_ms: float, downsample: int, sensor: str) -> dict[str, dict[str, Any]]:
    """The binning options (JSON schema, with their defaults) of an event-camera dataset."""
    return {
        "n_bins": {"description": "Time bins per sample.", "type": "integer", "minimum": 1, "default": n_bins},
        "window_ms": {
            "description": "Milliseconds of each recording that are binned.",
            "type": "number",
            "exclusiveMinimum": 0,
            "default": window_ms,
        },
        "downsample": {
            "description": f"Sensor pixels pooled per axis ({sensor} / downsample rows and columns).",
            "type": "integer",
            "minimum": 1,
            "default": downsample,
        },
    }


class CameraDataset(EventDataset):
    """A tonic event-camera dataset whose class sets ``{train,test}_{url,filename,md5}``."""

    #: What tonic extracts from the train (True) and the test archive: folders in its location.
    extracted_folders: dict[bool, str]

    def library(self, base_url, checksums):
        cls = self.tonic_class()
        attributes = {}
        for split in ("train", "test"):
            filename = getattr(cls, f"{split}_filename")
            attributes[f"{split}_md5"] = checksums.get(filename, getattr(cls, f"{split}_md5"))
            if base_url:
                attributes[f"{split}_url"] = base_url + filename
        return library_subclass(cls, **attributes)

    def raw_files(self, library, root: Path):
        folder = root / library.__name__
        files = {}
        for train, split in ((True, "train"), (False, "test")):
            filename = getattr(library, f"{split}_filename")
            files[train] = [
                RawFile(
                    filename,
                    getattr(library, f"{split}_url"),
                    getattr(library, f"{split}_md5"),
                    folder / filename,
                    (folder / self.extracted_folders[train],),
                )
            ]
        return files

    def binning(self, *, n_bins: int, window_ms: float, downsample: int, **_: Any) -> tuple[int, int, float]:
        return int(downsample), int(n_bins), float(window_ms) * 1e3
