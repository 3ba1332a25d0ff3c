"""scikit-learn's handwritten digits: 1797 real 8×8 images, 10 classes, shipped offline."""

from __future__ import annotations

import numpy as np

from spikemark.datasets.base import Dataset, stratified_split


class Digits:
    name = "digits"
    version = "sklearn-load_digits-v1"
    needs_download = False

    def build(self, *, seed: int, test_fraction: float, **_: object) -> Dataset:
        from sklearn.datasets import load_digits  # slow import, needed only here

        bunch = load_digits()
        # Pixel intensities are 0..16; scale to [0, 1] so ANN activations stay O(1).
        x = (bunch.data / 16.0).astype(np.float32)
        y = bunch.target.astype(np.int64)
        x_tr, x_te, y_tr, y_te = stratified_split(x, y, test_fraction, seed)
        return Dataset(self.name, self.version, "static", [str(c) for c in range(10)], x_tr, y_tr, x_te, y_te)
