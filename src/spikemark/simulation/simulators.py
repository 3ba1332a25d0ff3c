"""Simulator registry: the PD14 implementations of the simulation track.

An entry names its PD14 network class (``module:Class``, imported only when a run builds
the network, so the registry is cheap to read while the Snakefile builds the DAG), says in
one line what it is (``config/README.md``), and lists the PyPI packages whose versions
provenance records. The allowed values of ``simulation.frameworks`` and
``simulation.validation.reference_framework`` come from here. Adding a simulator (e.g.
another PyNN backend) is its network class and one line in :data:`SIMULATORS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from spikemark.registry import lookup


@dataclass(frozen=True)
class Simulator:
    name: str
    description: str
    #: ``module:Class`` of the network (``setup``, ``create``, ``connect``, ``simulate``, ...).
    network: str
    packages: tuple[str, ...] = ()

    def network_class(self) -> type:
        module, _, cls = self.network.partition(":")
        return getattr(importlib.import_module(module), cls)


SIMULATORS = {
    sim.name: sim
    for sim in (
        Simulator(
            "nest", "NEST 3 through PyNEST.", "spikemark.simulation.pd14_nest:NestPD14", ("nest-simulator",)
        ),
        Simulator(
            "pynn-nest",
            "PyNN on NEST (pyNN.nest), the same network built with PyNN's populations and projections.",
            "spikemark.simulation.pd14_pynn:PyNNPD14",
            ("pynn", "nest-simulator"),
        ),
        Simulator(
            "pynn-neuron",
            "PyNN on NEURON (pyNN.neuron): the PyNN network on another simulator, synapses drawn by the same "
            "rule (one thread per process).",
            "spikemark.simulation.pd14_pynn_neuron:PyNNNeuronPD14",
            ("pynn", "neuron"),
        ),
        Simulator(
            "pynn-brian2",
            "PyNN on Brian 2 (pyNN.brian2): skipped where Brian 2 does not import (no release works with "
            "Python 3.11 and numpy 2.4).",
            "spikemark.simulation.pd14_pynn_brian2:PyNNBrian2PD14",
            ("pynn", "brian2"),
        ),
    )
}


def get(name: str) -> Simulator:
    return lookup(SIMULATORS, name, "simulator")


def network_class(name: str) -> type:
    """The PD14 network class of simulator ``name``."""
    return get(name).network_class()
