"""Fold the voltage scalers of a converted SNN into thresholds and weights.

SpikingJelly's converter emits ``Linear → VoltageScaler(a) → IFNode(θ) → VoltageScaler(b)
→ Linear``. The same network without scalers is ``Linear → IFNode(θ/a) → Linear(W·b)``:
the scale before a neuron divides its threshold (and reset value), the scale after it
multiplies the next layer's weights. Then the next layer receives 0/1 spikes, so its
synaptic operations count as accumulates (NeuroBench counts the scaled spikes as MACs),
and the network maps onto NIR's neuron models. Folding is done in place and undone on
exit, so the caller's model is bit-for-bit what it was.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import fx, nn

from spikemark.measure.probes import STATELESS_LAYERS, spikingjelly_node_type


def _voltage_scaler_type() -> type | None:
    if spikingjelly_node_type() is None:
        return None
    from spikingjelly.activation_based.ann2snn.modules import VoltageScaler

    return VoltageScaler


def has_voltage_scalers(module: nn.Module) -> bool:
    scaler = _voltage_scaler_type()
    return scaler is not None and any(isinstance(m, scaler) for m in module.modules())


def _module_calls(graph: fx.Graph) -> dict[str, int]:
    calls: dict[str, int] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    return calls


@contextmanager
def folded_scalers(module: nn.Module) -> Iterator[nn.Module]:
    """Within the block, ``module`` computes without voltage scalers (see module doc).

    Only fx graphs (what the converter returns) are folded; a module without scalers is
    left as it is. A scaler is kept where folding would not be exact in structure: a
    channel-wise scale before a neuron, a scaler whose output feeds anything but
    connection layers, or a layer called from more than one place.
    """
    undo: list[Callable[[], None]] = []
    try:
        if has_voltage_scalers(module):
            if not isinstance(module, fx.GraphModule):
                raise ValueError(
                    "voltage scalers can only be folded in an fx GraphModule (the converter's output)"
                )
            _fold(module, undo)
        yield module
    finally:
        for step in reversed(undo):
            step()


def _fold(gm: fx.GraphModule, undo: list[Callable[[], None]]) -> None:
    scaler_type, node_type = _voltage_scaler_type(), spikingjelly_node_type()
    modules = dict(gm.named_modules())
    calls = _module_calls(gm.graph)

    def module_of(node: fx.Node, kind: type | tuple[type, ...]) -> nn.Module | None:
        if node.op != "call_module" or calls[node.target] != 1:
            return None
        mod = modules[node.target]
        return mod if isinstance(mod, kind) else None

    for node in gm.graph.nodes:
        neuron = module_of(node, node_type)
        if neuron is None:
            continue
        pre = node.args[0] if node.args and isinstance(node.args[0], fx.Node) else None
        before = module_of(pre, scaler_type) if pre is not None and len(pre.users) == 1 else None
        if before is not None and before.scale.numel() == 1:
            _fold_into_threshold(before, neuron, undo)
        users = list(node.users)
        after = module_of(users[0], scaler_type) if len(users) == 1 else None
        if after is not None:
            targets = [module_of(user, STATELESS_LAYERS) for user in users[0].users]
            if targets and all(t is not None for t in targets):
                _fold_into_weights(after, targets, undo)


def _set_scale_to_one(scaler: nn.Module, undo: list[Callable[[], None]]) -> torch.Tensor:
    original = scaler.scale.clone()
    scaler.scale.fill_(1.0)  # x * 1.0 is exactly x
    undo.append(lambda: scaler.scale.copy_(original))
    return original


def _fold_into_threshold(scaler: nn.Module, neuron: nn.Module, undo: list[Callable[[], None]]) -> None:
    a = float(_set_scale_to_one(scaler, undo))
    threshold, reset = neuron.v_threshold, neuron.v_reset

    def restore() -> None:
        neuron.v_threshold, neuron.v_reset = threshold, reset

    undo.append(restore)
    neuron.v_threshold = threshold / a
    if reset is not None:
        neuron.v_reset = reset / a


def _fold_into_weights(scaler: nn.Module, layers: list[nn.Module], undo: list[Callable[[], None]]) -> None:
    b = _set_scale_to_one(scaler, undo)
    for layer in layers:
        weight = layer.weight
        original = weight.detach().clone()
        undo.append(lambda w=weight, o=original: w.data.copy_(o))
        with torch.no_grad():
            # Scale input feature / channel j of the next layer: W[:, j, ...] *= b_j.
            shape = [1, -1] + [1] * (weight.dim() - 2) if b.numel() > 1 else []
            weight.mul_(b.reshape(shape) if shape else b)
