"""Architectures beyond the MLP: the CNN (images, event frames) and the recurrent SNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikemark import datasets
from spikemark.convert import convert_ann2snn
from spikemark.errors import StageFailed
from spikemark.models import ARCHITECTURES, load_checkpoint
from spikemark.prune import prune_model
from spikemark.train import train_ann, train_snn

from conftest import TRAINING

CNN = {"arch": "cnn", "hidden": [32], "channels": [8, 16]}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small convolutions are ~100x slower with 2 threads on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cnn_digits(data_dir, tmp_path_factory, one_thread):
    root = tmp_path_factory.mktemp("cnn")
    data = str(data_dir / "digits.npz")
    paths = {m: str(root / f"{m}.pt") for m in ("ann", "ann2snn", "surrogate")}
    acc = {"ann": train_ann(data, paths["ann"], model_cfg=CNN, training={**TRAINING, "epochs": 8, "lr": 0.01}, seed=0)}
    acc["ann2snn"] = convert_ann2snn(data, paths["ann"], paths["ann2snn"], normalisation="max", timesteps=[8, 64], seed=0)
    # one conv stage: two poolings leave 2x2 maps of an 8x8 digit, too little for LIF to learn in 3 epochs
    acc["surrogate"] = train_snn(data, paths["surrogate"], model_cfg={**CNN, "channels": [8]},
                                 training={**TRAINING, "snn_epochs": 3}, seed=0)
    return paths, acc


def test_cnn_is_convolutional_on_square_images(cnn_digits):
    paths, acc = cnn_digits
    ann = load_checkpoint(paths["ann"])
    assert ann.meta["input_shape"] == [1, 8, 8]
    assert sum(isinstance(m, torch.nn.Conv2d) for m in ann.module.modules()) == 2
    assert acc["ann"] > 0.7 and acc["surrogate"] > 0.5


def test_converted_cnn_follows_its_ann(cnn_digits):
    """Scales of conv layers fold into thresholds and weights like the MLP's do."""
    paths, acc = cnn_digits
    snn = load_checkpoint(paths["ann2snn"])
    assert len(snn.meta["thresholds"]) == 3  # two conv layers and one hidden Linear
    assert acc["ann2snn"][64] >= acc["ann"] - 0.03
    assert acc["ann2snn"][64] >= acc["ann2snn"][8] - 0.02


def test_pruning_reaches_conv_weights(cnn_digits, data_dir, tmp_path):
    paths, _ = cnn_digits
    out = tmp_path / "p.pt"
    achieved = prune_model(str(data_dir / "digits.npz"), paths["ann2snn"], str(out), sparsity=0.5,
                           method="global_magnitude", finetune_epochs=0, training=TRAINING, seed=0)
    assert achieved == pytest.approx(0.5, abs=0.01)
    convs = [m for m in load_checkpoint(out).module.modules() if isinstance(m, torch.nn.Conv2d)]
    assert any(float((c.weight == 0).float().mean()) > 0 for c in convs)


def event_frames(tmp_path, n=160, steps=4, shape=(2, 6, 6)):
    """A tiny event-frame dataset: class c lights quadrant c of polarity c % 2."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 4
    x = (rng.random((n, steps, *shape)) < 0.05).astype(np.uint8)
    for i, c in enumerate(y):
        x[i, :, c % 2, (c // 2) * 3 : (c // 2) * 3 + 3, (c % 2) * 3 : (c % 2) * 3 + 3] = 1
    x = x.reshape(n, steps, -1)
    ds = datasets.Dataset("frames", "t", "spikes", list("abcd"), x[:120], y[:120], x[120:], y[120:], channel_shape=shape)
    datasets.save(ds, tmp_path / "frames.npz")
    return str(tmp_path / "frames.npz")


def test_cnn_on_event_frames_per_step_and_stacked(tmp_path):
    data = event_frames(tmp_path)
    assert datasets.load(data).channel_shape == (2, 6, 6)
    cfg = {"arch": "cnn", "hidden": [8], "channels": [4]}
    train_ann(data, str(tmp_path / "ann.pt"), model_cfg=cfg, training={**TRAINING, "epochs": 15, "lr": 0.02}, seed=0)
    train_snn(data, str(tmp_path / "snn.pt"), model_cfg=cfg, training={**TRAINING, "snn_epochs": 10, "snn_lr": 0.05}, seed=0)
    ann, snn = load_checkpoint(tmp_path / "ann.pt"), load_checkpoint(tmp_path / "snn.pt")
    assert ann.meta["input_shape"] == [8, 6, 6]  # time bins stacked as channels
    assert snn.meta["input_shape"] == [2, 6, 6]  # one frame per time step
    assert ann.meta["test_accuracy"] > 0.7 and snn.meta["test_accuracy"] > 0.6  # chance: 0.25


def test_recurrent_snn_trains_and_has_no_ann_form(tmp_path):
    data = event_frames(tmp_path)  # used as plain [time, channel] rasters: rsnn ignores channel_shape
    cfg = {"arch": "rsnn", "hidden": [24]}
    acc = train_snn(data, str(tmp_path / "r.pt"), model_cfg=cfg, training={**TRAINING, "snn_epochs": 5, "snn_lr": 0.02}, seed=0)
    model = load_checkpoint(tmp_path / "r.pt")
    recurrent = [m for m in model.module.modules() if type(m).__name__ == "RecurrentLIF"]
    assert len(recurrent) == 1 and recurrent[0].rec.weight.shape == (24, 24)
    assert acc > 0.6  # chance: 0.25
    with pytest.raises(StageFailed, match="rsnn has no ann form") as err:
        train_ann(data, str(tmp_path / "a.pt"), model_cfg=cfg, training=TRAINING, seed=0)
    assert err.value.status == "skipped"


def test_every_architecture_is_in_the_schema():
    from spikemark.config import load_schema

    schema = load_schema()
    assert set(schema["properties"]["models"]["additionalProperties"]["properties"]["arch"]["enum"]) == set(ARCHITECTURES)
    assert set(schema["properties"]["datasets"]["items"]["enum"]) == set(datasets.REGISTRY)
