"""Model architectures, the three model kinds, and checkpoint I/O.

A model kind says how a network turns a canonical batch into class scores:

- ``ann``: a ReLU network on the flattened sample.
- ``rate_snn``: a converted SNN (IF neurons, soft reset, scales folded into thresholds
  and weights) fed the analog sample as a constant current for T steps; scores are the
  output layer's summed input over T divided by T.
- ``spiking_snn``: a directly trained SNN (LIF, surrogate gradient), multi-step; static
  samples are repeated T times (direct encoding), spike rasters are fed bin by bin;
  scores are the non-spiking readout averaged over T.

Checkpoints are plain dicts of tensors and JSON-able metadata, so they load with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from spikingjelly.activation_based import functional, layer, neuron, surrogate
from torch import Tensor, nn

from spikemark.architectures import ARCHITECTURES
from spikemark.errors import StageFailed

MODEL_KINDS = ("ann", "rate_snn", "spiking_snn")


# --------------------------------------------------------------------------- architectures


def _mlp_widths(in_features: int, hidden: list[int], n_classes: int) -> list[int]:
    return [in_features, *hidden, n_classes]


def mlp_ann(in_features: int, hidden: list[int], n_classes: int) -> nn.Sequential:
    widths = _mlp_widths(in_features, hidden, n_classes)
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_rate_snn(in_features: int, hidden: list[int], n_classes: int, thresholds: list[float]) -> nn.Sequential:
    """Converted MLP: Linear → IF(soft reset, threshold θ_i) → … → Linear (single-step)."""
    widths = _mlp_widths(in_features, hidden, n_classes)
    if len(thresholds) != len(hidden):
        raise ValueError("one threshold per hidden layer")
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(layer.Linear(a, b))
        if i < len(hidden):
            layers.append(
                neuron.IFNode(v_threshold=float(thresholds[i]), v_reset=None, surrogate_function=surrogate.ATan())
            )
    return nn.Sequential(*layers)


def mlp_spiking_snn(in_features: int, hidden: list[int], n_classes: int, tau: float = 2.0) -> nn.Sequential:
    """Directly trained MLP: Linear → LIF(hard reset) → … → Linear (multi-step).

    The readout is non-spiking: class scores are the output layer's input averaged over
    time, so sparse spike inputs (one spike per channel) still give a training signal.
    """
    widths = _mlp_widths(in_features, hidden, n_classes)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(layer.Linear(a, b))
        if i < len(hidden):
            layers.append(neuron.LIFNode(tau=tau, surrogate_function=surrogate.ATan(), detach_reset=True))
    net = nn.Sequential(*layers)
    functional.set_step_mode(net, "m")
    return net


def _cnn_features(
    input_shape: list[int] | None, channels: list[int], conv: type, pool: type, activation: Callable[[], nn.Module]
) -> tuple[list[nn.Module], int]:
    """[Conv3×3 → AvgPool2×2 → activation]… → Flatten; returns the layers and their width.

    Pooling comes before the nonlinearity, so converted and trained SNNs pass binary spikes
    (not pooled fractions) to the next convolution; average pooling is linear, so ANN-to-SNN
    conversion treats it exactly. Inputs arrive shaped ``input_shape`` (see
    :meth:`Classifier.shaped`), so SpikingJelly's converter sees a plain conv net.
    """
    if not input_shape or len(input_shape) != 3:
        raise ValueError(f"cnn needs samples shaped [channels, height, width], got {input_shape}")
    c, h, w = (int(v) for v in input_shape)
    layers: list[nn.Module] = []
    for out in channels:
        if h < 2 or w < 2:
            raise ValueError(f"cnn: {len(channels)} pooling stages do not fit a {list(input_shape)} input")
        layers += [conv(c, int(out), kernel_size=3, padding=1), pool(2), activation()]
        c, h, w = int(out), h // 2, w // 2
    layers.append(layer.Flatten() if conv is layer.Conv2d else nn.Flatten())
    return layers, c * h * w


def _dense_head(width: int, hidden: list[int], n_classes: int, linear: type, activation: Callable[[int], nn.Module | None]):
    layers: list[nn.Module] = []
    widths = [width, *hidden, n_classes]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(linear(a, b))
        if i < len(hidden):
            act = activation(i)
            if act is not None:
                layers.append(act)
    return layers


def cnn_ann(in_features: int, hidden: list[int], n_classes: int, *, input_shape: list[int], channels: list[int]) -> nn.Sequential:
    """Convolutional ReLU network (no batch norm: conversion folds need none)."""
    features, width = _cnn_features(input_shape, channels, nn.Conv2d, nn.AvgPool2d, nn.ReLU)
    return nn.Sequential(*features, *_dense_head(width, hidden, n_classes, nn.Linear, lambda i: nn.ReLU()))


def cnn_rate_snn(
    in_features: int, hidden: list[int], n_classes: int, thresholds: list[float], *, input_shape: list[int], channels: list[int]
) -> nn.Sequential:
    """Converted CNN: IF neurons (soft reset) with one threshold per conv and hidden layer."""
    if len(thresholds) != len(channels) + len(hidden):
        raise ValueError("one threshold per convolution and hidden layer")
    it = iter(thresholds)

    def if_node() -> nn.Module:
        return neuron.IFNode(v_threshold=float(next(it)), v_reset=None, surrogate_function=surrogate.ATan())

    features, width = _cnn_features(input_shape, channels, layer.Conv2d, layer.AvgPool2d, if_node)
    return nn.Sequential(*features, *_dense_head(width, hidden, n_classes, layer.Linear, lambda i: if_node()))


def cnn_spiking_snn(
    in_features: int, hidden: list[int], n_classes: int, tau: float = 2.0, *, input_shape: list[int], channels: list[int]
) -> nn.Sequential:
    """Directly trained CNN (LIF, hard reset, multi-step, non-spiking readout)."""

    def lif() -> nn.Module:
        return neuron.LIFNode(tau=tau, surrogate_function=surrogate.ATan(), detach_reset=True)

    features, width = _cnn_features(input_shape, channels, layer.Conv2d, layer.AvgPool2d, lif)
    net = nn.Sequential(*features, *_dense_head(width, hidden, n_classes, layer.Linear, lambda i: lif()))
    functional.set_step_mode(net, "m")
    return net


class RecurrentLIF(nn.Module):
    """A LIF layer with all-to-all recurrent synapses: I_t = W_in x_t + W_rec s_{t-1}.

    Takes ``[T, B, in]``, returns spikes ``[T, B, out]``.
    """

    def __init__(self, in_features: int, out_features: int, tau: float = 2.0):
        super().__init__()
        self.ff = layer.Linear(in_features, out_features)
        self.rec = layer.Linear(out_features, out_features, bias=False)
        self.node = neuron.LIFNode(tau=tau, surrogate_function=surrogate.ATan(), detach_reset=True, step_mode="s")

    def forward(self, x: Tensor) -> Tensor:
        feed = self.ff(x.flatten(0, 1)).reshape(*x.shape[:2], -1)  # all time steps at once
        spikes = torch.zeros_like(feed[0])
        out = []
        for t in range(x.shape[0]):
            spikes = self.node(feed[t] + self.rec(spikes))
            out.append(spikes)
        return torch.stack(out)


def rsnn_spiking_snn(in_features: int, hidden: list[int], n_classes: int, tau: float = 2.0) -> nn.Sequential:
    """Recurrent SNN (e.g. for SHD): RecurrentLIF layers → non-spiking Linear readout."""
    widths = [in_features, *hidden]
    layers: list[nn.Module] = [RecurrentLIF(a, b, tau) for a, b in zip(widths[:-1], widths[1:])]
    layers.append(layer.Linear(widths[-1], n_classes))
    net = nn.Sequential(*layers)
    functional.set_step_mode(net, "m")
    for m in net.modules():  # the recurrent loop steps its neurons one time step at a time
        if isinstance(m, RecurrentLIF):
            m.node.step_mode = "s"
            m.ff.step_mode = m.rec.step_mode = "s"
    return net


def build_module(meta: dict[str, Any]) -> nn.Module:
    arch = ARCHITECTURES[meta["arch"]]
    builder = arch.builder(meta["kind"])
    if builder is None:
        raise StageFailed(
            "skipped", f"architecture {arch.name} has no {meta['kind']} form (it offers {', '.join(arch.builders)})"
        )
    extra = {"thresholds": meta["thresholds"]} if meta["kind"] == "rate_snn" else {}
    extra.update({key: meta[key] for key in arch.options})
    return builder(meta["in_features"], list(meta["hidden"]), meta["n_classes"], **extra)


# --------------------------------------------------------------------------- classifiers


def flat_input(x: Tensor) -> Tensor:
    """Flatten every dimension but the batch (spike rasters become one long vector)."""
    return x.reshape(x.shape[0], -1).float()


@dataclass
class Classifier:
    """A module plus how it maps a canonical batch to class scores."""

    kind: str
    module: nn.Module
    meta: dict[str, Any]

    def scores(self, x: Tensor, timesteps: int | None = None) -> Tensor:
        if self.kind == "ann":
            return self.module(self.shaped(flat_input(x)))
        if self.kind == "rate_snn":
            return self._rate_scores(x, self._require_t(timesteps))
        return self._spiking_scores(x, timesteps)

    def _require_t(self, timesteps: int | None) -> int:
        if not timesteps or timesteps < 1:
            raise ValueError(f"{self.kind} needs a positive number of time steps")
        return timesteps

    def _rate_scores(self, x: Tensor, timesteps: int) -> Tensor:
        functional.reset_net(self.module)
        current = self.shaped(flat_input(x))
        total = self.module(current)
        for _ in range(timesteps - 1):
            total = total + self.module(current)
        functional.reset_net(self.module)
        return total / timesteps

    def shaped(self, flat: Tensor) -> Tensor:
        """Flat samples (last dim) reshaped to the architecture's input shape where it has one."""
        arch = ARCHITECTURES.get(self.meta.get("arch", "mlp"))
        if arch is None or not arch.shaped_input:
            return flat
        return flat.reshape(*flat.shape[:-1], *self.meta["input_shape"])

    def native_timesteps(self) -> int | None:
        return self.meta.get("native_timesteps")

    def _spiking_scores(self, x: Tensor, timesteps: int | None) -> Tensor:
        functional.reset_net(self.module)
        if x.dim() == 3:  # spike raster [B, time, channel] → [time, B, channel]
            seq = x.float().transpose(0, 1)
        else:
            steps = self._require_t(timesteps or self.native_timesteps())
            seq = flat_input(x).unsqueeze(0).expand(steps, -1, -1)
        rates = self.module(self.shaped(seq)).mean(dim=0)
        functional.reset_net(self.module)
        return rates

    def to(self, device: str | torch.device) -> "Classifier":
        self.module.to(device)
        return self

    def eval(self) -> "Classifier":
        self.module.eval()
        return self


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: str | Path, module: nn.Module, meta: dict[str, Any]) -> None:
    if meta.get("kind") not in MODEL_KINDS:
        raise ValueError(f"checkpoint kind must be one of {MODEL_KINDS}")
    state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": meta, "state_dict": state}, path)


def save_failure(path: str | Path, status: str, reason: str) -> None:
    """Stand in for an artefact a stage could not produce, so downstream cells learn why."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": {"status": status, "reason": reason}}, path)


class CorruptCheckpoint(RuntimeError):
    """A checkpoint file that cannot be read as one (truncated, overwritten, not ours)."""


def read_checkpoint(path: str | Path, device: str = "cpu") -> dict:
    """The checkpoint's dict, loaded with ``weights_only=True``; a file that is not a readable
    checkpoint raises :class:`CorruptCheckpoint` naming it (PyTorch's own message suggests
    ``weights_only=False``, which would run whatever the file holds)."""
    try:
        blob = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - unpickling and zip errors have many types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CorruptCheckpoint(f"corrupt checkpoint {path}: not a readable checkpoint ({first[:120]})") from None
    if not isinstance(blob, dict) or "meta" not in blob:
        raise CorruptCheckpoint(f"corrupt checkpoint {path}: no metadata in it")
    return blob


def load_checkpoint(path: str | Path, device: str = "cpu") -> Classifier:
    blob = read_checkpoint(path, device)
    meta = blob["meta"]
    if meta.get("status", "ok") != "ok":
        raise StageFailed(meta["status"], meta["reason"])
    module = build_module(meta)
    # Spiking nodes keep state tensors (v) that are not parameters; strict=False lets
    # checkpoints written after a forward pass load into fresh modules.
    missing, unexpected = module.load_state_dict(blob["state_dict"], strict=False)
    unexpected = [k for k in unexpected if not k.endswith(".v")]
    if missing or unexpected:
        raise ValueError(f"{path}: checkpoint does not match its architecture ({missing}, {unexpected})")
    module.to(device)
    return Classifier(meta["kind"], module, meta).eval()
