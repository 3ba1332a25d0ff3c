"""What the NIR targets (snnTorch, Norse) share: export to NIR, and a classifier that
steps an imported network through time with the same input protocol and score rule as
the source model (:mod:`spikemark.models`).

Export: SpikingJelly 2.0's ``nir_exchange.export_to_nir`` maps our surrogate-trained
``spiking_snn`` (Linear → LIF(hard reset) → … → Linear) to the NIR graph
``Input → Affine → LIF → … → Affine → Output``; the last Affine is the non-spiking readout.
SpikingJelly's LIF (``decay_input=True``, ``tau``) becomes ``nir.LIF(tau=tau·dt, r=1,
v_leak=v_reset)``; importers must use the same ``dt`` (:data:`NIR_DT`) to recover the
discrete dynamics. Converted SNNs (soft reset) cannot go through NIR (it has no soft reset).

CNNs (``arch: cnn``, Conv2d → AvgPool2d → LIF … → Flatten → Linear/LIF → Linear) are
exported from an example shaped ``[T, B, *input_shape]`` (SpikingJelly infers every node's
shape from it) and become ``Conv2d → AvgPool2d → LIF … → Flatten → Affine …``. Two
things about these nodes are repaired here, both without changing what is computed:

- SpikingJelly writes ``AvgPool2d.kernel_size/stride/padding`` as scalars; NIR declares
  them (height, width) arrays and snnTorch 1.0's importer calls ``tuple()`` on them, so
  :func:`export_nir` writes them as two-element arrays (:func:`pooling_as_pairs`).
- NIR's ``Flatten.start_dim/end_dim`` count dimensions without the batch (SpikingJelly
  exports ``start_dim=0`` for a ``[C, H, W]`` input), but snnTorch 1.0 and Norse 1.1 both
  import it as ``torch.nn.Flatten(start_dim, end_dim)`` applied to batched tensors, which
  would flatten the batch into the features. :func:`batch_flatten` shifts the imported
  modules' dims past the batch.

A node type an importer cannot map is a skipped cell naming the node
(:func:`unsupported_node_reason`), never a network silently missing a layer: Norse's importer
returns nothing for node types it does not know and its graph executor then skips them.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor, nn

from spikemark.errors import StageFailed
from spikemark.models import Classifier, flat_input, load_checkpoint

#: Time step (s) of the NIR export and of every import (SpikingJelly's and snnTorch's default).
NIR_DT = 1e-4


def load_source(checkpoint: str | Path) -> Classifier:
    """The pruned SpikingJelly model, on the CPU (export reads its weights)."""
    return load_checkpoint(checkpoint, "cpu")


def export_nir(source: Classifier):
    """NIR graph of a surrogate-trained SNN (multi-step SpikingJelly network)."""
    from spikingjelly.activation_based import functional
    from spikingjelly.activation_based.nir_exchange import export_to_nir

    if source.kind != "spiking_snn":
        raise ValueError(f"only spiking_snn models go through NIR, not {source.kind}")
    # [T=2, B=1, features], reshaped to [T, B, *input_shape] for a CNN
    example = source.shaped(torch.zeros(2, 1, int(source.meta["in_features"])))
    functional.reset_net(source.module)
    graph = export_to_nir(source.module, example, dt=NIR_DT)
    functional.reset_net(source.module)
    pooling_as_pairs(graph)
    return graph


def pooling_as_pairs(graph) -> None:
    """Write pooling nodes' kernel_size/stride/padding as (height, width) arrays, as NIR
    declares them (SpikingJelly exports ``nn.AvgPool2d``'s scalars as they are)."""
    import nir
    import numpy as np

    for node in graph.nodes.values():
        if isinstance(node, (nir.AvgPool2d, nir.SumPool2d)):
            for name in ("kernel_size", "stride", "padding"):
                value = np.asarray(getattr(node, name))
                setattr(node, name, np.broadcast_to(value, (2,)).copy() if value.ndim == 0 else value)


def batch_flatten(module: nn.Module, graph) -> nn.Module:
    """Make the imported ``torch.nn.Flatten`` of every ``nir.Flatten`` node keep the batch.

    NIR's flatten dims exclude the batch; the importers copy them to ``torch.nn.Flatten``
    unchanged, which runs on batched tensors. Non-negative dims are shifted by one (negative
    ones count from the end and are right as they are). A Flatten whose dims no longer equal
    the node's was already imported batch-aware and is left alone.
    """
    import nir

    modules = dict(module.named_modules())
    for name, node in graph.nodes.items():
        if not isinstance(node, nir.Flatten):
            continue
        flatten = modules.get(name) or modules.get(name.replace(".", "_"))
        if not isinstance(flatten, nn.Flatten):
            raise RuntimeError(f"imported network has no torch Flatten for NIR node {name!r}")
        if (flatten.start_dim, flatten.end_dim) == (node.start_dim, node.end_dim):
            flatten.start_dim += 1 if flatten.start_dim >= 0 else 0
            flatten.end_dim += 1 if flatten.end_dim >= 0 else 0
    return module


def unsupported_node_reason(graph, library: str, can_import: Callable[[Any], bool]) -> str | None:
    """Why ``library`` cannot run ``graph``: the NIR node types ``can_import`` rejects."""
    import nir

    def nodes(g):  # sub-graphs (recurrent blocks) are imported node by node as well
        for n in g.nodes.values():
            if isinstance(n, nir.NIRGraph):
                yield from nodes(n)
            elif not isinstance(n, (nir.Input, nir.Output)):
                yield n

    missing = sorted({f"nir.{type(n).__name__}" for n in nodes(graph) if not can_import(n)})
    if not missing:
        return None
    return f"{library} cannot import NIR node {', '.join(missing)} (exported by SpikingJelly)"


def skip_unless_importable(graph, library: str, can_import: Callable[[Any], bool]) -> None:
    reason = unsupported_node_reason(graph, library, can_import)
    if reason:
        raise StageFailed("skipped", reason)


@contextlib.contextmanager
def quiet():
    """Importers print progress and warnings to stdout; keep job logs readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


class SteppedClassifier(Classifier):
    """A :class:`Classifier` whose module is advanced one time step per call.

    ``step(x_t) -> out_t`` runs one step (state kept by the runtime or by ``step``
    itself); ``reset()`` returns every neuron to its initial state. Scores follow the
    source kind: ``rate_snn`` sums the readout over T constant-current steps and divides
    by T; ``spiking_snn`` averages the readout over the input sequence. Every step's input
    is shaped like the source model's (:meth:`Classifier.shaped`: ``[B, *input_shape]`` for
    a CNN, flat otherwise).
    """

    def __init__(self, kind: str, module: nn.Module, meta: dict[str, Any], *,
                 step: Callable[[Tensor], Tensor], reset: Callable[[], None]):
        super().__init__(kind, module, meta)
        self.step = step
        self.reset = reset

    def _run(self, steps) -> Tensor:
        self.reset()
        total = None
        n = 0
        for x_t in steps:
            out = self.step(x_t)
            total = out if total is None else total + out
            n += 1
        self.reset()
        return total / n

    def _rate_scores(self, x: Tensor, timesteps: int) -> Tensor:
        current = self.shaped(flat_input(x))  # [B, *input_shape] for a CNN
        return self._run(current for _ in range(timesteps))

    def _spiking_scores(self, x: Tensor, timesteps: int | None) -> Tensor:
        if x.dim() == 3:  # spike raster [B, time, channel]: bin by bin
            seq = x.float().transpose(0, 1)
        else:
            steps = self._require_t(timesteps or self.native_timesteps())
            seq = flat_input(x).unsqueeze(0).expand(steps, -1, -1)
        return self._run(iter(self.shaped(seq)))  # each step [B, *input_shape] for a CNN
