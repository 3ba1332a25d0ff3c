"""MNIST and Fashion-MNIST: 28×28 grey images, 10 classes.

Through ``torchvision.datasets.MNIST`` / ``FashionMNIST``: their files, mirrors, MD5s,
download, decompression and IDX reading. Canonical samples are ``[1, 28, 28]`` float32 in
[0, 1] with the official 60 000 / 10 000 split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable, library_subclass, options_schema


class Mnist(Downloadable):
    name = "mnist"
    version = "mnist-idx-v1"
    kind = "static"
    class_names = [str(c) for c in range(10)]
    #: The class in ``torchvision.datasets``.
    library_name = "MNIST"
    options_schema = options_schema(
        "MNIST handwritten digits (torchvision.datasets.MNIST; official 60k/10k split), samples [1, 28, 28] in [0, 1]."
    )

    def library(self, base_url, checksums):
        from torchvision import datasets

        cls = getattr(datasets, self.library_name)
        attributes = {"resources": [(f, checksums.get(f, md5)) for f, md5 in cls.resources]}
        if base_url:
            attributes["mirrors"] = [base_url]
        return library_subclass(cls, **attributes)

    def raw_files(self, library, root: Path):
        # torchvision keeps <root>/<class name>/raw/<file>.gz and decompresses each beside it;
        # it tries its mirrors in order: the first is the one a failure names.
        folder = root / library.__name__ / "raw"
        files = [
            RawFile(f, library.mirrors[0] + f, md5, folder / f, (folder / f.removesuffix(".gz"),))
            for f, md5 in library.resources
        ]
        return {True: files, False: files}  # either split's download fetches all four

    def open_split(self, library, root: Path, train: bool):
        return library(str(root), train=train, download=True)

    def arrays(self, split, select, **_):
        idx = select(len(split))
        x = split.data.numpy()[idx, None].astype(np.float32) / 255.0
        return x, split.targets.numpy()[idx]


class FashionMnist(Mnist):
    name = "fashion_mnist"
    version = "fashion-mnist-idx-v1"
    class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    library_name = "FashionMNIST"
    options_schema = options_schema(
        "Fashion-MNIST (torchvision.datasets.FashionMNIST; official split), samples [1, 28, 28] in [0, 1]."
    )
