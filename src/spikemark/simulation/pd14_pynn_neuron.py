"""PD14 through PyNN on NEURON (``pyNN.neuron``): the PyNN-NEST network on another simulator.

The populations, neuron parameters, initial potentials and DC drive are those of
:class:`~spikemark.simulation.pd14_pynn.PyNNPD14` (the same PyNN calls); what PyNN cannot
express the same way on both back-ends is done here:

- Synapses: NEST draws them natively (``fixed_total_number``); NEURON has no such rule and
  PyNN's ``FixedTotalNumberConnector`` draws every synapse in a Python loop. We draw the
  same rule with NumPy — ``n`` synapses per projection, sources and targets uniform with
  replacement, autapses allowed — with weights ``N(w, 0.1·|w|)`` and delays ``N(d, 0.5·d)``
  redrawn outside the bounds the NEST versions use (sign of ``w``; delay ≥ h/2) and delays
  rounded to the time grid as NEST rounds them, then hand them to PyNN's
  ``FromListConnector`` (~16 µs per synapse here).
- Poisson background: NEST's ``poisson_generator`` sends each target its own train; on
  NEURON each neuron gets its own ``SpikeSourcePoisson`` of the generator's rate, one to one.
- Synaptic charge: NEST integrates ``iaf_psc_exp`` exactly; NEURON advances the membrane
  with the synaptic current of the start of each step (PyNN's ``ExpISyn`` decays exactly,
  ``cnexp``, but the membrane sees the value before the decay), so a PSC of amplitude ``w``
  delivers ``w·h/(1 − e^{−h/τ_syn})`` instead of ``w·τ_syn``: 10.3 % more at h = 0.1 ms,
  τ_syn = 0.5 ms, which raised every population's rate by 20-90 % and failed validation.
  Every weight is scaled by ``(τ_syn/h)(1 − e^{−h/τ_syn})`` so each PSC carries the model's
  charge (:meth:`PyNNNeuronPD14.charge_factor`; ``tests/test_simulation_backends.py``
  shows both on one neuron); with it the network passes validation against NEST.
- Spike count: NEURON has no kernel spike counter, so the neurons' spikes are always
  recorded (a NetCon record: one entry per spike, nothing per step) and the count of the
  last ``simulate`` call (``Population.get_spike_counts``) stands in for NEST's
  ``local_spike_counter``.
- Mechanisms: PyNN compiles its NMODL mechanisms with ``nrnivmodl`` on the first import of
  ``pyNN.neuron`` and keeps them in its package folder (``pyNN/neuron/nmodl``), so only the
  first import in an environment pays for it (~35-80 s). ``nrnivmodl`` is installed next
  to the Python that runs, which need not be on PATH (``snakemake`` called by its path):
  :func:`import_pynn_neuron` puts that folder first.
- Threads: PyNN 0.13's NEURON back-end runs one thread per process; a cell with more
  threads records ``skipped`` with that reason (:func:`threads_unavailable`).
"""

from __future__ import annotations

import gc
import math
import os
import sys

import numpy as np

from spikemark.errors import StageFailed
from spikemark.simulation.pd14_params import (
    DELAY_POISSON,
    DELAY_REL_STD,
    NEURON_PARAMS,
    POPULATIONS,
    WEIGHT_REL_STD,
)
from spikemark.simulation.pd14_pynn import PyNNPD14


def import_pynn_neuron():
    """``pyNN.neuron``, with ``nrnivmodl`` findable for its first-import compilation."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    import logging

    import pyNN.neuron as sim

    logging.getLogger("PyNN").setLevel(logging.ERROR)
    return sim


def threads_unavailable(backend: str, threads: int) -> str | None:
    if threads > 1:
        return f"{backend} (PyNN 0.13) runs one thread per process; this cell asks for {threads}"
    return None


def redrawn(rng: np.random.Generator, mean: float, sd: float, size: int, lo: float, hi: float) -> np.ndarray:
    """``size`` draws of N(mean, sd), every one outside [lo, hi] drawn again (as NEST's
    ``nest.math.redraw``)."""
    values = rng.normal(mean, sd, size)
    bad = (values < lo) | (values > hi)
    while bad.any():
        values[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (values < lo) | (values > hi)
    return values


class PyNNNeuronPD14(PyNNPD14):
    """The microcircuit built with PyNN on the NEURON back-end."""

    framework = "pynn-neuron"
    #: Scale weights so that every PSC carries the model's charge (see the module docstring).
    charge_preserving = True

    #: The PyNN back-end module, for messages.
    backend = "pyNN.neuron"

    def import_backend(self):
        return import_pynn_neuron()

    def setup(self) -> None:
        why = threads_unavailable(self.backend, self.cfg.threads)
        if why:
            raise StageFailed("skipped", why)
        sim = self.import_backend()
        self.sim = sim
        h = self.cfg.resolution
        sim.setup(timestep=h, min_delay=h, max_delay=100.0, native_rng_baseseed=int(self.cfg.seed))
        self.rng = np.random.default_rng(int(self.cfg.seed))
        self._counted = 0
        self.last_spike_count = 0

    def create(self) -> None:
        super().create()
        if not self.cfg.record_spikes:  # the spike count needs them (see the module docstring)
            for pop in self.pops:
                pop.record("spikes")

    def charge_factor(self) -> float:
        """Weight factor that gives each PSC the model's charge ``w·τ_syn`` under NEURON's step."""
        if not self.charge_preserving:
            return 1.0
        x = self.cfg.resolution / NEURON_PARAMS["tau_syn"]
        return (1.0 - math.exp(-x)) / x

    def _background(self) -> list:
        """One ``SpikeSourcePoisson`` per neuron at its population's generator rate."""
        sim, d = self.sim, self.derived
        return [
            sim.Population(int(d.num_neurons[i]), sim.SpikeSourcePoisson(rate=float(d.poisson_rates[i])),
                           label=f"bg_{name}")
            for i, name in enumerate(POPULATIONS)
        ]

    def connect(self) -> None:
        sim, d, h = self.sim, self.derived, self.cfg.resolution
        charge = self.charge_factor()
        self.projections = []
        for i, target in enumerate(self.pops):
            for j, source in enumerate(self.pops):
                n_syn = int(d.num_synapses[i, j])
                if n_syn <= 0:
                    continue
                w = float(d.weight_mean[i, j]) / 1000.0 * charge  # nA
                delay = float(d.delay_mean[i, j])
                bounds = (0.0, np.inf) if w >= 0 else (-np.inf, 0.0)
                weights = redrawn(self.rng, w, abs(w) * WEIGHT_REL_STD, n_syn, *bounds)
                delays = redrawn(self.rng, delay, delay * DELAY_REL_STD, n_syn, 0.5 * h, np.inf)
                delays = np.maximum(np.round(delays / h), 1.0) * h  # NEST's delays lie on the grid
                pairs = np.column_stack([
                    self.rng.integers(0, len(source), n_syn), self.rng.integers(0, len(target), n_syn), weights, delays,
                ])
                self.projections.append(sim.Projection(
                    source, target, sim.FromListConnector(pairs, column_names=["weight", "delay"]),
                    synapse_type=sim.StaticSynapse(), receptor_type="excitatory" if w >= 0 else "inhibitory",
                ))
        for gen, target in zip(self.generators, self.pops):
            self.projections.append(sim.Projection(
                gen, target, sim.OneToOneConnector(),
                synapse_type=sim.StaticSynapse(weight=d.weight_ext / 1000.0 * charge, delay=DELAY_POISSON),
                receptor_type="excitatory",
            ))

    def simulate(self, t_ms: float) -> None:
        super().simulate(t_ms)
        total = sum(sum(pop.get_spike_counts().values()) for pop in self.pops)
        self.last_spike_count, self._counted = total - self._counted, total

    def close(self) -> None:
        """End PyNN and release what can be released: PyNN's registry of projections (it keeps
        every Projection alive), its recorders and gid table. NEURON's own references keep the
        cells alive past Python's garbage collection, and a process that builds a second
        network integrates the first one's neurons along with it (slower, the counts still
        right); the Poisson sources are stopped so they send no more events. The workflow
        builds one network per job (process)."""
        super().close()
        if self.sim is None:
            return
        self.sim.simulator.state.clear()
        self.sim.simulator.initializer.clear()
        kept = self.sim.projections._projections
        ours = {id(p) for p in getattr(self, "projections", [])}
        kept[:] = [p for p in kept if id(p) not in ours]
        for pop in getattr(self, "generators", []):
            pop.set(duration=0.0)
        self.pops, self.generators, self.projections = [], [], []
        gc.collect()

    def kernel_status(self) -> dict:
        """What :func:`spikemark.simulation.run.run_pd14` reads from NEST's kernel, where NEURON
        has it: the spike count of the last ``simulate`` call and the number of connections."""
        return {
            "local_spike_counter": self.last_spike_count,
            "num_connections": int(sum(proj.size() for proj in getattr(self, "projections", []))),
        }
