"""What a PD14 cell asks the scheduler for: memory from a fitted model of NEST's memory use.

Memory of one NEST process building PD14 is modelled as

    peak RSS = base + bytes_per_synapse * connections + bytes_per_neuron * neurons

(``connections``: the recurrent synapses plus one per neuron from its Poisson generator;
``base``: the process after importing NEST or PyNN, before any network). Over ``R`` ranks the
synapses and neurons are shared and every rank pays ``base``. The constants come from
``benchmarks/pd14_memory.py`` (peak RSS at two small scales, 1 thread; see
:data:`MEMORY_MODELS`); the model's value at full scale is an extrapolation over a factor
~25 in connections, so requests carry :data:`HEADROOM`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from spikemark.simulation.pd14_params import PD14Config, derive


@dataclass(frozen=True)
class MemoryModel:
    """Peak RSS of one run, in bytes: ``base * ranks + per_synapse * S + per_neuron * N``."""

    base_bytes: float
    bytes_per_synapse: float
    bytes_per_neuron: float

    def peak_bytes(self, connections: float, neurons: float, ranks: int = 1) -> float:
        return self.base_bytes * ranks + self.bytes_per_synapse * connections + self.bytes_per_neuron * neurons


def network_size(n_scaling: float, k_scaling: float) -> tuple[int, int]:
    """(connections, neurons) of PD14 at a scale, as NEST counts connections (Poisson drive)."""
    d = derive(PD14Config(N_scaling=n_scaling, K_scaling=k_scaling))
    return d.total_synapses + d.total_neurons, d.total_neurons


def fit_memory_model(points: Sequence[dict]) -> MemoryModel:
    """Least-squares fit of the network's memory over ``points`` of one framework.

    Each point: ``connections``, ``neurons``, ``base_rss`` (bytes before the network) and
    ``peak_rss`` (bytes, peak of the run). With two points of different N/K ratios the fit is
    exact; more points make it a least-squares fit.
    """
    if len(points) < 2:
        raise ValueError("the fit needs at least two scales")
    design = np.array([[p["connections"], p["neurons"]] for p in points], dtype=float)
    target = np.array([p["peak_rss"] - p["base_rss"] for p in points], dtype=float)
    (per_synapse, per_neuron), *_ = np.linalg.lstsq(design, target, rcond=None)
    base = float(np.mean([p["base_rss"] for p in points]))
    return MemoryModel(base_bytes=base, bytes_per_synapse=float(per_synapse), bytes_per_neuron=float(per_neuron))


#: Fitted by ``benchmarks/pd14_memory.py --scales 0.1 0.2 0.2:0.1 --frameworks nest pynn-nest``
#: (NEST 3.10.0 PyPI wheel, PyNN 0.13.0, 1 thread; every point within 2 MiB of its fit).
#: PyNN's synapses are larger: it labels each one (``synapse_label``). Full scale
#: (EXTRAPOLATION): ~11.7 GiB peak RSS on NEST, ~14.1 GiB on PyNN-NEST. Re-run after an upgrade.
MEMORY_MODELS: dict[str, MemoryModel] = {
    "nest": MemoryModel(base_bytes=1.367e8, bytes_per_synapse=39.99, bytes_per_neuron=6200.0),
    "pynn-nest": MemoryModel(base_bytes=1.623e8, bytes_per_synapse=47.87, bytes_per_neuron=9301.0),
}
#: Requests are the model's peak times this: the full-scale value is an extrapolation, and a
#: scheduler kills a job that exceeds its request.
HEADROOM = 1.25


def sim_mem_mb(n_scaling: float, k_scaling: float, framework: str = "nest", ranks: int = 1) -> int:
    """Memory (MB) to request for one PD14 cell: all its ranks together, with headroom."""
    if framework not in MEMORY_MODELS:
        raise ValueError(f"framework must be one of {sorted(MEMORY_MODELS)}, not {framework!r}")
    connections, neurons = network_size(n_scaling, k_scaling)
    peak = MEMORY_MODELS[framework].peak_bytes(connections, neurons, ranks=int(ranks))
    return int(np.ceil(peak * HEADROOM / 1e6))
