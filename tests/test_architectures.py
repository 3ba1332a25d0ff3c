"""Architectures beyond the MLP: the CNN (images, event frames) and the recurrent SNN,
and the CNN deployed on snnTorch and Norse."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikemark import datasets, frameworks
from spikemark.convert import convert_ann2snn
from spikemark.deploy import scores_on
from spikemark.errors import StageFailed
from spikemark.frameworks.stepped import export_nir
from spikemark.models import ARCHITECTURES, load_checkpoint
from spikemark.prune import prune_model
from spikemark.train import to_tensors, train_ann, train_snn

from conftest import TRAINING, measure_on_spikingjelly_and

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


def _spike_rates(source, x, y, t) -> list[float]:
    """Mean firing rate of each SpikingJelly neuron layer of ``source`` on ``x``."""
    from spikingjelly.activation_based import neuron

    rates: dict[str, list[float]] = {}
    hooks = [m.register_forward_hook(lambda mod, i, out, n=n: rates.setdefault(n, []).append(float(out.float().mean())))
             for n, m in source.module.named_modules() if isinstance(m, neuron.BaseNode)]
    try:
        scores_on(source, x, y, t)
    finally:
        for h in hooks:
            h.remove()
    return [sum(v) / len(v) for v in rates.values()]


@pytest.mark.parametrize("framework,method", [("snntorch", "ann2snn"), ("snntorch", "surrogate")])
def test_deployed_cnn_scores_equal_source(framework, method, cnn_digits, data_dir):
    """Same input → same scores and predictions, as for the MLP (test_frameworks.py).

    The converted CNN uses the same tolerance as the converted MLP: snnTorch's
    ``Leaky(beta=1, subtract, reset_delay=True)`` steps SpikingJelly's soft-reset IF and
    differs only on exact threshold ties (``U > θ`` vs ``U ≥ θ``, rounding order), which
    these inputs do not hit. The surrogate CNN goes through NIR (Conv2d, AvgPool2d,
    Flatten nodes) with batches of 128, so a Flatten that swallowed the batch would fail.
    """
    paths, _ = cnn_digits
    source = load_checkpoint(paths[method])
    deployed = frameworks.get(framework).load(paths[method], "cpu")
    assert any(isinstance(m, torch.nn.Conv2d) for m in deployed.module.modules())
    x, y = to_tensors(datasets.load(str(data_dir / "digits.npz")), "test")
    x, y = x[:128], y[:128]
    t = 16
    rates = _spike_rates(source, x, y, t)
    assert len(rates) == (3 if method == "ann2snn" else 2) and all(0.01 < r < 0.99 for r in rates), rates
    ref, out = scores_on(source, x, y, t), scores_on(deployed, x, y, t)
    assert ref.abs().sum() > 0
    agreement = float((ref.argmax(1) == out.argmax(1)).float().mean())
    assert agreement >= 0.99
    assert torch.allclose(ref, out, atol=1e-4, rtol=1e-4), float((ref - out).abs().max())


def test_surrogate_cnn_exports_shaped_nir_nodes(cnn_digits):
    import nir

    graph = export_nir(load_checkpoint(cnn_digits[0]["surrogate"]))
    kinds = [type(graph.nodes[b]).__name__ for _, b in graph.edges]
    assert kinds == ["Conv2d", "AvgPool2d", "LIF", "Flatten", "Affine", "LIF", "Affine", "Output"]
    pool = next(n for n in graph.nodes.values() if isinstance(n, nir.AvgPool2d))
    assert list(pool.kernel_size) == [2, 2] and list(pool.stride) == [2, 2]  # NIR's (height, width)
    flatten = next(n for n in graph.nodes.values() if isinstance(n, nir.Flatten))
    assert list(flatten.input_type["input"]) == [8, 4, 4] and flatten.start_dim == 0  # NIR dims have no batch


def test_norse_skips_cnns_naming_the_missing_node(cnn_digits):
    """Norse 1.1's from_nir has no nir.AvgPool2d (only SumPool2d) and would run the net
    without the layer; the cell is skipped instead. Converted CNNs: soft reset, as ever."""
    paths, _ = cnn_digits
    norse = frameworks.get("norse")
    with pytest.raises(StageFailed) as info:
        norse.load(paths["surrogate"], "cpu")
    assert info.value.status == "skipped"
    assert "nir.AvgPool2d" in info.value.reason and "norse" in info.value.reason
    with pytest.raises(StageFailed) as info:
        norse.load(paths["ann2snn"], "cpu")
    assert info.value.status == "skipped" and "soft" in info.value.reason


def test_snntorch_skips_a_nir_node_it_cannot_import():
    import nir
    import numpy as np

    from spikemark.frameworks.snntorch_snn import import_nir

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([3])), "thr": nir.Threshold(np.ones(3)), "output": nir.Output(np.array([3]))},
        edges=[("input", "thr"), ("thr", "output")],
    )
    with pytest.raises(StageFailed) as info:
        import_nir(graph)
    assert info.value.status == "skipped" and "nir.Threshold" in info.value.reason


@pytest.mark.parametrize("method", ["ann2snn", "surrogate"])
def test_measure_stage_runs_on_cnn_deployed_on_snntorch(method, cnn_digits, data_dir, tmp_path):
    """Metric code on the deployed CNN: same accuracy and synaptic operations as on SpikingJelly."""
    ref, out = measure_on_spikingjelly_and("snntorch", str(data_dir / "digits.npz"), cnn_digits[0][method], method,
                                           tmp_path)
    assert out.loc["deploy_agreement", "value"] == 1.0
    for metric in ("accuracy", "effective_acs", "effective_macs", "dense_synops"):
        assert float(out.loc[metric, "value"]) == pytest.approx(float(ref.loc[metric, "value"]), rel=1e-3), metric
    assert float(out.loc["effective_acs", "value"]) > 0


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
