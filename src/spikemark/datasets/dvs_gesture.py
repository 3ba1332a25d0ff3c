"""DVS128 Gesture (Amir et al. 2017): 11 hand and arm gestures seen by a 128×128 DVS.

Files, URLs and MD5s are the ones tonic 1.7 publishes: its preprocessed archives
``ibmGesture{Train,Test}.tar.gz``, where recordings are already cut into one sample per
gesture, stored as ``ibmGesture{Train,Test}/user<NN>_<lighting>/<label>.npy`` with rows
``(x, y, polarity, t[ms])``. Each sample becomes a binary raster ``[n_bins, 2·H·W]`` over the
first ``window_ms``, the sensor pooled by ``downsample``; channels unflatten to ``[2, H, W]``.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable, events_to_raster, frame_shape

TRAIN, TEST = "ibmGestureTrain.tar.gz", "ibmGestureTest.tar.gz"
SENSOR = (128, 128)


class DvsGesture(Downloadable):
    name = "dvs_gesture"
    version = "dvs-gesture-tonic-npy-v1"
    kind = "spikes"
    class_names = [
        "hand clapping", "right hand wave", "left hand wave", "right arm cw", "right arm ccw",
        "left arm cw", "left arm ccw", "arm roll", "air drums", "air guitar", "other gestures",
    ]
    files = [
        RawFile(TRAIN, "https://figshare.com/ndownloader/files/38022171", "3a8f0d4120a166bac7591f77409cb105"),
        RawFile(TEST, "https://figshare.com/ndownloader/files/38020584", "56070e45dadaa85fff82e0fbfbc06de5"),
    ]

    def parse(self, paths, select_train, select_test, *, n_bins: int = 20, window_ms: float = 1500.0, downsample: int = 4, **_):
        shape = frame_shape(SENSOR, downsample)
        out = []
        for name, select in ((TRAIN, select_train), (TEST, select_test)):
            with tarfile.open(paths[name], "r:gz") as archive:
                members = sorted((m for m in archive.getmembers() if m.isfile() and m.name.endswith(".npy")), key=lambda m: m.name)
                chosen = [members[i] for i in select(len(members))]
                by_name = {}
                # Read in archive order: a gzip stream is cheap forwards, costly backwards.
                for member in sorted(chosen, key=lambda m: m.offset):
                    events = np.load(io.BytesIO(archive.extractfile(member).read()), allow_pickle=False)
                    by_name[member.name] = events_to_raster(
                        events[:, 0], events[:, 1], events[:, 2], events[:, 3] * 1000.0,
                        sensor=SENSOR, downsample=downsample, n_bins=n_bins, window_us=window_ms * 1e3,
                    )
                labels = [int(PurePosixPath(m.name).stem) for m in chosen]
                rasters = [by_name[m.name] for m in chosen]
            x = np.stack(rasters) if rasters else np.zeros((0, n_bins, int(np.prod(shape))), np.uint8)
            out += [x, np.asarray(labels, dtype=np.int64)]
        return (*out, shape)
