"""The canonical dataset file every later stage reads.

One ``.npz`` per dataset: ``x_train, y_train, x_test, y_test`` plus a JSON metadata
string (name, version, kind, shapes, class names, checksum). ``kind`` is ``static``
(one feature vector per sample, float32) or ``spikes`` (``[time, channel]`` binary
spike rasters, uint8).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("static", "spikes")


@dataclass
class Dataset:
    """A train/test split in the canonical layout."""

    name: str
    version: str
    kind: str
    class_names: list[str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    #: For spike rasters whose channels are pixels of an event camera: the shape the
    #: channel axis unflattens to (``[polarity, height, width]``); None otherwise.
    channel_shape: tuple[int, ...] | None = None

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        """Inputs per time step for spikes; all features for static data."""
        return int(self.x_train.shape[-1] if self.kind == "spikes" else np.prod(self.sample_shape))

    @property
    def n_steps(self) -> int | None:
        """Native time bins of a spiking dataset (None for static data)."""
        return int(self.x_train.shape[1]) if self.kind == "spikes" else None

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for arr in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(arr).tobytes())
        return digest.hexdigest()

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "sample_shape": list(self.sample_shape),
            "n_classes": self.n_classes,
            "class_names": self.class_names,
            "n_train": int(len(self.y_train)),
            "n_test": int(len(self.y_test)),
            "sha256": self.checksum(),
            **({"channel_shape": list(self.channel_shape)} if self.channel_shape else {}),
        }


def stratified_split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    """A reproducible, class-balanced train/test split."""
    # Imported here: scikit-learn takes seconds to import and only this stage needs it.
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)


def save(dataset: Dataset, path: str | Path) -> dict[str, Any]:
    """Write the canonical file and return its metadata (checksum included)."""
    if dataset.kind not in KINDS:
        raise ValueError(f"dataset kind must be one of {KINDS}")
    meta = dataset.metadata()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(
            fh,
            x_train=dataset.x_train,
            y_train=dataset.y_train,
            x_test=dataset.x_test,
            y_test=dataset.y_test,
            meta=np.array(json.dumps(meta)),
        )
    return meta


def save_failure(path: str | Path, status: str, reason: str) -> None:
    """A canonical file that holds no data, only why there is none (``skipped`` / ``failed``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps({"status": status, "reason": reason})))


def load(path: str | Path, *, verify: bool = True) -> Dataset:
    """Read a canonical file; with ``verify`` the checksum must match its metadata.

    A file written by :func:`save_failure` raises :class:`StageFailed` with its status and
    reason, so every stage downstream of a dataset that could not be prepared says why.
    """
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("status", "ok") != "ok":
            from spikemark.errors import StageFailed

            raise StageFailed(meta["status"], meta["reason"])
        ds = Dataset(
            name=meta["name"],
            version=meta["version"],
            kind=meta["kind"],
            class_names=list(meta["class_names"]),
            x_train=data["x_train"],
            y_train=data["y_train"],
            x_test=data["x_test"],
            y_test=data["y_test"],
            channel_shape=tuple(meta["channel_shape"]) if meta.get("channel_shape") else None,
        )
    if verify and ds.checksum() != meta["sha256"]:
        raise ValueError(f"{path}: checksum mismatch, the dataset file is corrupt")
    return ds
