"""MNIST and Fashion-MNIST: 28×28 grey images in the IDX format (gzip), 10 classes.

Files, URLs and MD5s are the ones torchvision 0.29 publishes. Canonical samples are
``[1, 28, 28]`` float32 in [0, 1] with the official 60 000 / 10 000 split.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable

#: IDX type codes → big-endian numpy dtypes (Lush "Pascal Vincent" format).
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


def read_idx(path: str | Path) -> np.ndarray:
    """Read a (gzipped) IDX file into an array of its declared type and shape."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(IDX_TYPES[data[2]]), data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - offset != expected:
        raise ValueError(f"{path}: IDX payload has {len(data) - offset} bytes, its header says {expected}")
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _files(base: str, md5s: tuple[str, str, str, str]) -> list[RawFile]:
    names = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
    return [RawFile(n, base + n, m) for n, m in zip(names, md5s)]


class Mnist(Downloadable):
    name = "mnist"
    version = "mnist-idx-v1"
    kind = "static"
    class_names = [str(c) for c in range(10)]
    files = _files(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    )

    def parse(self, paths, select_train, select_test, **_):
        out = []
        for images, labels, select in ((TRAIN_IMAGES, TRAIN_LABELS, select_train), (TEST_IMAGES, TEST_LABELS, select_test)):
            x, y = read_idx(paths[images]), read_idx(paths[labels])
            if x.ndim != 3 or len(x) != len(y):
                raise ValueError(f"{self.name}: {images} and {labels} do not match ({x.shape}, {y.shape})")
            idx = select(len(y))
            out += [(x[idx, None].astype(np.float32) / 255.0), y[idx]]
        return tuple(out)


class FashionMnist(Mnist):
    name = "fashion_mnist"
    version = "fashion-mnist-idx-v1"
    class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    files = _files(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    )
