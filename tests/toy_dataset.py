"""A toy dataset, registered by one line in the tests that use it (``REGISTRY[TOY.name] = TOY``).

Two Gaussian blobs as static samples, its options declared as ``options_schema``: what a
new dataset brings, and nothing more, to be found in the schema, the docs and the plan.
"""

from __future__ import annotations

import numpy as np

from spikemark.datasets.base import Dataset


class ToyBlobs:
    name = "toy_blobs"
    version = "toy-blobs-v1"
    needs_download = False
    options_schema = {
        "description": "Two Gaussian blobs in 4 dimensions (a test's toy dataset).",
        "properties": {
            "n_samples": {
                "description": "Samples per class.",
                "type": "integer",
                "minimum": 4,
                "default": 20,
            },
        },
    }

    def build(self, *, seed: int, test_fraction: float, n_samples: int = 20) -> Dataset:
        rng = np.random.default_rng(seed)
        x = np.concatenate([rng.normal(-1, 0.3, (n_samples, 4)), rng.normal(1, 0.3, (n_samples, 4))]).astype(
            np.float32
        )
        y = np.repeat(np.arange(2), n_samples).astype(np.int64)
        order = rng.permutation(len(y))
        n_test = max(1, int(round(test_fraction * len(y))))
        test, train = order[:n_test], order[n_test:]
        return Dataset(
            self.name, self.version, "static", ["low", "high"], x[train], y[train], x[test], y[test]
        )


TOY = ToyBlobs()
