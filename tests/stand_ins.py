"""Stand-in raw files in the real published formats, and a local HTTP server that serves them.

The real datasets cannot be downloaded in the test environment. These files are SMALL
STAND-INS written in the same formats (IDX gzip, CIFAR pickle batches in a tar.gz, SHD's
HDF5 in a zip, N-MNIST's 40-bit ATIS events in a zip, DVS Gesture's tonic npy layout in a
tar.gz), so torchvision's and tonic's real download, checksum and parsing code runs against
them. Their checksums are their own, not the published ones: tests pass them as
``dataset_options.<name>.checksums``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------- IDX (MNIST, Fashion-MNIST)


def idx_bytes(array: np.ndarray) -> bytes:
    assert array.dtype == np.uint8
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


def write_mnist(folder: Path, n_train: int = 30, n_test: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    """The four ``*-idx?-ubyte.gz`` files; image i has pixel (0, 0) = label·20 to check order."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = labels * 20
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
        out[prefix] = labels
    return out


# ---------------------------------------------------------------------- CIFAR-10 python version


def write_cifar10(folder: Path, per_batch: int = 6, seed: int = 0) -> dict[str, str]:
    """The archive; returns the MD5 of each batch file inside it (torchvision checks them)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    inner = {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:

        def add(name: str, obj) -> None:
            data = pickle.dumps(obj, protocol=2)
            inner[name] = hashlib.md5(data).hexdigest()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            labels = [int(v) for v in rng.integers(0, 10, size=per_batch)]
            data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
            data[:, 0] = np.array(labels) * 20  # red channel, pixel (0, 0)
            add(name, {"batch_label": name, "labels": labels, "data": data, "filenames": [f"{name}_{i}.png" for i in range(per_batch)]})
        add("batches.meta", {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]})
    (folder / "cifar-10-python.tar.gz").write_bytes(buf.getvalue())
    return inner


# ---------------------------------------------------------------------- SHD (HDF5 in a zip)


def shd_samples(n: int, seed: int):
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        k = int(rng.integers(5, 40))
        times = np.sort(rng.uniform(0, 1.2, size=k)).astype(np.float16)
        units = rng.integers(0, 700, size=k).astype(np.uint16)
        samples.append((times, units, i % 20))
    return samples


def write_shd(folder: Path, n_train: int = 16, n_test: int = 8) -> dict[str, list]:
    import h5py

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        samples = shd_samples(n, seed=1 if split == "train" else 2)
        h5 = folder / f"shd_{split}.h5"
        with h5py.File(h5, "w") as fh:
            times = fh.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.float16))
            units = fh.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
            for i, (t, u, _) in enumerate(samples):
                times[i], units[i] = t, u
            fh.create_dataset("labels", data=np.array([s[2] for s in samples], dtype=np.uint16))
            fh.create_dataset("extra/keys", data=np.array([f"digit-{c}".encode() for c in range(20)]))
            fh.create_dataset("extra/speaker", data=np.zeros(n, dtype=np.uint16))
        with zipfile.ZipFile(folder / f"shd_{split}.h5.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(h5, h5.name)
        h5.unlink()
        out[split] = samples
    return out


# ---------------------------------------------------------------------- N-MNIST (ATIS .bin in a zip)


def atis_bytes(events: list[tuple[int, int, int, int]]) -> bytes:
    """(x, y, polarity, t µs) → 40-bit records: x, y, p<<7 | t[22:16], t[15:8], t[7:0]."""
    out = bytearray()
    for x, y, p, t in events:
        out += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def write_nmnist(folder: Path, per_class: int = 2) -> dict[str, list]:
    """Sample of digit d has one event at (x=2d, y=d, p=d%2, t=d·20 ms) plus a few random ones."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for zipname, top in (("train.zip", "Train"), ("test.zip", "Test")):
        samples = []
        with zipfile.ZipFile(folder / zipname, "w", zipfile.ZIP_DEFLATED) as zf:
            for d in range(10):
                for k in range(per_class):
                    events = [(2 * d, d, d % 2, d * 20_000)]
                    events += [(int(rng.integers(0, 34)), int(rng.integers(0, 34)), int(rng.integers(0, 2)), int(rng.integers(0, 300_000))) for _ in range(5)]
                    events.sort(key=lambda e: e[3])
                    name = f"{top}/{d}/{d * 100 + k:05d}.bin"
                    zf.writestr(name, atis_bytes(events))
                    samples.append((name, d, events))
        out[top] = samples
    return out


# ---------------------------------------------------------------------- DVS Gesture (tonic npy layout)


def write_dvs_gesture(folder: Path, users: int = 2) -> None:
    """Label c's sample has an event at (x=10c, y=5c, p=1, t=c·100 ms), then random ones."""
    rng = np.random.default_rng(4)
    folder.mkdir(parents=True, exist_ok=True)
    for archive, top in (("ibmGestureTrain.tar.gz", "ibmGestureTrain"), ("ibmGestureTest.tar.gz", "ibmGestureTest")):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for user in range(1, users + 1):
                for c in range(11):
                    rows = [(10 * c, 5 * c, 1, c * 100)]
                    rows += [(int(rng.integers(0, 128)), int(rng.integers(0, 128)), int(rng.integers(0, 2)), int(rng.integers(0, 6000))) for _ in range(20)]
                    rows.sort(key=lambda r: r[3])
                    data = io.BytesIO()
                    np.save(data, np.array(rows, dtype=np.int64))
                    info = tarfile.TarInfo(f"{top}/user{user:02d}_fluorescent/{c}.npy")
                    info.size = len(data.getvalue())
                    tar.addfile(info, io.BytesIO(data.getvalue()))
        (folder / archive).write_bytes(buf.getvalue())


# ---------------------------------------------------------------------- the server


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


class StandInServer:
    """``http.server`` on 127.0.0.1 at a free port, serving ``root`` (``<dataset>/<file>``)."""

    def __init__(self, root: Path):
        self.root = root
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "StandInServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused: a mirror that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
