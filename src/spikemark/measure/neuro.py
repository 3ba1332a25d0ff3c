"""NeuroBench 2.x metrics of a model: static ones from its weights, workload ones from a run.

Two conventions (``CONVENTIONS``), recorded in every row's ``source``:

- ``neurobench``: exactly the numbers the ``neurobench`` package reports for the model
  wrapped as a ``NeuroBenchModel`` whose call is ``forward``, with SpikingJelly's
  ``BaseNode`` registered as an activation module (``add_activation_module``). It counts
  the layers after a converted SNN's voltage scalers as MACs (their inputs are scaled
  spikes, not 0/1) and cannot read SpikingJelly membrane potentials (membrane updates 0).
- ``folded``: ours. Voltage scalers are folded into thresholds and weights first (see
  :mod:`spikemark.measure.fold`; outputs unchanged), so spike-fed layers count as ACs, and
  SpikingJelly membrane updates are counted by NeuroBench's rule.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, Iterable, Iterator

import torch
from torch import Tensor, nn

from spikemark.measure.fold import folded_scalers
from spikemark.measure.probes import (
    CONNECTION_LAYERS,
    RECURRENT_LAYERS,
    STATELESS_LAYERS,
    ActivationSparsity,
    ClassificationAccuracy,
    MembraneUpdates,
    SynapticOperations,
    activation_types,
    find_layers,
    neuron_type_of,
    neuron_types,
)
from spikemark.results import ResultSet
from spikemark.stats import wilson

CONVENTIONS = ("neurobench", "folded")
#: ``source`` column of the rows each convention produces.
SOURCES = {"neurobench": "neurobench-convention", "folded": "folded-convention"}
UNITS = {
    "parameter_count": "count",
    "footprint": "bytes",
    "connection_sparsity": "fraction",
    "accuracy": "fraction",
    "activation_sparsity": "fraction",
    "effective_macs": "ops/sample",
    "effective_acs": "ops/sample",
    "dense_synops": "ops/sample",
    "membrane_updates": "updates/sample",
}

Forward = Callable[[Tensor], Tensor]


# --- static metrics -------------------------------------------------------------------


def check_pruning_permanent(module: nn.Module) -> None:
    """Refuse a model with live pruning masks: ``weight_orig`` would be counted twice."""
    for name, _ in module.named_parameters():
        if name.endswith("_orig"):
            raise ValueError(
                f"{name}: pruning is not permanent; call torch.nn.utils.prune.remove before measuring"
            )


def parameter_count(module: nn.Module) -> int:
    """Number of parameters (``ParameterCount``)."""
    return sum(p.numel() for p in module.parameters())


def footprint(module: nn.Module) -> int:
    """Bytes of parameters and buffers (``Footprint``)."""
    params = sum(p.numel() * p.element_size() for p in module.parameters())
    buffers = sum(b.numel() * b.element_size() for b in module.buffers())
    return params + buffers


def connection_sparsity(module: nn.Module) -> float:
    """Fraction of zero weights in connection layers, rounded to 4 places (``ConnectionSparsity``).

    NeuroBench divides an int64 tensor by an int, which gives float32 before rounding; the
    same division is done here so the rounded value is the same.
    """
    zeros = torch.tensor(0)
    weights = 0
    for layer in _leaves(module):
        if not isinstance(layer, CONNECTION_LAYERS):
            continue
        for tensor in _connection_weights(layer):
            zeros = zeros + torch.sum(tensor == 0)
            weights += tensor.numel()
    if weights == 0:
        raise ValueError("connection sparsity is undefined: the model has no connection layers")
    return round((zeros / weights).item(), 4)


def _leaves(module: nn.Module) -> Iterator[nn.Module]:
    """Modules without children below ``module`` (NeuroBench counts only leaf layers here)."""
    for child in module.children():
        if next(child.children(), None) is None:
            yield child
        else:
            yield from _leaves(child)


def _connection_weights(layer: nn.Module) -> list[Tensor]:
    if isinstance(layer, STATELESS_LAYERS):
        return [layer.weight]
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if layer.bias else [])
    if isinstance(layer, RECURRENT_LAYERS[0]):  # RNNBase: one set per layer and direction
        names = [name for name, _ in layer.named_parameters()]
    return [getattr(layer, name) for name in names]


def static_metrics(module: nn.Module) -> dict[str, float]:
    """``parameter_count``, ``footprint`` (bytes) and ``connection_sparsity`` of ``module``."""
    check_pruning_permanent(module)
    return {
        "parameter_count": parameter_count(module),
        "footprint": footprint(module),
        "connection_sparsity": connection_sparsity(module),
    }


# --- workload metrics -----------------------------------------------------------------


def workload_metrics(
    module: nn.Module,
    forward: Forward,
    batches: Iterable[tuple[Tensor, Tensor]],
    *,
    convention: str = "neurobench",
) -> dict[str, Any]:
    """Run ``forward`` over ``batches`` and count what NeuroBench's workload metrics count.

    ``forward`` maps an input batch ``[B, ...]`` to logits ``[B, C]`` (running the whole
    time loop of an SNN); ``batches`` yields ``(x, y)``. Returns ``accuracy``,
    ``activation_sparsity``, ``effective_macs``, ``effective_acs``, ``dense_synops``,
    ``membrane_updates`` (per sample, like NeuroBench), ``n_correct``, ``n_samples`` and
    ``convention``. The module is evaluated in eval mode and left as it was found.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, not {convention!r}")
    check_pruning_permanent(module)
    folding = folded_scalers(module) if convention == "folded" else nullcontext(module)
    training = {m: m.training for m in module.modules()}
    module.eval()
    try:
        with folding, torch.no_grad():
            values = _run(module, forward, batches, beyond_neurobench=convention == "folded")
    finally:
        for m, mode in training.items():
            m.training = mode
    values["convention"] = convention
    return values


def _run(
    module: nn.Module,
    forward: Forward,
    batches: Iterable[tuple[Tensor, Tensor]],
    *,
    beyond_neurobench: bool,
) -> dict[str, Any]:
    activations = find_layers(module, activation_types())
    synops = SynapticOperations(module)
    sparsity = ActivationSparsity(activations)
    membranes = MembraneUpdates(activations, beyond_neurobench=beyond_neurobench)
    accuracy = ClassificationAccuracy()
    try:
        for x, y in batches:
            logits = forward(x)
            size = x.shape[0]  # NeuroBench divides by data[0].size(0)
            accuracy.end_batch(logits, y.to(logits.device))
            synops.end_batch(size)
            sparsity.end_batch(size)
            membranes.end_batch(size)
    finally:
        for probe in (synops, sparsity, membranes):
            probe.close()
    return {**accuracy.result(), **sparsity.result(), **synops.result(), **membranes.result()}


def has_neurons_neurobench_cannot_read(module: nn.Module) -> bool:
    """Whether ``module`` has neurons whose membrane potentials NeuroBench does not read."""
    types = neuron_types()
    kinds = (neuron_type_of(m, types) for m in module.modules())
    return any(kind is not None and not kind.neurobench_reads_membrane for kind in kinds)


# --- rows -----------------------------------------------------------------------------


def add_metric_rows(
    results: ResultSet,
    module: nn.Module,
    static: dict[str, float],
    workload: dict[str, Any],
    **coords: Any,
) -> None:
    """Add the static and workload metrics as rows, each with its convention as source.

    Accuracy is a fraction with its Wilson interval over the test samples (source
    ``measured``: no convention involved). Under the ``neurobench`` convention, a model
    with neurons whose potentials NeuroBench cannot read (SpikingJelly's, Norse's) gets
    ``membrane_updates`` as unavailable (NeuroBench reports 0 there) rather than a
    misleading zero.
    """
    convention = workload["convention"]
    source = SOURCES[convention]
    for name, value in static.items():
        results.add(name, value, UNITS[name], source=SOURCES["neurobench"], **coords)
    results.add_summary(
        "accuracy", wilson(workload["n_correct"], workload["n_samples"]), UNITS["accuracy"], **coords
    )
    for name in ("activation_sparsity", "effective_macs", "effective_acs", "dense_synops"):
        results.add(name, workload[name], UNITS[name], source=source, **coords)
    if convention == "neurobench" and has_neurons_neurobench_cannot_read(module):
        results.add_unavailable(
            "membrane_updates",
            UNITS["membrane_updates"],
            "NeuroBench 2.3.0 reads membrane potentials of snnTorch neurons only; see the folded-convention row",
            source=source,
            **coords,
        )
    else:
        results.add(
            "membrane_updates",
            workload["membrane_updates"],
            UNITS["membrane_updates"],
            source=source,
            **coords,
        )
