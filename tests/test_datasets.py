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


#: The option names and defaults as the config schema had them before they moved into the
#: dataset classes (dataset_options.<name>); moving them must change neither.
DOWNLOAD_DEFAULTS = {"url": None, "checksums": {}, "max_train": None, "max_test": None, "seed": 0}
OPTION_DEFAULTS = {
    "randman": {"n_classes": 5, "n_inputs": 40, "n_steps": 50, "samples_per_class": 200, "dim_manifold": 1, "alpha": 2.0, "seed": 42},
    "mnist": DOWNLOAD_DEFAULTS,
    "fashion_mnist": DOWNLOAD_DEFAULTS,
    "cifar10": DOWNLOAD_DEFAULTS,
    "shd": DOWNLOAD_DEFAULTS | {"n_bins": 100, "t_max": 1.0, "channel_pool": 1},
    "nmnist": DOWNLOAD_DEFAULTS | {"n_bins": 10, "window_ms": 300, "downsample": 2},
    "dvs_gesture": DOWNLOAD_DEFAULTS | {"n_bins": 20, "window_ms": 1500, "downsample": 4},
}


def test_option_schemas_come_from_the_dataset_classes():
    import jsonschema

    schemas = datasets.option_schemas()
    assert set(schemas) == set(OPTION_DEFAULTS)  # digits has no options
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object" and schema["additionalProperties"] is False and schema["default"] == {}
        assert schema["description"]
        assert {k: v["default"] for k, v in schema["properties"].items()} == OPTION_DEFAULTS[name], name
        assert all(v["description"] for v in schema["properties"].values()), name
        assert schema == datasets.get(name).options_schema
    schemas["shd"]["properties"].clear()  # a copy: callers may edit it
    assert datasets.get("shd").options_schema["properties"]


def test_option_schema_accepts_and_rejects_values():
    import jsonschema

    shd = datasets.option_schemas()["shd"]
    jsonschema.validate({"n_bins": 20, "checksums": {"shd_train.h5.zip": "0" * 32}}, shd)
    for bad in ({"n_bins": 0}, {"bins": 3}, {"checksums": {"shd_train.h5.zip": "nothex"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, shd)


def test_importing_the_package_imports_no_dataset_library():
    """The Snakefile imports spikemark.datasets while it builds the DAG: it must stay cheap."""
    import subprocess
    import sys

    heavy = ("torch", "torchvision", "tonic", "h5py", "sklearn")
    code = f"import sys, spikemark.datasets as d; d.needs_download('shd'); print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_event_frames_through_tonic_transforms():
    """Events → binary raster: tonic's Downsample pools pixels, its ToFrame cuts [0, window)
    into n_bins; events at or after the window are dropped, out-of-order events still land
    in their bins, and an empty recording gives an all-zero raster of the same shape."""
    from spikemark.datasets.events import frame_shape, framer

    dtype = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])
    sensor = (6, 4, 2)  # tonic's (W, H, P)
    assert frame_shape(sensor, 2) == (2, 2, 3)
    raster = framer(sensor, downsample=2, n_bins=4, window_us=1000.0)
    events = np.array([(5, 3, 900, 1), (0, 0, 0, 0), (1, 1, 10, 0), (2, 1, 250, 1), (4, 0, 1000, 0)], dtype=dtype)
    frames = raster(events).reshape(4, 2, 2, 3)
    expected = np.zeros((4, 2, 2, 3), np.uint8)
    expected[0, 0, 0, 0] = 1  # (0, 0) and (1, 1) at t < 250 pool into one pixel: binary, not a count
    expected[1, 1, 0, 1] = 1  # x = 2, y = 1, t = 250 starts the second window
    expected[3, 1, 1, 2] = 1  # x = 5, y = 3, t = 900
    assert (frames == expected).all()  # the event at t = 1000 is outside the window
    assert (raster(events[:0]) == 0).all() and raster(events[:0]).shape == (4, 12)
