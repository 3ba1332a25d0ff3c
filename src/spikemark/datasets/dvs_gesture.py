"""DVS128 Gesture (Amir et al. 2017): 11 hand and arm gestures seen by a 128×128 DVS.

Through ``tonic.datasets.DVSGesture``: its preprocessed archives
``ibmGesture{Train,Test}.tar.gz`` (recordings already cut into one sample per gesture),
MD5s, download, extraction and event reading. Each sample becomes a binary raster
``[n_bins, 2·H·W]`` over the first ``window_ms``, the sensor pooled by ``downsample`` (tonic's
``Downsample`` and ``ToFrame``); channels unflatten to ``[2, H, W]``.
"""

from __future__ import annotations

from spikemark.datasets.events import CameraDataset, camera_options
from spikemark.datasets.remote import options_schema


class DvsGesture(CameraDataset):
    name = "dvs_gesture"
    version = "dvs-gesture-tonic-npy-v1"
    class_names = [
        "hand clapping", "right hand wave", "left hand wave", "right arm cw", "right arm ccw",
        "left arm cw", "left arm ccw", "arm roll", "air drums", "air guitar", "other gestures",
    ]
    library_name = "DVSGesture"
    extracted_folders = {True: "ibmGestureTrain", False: "ibmGestureTest"}
    options_schema = options_schema(
        "DVS128 Gesture (tonic.datasets.DVSGesture, preprocessed npy events), binned into [n_bins, 2*H*W] "
        "frames of the downsampled 128x128 sensor.",
        **camera_options(n_bins=20, window_ms=1500, downsample=4, sensor="128"),
    )
