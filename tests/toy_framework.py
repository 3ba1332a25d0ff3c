"""A toy framework without torch, registered by one line (``FRAMEWORKS[TOY.name] = TOY``).

Its latency workload is the benchmark's Linear + LIF layer in plain NumPy: a library that
is not torch fits the contract (:mod:`spikemark.frameworks.workload`) as Spyx (JAX) must.
The "backward" is a stand-in (a straight-through gradient of the summed spikes with
respect to the weights), enough for the benchmark to time a second half of a step.
"""

from __future__ import annotations

import numpy as np

from spikemark.frameworks.base import Framework, NeuronType


class ToyNeuron:
    """The toy library's neuron class (what its models would be made of)."""


class NumpyLifWorkload:
    backend = "numpy"
    variant = "eager"

    def __init__(self, spec):
        rng = np.random.default_rng(spec.seed)
        self.x = spec.inputs
        self.tau = spec.tau
        self.weight = (
            spec.weight if spec.weight is not None else rng.normal(0, spec.size**-0.5, (spec.size, spec.size))
        )
        self.bias = spec.bias if spec.bias is not None else np.zeros(spec.size)
        self.synchronized = 0

    def inference(self):
        current = self.x @ self.weight.T + self.bias
        v = np.zeros(current.shape[1:])
        spikes = np.empty_like(current)
        for t, i_t in enumerate(current):
            v = v + (i_t - v) / self.tau
            spikes[t] = v >= 1.0
            v = np.where(spikes[t] > 0, 0.0, v)
        return spikes

    def forward(self):
        return self.inference()

    def backward(self, spikes):
        self.grad = spikes.sum(axis=(0, 1))[:, None] * self.x.sum(axis=(0, 1))[None, :]

    def synchronize(self):
        self.synchronized += 1

    def reset_peak_memory(self):
        pass

    def peak_device_memory(self):
        return None

    def compiled(self):
        return None

    def as_numpy(self, spikes):
        return np.asarray(spikes)

    def close(self):
        pass


class ToyFramework(Framework):
    name = "toy-numpy"
    description = "A NumPy LIF layer (a test's toy framework)."
    kinds = ("spiking_snn",)
    packages = ("numpy",)
    neurons = (NeuronType(__name__, "ToyNeuron", membrane="v"),)

    def latency_workload(self, spec):
        return NumpyLifWorkload(spec)


TOY = ToyFramework()
