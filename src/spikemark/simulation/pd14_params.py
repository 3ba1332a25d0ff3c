"""Parameters of the Potjans & Diesmann (2014) cortical microcircuit, and what follows from them.

Values are the published ones (Potjans & Diesmann 2014, Cerebral Cortex 24:785, Tables 4-5),
with the population-specific initial membrane potentials of the model's reference
implementation (INM-6 microcircuit-PD14-model, ``V0_type = 'optimized'``), which shorten the
initial transient. The mean full-scale rates used for DC compensation when indegrees are
scaled down are those of that reference implementation (also in ``reference/pd14_rates.csv``).

Indices: matrices are ``[target, source]``, populations in the order of :data:`POPULATIONS`.
Units: mV, ms, pA, pF, spikes/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from spikemark.matrix import parse_scale, scale_label  # noqa: F401 - the one parser of scale labels

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
EXCITATORY = tuple(p.endswith("E") for p in POPULATIONS)

#: Neurons per population at full scale (77,169 in all).
FULL_NUM_NEURONS = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])

#: Connection probabilities, rows = target, columns = source (paper, Table 5).
CONN_PROBS = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
    ]
)

#: External (cortico-cortical background) indegrees per target population.
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: Rate of each external source (spikes/s).
BG_RATE = 8.0

#: Mean excitatory PSP amplitude (mV) and relative SD of all weights.
PSP_EXC_MEAN = 0.15
WEIGHT_REL_STD = 0.1
#: Relative inhibitory strength.
G = -4.0
#: The L4E -> L23E connection has twice the mean excitatory PSP (paper, section "Model").
L4E_TO_L23E_FACTOR = 2.0

#: Mean delays (ms) by source type, relative SD, and the delay of the external input.
DELAY_EXC_MEAN = 1.5
DELAY_INH_MEAN = 0.75
DELAY_REL_STD = 0.5
DELAY_POISSON = 1.5

#: iaf_psc_exp parameters (paper, Table 4).
NEURON_MODEL = "iaf_psc_exp"
NEURON_PARAMS = {
    "C_m": 250.0,  # pF
    "tau_m": 10.0,  # ms
    "tau_syn": 0.5,  # ms, excitatory and inhibitory
    "t_ref": 2.0,  # ms
    "E_L": -65.0,  # mV
    "V_reset": -65.0,  # mV
    "V_th": -50.0,  # mV
}

#: Optimised initial membrane potentials: mean and SD of a normal distribution per population.
V0_MEAN = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])
V0_STD = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])

#: Full-scale mean rates (spikes/s) of the reference PyNEST implementation (used for the DC
#: that compensates scaled-down indegrees).
FULL_MEAN_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])

DRIVES = ("poisson", "dc")


def psc_over_psp(C_m: float, tau_m: float, tau_syn: float) -> float:
    """PSC amplitude (pA) that gives a 1 mV peak PSP in an iaf_psc_exp neuron.

    The PSP of an exponential current I(t) = J exp(-t/tau_s) on a membrane with time
    constant tau_m peaks at t* = ln(tau_m/tau_s) tau_m tau_s / (tau_m - tau_s) with
    V(t*) = J tau_m tau_s / (C (tau_m - tau_s)) (exp(-t*/tau_m) - exp(-t*/tau_s)).
    """
    t_peak = math.log(tau_m / tau_syn) * tau_m * tau_syn / (tau_m - tau_syn)
    v_peak = tau_m * tau_syn / (C_m * (tau_m - tau_syn)) * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_syn))
    return 1.0 / v_peak


def full_num_synapses() -> np.ndarray:
    """Total synapse numbers [target, source] at full scale.

    Connections are drawn with replacement (multapses allowed); K synapses between N_pre
    and N_post neurons give connection probability C = 1 - (1 - 1/(N_pre N_post))^K, so
    K = ln(1 - C) / ln(1 - 1/(N_pre N_post)) (paper, Eq. 1).
    """
    prod = np.outer(FULL_NUM_NEURONS, FULL_NUM_NEURONS).astype(float)  # [target, source]
    return np.log(1.0 - CONN_PROBS) / np.log1p(-1.0 / prod)


@dataclass(frozen=True)
class PD14Config:
    """One network configuration and how to simulate it."""

    N_scaling: float = 0.2
    K_scaling: float = 0.2
    drive: str = "poisson"
    bg_rate: float = BG_RATE
    resolution: float = 0.1
    t_presim_ms: float = 500.0
    t_sim_ms: float = 1000.0
    seed: int = 1
    threads: int = 1
    record_spikes: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.drive not in DRIVES:
            raise ValueError(f"drive must be one of {DRIVES}, not {self.drive!r}")
        if not (0 < self.N_scaling <= 1 and 0 < self.K_scaling <= 1):
            raise ValueError("N_scaling and K_scaling must be in (0, 1]")
        if self.threads < 1:
            raise ValueError("threads must be >= 1")

    def with_(self, **changes: Any) -> "PD14Config":
        return replace(self, **changes)

    @property
    def scale_label(self) -> str:
        return scale_label(self.N_scaling, self.K_scaling)


@dataclass(frozen=True)
class Derived:
    """Numbers the simulators need, derived from a :class:`PD14Config`."""

    num_neurons: np.ndarray  # per population
    num_synapses: np.ndarray  # [target, source], integers
    ext_indegrees: np.ndarray  # per target population
    weight_mean: np.ndarray  # [target, source], pA (negative for inhibitory sources)
    weight_ext: float  # pA
    delay_mean: np.ndarray  # [target, source], ms
    dc_amp: np.ndarray  # pA, per population
    poisson_rates: np.ndarray  # spikes/s of the one generator per population (poisson drive)

    @property
    def total_neurons(self) -> int:
        return int(self.num_neurons.sum())

    @property
    def total_synapses(self) -> int:
        return int(self.num_synapses.sum())

    def outgoing_synapses(self) -> np.ndarray:
        """Recurrent synapses leaving each population."""
        return self.num_synapses.sum(axis=0)


def derive(cfg: PD14Config) -> Derived:
    """Scale the network (van Albada, Helias & Diesmann 2015 style).

    Neuron numbers scale with N_scaling; indegrees (and so synapse totals) with K_scaling;
    weights with 1/sqrt(K_scaling), and a DC current restores the mean input that the
    weaker, fewer synapses lose, assuming full-scale rates (:data:`FULL_MEAN_RATES`).
    With ``drive='dc'`` the external Poisson input is replaced by its mean as DC.
    """
    k = cfg.K_scaling
    num_neurons = np.round(FULL_NUM_NEURONS * cfg.N_scaling).astype(int)
    full_syn = full_num_synapses()
    num_synapses = np.round(full_syn * cfg.N_scaling * k).astype(int)
    ext_indegrees = np.round(K_EXT * k).astype(int)

    unit = psc_over_psp(NEURON_PARAMS["C_m"], NEURON_PARAMS["tau_m"], NEURON_PARAMS["tau_syn"])
    psp = np.tile(np.where(EXCITATORY, PSP_EXC_MEAN, G * PSP_EXC_MEAN), (len(POPULATIONS), 1))
    psp[0, 2] = L4E_TO_L23E_FACTOR * PSP_EXC_MEAN
    weight_full = psp * unit
    weight_ext_full = PSP_EXC_MEAN * unit
    delay_mean = np.tile(np.where(EXCITATORY, DELAY_EXC_MEAN, DELAY_INH_MEAN), (len(POPULATIONS), 1))

    tau_s = NEURON_PARAMS["tau_syn"] * 1e-3  # s: mean current = J * K * nu * tau_s
    indegree_full = full_syn / FULL_NUM_NEURONS[:, None]
    mean_rec_full = tau_s * (weight_full * indegree_full * FULL_MEAN_RATES[None, :]).sum(axis=1)
    mean_ext_full = tau_s * weight_ext_full * K_EXT * cfg.bg_rate
    lost = 1.0 - math.sqrt(k)
    dc_amp = lost * mean_rec_full
    if cfg.drive == "dc":
        dc_amp = dc_amp + mean_ext_full
        poisson_rates = np.zeros(len(POPULATIONS))
    else:
        dc_amp = dc_amp + lost * mean_ext_full
        poisson_rates = cfg.bg_rate * ext_indegrees
    return Derived(
        num_neurons=num_neurons,
        num_synapses=num_synapses,
        ext_indegrees=ext_indegrees,
        weight_mean=weight_full / math.sqrt(k),
        weight_ext=weight_ext_full / math.sqrt(k),
        delay_mean=delay_mean,
        dc_amp=dc_amp,
        poisson_rates=poisson_rates,
    )
