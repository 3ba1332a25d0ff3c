"""Every ML stage function on tiny real data (no mocks)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from spikemark import deploy as deploy_stage
from spikemark.measure.cell import measure
from spikemark.models import load_checkpoint
from spikemark.prune import prune_model, weight_sparsity
from spikemark.train import accuracy, train_ann, to_tensors
from spikemark import datasets

from conftest import TRAINING

MEASURE = {"warmup": 1, "repeats": 3, "batch_size": 16, "threads": 1,
           "energy": {"meters": ["rapl", "nvml", "slurm"], "estimates": ["estimate-ops"], "tdp_watts": None,
                      "ops_preset": "45nm-fp32", "idle_seconds": 0.0}}


def test_checkpoints_load_with_weights_only(digits_models):
    for method, path in digits_models.items():
        blob = torch.load(path, weights_only=True)
        assert blob["meta"]["method"] == method
        assert load_checkpoint(path).kind == {"ann": "ann", "ann2snn": "rate_snn", "surrogate": "spiking_snn"}[method]


def test_ann_learns_digits(digits_models, data_dir):
    meta = torch.load(digits_models["ann"], weights_only=True)["meta"]
    assert meta["test_accuracy"] > 0.8  # 3 epochs of a 64-32-10 MLP; chance is 0.1


def test_converted_snn_approaches_ann_with_more_timesteps(digits_models):
    ann = torch.load(digits_models["ann"], weights_only=True)["meta"]["test_accuracy"]
    by_t = torch.load(digits_models["ann2snn"], weights_only=True)["meta"]["test_accuracy_by_t"]
    assert abs(by_t["32"] - ann) <= 0.03
    assert by_t["32"] >= by_t["4"] - 0.01


def test_folded_thresholds_replace_voltage_scalers(digits_models):
    snn = load_checkpoint(digits_models["ann2snn"])
    names = {type(m).__name__ for m in snn.module.modules()}
    assert "VoltageScaler" not in names and "IFNode" in names
    assert all(t > 0 for t in snn.meta["thresholds"])


def test_surrogate_snn_beats_chance(digits_models):
    assert torch.load(digits_models["surrogate"], weights_only=True)["meta"]["test_accuracy"] > 0.3


def test_training_is_deterministic(data_dir, tmp_path):
    paths = [tmp_path / "a.pt", tmp_path / "b.pt"]
    accs = [train_ann(str(data_dir / "digits.npz"), str(p), model_cfg={"hidden": [16]}, training=TRAINING, seed=1) for p in paths]
    a, b = (torch.load(p, weights_only=True)["state_dict"] for p in paths)
    assert accs[0] == accs[1]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("method", ["ann", "ann2snn", "surrogate"])
def test_prune_reaches_sparsity_with_permanent_mask(digits_models, data_dir, tmp_path, method):
    out = tmp_path / "pruned.pt"
    achieved = prune_model(str(data_dir / "digits.npz"), str(digits_models[method]), str(out), sparsity=0.5,
                           method="global_magnitude", finetune_epochs=0, training=TRAINING, seed=0)
    assert abs(achieved - 0.5) < 0.01
    state = torch.load(out, weights_only=True)["state_dict"]
    assert not any(k.endswith("weight_orig") or k.endswith("weight_mask") for k in state)
    assert abs(weight_sparsity(load_checkpoint(out).module) - 0.5) < 0.01


def test_finetuning_keeps_pruned_weights_at_zero(digits_models, data_dir, tmp_path):
    out = tmp_path / "ft.pt"
    prune_model(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(out), sparsity=0.9,
                method="global_magnitude", finetune_epochs=1, training=TRAINING, seed=0)
    assert weight_sparsity(load_checkpoint(out).module) >= 0.9 - 1e-3


def test_deploy_records_agreement_and_skips_missing_cuda(digits_models, data_dir, tmp_path):
    rec = deploy_stage.deploy(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(tmp_path / "d.json"),
                              framework="spikingjelly", hardware_name="cpu", conversion_timesteps=[4, 32], agreement_threshold=0.99)
    assert rec["status"] == "ok" and rec["agreement"] == 1.0 and rec["max_abs_diff"] == 0.0
    cuda = deploy_stage.deploy(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(tmp_path / "c.json"),
                               framework="spikingjelly", hardware_name="cuda", conversion_timesteps=[4, 32], agreement_threshold=0.99)
    if torch.cuda.is_available():
        assert cuda["status"] == "ok"
    else:
        assert cuda["status"] == "skipped" and "CUDA" in cuda["reason"]
    assert json.loads((tmp_path / "c.json").read_text())["status"] == cuda["status"]


def test_measure_writes_rows_with_intervals_for_every_timestep(digits_models, data_dir, tmp_path):
    dep = tmp_path / "d.json"
    deploy_stage.deploy(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(dep), framework="spikingjelly",
                        hardware_name="cpu", conversion_timesteps=[4, 32], agreement_threshold=0.99)
    out = tmp_path / "m.csv"
    coords = {"dataset": "digits", "method": "ann2snn", "sparsity": 0.0, "framework": "spikingjelly", "hardware": "cpu", "seed": 0}
    measure(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(dep), str(out), coords=coords,
            measure_cfg=MEASURE, conversion_timesteps=[4, 32])
    rows = pd.read_csv(out, keep_default_na=False)
    ok = rows[rows.status == "ok"].astype({"value": float})
    acc = ok[ok.metric == "accuracy"]
    assert sorted(acc.timesteps.astype(int)) == [4, 32]
    assert (acc.n == 450).all() and (acc.ci_low.astype(float) <= acc.value).all() and (acc.value <= acc.ci_high.astype(float)).all()
    lat = ok[ok.metric == "latency_batch1"]
    assert (lat.n == 3).all() and (lat.value > 0).all()
    # spike-fed layers of the (folded) converted SNN count as accumulates
    assert (ok[ok.metric == "effective_acs"].value > 0).all()
    assert set(ok[ok.metric == "effective_acs"].source) == {"folded-convention"}
    # every energy value says where it came from; what cannot be measured says why
    energy = rows[rows.metric == "energy_per_inference"]
    assert set(energy[energy.status == "ok"].source) >= {"estimate-ops"}
    assert (energy.status.isin(["ok", "unavailable"])).all()
    assert (energy[energy.status == "unavailable"].reason != "").all()
    assert set(rows.status) <= {"ok", "unavailable"}
    # accuracy at T=32 equals a direct evaluation of the model
    ds = datasets.load(data_dir / "digits.npz")
    direct = accuracy(load_checkpoint(digits_models["ann2snn"]), *to_tensors(ds, "test"), 32)
    assert acc[acc.timesteps.astype(int) == 32].value.iloc[0] == pytest.approx(direct)


def test_measure_turns_skipped_deployment_into_one_cell_row(digits_models, data_dir, tmp_path):
    dep = tmp_path / "d.json"
    dep.write_text(json.dumps({"status": "skipped", "reason": "no CUDA device on host x"}))
    out = tmp_path / "m.csv"
    coords = {"dataset": "digits", "method": "ann", "sparsity": 0.0, "framework": "torch", "hardware": "cuda", "seed": 0}
    measure(str(data_dir / "digits.npz"), str(digits_models["ann"]), str(dep), str(out), coords=coords, measure_cfg=MEASURE,
            conversion_timesteps=[4])
    rows = pd.read_csv(out, keep_default_na=False)
    assert list(rows.metric) == ["cell"] and list(rows.status) == ["skipped"]
    assert rows.reason.iloc[0] == "no CUDA device on host x"


def test_conversion_and_pruning_are_deterministic(digits_models, data_dir, tmp_path):
    from spikemark.convert import convert_ann2snn

    outs = []
    for name in ("a", "b"):
        snn, pruned = tmp_path / f"{name}.pt", tmp_path / f"{name}-p.pt"
        convert_ann2snn(str(data_dir / "digits.npz"), str(digits_models["ann"]), str(snn), normalisation="99.9%",
                        timesteps=[8], seed=0)
        prune_model(str(data_dir / "digits.npz"), str(snn), str(pruned), sparsity=0.5, method="global_magnitude",
                    finetune_epochs=1, training=TRAINING, seed=0)
        outs.append(torch.load(pruned, weights_only=True))
    assert outs[0]["meta"]["thresholds"] == outs[1]["meta"]["thresholds"]
    assert all(torch.equal(outs[0]["state_dict"][k], outs[1]["state_dict"][k]) for k in outs[0]["state_dict"])
