"""The other SNN libraries of the field's comparison, with the real libraries: Rockpool,
Sinabs and Spyx in the latency benchmark (each library's own LIF), why none of their NIR
imports can deploy our surrogate-trained SNNs, and the libraries that cannot be installed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from spikemark import datasets, frameworks
from spikemark.deploy import deploy
from spikemark.frameworks.stepped import export_nir
from spikemark.frameworks.workload import LayerSpec, spike_input
from spikemark.latency import latency_benchmark
from spikemark.models import load_checkpoint
from spikemark.train import to_tensors

LIBRARIES = ["rockpool", "sinabs", "spyx", "spyx-fp16"]
UNINSTALLABLE = ["lava-dl", "sinabs-exodus", "rockpool-exodus"]
CFG = {"timesteps": 6, "batch_size": 3, "warmup": 1, "repeats": 2, "sizes": {"cpu": [16, 32]}, "compile": "never"}


def exact_spec(timesteps=12, batch=2, size=8) -> LayerSpec:
    """Weights in eighths and 0/1 inputs: every current is exact in float16 and float32, so
    the library's spikes can be compared with a NumPy reference bit for bit."""
    rng = np.random.default_rng(3)
    weight = rng.integers(-4, 13, (size, size)).astype(np.float32) / 8
    return LayerSpec(spike_input(timesteps, batch, size, rate=0.5), "cpu", weight=weight,
                     bias=np.zeros(size, dtype=np.float32))


def currents(spec: LayerSpec) -> np.ndarray:
    return spec.inputs @ spec.weight.T + spec.bias


def subtractive_lif(current: np.ndarray, decay: float, threshold: float, *, test_before_input: bool) -> np.ndarray:
    """NumPy reference of a LIF that adds the input without gain and resets by subtraction.

    ``test_before_input`` (Spyx): the spike is tested on the previous membrane, before the
    step's input; otherwise (Rockpool) on the new membrane.
    """
    v = np.zeros(current.shape[1:], dtype=np.float32)
    out = np.zeros_like(current)
    decay, threshold = np.float32(decay), np.float32(threshold)
    for t, i_t in enumerate(current):
        if test_before_input:
            out[t] = v >= threshold
            v = decay * v + i_t - out[t] * threshold
        else:
            v = v * decay + i_t
            out[t] = v >= threshold
            v = v - out[t] * threshold
    return out


def spikes_of(name: str, spec: LayerSpec) -> np.ndarray:
    workload = frameworks.get(name).latency_workload(spec)
    try:
        return workload.as_numpy(workload.inference())
    finally:
        workload.close()


def test_every_library_of_the_comparison_is_registered():
    latency = frameworks.latency_frameworks()
    assert set(LIBRARIES + UNINSTALLABLE) <= set(latency)
    # A config may name them as deployment targets too: their cells are skipped with the reason.
    assert set(LIBRARIES + UNINSTALLABLE) <= set(frameworks.snn_frameworks())
    for name in LIBRARIES:
        assert frameworks.get(name).unavailable_reason("cpu") is None, name


def test_sinabs_layer_is_the_workload_lif_exactly():
    spec = exact_spec()
    reference = spikes_of("spikingjelly", spec)
    assert reference.sum() > 0
    assert np.array_equal(spikes_of("sinabs", spec), reference)


def test_rockpool_layer_follows_its_documented_subtractive_lif():
    spec = exact_spec()
    workload = frameworks.get("rockpool").latency_workload(spec)
    lif = workload.layer.neuron
    decay = float(torch.exp(-lif.dt / lif.tau_mem))  # Rockpool's own float32 decay
    assert decay == pytest.approx(0.5, abs=1e-6) and float(lif.threshold) == 2.0
    out = workload.as_numpy(workload.inference())
    expected = subtractive_lif(currents(spec), decay, 2.0, test_before_input=False)
    assert expected.sum() > 0 and np.array_equal(out, expected)
    # Not the workload's hard reset: SpikingJelly's spikes differ on the same input.
    assert not np.array_equal(out, spikes_of("spikingjelly", spec))
    # Each call starts from rest (Rockpool would otherwise carry the membrane over).
    assert np.array_equal(workload.as_numpy(workload.inference()), out)


@pytest.mark.parametrize("name", ["spyx", "spyx-fp16"])
def test_spyx_layer_follows_its_documented_lif_in_both_precisions(name):
    spec = exact_spec()
    out = spikes_of(name, spec)
    expected = subtractive_lif(currents(spec), 0.5, 2.0, test_before_input=True)
    assert expected.sum() > 0 and np.array_equal(out, expected)


def test_spyx_fp16_computes_in_float16_and_trains():
    import jax

    workload = frameworks.get("spyx-fp16").latency_workload(exact_spec())
    assert workload.backend == "jax-fp16" and workload.variant == "compiled"
    out, vjp = workload.forward()
    assert out.dtype == np.float16  # membrane and spikes stay in half precision
    workload.backward((out, vjp))
    workload.synchronize()
    (grads,) = workload.gradients
    kernel_grad = np.asarray(jax.tree.leaves(grads)[0], dtype=np.float32)  # surrogate gradient reaches the weights
    assert np.abs(kernel_grad).sum() > 0


@pytest.mark.parametrize("name", ["rockpool", "sinabs"])
def test_torch_libraries_train_their_layer(name):
    workload = frameworks.get(name).latency_workload(exact_spec())
    workload.backward(workload.forward())
    grad = workload.layer.linear.weight.grad
    assert workload.backend == "torch" and grad is not None and grad.abs().sum() > 0


def test_spyx_rows_are_compiled_with_their_compile_time(tmp_path):
    latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": "spyx", "hardware": "cpu"}, bench_cfg=CFG)
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    assert set(table.status) == {"ok"}
    timings = table[table.metric != "batch_size"]
    assert set(timings.variant) == {"compiled"} and set(timings.backend) == {"jax-fp32"}  # no eager rows
    compile_rows = table[table.metric == "compile_time"]
    assert sorted(compile_rows["size"]) == [16, 32] and (compile_rows.value > 0).all()
    assert set(compile_rows.source) == {"measured-first-call"}
    for metric in ("inference_time", "forward_time", "backward_time"):
        rows = table[table.metric == metric]
        assert len(rows) == 2 and (rows.value > 0).all() and set(rows.n) == {2}


@pytest.mark.parametrize("name", UNINSTALLABLE)
def test_uninstallable_libraries_are_skipped_with_the_reason(name, tmp_path):
    latency_benchmark(str(tmp_path / "m.csv"), coords={"framework": name, "hardware": "cpu"}, bench_cfg=CFG)
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    assert list(table.metric) == ["cell"] and table.status.iloc[0] == "skipped"
    expected = "Python < 3.11" if name == "lava-dl" else "sdist"
    assert expected in table.reason.iloc[0]


# --------------------------------------------------------------------------- NIR imports
# Each test shows the fact its library's skip reason states, on a real SpikingJelly export.
# If one fails, that library's NIR import may have been fixed: make it a deployment target.


def test_rockpool_nir_import_fails_on_lif(digits_models):
    from rockpool.nn.modules import from_nir

    with pytest.raises(AttributeError, match="tau_mem"):
        from_nir(export_nir(load_checkpoint(digits_models["surrogate"])))


def _digits_batch(data_dir, n=64):
    x, y = to_tensors(datasets.load(str(data_dir / "digits.npz")), "test")
    return x[:n].reshape(n, -1).float()


def test_sinabs_nir_import_reads_tau_as_steps_and_changes_the_network(digits_models, data_dir):
    import sinabs.activation as activation
    import sinabs.layers as sl
    from sinabs.nir import from_nir

    source = load_checkpoint(digits_models["surrogate"])
    graph = export_nir(source)
    x, t = _digits_batch(data_dir), 4
    imported = from_nir(graph, batch_size=len(x))
    lif = next(m for m in imported.modules() if isinstance(m, sl.LIFSqueeze))
    assert float(lif.tau_mem.flatten()[0]) == pytest.approx(2e-4)  # NIR's seconds, used as steps
    assert float(lif.alpha_mem_calculated.flatten()[0]) == 0.0 and not lif.norm_input
    assert isinstance(lif.reset_fn, activation.MembraneSubtract)
    out, _ = imported(x.unsqueeze(1).expand(-1, t, -1).reshape(len(x) * t, -1))  # Sinabs squeezes [B*T, n]
    scores = out.reshape(len(x), t, -1).mean(1)
    assert (scores - source.scores(x, t)).abs().max() > 0.1  # snnTorch and Norse agree within 1e-4


def test_spyx_nir_import_builds_nothing_or_another_network(digits_models, data_dir):
    import jax.numpy as jnp
    from spyx.nir import from_nir

    source = load_checkpoint(digits_models["surrogate"])
    x, t = _digits_batch(data_dir), 4
    seq = jnp.asarray(x.unsqueeze(0).expand(t, -1, -1).numpy())
    graph = export_nir(source)
    assert "input_1" in graph.nodes
    empty, _ = from_nir(graph, seq, dt=1e-4)
    assert len(empty.layers) == 0  # it walks the graph from a node named "input"
    graph.nodes["input"] = graph.nodes.pop("input_1")
    graph.edges = [("input" if a == "input_1" else a, b) for a, b in graph.edges]
    model, out = from_nir(graph, seq, dt=1e-4)
    assert [type(m).__name__ for m in model.layers] == ["Linear", "LIF", "Linear"]
    scores = torch.tensor(np.asarray(out, dtype=np.float32)).mean(0)
    assert (scores - source.scores(x, t)).abs().max() > 0.1


@pytest.mark.parametrize("name", ["rockpool", "spyx", "spyx-fp16", *UNINSTALLABLE])
def test_deploy_skips_the_libraries_with_their_reason(name, digits_models, data_dir, tmp_path):
    reasons = set()
    for method in ("surrogate", "ann2snn"):
        result = deploy(str(data_dir / "digits.npz"), str(digits_models[method]), str(tmp_path / f"{method}.json"),
                        framework=name, hardware_name="cpu", conversion_timesteps=[4], agreement_threshold=0.99)
        assert result["status"] == "skipped" and result["reason"]
        reasons.add(result["reason"])
    fw = frameworks.get(name)
    assert reasons == {fw.unsupported_reason("spiking_snn"), fw.unsupported_reason("rate_snn")}


def test_nir_reasons_name_the_library_and_node():
    for name in ("rockpool", "sinabs", "spyx"):
        reason = frameworks.get(name).nir_reason
        assert reason.startswith(name) and "nir.LIF" in reason
    assert frameworks.get("rockpool").unsupported_reason("spiking_snn") == frameworks.get("rockpool").nir_reason
    assert "soft reset" in frameworks.get("rockpool").unsupported_reason("rate_snn")
    # Sinabs deploys both kinds by direct mapping instead
    assert frameworks.get("sinabs").unsupported_reason("spiking_snn") is None
    assert frameworks.get("sinabs").unsupported_reason("rate_snn") is None


# --------------------------------------------------------------------------- published rows


def test_published_rows_ship_with_the_package_and_their_source():
    from spikemark.report.published import PUBLISHED_AS, published_rows

    rows = published_rows()
    assert len(rows) == 11 and set(rows["size_neurons"]) == {16384} and set(rows["timesteps"]) == {500}
    assert rows["source"].str.startswith("Open Neuromorphic SNN library benchmark").all()
    # every published library and backend has a registered counterpart
    assert set(zip(rows["framework"], rows["backend"])) == set(PUBLISHED_AS)
    assert {fw for fw, _ in PUBLISHED_AS.values()} <= set(frameworks.latency_frameworks())


def test_latency_table_puts_published_times_and_ratios_beside_ours(tmp_path):
    from spikemark.report import tracks
    from spikemark.report.load import load_metrics

    parts = []
    for name in ("sinabs", "spyx", "lava-dl"):
        path = tmp_path / f"{name}.csv"
        latency_benchmark(str(path), coords={"framework": name, "hardware": "cpu"}, bench_cfg=CFG)
        parts.append(pd.read_csv(path, keep_default_na=False, dtype=str))
    combined = tmp_path / "metrics.csv"
    pd.concat(parts).to_csv(combined, index=False)
    raw = load_metrics(combined)
    lat = tracks.latency_table(raw)
    sinabs = lat[(lat["framework"] == "sinabs") & (lat["size"].astype(str) == "16")].iloc[0]
    assert sinabs["published fwd + bwd, 16k (ms)"] == "2190"  # 2.19 s, published
    assert sinabs["published × fastest"] == "46.6"  # 2.19 s / 0.047 s (Spyx fp16)
    spyx = lat[(lat["framework"] == "spyx") & (lat["size"].astype(str) == "16")].iloc[0]
    assert (spyx["variant"], spyx["published fwd + bwd, 16k (ms)"], spyx["published × fastest"]) == ("compiled", "76", "1.62")
    lava = lat[lat["framework"] == "lava-dl"].iloc[0]
    assert lava["status"] == "skipped" and lava["published fwd + bwd, 16k (ms)"] == "171"
    # ours: forward + backward (sum of the two medians), and the ratio to the fastest of this size
    for size in ("16", "32"):
        rows = lat[lat["size"].astype(str) == size]
        measured = raw[(raw["size"].astype(str) == size) & raw["metric"].isin(["forward_time", "backward_time"])]
        sums = measured.groupby("framework")["value"].sum() * 1e3
        ratios = sorted(float(r) for r in rows["× fastest here"])
        assert ratios[0] == 1.0 and ratios[1] == pytest.approx(sums.max() / sums.min(), rel=0.01)


# --------------------------------------------------------------------------- Sinabs by direct mapping


@pytest.mark.parametrize("method", ["ann2snn", "surrogate"])
def test_sinabs_direct_mapping_reproduces_the_source(method, digits_models, data_dir):
    """Same input → same scores and predictions, as snnTorch and Norse must (test_frameworks.py)."""
    import sinabs.layers as sl

    from spikemark.deploy import scores_on

    path = digits_models[method]
    source, deployed = load_checkpoint(path), frameworks.get("sinabs").load(str(path), "cpu")
    neuron = sl.IAF if method == "ann2snn" else sl.LIF
    assert any(isinstance(m, neuron) for m in deployed.module.modules())
    assert deployed.meta["deployed_with"] == "sinabs" and deployed.meta["exchange"] == "direct"
    x, y = to_tensors(datasets.load(str(data_dir / "digits.npz")), "test")
    x, y = x[:128], y[:128]
    ref, out = scores_on(source, x, y, 16), scores_on(deployed, x, y, 16)
    assert ref.abs().sum() > 0
    assert float((ref.argmax(1) == out.argmax(1)).float().mean()) >= 0.99
    assert torch.allclose(ref, out, atol=1e-4, rtol=1e-4), float((ref - out).abs().max())


@pytest.mark.parametrize("method", ["ann2snn", "surrogate"])
def test_measure_stage_on_sinabs_counts_what_spikingjelly_counts(method, digits_models, data_dir, tmp_path):
    from conftest import measure_on_spikingjelly_and

    ref, out = measure_on_spikingjelly_and("sinabs", str(data_dir / "digits.npz"), str(digits_models[method]), method,
                                           tmp_path)
    assert out.loc["deploy_agreement", "value"] == 1.0
    for metric in ("accuracy", "effective_acs", "effective_macs", "dense_synops", "activation_sparsity",
                   "membrane_updates"):
        assert float(out.loc[metric, "value"]) == pytest.approx(float(ref.loc[metric, "value"]), rel=1e-3), metric
    assert float(out.loc["membrane_updates", "value"]) > 0


def test_sinabs_skips_what_it_cannot_map(data_dir, tmp_path):
    from spikemark.errors import StageFailed
    from spikemark.train import train_snn

    from conftest import TRAINING

    path = tmp_path / "rsnn.pt"
    train_snn(str(data_dir / "randman.npz"), str(path), model_cfg={"arch": "rsnn", "hidden": [8]},
              training={**TRAINING, "snn_epochs": 1}, seed=0)
    with pytest.raises(StageFailed) as info:
        frameworks.get("sinabs").load(str(path), "cpu")
    assert info.value.status == "skipped" and "RecurrentLIF" in info.value.reason


@pytest.fixture(scope="module")
def cnn_models(data_dir, tmp_path_factory):
    """A converted and a surrogate-trained digits CNN (as tests/test_architectures.py's)."""
    from conftest import TRAINING
    from spikemark.convert import convert_ann2snn
    from spikemark.train import train_ann, train_snn

    root, data = tmp_path_factory.mktemp("cnn"), str(data_dir / "digits.npz")
    cfg = {"arch": "cnn", "hidden": [32], "channels": [8]}
    paths = {m: str(root / f"{m}.pt") for m in ("ann", "ann2snn", "surrogate")}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions are far slower on two busy threads
    try:
        train_ann(data, paths["ann"], model_cfg=cfg, training={**TRAINING, "epochs": 8, "lr": 0.01}, seed=0)
        convert_ann2snn(data, paths["ann"], paths["ann2snn"], normalisation="max", timesteps=[8], seed=0)
        train_snn(data, paths["surrogate"], model_cfg=cfg, training={**TRAINING, "snn_epochs": 3}, seed=0)
    finally:
        torch.set_num_threads(threads)
    return paths


@pytest.mark.parametrize("method", ["ann2snn", "surrogate"])
def test_sinabs_direct_mapping_runs_cnns(method, cnn_models, data_dir):
    from spikemark.deploy import scores_on

    source = load_checkpoint(cnn_models[method])
    deployed = frameworks.get("sinabs").load(cnn_models[method], "cpu")
    assert any(isinstance(m, torch.nn.Conv2d) for m in deployed.module.modules())
    x, y = to_tensors(datasets.load(str(data_dir / "digits.npz")), "test")
    x, y = x[:128], y[:128]
    ref, out = scores_on(source, x, y, 8), scores_on(deployed, x, y, 8)
    assert ref.abs().sum() > 0 and float((ref.argmax(1) == out.argmax(1)).float().mean()) >= 0.99
    assert torch.allclose(ref, out, atol=1e-4, rtol=1e-4), float((ref - out).abs().max())
