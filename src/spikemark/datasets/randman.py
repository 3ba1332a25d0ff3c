"""Random-manifold spike trains: a generated spiking dataset whose classes differ in timing.

After Zenke & Vogels (2021): each class is a smooth random manifold embedded in the space
of spike times of ``n_inputs`` neurons. A sample draws a point on its class's manifold;
each input neuron then fires exactly once, at the time that point gives it. Firing rates
are identical across classes, so only the temporal structure tells them apart.
"""

from __future__ import annotations

import numpy as np

from spikemark.datasets.base import Dataset, stratified_split

#: Fourier components per smooth random function.
N_BASIS = 3


def _smooth_random_functions(rng: np.random.Generator, n_out: int, dim: int, alpha: float):
    """Parameters of ``n_out`` smooth random maps [0, 1]^dim → R."""
    amp = rng.uniform(size=(n_out, dim, N_BASIS))
    freq = rng.uniform(size=(n_out, dim, N_BASIS))
    phase = rng.uniform(size=(n_out, dim, N_BASIS))
    decay = 1.0 / np.arange(1, N_BASIS + 1) ** alpha
    return amp * decay, freq, phase


def _evaluate(params, u: np.ndarray) -> np.ndarray:
    """Evaluate the maps at points ``u`` [n_samples, dim] → [n_samples, n_out]."""
    amp, freq, phase = params
    k = np.arange(1, N_BASIS + 1)
    # [samples, out, dim, basis]
    arg = 2 * np.pi * (k * u[:, None, :, None] * freq[None] + phase[None])
    return (amp[None] * np.sin(arg)).sum(axis=(2, 3))


class Randman:
    name = "randman"
    version = "randman-v1"
    needs_download = False
    options_schema = {
        "description": "Random-manifold spike trains (Zenke & Vogels 2021) whose classes differ in spike timing.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "n_classes": {"description": "Number of classes.", "type": "integer", "minimum": 2, "default": 5},
            "n_inputs": {"description": "Input channels (neurons).", "type": "integer", "minimum": 1, "default": 40},
            "n_steps": {
                "description": "Time bins per sample (the SNN's native T).",
                "type": "integer",
                "minimum": 1,
                "default": 50,
            },
            "samples_per_class": {"description": "Samples per class.", "type": "integer", "minimum": 2, "default": 200},
            "dim_manifold": {
                "description": "Intrinsic dimension of each class manifold.",
                "type": "integer",
                "minimum": 1,
                "default": 1,
            },
            "alpha": {
                "description": "Smoothness of the random manifolds.",
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 2.0,
            },
            "seed": {
                "description": "Generator seed (the dataset is part of the benchmark definition).",
                "type": "integer",
                "default": 42,
            },
        },
        "default": {},
    }

    def build(
        self,
        *,
        seed: int,
        test_fraction: float,
        n_classes: int = 5,
        n_inputs: int = 40,
        n_steps: int = 50,
        samples_per_class: int = 200,
        dim_manifold: int = 1,
        alpha: float = 2.0,
        **_: object,
    ) -> Dataset:
        rng = np.random.default_rng(seed)
        xs, ys = [], []
        for label in range(n_classes):
            params = _smooth_random_functions(rng, n_inputs, dim_manifold, alpha)
            # Normalise each neuron's range on a dense grid so times span the whole window.
            grid = rng.uniform(size=(2000, dim_manifold))
            ref = _evaluate(params, grid)
            lo, hi = ref.min(axis=0), ref.max(axis=0)
            u = rng.uniform(size=(samples_per_class, dim_manifold))
            times = (_evaluate(params, u) - lo) / np.maximum(hi - lo, 1e-12)
            bins = np.clip(np.round(times * (n_steps - 1)), 0, n_steps - 1).astype(np.int64)
            raster = np.zeros((samples_per_class, n_steps, n_inputs), dtype=np.uint8)
            idx = np.arange(samples_per_class)[:, None]
            raster[idx, bins, np.arange(n_inputs)[None, :]] = 1
            xs.append(raster)
            ys.append(np.full(samples_per_class, label, dtype=np.int64))
        x, y = np.concatenate(xs), np.concatenate(ys)
        x_tr, x_te, y_tr, y_te = stratified_split(x, y, test_fraction, seed)
        names = [f"manifold-{c}" for c in range(n_classes)]
        return Dataset(self.name, self.version, "spikes", names, x_tr, y_tr, x_te, y_te)
