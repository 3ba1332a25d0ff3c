"""CIFAR-10: 32×32 colour images, 10 classes.

Through ``torchvision.datasets.CIFAR10``: its archive ("python version"), URL, MD5s (of the
archive and of each batch inside it), download, extraction and batch reading. Canonical
samples are ``[3, 32, 32]`` float32 in [0, 1] with the official 50 000 / 10 000 split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable, library_subclass, options_schema


class Cifar10(Downloadable):
    name = "cifar10"
    version = "cifar10-python-v1"
    kind = "static"
    class_names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    options_schema = options_schema(
        "CIFAR-10 (torchvision.datasets.CIFAR10, python version; official split), samples [3, 32, 32] in [0, 1]."
    )

    def library(self, base_url, checksums):
        from torchvision.datasets import CIFAR10

        def batches(listed):
            return [[name, checksums.get(name, md5)] for name, md5 in listed]

        attributes = {
            "tgz_md5": checksums.get(CIFAR10.filename, CIFAR10.tgz_md5),
            "train_list": batches(CIFAR10.train_list),
            "test_list": batches(CIFAR10.test_list),
            "meta": CIFAR10.meta | {"md5": checksums.get(CIFAR10.meta["filename"], CIFAR10.meta["md5"])},
        }
        if base_url:
            attributes["url"] = base_url + CIFAR10.filename
        return library_subclass(CIFAR10, **attributes)

    def raw_files(self, library, root: Path):
        archive = RawFile(library.filename, library.url, library.tgz_md5, root / library.filename, (root / library.base_folder,))
        return {True: [archive], False: [archive]}

    def open_split(self, library, root: Path, train: bool):
        return library(str(root), train=train, download=True)

    def arrays(self, split, select, **_):
        idx = select(len(split))
        # torchvision holds images as [N, H, W, C]; canonical samples are channel-first
        x = split.data[idx].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        return x, np.asarray(split.targets)[idx]
