"""N-MNIST (Orchard et al. 2015): MNIST digits seen by an ATIS event camera in three saccades.

Files, URLs and MD5s are the ones tonic 1.7 publishes. Each zip holds ``Train/<digit>/*.bin``
(or ``Test/…``): events in the 40-bit ATIS format (x, y, polarity, 23-bit µs time stamp),
read with tonic's ``read_mnist_file`` straight from the archive. Each sample becomes a binary
raster ``[n_bins, 2·H·W]`` over the first ``window_ms`` of the recording, with the 34×34
sensor pooled by ``downsample``; the channel axis unflattens to ``[2, H, W]``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable, events_to_raster, frame_shape

BASE_URL = "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"
TRAIN, TEST = "train.zip", "test.zip"
SENSOR = (34, 34)  # width, height
EVENT_DTYPE = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])


def samples_in(archive: zipfile.ZipFile) -> list[tuple[str, int]]:
    """``(member, label)`` of every ``.bin`` file, sorted; the label is the folder's digit."""
    out = []
    for member in sorted(archive.namelist()):
        if member.endswith(".bin"):
            out.append((member, int(PurePosixPath(member).parent.name[-1])))
    return out


class Nmnist(Downloadable):
    name = "nmnist"
    version = "nmnist-atis-v1"
    kind = "spikes"
    class_names = [str(c) for c in range(10)]
    files = [
        RawFile(TRAIN, BASE_URL + "39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded", "20959b8e626244a1b502305a9e6e2031"),
        RawFile(TEST, BASE_URL + "05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded", "69ca8762b2fe404d9b9bad1103e97832"),
    ]

    def parse(self, paths, select_train, select_test, *, n_bins: int = 10, window_ms: float = 300.0, downsample: int = 2, **_):
        from tonic.io import read_mnist_file

        shape = frame_shape(SENSOR, downsample)
        out = []
        for name, select in ((TRAIN, select_train), (TEST, select_test)):
            with zipfile.ZipFile(paths[name]) as archive:
                samples = samples_in(archive)
                rasters, labels = [], []
                for i in select(len(samples)):
                    member, label = samples[i]
                    ev = read_mnist_file(io.BytesIO(archive.read(member)), dtype=EVENT_DTYPE, is_stream=True)
                    rasters.append(
                        events_to_raster(
                            ev["x"], ev["y"], ev["p"], ev["t"],
                            sensor=SENSOR, downsample=downsample, n_bins=n_bins, window_us=window_ms * 1e3,
                        )
                    )
                    labels.append(label)
            x = np.stack(rasters) if rasters else np.zeros((0, n_bins, int(np.prod(shape))), np.uint8)
            out += [x, np.asarray(labels, dtype=np.int64)]
        return (*out, shape)
