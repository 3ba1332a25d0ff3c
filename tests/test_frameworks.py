"""Deployment targets: snnTorch and Norse through NIR (and a direct mapping), and the
SpikingJelly backend variants — equivalence with the source model on the same input,
with the real libraries."""

from __future__ import annotations

import json

import pytest
import torch

from spikemark import datasets, frameworks
from spikemark.deploy import deploy, scores_on
from spikemark.errors import StageFailed
from spikemark.frameworks.stepped import export_nir
from spikemark.models import load_checkpoint
from spikemark.prune import prune_model
from spikemark.train import to_tensors

from conftest import TRAINING, measure_on_spikingjelly_and

#: framework × model kind pairs that must reproduce the source model.
SUPPORTED = [("snntorch", "ann2snn"), ("snntorch", "surrogate"), ("norse", "surrogate"), ("spikingjelly", "ann2snn"),
             ("spikingjelly", "surrogate")]


def _scaled_up(path, tmp_path, factor=3.0):
    """A copy of a model with larger weights, so every layer spikes a lot (harder test)."""
    blob = torch.load(path, weights_only=True)
    blob["state_dict"] = {k: v * factor if k.endswith("weight") else v for k, v in blob["state_dict"].items()}
    out = tmp_path / f"scaled_{path.name}"
    torch.save(blob, out)
    return out


def test_registry_lists_every_target():
    assert {"spikingjelly", "spikingjelly-cuda", "spikingjelly-triton", "snntorch", "norse"} <= set(frameworks.FRAMEWORKS)
    assert frameworks.for_method("surrogate", ["snntorch", "norse"]) == ["snntorch", "norse"]


def test_surrogate_snn_exports_to_nir_with_its_readout(digits_models):
    import nir

    graph = export_nir(load_checkpoint(digits_models["surrogate"]))
    kinds = [type(graph.nodes[b]).__name__ for _, b in graph.edges]
    assert kinds == ["Affine", "LIF", "Affine", "Output"]  # Linear → LIF → non-spiking readout
    lif = next(n for n in graph.nodes.values() if isinstance(n, nir.LIF))
    assert float(lif.tau.flat[0]) == pytest.approx(2e-4)  # tau=2 steps at dt=1e-4
    assert float(lif.v_reset.flat[0]) == 0.0  # hard reset survives the export


@pytest.mark.parametrize("framework,method", SUPPORTED)
def test_deployed_scores_equal_source(framework, method, digits_models, data_dir, tmp_path):
    """Same input → same scores (within float tolerance) and same predictions."""
    path = _scaled_up(digits_models[method], tmp_path) if method == "surrogate" else digits_models[method]
    source = load_checkpoint(path)
    deployed = frameworks.get(framework).load(str(path), "cpu")
    x, y = to_tensors(datasets.load(str(data_dir / "digits.npz")), "test")
    x, y = x[:128], y[:128]
    t = 16
    ref, out = scores_on(source, x, y, t), scores_on(deployed, x, y, t)
    assert ref.abs().sum() > 0
    agreement = float((ref.argmax(1) == out.argmax(1)).float().mean())
    assert agreement >= 0.99
    assert torch.allclose(ref, out, atol=1e-4, rtol=1e-4), float((ref - out).abs().max())


def test_snntorch_runs_spike_rasters_bin_by_bin(data_dir, tmp_path):
    from spikemark.train import train_snn

    path = tmp_path / "randman_snn.pt"
    train_snn(str(data_dir / "randman.npz"), str(path), model_cfg={"arch": "mlp", "hidden": [16]}, training=TRAINING, seed=0)
    x, y = to_tensors(datasets.load(str(data_dir / "randman.npz")), "test")
    source = load_checkpoint(path)
    for name in ("snntorch", "norse"):
        deployed = frameworks.get(name).load(str(path), "cpu")
        assert torch.allclose(scores_on(source, x, y, None), scores_on(deployed, x, y, None), atol=1e-4)


def test_norse_skips_converted_snns_with_the_reason(digits_models):
    norse = frameworks.get("norse")
    assert "soft" in norse.unsupported_reason("rate_snn")
    with pytest.raises(StageFailed) as info:
        norse.load(str(digits_models["ann2snn"]), "cpu")
    assert info.value.status == "skipped"


@pytest.mark.parametrize("backend", ["cuda", "triton"])
def test_spikingjelly_kernel_backends_skip_off_cuda(backend, digits_models):
    with pytest.raises(StageFailed) as info:
        frameworks.get(f"spikingjelly-{backend}").load(str(digits_models["surrogate"]), "cpu")
    assert info.value.status == "skipped" and "CUDA" in info.value.reason


def test_deploy_stage_records_agreement_for_nir_targets(digits_models, data_dir, tmp_path):
    pruned = tmp_path / "pruned.pt"
    prune_model(str(data_dir / "digits.npz"), str(digits_models["surrogate"]), str(pruned), sparsity=0.5,
                method="global_magnitude", finetune_epochs=0, training=TRAINING, seed=0)
    for name in ("snntorch", "norse"):
        record = tmp_path / f"{name}.json"
        result = deploy(str(data_dir / "digits.npz"), str(pruned), str(record), framework=name, hardware_name="cpu",
                        conversion_timesteps=[4], agreement_threshold=0.99)
        assert result["status"] == "ok", result
        assert result["agreement"] == 1.0 and result["max_abs_diff"] < 1e-4
        assert json.loads(record.read_text())["status"] == "ok"


def test_deploy_stage_skips_norse_for_converted_snns(digits_models, data_dir, tmp_path):
    result = deploy(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(tmp_path / "r.json"),
                    framework="norse", hardware_name="cpu", conversion_timesteps=[4], agreement_threshold=0.99)
    assert result["status"] == "skipped" and "soft" in result["reason"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", list(frameworks.snn_frameworks()))
def test_targets_agree_on_cuda(name, digits_models, data_dir):
    from spikemark.frameworks.spikingjelly_snn import select_backend

    path = digits_models["surrogate"]
    try:
        deployed = frameworks.get(name).load(str(path), "cuda")
    except StageFailed as exc:
        pytest.skip(exc.reason)
    x, y = to_tensors(datasets.load(str(data_dir / "digits.npz")), "test")
    out = scores_on(deployed, x.cuda(), y.cuda(), 8)
    select_backend("torch")
    ref = scores_on(load_checkpoint(path), x, y, 8)
    assert float((ref.argmax(1) == out.argmax(1)).float().mean()) >= 0.99


@pytest.mark.parametrize("framework,method", [("snntorch", "ann2snn"), ("snntorch", "surrogate"), ("norse", "surrogate")])
def test_measure_stage_runs_on_nir_targets(framework, method, digits_models, data_dir, tmp_path):
    """The measure stage gives the same accuracy and synaptic operations as on SpikingJelly."""
    ref, out = measure_on_spikingjelly_and(framework, str(data_dir / "digits.npz"), str(digits_models[method]), method,
                                           tmp_path)
    assert out.loc["deploy_agreement", "value"] == 1.0
    # Activation sparsity and membrane updates count the target's own neurons (its registered
    # neuron types): the same spikes and potentials give the same counts.
    for metric in ("accuracy", "effective_acs", "effective_macs", "dense_synops", "activation_sparsity",
                   "membrane_updates"):
        assert float(out.loc[metric, "value"]) == pytest.approx(float(ref.loc[metric, "value"]), rel=1e-3), metric
    assert float(out.loc["membrane_updates", "value"]) > 0 and 0 < float(out.loc["activation_sparsity", "value"]) < 1
