"""Framework latency benchmark: one Linear + LIF layer, real libraries, tiny sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from spikemark import frameworks
from spikemark.frameworks.torch_workload import TorchWorkload
from spikemark.frameworks.workload import LayerSpec, spike_input
from spikemark.latency import build_workload, latency_benchmark, should_compile

CFG = {"timesteps": 6, "batch_size": 3, "warmup": 1, "repeats": 2, "sizes": {"cpu": [16, 32], "cuda": [64]},
       "compile": "never"}
#: Every registered framework with a latency workload that runs on this CPU (the CUDA /
#: Triton kernels of SpikingJelly say they cannot).
ON_CPU = [name for name, fw in frameworks.latency_frameworks().items() if fw.unavailable_reason("cpu") is None]
#: Those whose own LIF resets to 0 as the workload's does (Rockpool and Spyx subtract; their
#: layers are checked against their own dynamics in test_frameworks_libraries.py).
HARD_RESET = [name for name in ON_CPU if getattr(frameworks.get(name), "latency_reset", "hard") == "hard"]


def test_the_three_torch_libraries_run_here():
    assert {"spikingjelly", "snntorch", "norse"} <= set(ON_CPU)
    assert "torch" not in frameworks.latency_frameworks()  # the ANN runtime has no LIF layer


@pytest.mark.parametrize("framework", ON_CPU)
def test_layers_spike_and_train(framework):
    size = 16
    strong = np.full((size, size), 0.5, dtype=np.float32)  # strong drive: every neuron spikes
    spec = LayerSpec(spike_input(6, 2, size, rate=1.0), "cpu", weight=strong)
    workload = frameworks.get(framework).latency_workload(spec)
    out = workload.as_numpy(workload.inference())
    assert out.shape == (6, 2, size) and set(np.unique(out).tolist()) <= {0.0, 1.0} and out.sum() > 0
    workload.backward(workload.forward())
    workload.synchronize()
    if isinstance(workload, TorchWorkload):  # Spyx (JAX) checks its gradients in test_frameworks_libraries.py
        assert workload.backend == "torch" and workload.variant == "eager"
        grad = workload.layer.linear.weight.grad
        assert grad is not None and grad.abs().sum() > 0
    workload.close()


def test_same_lif_dynamics_in_every_framework():
    """τ = 2, threshold 1, reset to 0 everywhere: the same input gives the same spikes."""
    inputs = spike_input(10, 2, 8, rate=0.5)
    weight = np.linspace(-1, 3, 64, dtype=np.float32).reshape(8, 8)
    spec = LayerSpec(inputs, "cpu", weight=weight, bias=np.zeros(8, dtype=np.float32))
    spikes = {}
    for name in HARD_RESET:
        workload = frameworks.get(name).latency_workload(spec)
        spikes[name] = workload.as_numpy(workload.inference())
        workload.close()
    reference = spikes.pop("spikingjelly")
    assert reference.sum() > 0
    for name, out in spikes.items():
        assert np.array_equal(out, reference), name


def test_workload_follows_the_configured_t_and_batch():
    workload = build_workload("snntorch", 12, CFG, "cpu")
    out = workload.as_numpy(workload.inference())
    assert out.shape == (CFG["timesteps"], CFG["batch_size"], 12)
    with pytest.raises(ValueError, match="no latency workload"):
        build_workload("torch", 12, CFG, "cpu")


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
    assert should_compile("auto", "cuda") and should_compile("auto", "cuda:1") and not should_compile("auto", "cpu")
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
@pytest.mark.parametrize("framework", list(frameworks.latency_frameworks()))
def test_cuda_rows_include_device_memory(framework, tmp_path):
    latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": framework, "hardware": "cuda"},
                      bench_cfg={**CFG, "compile": "never"})
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    if table.metric.tolist() == ["cell"]:
        pytest.skip(table.reason.iloc[0])
    assert (table[table.metric == "peak_cuda_memory"].value > 0).all()
