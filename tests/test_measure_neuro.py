"""Our metrics equal the ``neurobench`` package's on real models and data (no mocks)."""

from __future__ import annotations

import copy

import pytest
import torch
from spikingjelly.activation_based import functional, neuron

import measure_fixtures as F
from spikemark.measure.fold import folded_scalers
from spikemark.measure.neuro import add_metric_rows, static_metrics, workload_metrics
from spikemark.results import ResultSet

T = 16


@pytest.fixture(scope="module")
def data():
    return F.digits()


@pytest.fixture(scope="module")
def ann(data):
    return F.ann(data[0], epochs=5)


@pytest.fixture(scope="module")
def snn(ann, data):
    return F.converted(ann, data[0])


@pytest.fixture(scope="module")
def surrogate(data):
    return F.surrogate_snn(data[0], timesteps=4, epochs=1)


def ours(module, forward, data, convention="neurobench"):
    return {**static_metrics(module), **workload_metrics(module, forward, data, convention=convention)}


def assert_same_as_neurobench(module, forward, data):
    theirs = F.as_ours(F.neurobench_run(module, forward, data))
    mine = ours(module, forward, data)
    assert {k: mine[k] for k in theirs} == theirs


def test_ann_equals_neurobench(ann, data):
    assert_same_as_neurobench(ann, ann, F.loader(data[1]))


def test_converted_snn_equals_neurobench(snn, data):
    assert_same_as_neurobench(snn, F.converted_forward(snn, T), F.loader(data[1]))


def test_pruned_snn_equals_neurobench(snn, data):
    pruned = F.pruned(snn, amount=0.6)
    assert static_metrics(pruned)["connection_sparsity"] == pytest.approx(0.6, abs=1e-3)
    assert_same_as_neurobench(pruned, F.converted_forward(pruned, T), F.loader(data[1], batch_size=50))


def test_surrogate_snn_equals_neurobench(surrogate, data):
    assert_same_as_neurobench(surrogate, F.surrogate_forward(surrogate, 4), F.loader(data[1]))


def test_neurobench_counts_no_acs_for_converted_snn(snn, data):
    """The reason for the folded convention: scaled spikes are not 0/1, so MACs."""
    values = workload_metrics(snn, F.converted_forward(snn, T), F.loader(data[1]))
    assert values["effective_acs"] == 0 and values["effective_macs"] > 0
    assert values["membrane_updates"] == 0  # NeuroBench cannot read SpikingJelly potentials


def test_folded_counts_acs_and_keeps_outputs(snn, data):
    x, _ = data[1].tensors
    forward = F.converted_forward(snn, T)
    before = forward(x)
    state = copy.deepcopy(snn.state_dict())
    with folded_scalers(snn):
        folded_out = forward(x)
    assert torch.equal(folded_out.argmax(-1), before.argmax(-1))
    assert torch.allclose(folded_out, before, atol=1e-6)
    # The model is restored bit for bit.
    assert all(torch.equal(v, state[k]) for k, v in snn.state_dict().items())
    assert torch.equal(forward(x), before)

    loader = F.loader(data[1])
    nb = workload_metrics(snn, forward, loader)
    folded = workload_metrics(snn, forward, loader, convention="folded")
    assert folded["effective_acs"] > 0
    # Same operations, now split: the first layer (analog input) stays MACs.
    assert folded["effective_macs"] + folded["effective_acs"] == pytest.approx(nb["effective_macs"])
    assert folded["effective_macs"] > 0
    assert folded["accuracy"] == nb["accuracy"]
    assert folded["activation_sparsity"] == nb["activation_sparsity"]
    assert folded["dense_synops"] == nb["dense_synops"]
    assert folded["membrane_updates"] > 0


def test_membrane_updates_same_in_single_and_multi_step(surrogate, data):
    """The multi-step count (through v_seq) follows the per-step rule of single-step mode."""
    loader = F.loader(data[1])
    multi = workload_metrics(surrogate, F.surrogate_forward(surrogate, 4), loader, convention="folded")
    single_model = copy.deepcopy(surrogate)
    functional.set_step_mode(single_model, "s")

    def single_forward(x):
        functional.reset_net(single_model)
        with torch.no_grad():
            return torch.stack([single_model(x) for _ in range(4)]).mean(0)

    single = workload_metrics(single_model, single_forward, loader, convention="folded")
    assert multi["membrane_updates"] == single["membrane_updates"] > 0
    assert multi["accuracy"] == single["accuracy"]
    lif = [m for m in surrogate.modules() if isinstance(m, neuron.LIFNode)]
    assert all(not m.store_v_seq for m in lif)  # restored


def test_live_pruning_mask_is_refused(ann):
    from torch.nn.utils import prune

    model = copy.deepcopy(ann)
    prune.l1_unstructured(model[1], "weight", amount=0.5)
    with pytest.raises(ValueError, match="prune.remove"):
        static_metrics(model)


def test_rows_carry_convention_and_interval(snn, data):
    loader = F.loader(data[1])
    forward = F.converted_forward(snn, T)
    rs = ResultSet("ml", {"dataset": "digits", "timesteps": T})
    add_metric_rows(rs, snn, static_metrics(snn), workload_metrics(snn, forward, loader))
    add_metric_rows(rs, snn, static_metrics(snn), workload_metrics(snn, forward, loader, convention="folded"))
    rows = {(r["metric"], r["source"]): r for r in rs.rows}
    acc = rows[("accuracy", "measured")]
    assert acc["n"] == 397 and acc["ci_low"] < acc["value"] < acc["ci_high"]
    assert rows[("effective_acs", "neurobench-convention")]["value"] == 0
    assert rows[("effective_acs", "folded-convention")]["value"] > 0
    unavailable = rows[("membrane_updates", "neurobench-convention")]
    assert unavailable["status"] == "unavailable" and "snnTorch" in unavailable["reason"]
    assert rows[("membrane_updates", "folded-convention")]["status"] == "ok"


def test_snntorch_network_equals_neurobench(data):
    """snnTorch neurons (what NIR import gives later): membrane updates counted through ``mem``."""
    snn = pytest.importorskip("snntorch")
    from snntorch import utils

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 128),
        snn.Leaky(beta=0.9, init_hidden=True),
        torch.nn.Linear(128, 10),
        snn.Leaky(beta=0.9, init_hidden=True, output=True),
    )

    def forward(x):
        utils.reset(net)
        out = 0
        with torch.no_grad():
            for _ in range(4):
                spikes, _ = net(x)
                out = out + spikes
        return out / 4

    loader = F.loader(data[1])
    # The hidden state is a buffer sized by the last batch: take the footprint before any run,
    # as NeuroBench does (static metrics first).
    static = static_metrics(net)
    theirs = F.as_ours(F.neurobench_run(net, forward, loader, extra_activation=snn.SpikingNeuron))
    mine = {**static, **workload_metrics(net, forward, loader)}
    assert {k: mine[k] for k in theirs} == theirs
    assert mine["membrane_updates"] > 0 and mine["effective_acs"] > 0
