"""Dataset registry and the canonical file."""

from __future__ import annotations

import numpy as np
import pytest

from spikemark import datasets


def test_digits_canonical_file(data_dir):
    ds = datasets.load(data_dir / "digits.npz")
    assert ds.kind == "static" and ds.n_classes == 10
    assert ds.x_train.shape[1:] == (64,) and ds.x_train.dtype == np.float32
    assert len(ds.y_train) + len(ds.y_test) == 1797
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    # stratified: every class in the test split
    assert set(ds.y_test) == set(range(10))


def test_randman_is_spiking_and_classes_differ_only_in_timing(data_dir):
    ds = datasets.load(data_dir / "randman.npz")
    assert ds.kind == "spikes" and ds.n_steps == 20 and ds.n_features == 20
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    assert set(np.unique(x)) <= {0, 1}
    # every input neuron fires exactly once per sample, so spike counts carry no class information
    assert (x.sum(axis=1) == 1).all()
    mean_time = [(x[y == c] * np.arange(20)[None, :, None]).sum(axis=1).mean(axis=0) for c in range(3)]
    assert np.abs(mean_time[0] - mean_time[1]).max() > 1.0  # ...but spike times do


def test_same_seed_same_bytes_and_checksum_detects_corruption(tmp_path):
    a = datasets.prepare("randman", tmp_path / "a.npz", options={"samples_per_class": 10, "seed": 3}, test_fraction=0.2)
    b = datasets.prepare("randman", tmp_path / "b.npz", options={"samples_per_class": 10, "seed": 3}, test_fraction=0.2)
    assert a["sha256"] == b["sha256"]
    ds = datasets.load(tmp_path / "a.npz")
    ds.x_train[0, 0, 0] ^= 1
    meta = ds.metadata()
    assert meta["sha256"] != a["sha256"]
    bad = tmp_path / "bad.npz"
    with bad.open("wb") as fh:
        np.savez(fh, x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test,
                 meta=np.array(__import__("json").dumps(a)))
    with pytest.raises(ValueError, match="checksum"):
        datasets.load(bad)


def test_unknown_dataset_names_known_ones():
    with pytest.raises(KeyError, match="digits"):
        datasets.get("imagenet")
