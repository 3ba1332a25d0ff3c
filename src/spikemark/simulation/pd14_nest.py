"""PD14 in PyNEST (NEST 3 API).

The phases are separate methods so that :mod:`spikemark.simulation.run` can time each one:
``setup`` (kernel reset), ``create`` (nodes), ``connect`` (synapses, and NEST's preparation
of the presynaptic connection infrastructure, as the reference implementation does so that
construction time includes it) and ``simulate``.
"""

from __future__ import annotations

import numpy as np

from spikemark.simulation.pd14_params import (
    DELAY_POISSON,
    DELAY_REL_STD,
    NEURON_MODEL,
    NEURON_PARAMS,
    POPULATIONS,
    V0_MEAN,
    V0_STD,
    WEIGHT_REL_STD,
    PD14Config,
    derive,
)

#: Per population: (neuron indices within the population, spike times in ms).
SpikeData = dict[str, tuple[np.ndarray, np.ndarray]]


def synapse_model(source: str) -> str:
    """The NEST synapse model of the connections from population ``source``."""
    return f"static_synapse_from_{source}"


def import_nest():
    """Import NEST quietly (the banner still prints once per process)."""
    import nest

    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # older NEST
        nest.set_verbosity("M_ERROR")
    return nest


#: Keys of the kernel's status that say how the last run was parallelised.
KERNEL_KEYS = ("local_num_threads", "num_processes", "total_num_virtual_procs", "rng_type", "resolution")
#: The kernel status of the last network this process ran, read before the kernel was reset
#: (afterwards NEST reports its defaults: 1 thread); provenance records it.
last_kernel: dict = {}


def remember_kernel(nest) -> None:
    """Keep how the current network ran (threads, processes) before a reset forgets it."""
    try:
        last_kernel.clear()
        last_kernel.update(zip(KERNEL_KEYS, nest.GetKernelStatus(list(KERNEL_KEYS))))
    except Exception:  # noqa: BLE001 - provenance never fails a run
        pass


class NestPD14:
    """The microcircuit built with PyNEST."""

    framework = "nest"

    def __init__(self, cfg: PD14Config):
        self.cfg = cfg
        self.derived = derive(cfg)
        self.nest = import_nest()
        self.pops: list = []
        self.recorders = None
        self.generators = None
        self.t_simulated = 0.0

    # -- phases -------------------------------------------------------------------------------
    def setup(self) -> None:
        nest = self.nest
        nest.ResetKernel()
        nest.SetKernelStatus(
            {
                "local_num_threads": self.cfg.threads,
                "rng_seed": int(self.cfg.seed),
                "resolution": self.cfg.resolution,
                "print_time": False,
            }
        )

    def create(self) -> None:
        nest, d = self.nest, self.derived
        self.pops = []
        for i in range(len(POPULATIONS)):
            pop = nest.Create(NEURON_MODEL, int(d.num_neurons[i]))
            pop.set(
                C_m=NEURON_PARAMS["C_m"],
                tau_m=NEURON_PARAMS["tau_m"],
                tau_syn_ex=NEURON_PARAMS["tau_syn"],
                tau_syn_in=NEURON_PARAMS["tau_syn"],
                t_ref=NEURON_PARAMS["t_ref"],
                E_L=NEURON_PARAMS["E_L"],
                V_reset=NEURON_PARAMS["V_reset"],
                V_th=NEURON_PARAMS["V_th"],
                I_e=float(d.dc_amp[i]),
            )
            pop.set(V_m=nest.random.normal(mean=float(V0_MEAN[i]), std=float(V0_STD[i])))
            self.pops.append(pop)
        if self.cfg.drive == "poisson":
            self.generators = nest.Create("poisson_generator", len(POPULATIONS))
            self.generators.set(rate=[float(r) for r in d.poisson_rates])
        if self.cfg.record_spikes:
            self.recorders = nest.Create("spike_recorder", len(POPULATIONS), params={"record_to": "memory"})

    def connect(self) -> None:
        nest, d = self.nest, self.derived
        h = self.cfg.resolution
        # One synapse model per source population: NEST holds at most 2**27 - 2 connections
        # per virtual process and synapse model, and the full-scale network's ~3e8 synapses
        # in one model exceed that below 3 virtual processes (seen: full scale, 2 threads).
        # Static copies of `static_synapse` change nothing else.
        for name in POPULATIONS:
            if synapse_model(name) not in nest.synapse_models:
                nest.CopyModel("static_synapse", synapse_model(name))
        for i, target in enumerate(self.pops):
            for j, source in enumerate(self.pops):
                n_syn = int(d.num_synapses[i, j])
                if n_syn <= 0:
                    continue
                w = float(d.weight_mean[i, j])
                w_min, w_max = (0.0, np.inf) if w >= 0 else (-np.inf, 0.0)
                delay = float(d.delay_mean[i, j])
                nest.Connect(
                    source,
                    target,
                    conn_spec={"rule": "fixed_total_number", "N": n_syn},
                    syn_spec={
                        "synapse_model": synapse_model(POPULATIONS[j]),
                        "weight": nest.math.redraw(
                            nest.random.normal(mean=w, std=abs(w) * WEIGHT_REL_STD), min=w_min, max=w_max
                        ),
                        # delays are rounded to the grid: redrawing below h/2 keeps them >= h
                        "delay": nest.math.redraw(
                            nest.random.normal(mean=delay, std=delay * DELAY_REL_STD), min=0.5 * h, max=np.inf
                        ),
                    },
                )
        for i, target in enumerate(self.pops):
            if self.generators is not None:
                nest.Connect(
                    self.generators[i],
                    target,
                    conn_spec={"rule": "all_to_all"},
                    syn_spec={"synapse_model": "static_synapse", "weight": d.weight_ext, "delay": DELAY_POISSON},
                )
            if self.recorders is not None:
                nest.Connect(target, self.recorders[i])
        nest.Prepare()
        nest.Cleanup()

    def simulate(self, t_ms: float) -> None:
        self.nest.Simulate(float(t_ms))
        self.t_simulated += float(t_ms)

    # -- read-outs ----------------------------------------------------------------------------
    def spikes(self) -> SpikeData:
        """Recorded spikes per population (requires ``record_spikes``)."""
        if self.recorders is None:
            raise RuntimeError("spikes were not recorded (record_spikes=False)")
        out: SpikeData = {}
        for name, pop, rec in zip(POPULATIONS, self.pops, self.recorders):
            ev = rec.get("events")
            first = pop[0].global_id
            out[name] = (np.asarray(ev["senders"], dtype=np.int64) - first, np.asarray(ev["times"], dtype=float))
        return out

    def population_sizes(self) -> dict[str, int]:
        return {name: len(pop) for name, pop in zip(POPULATIONS, self.pops)}

    def recurrent_connections(self) -> np.ndarray:
        """Connections actually made, [target, source] (reads them back: slow at large scale)."""
        nest = self.nest
        counts = np.zeros((len(POPULATIONS), len(POPULATIONS)), dtype=int)
        for j, source in enumerate(self.pops):
            conns = nest.GetConnections(source=source)
            if len(conns) == 0:
                continue
            targets = np.asarray(conns.get("target"))
            for i, target in enumerate(self.pops):
                lo, hi = target[0].global_id, target[-1].global_id
                counts[i, j] = int(((targets >= lo) & (targets <= hi)).sum())
        return counts

    def kernel_status(self) -> dict:
        return self.nest.GetKernelStatus()

    def close(self) -> None:
        remember_kernel(self.nest)
        self.nest.ResetKernel()
