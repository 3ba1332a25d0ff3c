"""Framework latency benchmark: one Linear + LIF layer, real libraries, tiny sizes."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from spikemark.latency import build_layer, latency_benchmark, should_compile, spike_input

CFG = {"timesteps": 6, "batch_size": 3, "warmup": 1, "repeats": 2, "sizes": {"cpu": [16, 32], "cuda": [64]},
       "compile": "never"}


@pytest.mark.parametrize("framework", ["spikingjelly", "snntorch", "norse"])
def test_layers_spike_and_train(framework):
    torch.manual_seed(0)
    layer, backend = build_layer(framework, 16)
    assert backend == "torch"
    with torch.no_grad():
        layer.linear.weight.fill_(0.5)  # strong drive: every neuron spikes
    x = spike_input(6, 2, 16, "cpu", rate=1.0)
    out = layer(x)
    assert out.shape == (6, 2, 16) and set(out.unique().tolist()) <= {0.0, 1.0} and out.sum() > 0
    out.sum().backward()
    assert layer.linear.weight.grad is not None and layer.linear.weight.grad.abs().sum() > 0


def test_same_lif_dynamics_in_every_framework():
    """τ = 2, threshold 1, reset to 0 everywhere: the same input gives the same spikes."""
    x = spike_input(10, 2, 8, "cpu", rate=0.5)
    spikes = {}
    for fw in ("spikingjelly", "snntorch", "norse"):
        torch.manual_seed(1)
        layer, _ = build_layer(fw, 8)
        with torch.no_grad():
            layer.linear.weight.copy_(torch.linspace(-1, 3, 64).view(8, 8))
            layer.linear.bias.zero_()
            spikes[fw] = layer(x)
    assert spikes["spikingjelly"].sum() > 0
    assert torch.equal(spikes["spikingjelly"], spikes["norse"])
    assert torch.equal(spikes["spikingjelly"], spikes["snntorch"])


def test_rows_per_size_with_forward_backward_and_memory(tmp_path):
    rs = latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": "snntorch", "hardware": "cpu"}, bench_cfg=CFG)
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False, dtype={"run_id": str})  # hex ids like 1e5 are not floats
    assert set(table.track) == {"latency"} and set(table.status) == {"ok"}
    timings = table[table.metric != "batch_size"]
    assert set(table["size"]) == {16, 32} and set(table.timesteps) == {6}
    assert set(timings.variant) == {"eager"}
    for metric in ("inference_time", "forward_time", "backward_time", "peak_host_memory"):
        rows = table[table.metric == metric]
        assert len(rows) == 2 and (rows.value > 0).all()
    timing = table[table.metric == "forward_time"].iloc[0]
    assert timing.n == 2 and timing.unit == "s" and timing.source == "measured"
    assert rs.run_id == timing.run_id
    batch = table[table.metric == "batch_size"]
    assert list(batch.value) == [3, 3] and set(batch.source) == {"config"} and set(batch.variant) == {""}


@pytest.mark.parametrize("framework,hardware", [("spikingjelly-cuda", "cpu"), ("spikingjelly-triton", "cpu"),
                                                ("norse", "cuda")])
def test_cells_that_cannot_run_here_are_skipped(framework, hardware, tmp_path):
    if hardware == "cuda" and torch.cuda.is_available():
        pytest.skip("a CUDA device exists here")
    latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": framework, "hardware": hardware}, bench_cfg=CFG)
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    assert list(table.metric) == ["cell"] and table.status.iloc[0] == "skipped" and table.reason.iloc[0]


def test_compile_policy():
    assert should_compile("auto", "cuda") and not should_compile("auto", "cpu")
    assert should_compile("always", "cpu") and not should_compile("never", "cuda")


@pytest.mark.slow
def test_compiled_variant_reports_compile_time(tmp_path):
    cfg = {**CFG, "sizes": {"cpu": [16]}, "compile": "always"}
    latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": "norse", "hardware": "cpu"}, bench_cfg=cfg)
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    compiled = table[table.variant == "compiled"]
    assert (compiled.metric == "compile_time").sum() == 1
    assert {"inference_time", "forward_time", "backward_time"} <= set(compiled.metric)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("framework", ["spikingjelly", "spikingjelly-cuda", "spikingjelly-triton", "snntorch", "norse"])
def test_cuda_rows_include_device_memory(framework, tmp_path):
    latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": framework, "hardware": "cuda"},
                      bench_cfg={**CFG, "compile": "never"})
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    if table.metric.tolist() == ["cell"]:
        pytest.skip(table.reason.iloc[0])
    assert (table[table.metric == "peak_cuda_memory"].value > 0).all()
