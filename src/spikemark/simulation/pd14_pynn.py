"""PD14 through PyNN on NEST (``pyNN.nest``, ``spike_precision='on_grid'``).

The same network as :mod:`spikemark.simulation.pd14_nest`, built with PyNN's Population /
Projection API. Two PyNN details would otherwise change the network or make it unusably slow:

- PyNN 0.13's ``FixedTotalNumberConnector`` draws every synapse in a Python loop (hours for
  ten million synapses) and its NEST backend cannot clip native random distributions. We
  use a small subclass that hands the rule to NEST (``fixed_total_number``, the same pattern
  PyNN's own ``FixedProbabilityConnector`` uses for native RNGs) and redraws weights and
  delays to the same bounds as the PyNEST version.
- After every ``nest.Connect`` PyNN reads all connections of the new projection back into a
  Python set of source ids (``Projection._connect``), only to scope later queries of the
  projection. At N = K = 0.2 (12 M synapses) that took 265 of 284 s of construction on the
  loaded 2-core development machine, against 16 s in ``nest.Connect`` itself. By default
  our connector registers the whole presynaptic population as the projection's sources
  instead (a superset: later queries still filter by the projection's synapse label), so
  the construction time measures PyNN's front end and NEST, not that read-back;
  ``PD14Config.extra['pynn_stock_bookkeeping'] = True`` (config key
  ``simulation.pynn_stock_bookkeeping``) restores PyNN's own behaviour.
- PyNN's spike sources sit behind parrot neurons, so one generator would send the *same*
  spike train to every target. PD14's background is independent per neuron: we use NEST's
  ``poisson_generator`` as a native cell type without parrots, which is what PyNEST does.

Units: PyNN uses nA and nF; weights and currents are converted from the pA of
:mod:`pd14_params`.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from spikemark.simulation.pd14_nest import SpikeData, import_nest, remember_kernel
from spikemark.simulation.pd14_params import (
    DELAY_POISSON,
    DELAY_REL_STD,
    NEURON_PARAMS,
    POPULATIONS,
    V0_MEAN,
    V0_STD,
    WEIGHT_REL_STD,
    PD14Config,
    derive,
)


def _pynn():
    import_nest()
    import logging

    import pyNN.nest as sim
    from pyNN.connectors import FixedTotalNumberConnector
    from pyNN.nest.connectors import AllToAllConnector, NESTConnectorMixin

    # PyNN logs a warning per native random distribution; they are expected here.
    logging.getLogger("PyNN").setLevel(logging.ERROR)

    return sim, AllToAllConnector, FixedTotalNumberConnector, NESTConnectorMixin


def _connector_classes():
    sim, AllToAll, FixedTotal, Mixin = _pynn()
    nest = import_nest()

    class NativeFixedTotalNumberConnector(FixedTotal, Mixin):
        """``FixedTotalNumberConnector`` executed by NEST, with bounded weights and delays."""

        def __init__(self, n: int, *, weight_bounds: tuple[float, float], min_delay: float, stock: bool = False):
            super().__init__(int(n), allow_self_connections=True, with_replacement=True)
            self.weight_bounds = weight_bounds
            self.min_delay = min_delay
            self.stock = stock

        def connect(self, projection):
            syn = self.synapse_parameters(projection)
            lo, hi = self.weight_bounds
            syn["weight"] = nest.math.redraw(syn["weight"], min=lo, max=hi)
            syn["delay"] = nest.math.redraw(syn["delay"], min=self.min_delay, max=np.inf)
            rule = {"rule": "fixed_total_number", "N": int(self.n), "allow_autapses": True, "allow_multapses": True}
            if self.stock:
                projection._connect(rule, syn)
                return
            # Projection._connect without reading every new connection back (see module doc)
            syn["synapse_label"] = projection.nest_synapse_label
            nest.Connect(projection.pre.node_collection, projection.post.node_collection, rule, syn)
            projection._simulator.state.stale_connection_cache = True
            projection._sources.update(projection.pre.node_collection.tolist())

    class NativeAllToAllConnector(AllToAll, Mixin):
        """``AllToAllConnector`` executed by NEST in one call (PyNN does so only for random weights)."""

        def connect(self, projection):
            self.native_connect(projection)

    return NativeFixedTotalNumberConnector, NativeAllToAllConnector


class PyNNPD14:
    """The microcircuit built with PyNN on the NEST backend."""

    framework = "pynn-nest"

    def __init__(self, cfg: PD14Config):
        self.cfg = cfg
        self.derived = derive(cfg)
        self.sim = None
        self.pops: list = []
        self.t_simulated = 0.0

    def setup(self) -> None:
        sim, *_ = _pynn()
        self.sim = sim
        sim.setup(
            timestep=self.cfg.resolution,
            min_delay=self.cfg.resolution,
            threads=self.cfg.threads,
            rng_seed=int(self.cfg.seed),
            spike_precision="on_grid",
            verbosity="error",
        )

    def create(self) -> None:
        sim, d = self.sim, self.derived
        from pyNN.random import NumpyRNG, RandomDistribution

        # Initial potentials: PyNN draws them in Python; seeded from the run's seed.
        rng = NumpyRNG(seed=int(self.cfg.seed) * 1000 + 17)
        self.pops = []
        for i, name in enumerate(POPULATIONS):
            cell = sim.IF_curr_exp(
                cm=NEURON_PARAMS["C_m"] / 1000.0,
                tau_m=NEURON_PARAMS["tau_m"],
                tau_syn_E=NEURON_PARAMS["tau_syn"],
                tau_syn_I=NEURON_PARAMS["tau_syn"],
                tau_refrac=NEURON_PARAMS["t_ref"],
                v_rest=NEURON_PARAMS["E_L"],
                v_reset=NEURON_PARAMS["V_reset"],
                v_thresh=NEURON_PARAMS["V_th"],
                i_offset=float(d.dc_amp[i]) / 1000.0,
            )
            pop = sim.Population(int(d.num_neurons[i]), cell, label=name)
            pop.initialize(v=RandomDistribution("normal", mu=float(V0_MEAN[i]), sigma=float(V0_STD[i]), rng=rng))
            if self.cfg.record_spikes:
                pop.record("spikes")
            self.pops.append(pop)
        self.generators = self._background() if self.cfg.drive == "poisson" else []

    def _background(self) -> list:
        """The Poisson background: one NEST ``poisson_generator`` per population (each target
        draws its own train), connected all-to-all in :meth:`_connect_projections`."""
        sim, d = self.sim, self.derived
        native = sim.native_cell_type("poisson_generator")
        direct = type("poisson_generator_direct", (native,), {"uses_parrot": False})
        return [
            sim.Population(1, direct(rate=float(d.poisson_rates[i])), label=f"bg_{name}")
            for i, name in enumerate(POPULATIONS)
        ]

    def connect(self) -> None:
        sim = self.sim
        Fixed, AllToAll = _connector_classes()
        # PyNN prints a line per scaled native distribution ("Multiplying parameter ..."):
        # keep the job log readable.
        with contextlib.redirect_stdout(io.StringIO()):
            self._connect_projections(Fixed, AllToAll)
        # Same as PyNEST: build NEST's presynaptic infrastructure inside construction. PyNN
        # connects its recorders lazily at the first run, so do that first.
        state = sim.simulator.state
        for device in state.recording_devices:
            if not device._connected:
                device.connect_to_cells()
                device._local_files_merged = False
        nest = import_nest()
        nest.Prepare()
        nest.Cleanup()

    def _connect_projections(self, Fixed, AllToAll) -> None:
        sim, d = self.sim, self.derived
        from pyNN.random import RandomDistribution
        from pyNN.nest.random import NativeRNG

        native = NativeRNG()
        h = self.cfg.resolution
        stock = bool(self.cfg.extra.get("pynn_stock_bookkeeping", False))
        self.projections = []
        for i, target in enumerate(self.pops):
            for j, source in enumerate(self.pops):
                n_syn = int(d.num_synapses[i, j])
                if n_syn <= 0:
                    continue
                w = float(d.weight_mean[i, j]) / 1000.0  # nA
                delay = float(d.delay_mean[i, j])
                syn = sim.StaticSynapse(
                    weight=RandomDistribution("normal", mu=w, sigma=abs(w) * WEIGHT_REL_STD, rng=native),
                    delay=RandomDistribution("normal", mu=delay, sigma=delay * DELAY_REL_STD, rng=native),
                )
                bounds = (0.0, np.inf) if w >= 0 else (-np.inf, 0.0)
                proj = sim.Projection(
                    source,
                    target,
                    Fixed(n_syn, weight_bounds=bounds, min_delay=0.5 * h, stock=stock),
                    synapse_type=syn,
                    receptor_type="excitatory" if w >= 0 else "inhibitory",
                )
                self.projections.append(proj)
        for gen, target in zip(self.generators, self.pops):
            self.projections.append(
                sim.Projection(
                    gen,
                    target,
                    AllToAll(),
                    synapse_type=sim.StaticSynapse(weight=d.weight_ext / 1000.0, delay=DELAY_POISSON),
                    receptor_type="excitatory",
                )
            )

    def simulate(self, t_ms: float) -> None:
        self.sim.run(float(t_ms))
        self.t_simulated += float(t_ms)

    def spikes(self) -> SpikeData:
        if not self.cfg.record_spikes:
            raise RuntimeError("spikes were not recorded (record_spikes=False)")
        out: SpikeData = {}
        for name, pop in zip(POPULATIONS, self.pops):
            # This process's neurons only, as PyNEST's recorders give them: over MPI ranks,
            # spikemark.simulation.mpi merges the ranks (PyNN's own gather needs mpi4py).
            block = pop.get_data("spikes", gather=False, clear=False)
            idx, times = [], []
            for st in block.segments[0].spiketrains:
                t = np.asarray(st.magnitude, dtype=float)
                idx.append(np.full(t.size, int(st.annotations["source_index"]), dtype=np.int64))
                times.append(t)
            out[name] = (
                np.concatenate(idx) if idx else np.zeros(0, dtype=np.int64),
                np.concatenate(times) if times else np.zeros(0),
            )
        return out

    def population_sizes(self) -> dict[str, int]:
        return {name: pop.size for name, pop in zip(POPULATIONS, self.pops)}

    def recurrent_connections(self) -> np.ndarray:
        counts = np.zeros((len(POPULATIONS), len(POPULATIONS)), dtype=int)
        for proj in self.projections:
            if proj.pre.label in POPULATIONS:
                counts[POPULATIONS.index(proj.post.label), POPULATIONS.index(proj.pre.label)] = proj.size()
        return counts

    def kernel_status(self) -> dict:
        return import_nest().GetKernelStatus()

    def close(self) -> None:
        if self.sim is not None:
            remember_kernel(import_nest())
            self.sim.end()
