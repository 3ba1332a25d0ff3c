"""LAMP (layer-adaptive magnitude pruning) beside global magnitude pruning."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikemark.models import load_checkpoint
from spikemark.matrix import DENSE, PRUNING_METHODS, pruning_levels
from spikemark.prune import PRUNERS, apply_global_magnitude, apply_lamp, lamp_scores, make_permanent, prune_model, weight_sparsity

from conftest import TRAINING


def _two_layers(a, b) -> nn.Sequential:
    net = nn.Sequential(nn.Linear(len(a), 1, bias=False), nn.Linear(len(b), 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([a]))
        net[1].weight.copy_(torch.tensor([b]))
    return net


def test_lamp_scores_match_hand_computation():
    # squared 1, 4, 9; suffix sums 14, 13, 9 → 1/14, 4/13, 9/9 (order of entries kept)
    scores = lamp_scores(torch.tensor([[3.0, -1.0, 2.0]]))
    assert torch.allclose(scores, torch.tensor([[1.0, 1 / 14, 4 / 13]], dtype=torch.float64))
    assert torch.equal(lamp_scores(torch.zeros(2, 2)), torch.zeros(2, 2, dtype=torch.float64))


def test_lamp_spares_the_small_layer_that_global_magnitude_removes():
    # A = [1, 2, 3] scores 1/14, 4/13, 1; B = [0.1, 0.2] scores 0.01/0.05 = 0.2, 1.
    # 40 % of 5 weights = 2: LAMP drops A's 1 (0.071) and B's 0.1 (0.2);
    # global magnitude drops B entirely (0.1, 0.2).
    lamp, glob = _two_layers([1.0, 2.0, 3.0], [0.1, 0.2]), _two_layers([1.0, 2.0, 3.0], [0.1, 0.2])
    apply_lamp(lamp, 0.4)
    apply_global_magnitude(glob, 0.4)
    make_permanent(lamp)
    make_permanent(glob)
    assert lamp[0].weight.tolist() == [[0.0, 2.0, 3.0]]
    assert lamp[1].weight.tolist() == [[0.0, pytest.approx(0.2)]]
    assert glob[1].weight.tolist() == [[0.0, 0.0]]


@pytest.mark.parametrize("sparsity", [0.5, 0.9, 0.999])
def test_lamp_reaches_global_sparsity_and_keeps_every_layer(sparsity):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    with torch.no_grad():
        net[4].weight.mul_(1e-3)  # a layer of tiny weights: global magnitude would empty it
    n = sum(m.weight.numel() for m in net if isinstance(m, nn.Linear))
    apply_lamp(net, sparsity)
    make_permanent(net)
    zeros = sum(int((m.weight == 0).sum()) for m in net if isinstance(m, nn.Linear))
    assert zeros == min(round(sparsity * n), n - 3)
    assert weight_sparsity(net) == pytest.approx(sparsity, abs=1e-3)
    assert all(int((m.weight != 0).sum()) >= 1 for m in net if isinstance(m, nn.Linear))


def test_prune_stage_with_lamp_records_the_method(digits_models, data_dir, tmp_path):
    assert set(PRUNERS) == set(PRUNING_METHODS)
    out = tmp_path / "lamp.pt"
    achieved = prune_model(str(data_dir / "digits.npz"), str(digits_models["ann2snn"]), str(out), sparsity=0.9,
                           method="lamp", finetune_epochs=0, training=TRAINING, seed=0)
    assert achieved == pytest.approx(0.9, abs=1e-3)
    pruned = load_checkpoint(out)
    assert pruned.meta["pruning"] == "lamp"
    assert not any(name.endswith("_orig") for name, _ in pruned.module.named_parameters())


def test_pruning_levels_compare_methods_at_equal_sparsity_over_one_dense_baseline():
    levels = pruning_levels(["global_magnitude", "lamp"], [0.0, 0.5, 0.9])
    assert levels == [(DENSE, 0.0), ("global_magnitude", 0.5), ("lamp", 0.5), ("global_magnitude", 0.9), ("lamp", 0.9)]
    assert pruning_levels(["lamp"], [0.5]) == [("lamp", 0.5)]


def test_dense_baseline_keeps_every_weight_and_refuses_a_sparsity(digits_models, data_dir, tmp_path):
    out = tmp_path / "dense.pt"
    args = dict(finetune_epochs=0, training=TRAINING, seed=0)
    model = str(digits_models["ann"])
    achieved = prune_model(str(data_dir / "digits.npz"), model, str(out), sparsity=0.0, method=DENSE, **args)
    assert achieved == pytest.approx(weight_sparsity(load_checkpoint(model).module))
    assert load_checkpoint(out).meta["pruning"] == DENSE
    with pytest.raises(ValueError, match="removes no weights"):
        prune_model(str(data_dir / "digits.npz"), model, str(out), sparsity=0.5, method=DENSE, **args)
