"""Forward hooks that collect what the workload metrics count, one class per metric.

The definitions are those of NeuroBench 2.3.0 (``neurobench/metrics/workload/*.py``,
``neurobench/hooks/*.py``, ``neurobench/metrics/utils/layers/*.py``); each class says
which file it mirrors. Like NeuroBench, the hooks keep references to the tensors of one
batch and count them when the batch ends; unlike NeuroBench they count all calls of a
layer at once with a few vectorised operations instead of deep-copying the layer for
every call, which is where NeuroBench spends its time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from spikemark.frameworks.base import NeuronType

#: Connection layers NeuroBench counts (``neurobench/blocks/layer.py``).
STATELESS_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
RECURRENT_LAYERS = (nn.RNNBase, nn.RNNCellBase)
CONNECTION_LAYERS = STATELESS_LAYERS + RECURRENT_LAYERS
#: Activations NeuroBench hooks by default (``neurobench/blocks/activation.py``).
DEFAULT_ACTIVATIONS: tuple[type, ...] = (nn.ReLU, nn.Sigmoid)


def spikingjelly_node_type() -> type | None:
    """SpikingJelly's neuron base class, if SpikingJelly is loaded (a model using it is).

    The voltage-scaler folding (:mod:`spikemark.measure.fold`) needs SpikingJelly's own
    class; every other question about neurons goes to the framework registry."""
    from spikemark.frameworks.spikingjelly_snn import NEURONS

    return NEURONS.loaded()


def neuron_types() -> list[tuple[NeuronType, type]]:
    """(neuron type, class) of the registered frameworks whose libraries are loaded."""
    from spikemark.frameworks import neuron_types as registered

    return registered()


def neuron_type_of(layer: nn.Module, types: list[tuple[NeuronType, type]] | None = None) -> NeuronType | None:
    """The registered neuron type ``layer`` is an instance of, or None."""
    for kind, cls in neuron_types() if types is None else types:
        if isinstance(layer, cls):
            return kind
    return None


def activation_types() -> tuple[type, ...]:
    """ReLU and Sigmoid, plus the spiking neuron classes of the loaded SNN libraries.

    In NeuroBench this is ``TorchModel`` with ``add_activation_module(BaseNode)`` for
    SpikingJelly and ``SNNTorchModel`` (which adds ``snntorch.SpikingNeuron``); every
    registered framework's neuron types are added the same way.
    """
    return DEFAULT_ACTIVATIONS + tuple(cls for _, cls in neuron_types())


def find_layers(module: nn.Module, types: tuple[type, ...]) -> list[nn.Module]:
    """Children of ``module`` (recursively) that are ``types``, not looking inside them.

    The same walk as ``NeuroBenchModel.activation_layers`` / ``connection_layers``: the root
    itself is never a match, and a match's own children are not searched.
    """
    found = []
    for child in module.children():
        if isinstance(child, types):
            found.append(child)
        elif next(child.children(), None) is not None:
            found.extend(find_layers(child, types))
    return found


class _Hooks:
    """Owns registered hook handles; ``close`` removes them all."""

    def __init__(self) -> None:
        self._handles: list[Any] = []

    def _keep(self, handle: Any) -> None:
        self._handles.append(handle)

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


class _LayerCounter:
    """Synaptic operations of one connection layer over the calls of one batch."""

    def __init__(self, layer: nn.Module) -> None:
        if isinstance(layer, RECURRENT_LAYERS):
            # NeuroBench 2.3.0 raises for RNNBase and has cell-specific rules for cells;
            # our models have none, so refuse rather than guess.
            raise NotImplementedError(f"synaptic operations of {type(layer).__name__} are not supported")
        self.layer = layer
        self.inputs: list[Tensor] = []
        # Weights are fixed during evaluation: count their non-zeros once.
        weight = layer.weight.detach()
        self.binary_weight = (weight != 0).to(torch.float64)
        # For a Linear layer, input feature j reaches as many synapses as column j has non-zeros.
        self.fan_out = (weight != 0).sum(0) if isinstance(layer, nn.Linear) else None

    def pre_hook(self, module: nn.Module, args: tuple) -> None:
        self.inputs.append(args[0])

    def count(self) -> tuple[int, int, int]:
        """(MACs, ACs, dense) of the stored calls, then forget them."""
        if not self.inputs:
            return 0, 0, 0
        calls = _stack_calls(self.inputs)
        self.inputs.clear()
        mac = ac = dense = 0
        for x in calls:  # one tensor per input shape, first dimension = calls
            ops, is_spiking, dense_ops = self._ops(x)
            ac += int(ops[is_spiking].sum())
            mac += int(ops[~is_spiking].sum())
            dense += dense_ops
        return mac, ac, dense

    def _ops(self, x: Tensor) -> tuple[Tensor, Tensor, int]:
        k = x.shape[0]
        nonzero = x != 0
        # NeuroBench's test for a spike input (``binary_inputs``): every value is 0, 1 or -1.
        is_spiking = ~(nonzero & (x.abs() != 1)).reshape(k, -1).any(1)
        if self.fan_out is not None:
            in_features = x.shape[-1]
            per_feature = nonzero.reshape(k, -1, in_features).sum(1)
            ops = (per_feature * self.fan_out).sum(1)
            dense = x[0].numel() * self.layer.out_features * k
            return ops, is_spiking, dense
        return self._conv_ops(nonzero, is_spiking)

    def _conv_ops(self, nonzero: Tensor, is_spiking: Tensor) -> tuple[Tensor, Tensor, int]:
        k = nonzero.shape[0]
        spatial = self.binary_weight.dim() - 2
        per_call = nonzero.shape[1:]
        # Multi-step SpikingJelly convolutions see [T, B, C, ...]: fold leading dims into the batch.
        flat = nonzero.reshape(-1, *per_call[-(spatial + 1) :]).to(torch.float64)
        ops = self.layer._conv_forward(flat, self.binary_weight, None).reshape(k, -1).sum(1)
        ones = torch.ones_like(flat[: flat.shape[0] // k])
        dense = self.layer._conv_forward(ones, torch.ones_like(self.binary_weight), None).sum()
        return ops.to(torch.int64), is_spiking, int(dense) * k


def _stack_calls(tensors: list[Tensor]) -> list[Tensor]:
    """Stack calls that share a shape (the usual case: one shape per layer)."""
    shape = tensors[0].shape
    if all(t.shape == shape for t in tensors):
        return [torch.stack(tensors)]
    return [t.unsqueeze(0) for t in tensors]


class SynapticOperations(_Hooks):
    """Effective MACs, effective ACs and dense operations per sample.

    Mirrors ``SynapticOperations`` and ``single_layer_MACs``: for each call of a connection
    layer, count the (non-zero input, non-zero weight) pairs, biases excluded; the call
    counts as accumulates when every input value is 0, 1 or -1, otherwise as
    multiply-accumulates; dense counts every pair. Counts are exact integers here
    (NeuroBench sums them in float32, exact below 2**24 operations per call).
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.counters = [_LayerCounter(layer) for layer in find_layers(module, CONNECTION_LAYERS)]
        for counter in self.counters:
            self._keep(counter.layer.register_forward_pre_hook(counter.pre_hook))
        self.mac = self.ac = self.dense = 0
        self.samples = 0

    def end_batch(self, batch_size: int) -> None:
        for counter in self.counters:
            mac, ac, dense = counter.count()
            self.mac += mac
            self.ac += ac
            self.dense += dense
        self.samples += batch_size

    def result(self) -> dict[str, float]:
        if self.samples == 0:
            return {"effective_macs": 0, "effective_acs": 0, "dense_synops": 0}
        return {
            "effective_macs": self.mac / self.samples,
            "effective_acs": self.ac / self.samples,
            "dense_synops": self.dense / self.samples,
        }


class ActivationSparsity(_Hooks):
    """Fraction of zero activations over all activation layers, time steps and samples.

    Mirrors ``ActivationSparsity``: per batch, zeros / all outputs of every hooked layer;
    the run's value is NeuroBench's batch-size-weighted mean of the batch values, with its
    float arithmetic in the same order, so the numbers are identical.
    """

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.outputs: list[Tensor] = []
        types = neuron_types()
        for layer in layers:
            self._keep(layer.register_forward_hook(self._hook(neuron_type_of(layer, types))))
        self.batches: list[tuple[float, int]] = []

    def _hook(self, kind: NeuronType | None):
        """What NeuroBench's ``NeuronHook`` stores: the output, or a neuron's spikes in it."""

        def hook(layer: nn.Module, args: tuple, output: Any) -> None:
            self.outputs.append(output if kind is None else kind.spikes(layer, output))

        return hook

    def end_batch(self, batch_size: int) -> None:
        nonzero = total = 0
        for out in _stack_calls(self.outputs) if self.outputs else []:
            nonzero += int(torch.count_nonzero(out))
            total += out.numel()
        self.outputs.clear()
        self.batches.append(((total - nonzero) / total if total else 0.0, batch_size))

    def result(self) -> dict[str, float]:
        return {"activation_sparsity": _weighted_mean(self.batches)}


def _weighted_mean(batches: list[tuple[float, int]]) -> float:
    """NeuroBench's ``results[name] += (result * batch_size) / dataset_len``, same order."""
    n = sum(size for _, size in batches)
    value = 0.0
    for result, size in batches:
        value += (result * size) / n
    return value


class MembraneUpdates(_Hooks):
    """Membrane potential updates per sample (``MembraneUpdates``).

    Per neuron layer and batch: every neuron counts once at the first call, then once per
    later call in which its membrane potential changed. NeuroBench reads ``layer.mem`` of
    snnTorch neurons only; ``beyond_neurobench=True`` reads every registered neuron type
    by the same rule (SpikingJelly's ``v``, in multi-step mode through ``v_seq``; Norse's
    state), where NeuroBench reports 0.
    """

    def __init__(self, layers: list[nn.Module], *, beyond_neurobench: bool) -> None:
        super().__init__()
        types = neuron_types()
        self.layers: list[tuple[nn.Module, list[Tensor], list[Tensor]]] = []
        self.restore_steps: list[tuple[nn.Module, str, Any]] = []
        for layer in layers:
            kind = neuron_type_of(layer, types)
            if kind is not None and (beyond_neurobench or kind.neurobench_reads_membrane):
                self._watch(layer, kind)
        self.updates = 0
        self.samples = 0

    def _watch(self, layer: nn.Module, kind: NeuronType) -> None:
        pre: list[Tensor] = []
        post: list[Tensor] = []
        sequence = kind.step_sequence(layer)
        if sequence is not None:
            # One call covers all T steps: keep the per-step potentials to count changes.
            flag, steps_attribute = sequence
            self.restore_steps.append((layer, flag, getattr(layer, flag)))
            setattr(layer, flag, True)

        def pre_hook(module: nn.Module, args: tuple) -> None:
            pre.append(kind.membrane_before(module, args))

        def post_hook(module: nn.Module, args: tuple, output: Any) -> None:
            if sequence is not None:
                steps = list(getattr(module, steps_attribute).unbind(0))
                # Before step t the potential is step t-1's; before the batch's first step, none.
                pre.extend([post[-1] if post else None] + steps[:-1])  # type: ignore[list-item]
                post.extend(steps)
            else:
                post.append(kind.membrane_after(module, output))

        if sequence is None:
            self._keep(layer.register_forward_pre_hook(pre_hook))
        self._keep(layer.register_forward_hook(post_hook))
        self.layers.append((layer, pre, post))

    def end_batch(self, batch_size: int) -> None:
        for _, pre, post in self.layers:
            if len(pre) > 1:
                changed = torch.stack(pre[1:]) - torch.stack(post[1:])
                self.updates += int(torch.count_nonzero(changed))
            if post:
                self.updates += post[0].numel()
            pre.clear()
            post.clear()
        self.samples += batch_size

    def close(self) -> None:
        super().close()
        for layer, flag, stored in self.restore_steps:
            setattr(layer, flag, stored)
        self.restore_steps.clear()

    def result(self) -> dict[str, float]:
        return {"membrane_updates": self.updates / self.samples if self.samples else 0}


class ClassificationAccuracy:
    """Fraction of samples whose largest logit is the label (``ClassificationAccuracy``).

    NeuroBench takes a float32 mean per batch and weights it by batch size; the value is
    reproduced with the same arithmetic. ``correct`` and ``samples`` give the exact
    fraction for the Wilson interval.
    """

    def __init__(self) -> None:
        self.batches: list[tuple[float, int]] = []
        self.correct = 0
        self.samples = 0

    def end_batch(self, logits: Tensor, labels: Tensor) -> None:
        equal = torch.eq(logits.argmax(-1), labels)
        self.batches.append((torch.mean(equal.float()).item(), labels.shape[0]))
        self.correct += int(equal.sum())
        self.samples += labels.shape[0]

    def result(self) -> dict[str, float]:
        return {
            "accuracy": _weighted_mean(self.batches),
            "n_correct": self.correct,
            "n_samples": self.samples,
        }
