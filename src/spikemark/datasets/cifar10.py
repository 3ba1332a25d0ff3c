"""CIFAR-10: 32×32 colour images, 10 classes, from the "python version" archive.

File, URL and MD5 are the ones torchvision 0.29 publishes. The archive holds pickled
batches (``data`` uint8 [N, 3072] in channel-major order, ``labels``); it is read in place,
without extracting. The pickles are only read after the archive's MD5 matched. Canonical
samples are ``[3, 32, 32]`` float32 in [0, 1] with the official 50 000 / 10 000 split.
"""

from __future__ import annotations

import pickle
import tarfile

import numpy as np

from spikemark.datasets.download import RawFile
from spikemark.datasets.remote import Downloadable

ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCHES = ["test_batch"]


def _read_batches(archive, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for name in names:
        member = archive.extractfile(f"{FOLDER}/{name}")
        if member is None:
            raise ValueError(f"{ARCHIVE}: {FOLDER}/{name} is missing")
        entry = pickle.load(member, encoding="latin1")  # noqa: S301 - checksummed published file
        xs.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(entry["labels"], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


class Cifar10(Downloadable):
    name = "cifar10"
    version = "cifar10-python-v1"
    kind = "static"
    class_names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    files = [RawFile(ARCHIVE, "https://www.cs.toronto.edu/~kriz/" + ARCHIVE, "c58f30108f718f92721af3b95e74349a")]

    def parse(self, paths, select_train, select_test, **_):
        out = []
        with tarfile.open(paths[ARCHIVE], "r:gz") as archive:
            for names, select in ((TRAIN_BATCHES, select_train), (TEST_BATCHES, select_test)):
                x, y = _read_batches(archive, names)
                idx = select(len(y))
                out += [x[idx].astype(np.float32) / 255.0, y[idx]]
        return tuple(out)
