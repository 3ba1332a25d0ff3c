"""Real-dataset download and parsing, offline.

Every test here runs the REAL download code (torchvision's and tonic's HTTP download, MD5
checks, extraction and parsers; our cache and failure handling around them) against a
STAND-IN: a local ``http.server`` on 127.0.0.1 serving small files written in the published
formats (see ``stand_ins.py``). No internet is used; the files are not the real datasets, so
their own MD5s are passed as ``checksums`` overrides.
"""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

import stand_ins
from spikemark import datasets
from spikemark.datasets.download import DownloadUnavailable
from spikemark.errors import StageFailed


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """Stand-in mirror: ``<url>/<dataset>/<file>`` for every downloadable dataset."""
    root = tmp_path_factory.mktemp("mirror")
    truth = {
        "mnist": stand_ins.write_mnist(root / "mnist"),
        "fashion_mnist": stand_ins.write_mnist(root / "fashion_mnist", seed=1),
        "shd": stand_ins.write_shd(root / "shd"),
        "nmnist": stand_ins.write_nmnist(root / "nmnist"),
    }
    inside = {"cifar10": stand_ins.write_cifar10(root / "cifar10")}
    stand_ins.write_dvs_gesture(root / "dvs_gesture")
    with stand_ins.StandInServer(root) as server:
        yield types.SimpleNamespace(url=server.url, root=root, truth=truth, inside=inside)


def own_checksums(mirror, name: str) -> dict[str, str]:
    """The stand-in files' MD5s (the published ones belong to the real files), and those of
    the files inside an archive where the library checks them too (CIFAR-10's batches)."""
    served = {f.filename: stand_ins.md5(mirror.root / name / f.filename) for f in datasets.get(name).files}
    return served | mirror.inside.get(name, {})


def build(mirror, name, tmp_path, **options):
    opts = {"checksums": own_checksums(mirror, name), **options}
    meta = datasets.prepare(name, tmp_path / f"{name}.npz", options=opts, test_fraction=0.25,
                            data={"cache_dir": str(tmp_path / "cache"), "mirror": mirror.url})
    return meta, datasets.load(tmp_path / f"{name}.npz")


def test_published_files_are_the_libraries_own():
    """The files and MD5s come from torchvision's and tonic's dataset classes; a few of the
    published values are checked here, so a library release that changed them shows up."""
    files = {n: {f.filename: f.checksum for f in datasets.get(n).files} for n in ("mnist", "cifar10", "shd", "nmnist", "dvs_gesture")}
    assert files["mnist"]["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert files["cifar10"]["cifar-10-python.tar.gz"] == "c58f30108f718f92721af3b95e74349a"
    assert files["shd"]["shd_train.h5.zip"] == "f3252aeb598ac776c1b526422d90eecb"
    assert files["nmnist"]["test.zip"] == "69ca8762b2fe404d9b9bad1103e97832"
    assert files["dvs_gesture"]["ibmGestureTrain.tar.gz"] == "3a8f0d4120a166bac7591f77409cb105"
    for name in ("mnist", "fashion_mnist", "cifar10", "shd", "nmnist", "dvs_gesture"):
        assert all(len(f.checksum) == 32 and f.url.startswith("http") for f in datasets.get(name).files)
    from tonic.datasets import DVSGesture
    from torchvision.datasets import FashionMNIST

    assert [(f.filename, f.checksum) for f in datasets.get("fashion_mnist").files] == list(FashionMNIST.resources)
    assert {f.url for f in datasets.get("dvs_gesture").files} == {DVSGesture.train_url, DVSGesture.test_url}


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_images_download_and_parse(mirror, tmp_path, name):
    meta, ds = build(mirror, name, tmp_path)
    assert ds.kind == "static" and ds.n_classes == 10 and meta["version"].endswith("-v1")
    assert ds.x_train.shape == (30, 1, 28, 28) and ds.x_test.shape == (12, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    # labels line up with their images (pixel (0, 0) encodes the label)
    assert np.allclose(ds.x_train[:, 0, 0, 0] * 255, ds.y_train * 20)
    assert list(ds.y_test) == list(mirror.truth[name]["t10k"])
    # torchvision's own layout inside the dataset's cache folder
    library = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}[name]
    assert (tmp_path / "cache" / name / library / "raw" / "train-images-idx3-ubyte.gz").exists()


def test_canonical_file_holds_what_torchvision_reads(mirror, tmp_path):
    """The canonical MNIST file is torchvision's reading of the cached files, scaled to [0, 1]."""
    from torchvision.datasets import MNIST

    _, ds = build(mirror, "mnist", tmp_path)
    test_split = MNIST(str(tmp_path / "cache" / "mnist"), train=False)  # no download: from the cache
    assert np.array_equal(ds.y_test, test_split.targets.numpy())
    assert np.array_equal(np.round(ds.x_test[:, 0] * 255).astype(np.uint8), test_split.data.numpy())


def test_subset_and_dataset_url_option(mirror, tmp_path):
    """``url`` points one dataset at its own folder; ``max_train`` / ``max_test`` trim it."""
    meta, ds = build(mirror, "mnist", tmp_path, url=f"{mirror.url}/mnist", max_train=7, max_test=5)
    assert (meta["n_train"], meta["n_test"]) == (7, 5)
    assert np.allclose(ds.x_train[:, 0, 0, 0] * 255, ds.y_train * 20)


def test_cifar10_pickle_batches(mirror, tmp_path):
    _, ds = build(mirror, "cifar10", tmp_path)
    assert ds.x_train.shape == (30, 3, 32, 32) and ds.x_test.shape == (6, 3, 32, 32)
    assert ds.class_names[0] == "airplane" and ds.n_classes == 10
    assert np.allclose(ds.x_train[:, 0, 0, 0] * 255, ds.y_train * 20)  # red channel of pixel (0, 0)


def test_cifar10_batches_are_checked_by_torchvision(mirror, tmp_path):
    """torchvision verifies each extracted batch against its own MD5: without the stand-in's
    batch checksums it rejects the (stand-in) batches even though the archive matched."""
    archive_only = {"cifar-10-python.tar.gz": own_checksums(mirror, "cifar10")["cifar-10-python.tar.gz"]}
    with pytest.raises(RuntimeError, match="corrupted"):
        datasets.prepare("cifar10", tmp_path / "c.npz", options={"checksums": archive_only}, test_fraction=0.25,
                         data={"cache_dir": str(tmp_path / "cache"), "mirror": mirror.url})


def test_shd_hdf5_binned_into_rasters(mirror, tmp_path):
    _, ds = build(mirror, "shd", tmp_path, n_bins=20, t_max=1.0, channel_pool=7)
    assert ds.kind == "spikes" and ds.n_classes == 20
    assert ds.x_train.shape == (16, 20, 100) and ds.x_train.dtype == np.uint8
    assert set(np.unique(ds.x_train)) <= {0, 1}
    times, units, label = mirror.truth["shd"]["train"][3]
    keep = times.astype(np.float64) < 1.0
    expected = np.zeros((20, 100), np.uint8)
    expected[(times[keep].astype(np.float64) * 20).astype(int), units[keep] // 7] = 1
    assert (ds.x_train[3] == expected).all() and ds.y_train[3] == label


def test_nmnist_atis_events_to_frames(mirror, tmp_path):
    _, ds = build(mirror, "nmnist", tmp_path, n_bins=10, window_ms=300, downsample=2)
    assert ds.channel_shape == (2, 17, 17) and ds.x_train.shape == (20, 10, 2 * 17 * 17)
    frames = ds.x_train.reshape(20, 10, 2, 17, 17)
    for i, d in enumerate(ds.y_train):
        # the marker event of digit d: x = 2d, y = d, polarity d % 2, t = 20d ms → bin (20d ms)/(30 ms)
        assert frames[i, (d * 20) // 30, d % 2, d // 2, d] == 1
    assert sorted(ds.y_test) == sorted(d for _, d, _ in mirror.truth["nmnist"]["Test"])


def test_dvs_gesture_npy_events_to_frames(mirror, tmp_path):
    _, ds = build(mirror, "dvs_gesture", tmp_path, n_bins=15, window_ms=1500, downsample=4, max_test=5)
    assert ds.channel_shape == (2, 32, 32) and ds.x_train.shape == (22, 15, 2048) and ds.x_test.shape == (5, 15, 2048)
    assert ds.n_classes == 11 and sorted(set(ds.y_train)) == list(range(11))
    frames = ds.x_train.reshape(22, 15, 2, 32, 32)
    for i, c in enumerate(ds.y_train):
        assert frames[i, c, 1, (5 * c) // 4, (10 * c) // 4] == 1  # t = 100c ms → bin c


@pytest.mark.parametrize(
    "name, archive, library",
    [("mnist", "train-images-idx3-ubyte.gz", "MNIST/raw"), ("nmnist", "train.zip", "NMNIST"), ("cifar10", "cifar-10-python.tar.gz", ".")],
)
def test_checksum_mismatch_is_rejected_with_a_clear_error(mirror, tmp_path, name, archive, library):
    """The published MD5 is the real file's; the stand-in does not match it. torchvision's or
    tonic's check rejects it; we say which file, and keep it as .corrupt."""
    published = next(f.checksum for f in datasets.get(name).files if f.filename == archive)
    with pytest.raises(datasets.ChecksumMismatch, match=rf"{archive}: md5 checksum .* does not match the published {published}"):
        datasets.prepare(name, tmp_path / "m.npz", options={}, test_fraction=0.25,
                         data={"cache_dir": str(tmp_path / "cache"), "mirror": mirror.url})
    folder = tmp_path / "cache" / name / library
    assert not (folder / archive).exists()  # never left where it looks valid
    assert (folder / f"{archive}.corrupt").read_bytes() == (mirror.root / name / archive).read_bytes()


def test_corrupted_cache_file_is_downloaded_again(mirror, tmp_path):
    """A cached archive whose MD5 differs is removed with what was extracted from it, and the
    library downloads it again (torchvision alone would trust the extracted file)."""
    raw = tmp_path / "cache" / "mnist" / "MNIST" / "raw"
    _, first = build(mirror, "mnist", tmp_path)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"garbage")
    _, second = build(mirror, "mnist", tmp_path)
    assert (second.y_test == first.y_test).all()
    assert stand_ins.md5(raw / "t10k-labels-idx1-ubyte.gz") == stand_ins.md5(mirror.root / "mnist" / "t10k-labels-idx1-ubyte.gz")


def test_prepare_finds_the_cache_without_network(mirror, tmp_path):
    """What `snakemake download` fetched on a login node, prepare finds on a compute node."""
    opts = {"checksums": own_checksums(mirror, "cifar10")}
    record = datasets.download_stage(str(tmp_path / "manifest.json"), name="cifar10", options=opts,
                                     source={"cache_dir": str(tmp_path / "cache"), "mirror": mirror.url})
    assert set(record["files"]) == {"cifar-10-python.tar.gz"}
    assert json.loads((tmp_path / "manifest.json").read_text())["files"]["cifar-10-python.tar.gz"]["bytes"] > 0
    meta = datasets.prepare("cifar10", tmp_path / "c.npz", options=opts, test_fraction=0.25,
                            data={"cache_dir": str(tmp_path / "cache"), "mirror": stand_ins.closed_port_url()})
    assert meta["n_train"] == 30


def test_unreachable_mirror_means_skipped_with_the_reason(tmp_path):
    dead = stand_ins.closed_port_url()
    with pytest.raises(StageFailed) as err:
        datasets.prepare("shd", tmp_path / "s.npz", options={}, test_fraction=0.25,
                         data={"cache_dir": str(tmp_path / "cache"), "mirror": dead})
    assert err.value.status == "skipped"
    assert f"cannot download {dead}/shd/shd_train.h5.zip" in err.value.reason
    assert "snakemake download" in err.value.reason and "dataset_options.shd.url" in err.value.reason
    assert not [p for p in (tmp_path / "cache" / "shd").rglob("*") if p.is_file()]  # no partial file left behind


@pytest.mark.parametrize("name, first_file", [("mnist", "train-images-idx3-ubyte.gz"), ("cifar10", "cifar-10-python.tar.gz")])
def test_unreachable_server_through_torchvision_means_skipped(tmp_path, name, first_file):
    """torchvision's MNIST folds a mirror's error into its own message; the reason still names
    the URL and the server's answer on one line."""
    dead = stand_ins.closed_port_url()
    with pytest.raises(StageFailed) as err:
        datasets.prepare(name, tmp_path / "m.npz", options={"url": f"{dead}/files"}, test_fraction=0.25,
                         data={"cache_dir": str(tmp_path / "cache")})
    assert err.value.status == "skipped" and "\n" not in err.value.reason
    assert f"cannot download {dead}/files/{first_file}: " in err.value.reason
    assert "refused" in err.value.reason.lower()


def test_download_target_fails_loudly_when_offline(tmp_path):
    with pytest.raises(DownloadUnavailable):
        datasets.download_stage(str(tmp_path / "m.json"), name="mnist", options={},
                                source={"cache_dir": str(tmp_path), "mirror": stand_ins.closed_port_url()})


def test_skipped_dataset_propagates_through_the_stages(tmp_path):
    """Stage level: prepare_dataset's tombstone makes train skip with the same reason."""
    from spikemark.pipeline import run_stage
    from spikemark.train import train_ann

    dead = stand_ins.closed_port_url()

    def job(rule, inputs, outputs, params):
        return types.SimpleNamespace(rule=rule, input=inputs, output=outputs, params=params,
                                     log=[str(tmp_path / f"{rule}.log")], threads=1)

    data, meta = tmp_path / "fashion_mnist.npz", tmp_path / "fashion_mnist.json"
    run_stage(job("prepare_dataset", {}, {"data": str(data), "metadata": str(meta)},
                  {"name": "fashion_mnist", "options": {}, "test_fraction": 0.25,
                   "source": {"cache_dir": str(tmp_path / "cache"), "mirror": dead}}),
              datasets.prepare_stage)
    assert json.loads(meta.read_text())["status"] == "skipped"
    with pytest.raises(StageFailed, match="cannot download"):
        datasets.load(data)
    model = tmp_path / "ann.pt"
    from conftest import TRAINING

    run_stage(job("train_ann", {"dataset": str(data)}, {"model": str(model)},
                  {"model_cfg": {"arch": "mlp", "hidden": [8]}, "training": TRAINING, "seed": 0}), train_ann)
    from spikemark.models import load_checkpoint

    with pytest.raises(StageFailed) as err:
        load_checkpoint(model)
    assert err.value.status == "skipped" and "cannot download" in err.value.reason
