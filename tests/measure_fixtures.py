"""Small real models on scikit-learn's digits for the measurement tests and benchmark.

A 64-128-64-10 ReLU MLP trained for a few epochs, its SpikingJelly conversion, a pruned
copy of the conversion, and a surrogate-gradient LIF network: the four kinds of model the
pipeline measures, built the way the pipeline builds them, in seconds.
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
from sklearn.datasets import load_digits
from spikingjelly.activation_based import ann2snn, functional, layer, neuron, surrogate
from spikingjelly.activation_based.ann2snn.recipes import RateCodingRecipe
from torch import Tensor, nn
from torch.nn.utils import prune
from torch.utils.data import DataLoader, TensorDataset

N_TRAIN = 1400


def digits() -> tuple[TensorDataset, TensorDataset]:
    data = load_digits()
    x = torch.tensor(data.data, dtype=torch.float32) / 16.0
    y = torch.tensor(data.target, dtype=torch.int64)
    return TensorDataset(x[:N_TRAIN], y[:N_TRAIN]), TensorDataset(x[N_TRAIN:], y[N_TRAIN:])


def loader(dataset: TensorDataset, batch_size: int = 64) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


def _train(
    model: nn.Module, forward: Callable[[Tensor], Tensor], train: TensorDataset, epochs: int, lr: float
) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for x, y in DataLoader(train, batch_size=64, shuffle=True):
            opt.zero_grad()
            nn.functional.cross_entropy(forward(x), y).backward()
            opt.step()
    model.eval()


def ann(train: TensorDataset, epochs: int = 15) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    _train(model, model, train, epochs, lr=1e-2)
    return model


def converted(model: nn.Module, train: TensorDataset) -> nn.Module:
    recipe = RateCodingRecipe(dataloader=loader(train), mode="Max")
    return ann2snn.Converter(recipe=recipe).convert(copy.deepcopy(model))


def converted_forward(snn: nn.Module, timesteps: int) -> Callable[[Tensor], Tensor]:
    """Reset, present the same analog input for T steps, average the outputs."""

    def forward(x: Tensor) -> Tensor:
        functional.reset_net(snn)
        with torch.no_grad():
            out = snn(x)
            for _ in range(timesteps - 1):
                out = out + snn(x)
        return out / timesteps

    return forward


def pruned(model: nn.Module, amount: float = 0.5) -> nn.Module:
    """Global magnitude pruning of all Linear weights, mask made permanent."""
    model = copy.deepcopy(model)
    params = [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
    for m, name in params:
        prune.remove(m, name)
    return model


def surrogate_snn(train: TensorDataset, timesteps: int = 8, epochs: int = 3) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(
        layer.Flatten(),
        layer.Linear(64, 128),
        neuron.LIFNode(surrogate_function=surrogate.ATan(), detach_reset=True),
        layer.Linear(128, 64),
        neuron.LIFNode(surrogate_function=surrogate.ATan(), detach_reset=True),
        layer.Linear(64, 10),
        neuron.LIFNode(surrogate_function=surrogate.ATan(), detach_reset=True),
    )
    functional.set_step_mode(model, "m")
    _train(model, surrogate_forward(model, timesteps, grad=True), train, epochs, lr=5e-3)
    return model


def surrogate_forward(snn: nn.Module, timesteps: int, grad: bool = False) -> Callable[[Tensor], Tensor]:
    """Reset, repeat the static input T times ([T, B, F]), average the output spikes."""

    def forward(x: Tensor) -> Tensor:
        functional.reset_net(snn)
        with torch.set_grad_enabled(grad):
            return snn(x.unsqueeze(0).repeat(timesteps, *([1] * x.dim()))).mean(0)

    return forward


def neurobench_run(
    module: nn.Module,
    forward: Callable[[Tensor], Tensor],
    data: DataLoader,
    extra_activation: type = neuron.BaseNode,
) -> dict:
    """NeuroBench's own ``Benchmark.run`` on the same module, forward and data."""
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics.static import ConnectionSparsity, Footprint, ParameterCount
    from neurobench.metrics.workload import (
        ActivationSparsity,
        ClassificationAccuracy,
        MembraneUpdates,
        SynapticOperations,
    )
    from neurobench.models import NeuroBenchModel

    class ForwardModel(NeuroBenchModel):
        """Our (module, forward) pair as a NeuroBench model."""

        def __init__(self) -> None:
            super().__init__()
            module.eval()

        def __call__(self, batch: Tensor) -> Tensor:
            return forward(batch)

        def __net__(self) -> nn.Module:
            return module

    model = ForwardModel()
    model.add_activation_module(extra_activation)  # spiking neurons count as activations
    metrics = [
        [ParameterCount, Footprint, ConnectionSparsity],
        [ClassificationAccuracy, ActivationSparsity, SynapticOperations, MembraneUpdates],
    ]
    bench = Benchmark(model, data, [], [lambda logits: logits.argmax(-1)], metrics)
    try:
        return bench.run(quiet=True)
    finally:
        bench.workload_metric_manager.cleanup_hooks(model)


#: NeuroBench's result keys → ours.
NEUROBENCH_KEYS = {
    "ParameterCount": "parameter_count",
    "Footprint": "footprint",
    "ConnectionSparsity": "connection_sparsity",
    "ClassificationAccuracy": "accuracy",
    "ActivationSparsity": "activation_sparsity",
    "MembraneUpdates": "membrane_updates",
}
SYNOPS_KEYS = {"Effective_MACs": "effective_macs", "Effective_ACs": "effective_acs", "Dense": "dense_synops"}


def as_ours(nb: dict) -> dict:
    """NeuroBench's result dict under our metric names."""
    out = {ours: nb[theirs] for theirs, ours in NEUROBENCH_KEYS.items()}
    out.update({ours: nb["SynapticOperations"][theirs] for theirs, ours in SYNOPS_KEYS.items()})
    return out
