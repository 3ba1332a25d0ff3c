"""Robustness protocol: accuracy, latency and synaptic operations against T and input noise."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from spikemark.deploy import write_record
from spikemark.robustness import noisy, protocol_points, robustness

CFG = {"timesteps": [2, 8], "noise_levels": [0.0, 0.3], "seed": 0, "warmup": 0, "repeats": 2}
COORDS = {"dataset": "digits", "sparsity": 0.0, "hardware": "cpu", "seed": 0, "pruning": "global_magnitude"}


def test_protocol_is_a_t_sweep_then_a_noise_sweep_at_the_reference_t():
    assert protocol_points("rate_snn", False, 16, CFG) == [(2, 0.0), (8, 0.0), (16, 0.0), (16, 0.3)]
    assert protocol_points("rate_snn", False, 8, CFG) == [(2, 0.0), (8, 0.0), (8, 0.3)]
    # spike rasters keep their own bins: no T sweep for a surrogate SNN
    assert protocol_points("spiking_snn", True, 20, CFG) == [(None, 0.0), (None, 0.3)]


def test_noise_is_seeded_and_zero_noise_is_identity():
    x = torch.rand(4, 3)
    assert torch.equal(noisy(x, 0.0, 1), x)
    assert torch.equal(noisy(x, 0.2, 1), noisy(x, 0.2, 1))
    assert abs(float((noisy(torch.zeros(20000), 0.2, 0)).std()) - 0.2) < 0.01


@pytest.mark.parametrize("method,framework", [("ann2snn", "spikingjelly"), ("surrogate", "snntorch")])
def test_rows_for_every_point(method, framework, digits_models, data_dir, tmp_path):
    record = tmp_path / "deployment.json"
    write_record(record, {"status": "ok", "reason": ""})
    out = tmp_path / "robustness.csv"
    robustness(str(data_dir / "digits.npz"), str(digits_models[method]), str(record), str(out),
               coords={**COORDS, "method": method, "framework": framework}, robustness_cfg=CFG, batch_size=128,
               conversion_timesteps=[4, 32])
    table = pd.read_csv(out, keep_default_na=False)
    assert set(table.variant) == {"robustness"} and set(table.status) == {"ok"}
    acc = table[table.metric == "accuracy"].set_index(["timesteps", "noise"]).value
    ref_t = 32 if method == "ann2snn" else 4  # last conversion T / training T
    assert set(acc.index) == {(2, 0.0), (8, 0.0), (ref_t, 0.0), (ref_t, 0.3)}
    for metric in ("effective_acs", "dense_synops", "latency_batch1"):
        assert len(table[table.metric == metric]) == len(acc)
    synops = table[table.metric == "dense_synops"].set_index(["timesteps", "noise"]).value
    assert synops[(8, 0.0)] == pytest.approx(4 * synops[(2, 0.0)])  # dense synops grow with T
    if method == "ann2snn":
        assert acc[(32, 0.0)] >= acc[(2, 0.0)]  # rate coding needs time
    assert acc[(ref_t, 0.3)] <= acc[(ref_t, 0.0)] + 0.02


def test_skipped_deployments_stay_skipped(digits_models, data_dir, tmp_path):
    record = tmp_path / "deployment.json"
    write_record(record, {"status": "skipped", "reason": "no CUDA device"})
    robustness(str(data_dir / "digits.npz"), str(digits_models["surrogate"]), str(record), str(tmp_path / "r.csv"),
               coords={**COORDS, "method": "surrogate", "framework": "spikingjelly"}, robustness_cfg=CFG,
               batch_size=64, conversion_timesteps=[4])
    table = pd.read_csv(tmp_path / "r.csv", keep_default_na=False)
    assert table.metric.tolist() == ["cell"] and table.status.iloc[0] == "skipped"
