"""N-MNIST (Orchard et al. 2015): MNIST digits seen by an ATIS event camera in three saccades.

Through ``tonic.datasets.NMNIST``: its files, MD5s, download, extraction and ATIS event
reading. Each sample becomes a binary raster ``[n_bins, 2·H·W]`` over the first ``window_ms``
of the recording, with the 34×34 sensor pooled by ``downsample`` (tonic's ``Downsample`` and
``ToFrame``); the channel axis unflattens to ``[2, H, W]``.
"""

from __future__ import annotations

from spikemark.datasets.events import CameraDataset, camera_options
from spikemark.datasets.remote import options_schema


class Nmnist(CameraDataset):
    name = "nmnist"
    version = "nmnist-atis-v1"
    class_names = [str(c) for c in range(10)]
    library_name = "NMNIST"
    extracted_folders = {True: "Train", False: "Test"}
    options_schema = options_schema(
        "N-MNIST (tonic.datasets.NMNIST, ATIS events), binned into [n_bins, 2*H*W] frames of the downsampled "
        "34x34 sensor.",
        **camera_options(n_bins=10, window_ms=300, downsample=2, sensor="34"),
    )
