"""PD14 parameters and scaling rules (no simulator needed)."""

import math

import numpy as np
import pytest

from spikemark.simulation import pd14_params as P
from spikemark.simulation.validate import PACKAGE_REFERENCE, published_rates


def test_psc_for_published_psp():
    # 0.15 mV PSP <-> 87.81 pA PSC for iaf_psc_exp with C=250 pF, tau_m=10 ms, tau_s=0.5 ms
    assert P.psc_over_psp(250.0, 10.0, 0.5) * 0.15 == pytest.approx(87.81, abs=0.01)


def test_synapse_numbers_reproduce_connection_probabilities():
    k = P.full_num_synapses()
    prod = np.outer(P.FULL_NUM_NEURONS, P.FULL_NUM_NEURONS)
    assert np.allclose(1 - (1 - 1 / prod) ** k, P.CONN_PROBS, atol=1e-12)
    # ~0.3 billion synapses at full scale (paper: ~3e8)
    assert 2.9e8 < k.sum() < 3.0e8


def test_scaling_rules():
    full = P.derive(P.PD14Config(N_scaling=1, K_scaling=1))
    cfg = P.PD14Config(N_scaling=0.2, K_scaling=0.2)
    d = P.derive(cfg)
    assert d.total_neurons == sum(round(n * 0.2) for n in P.FULL_NUM_NEURONS)
    assert d.total_synapses == pytest.approx(0.04 * full.total_synapses, rel=1e-4)
    assert 11.5e6 < d.total_synapses < 12.5e6
    assert np.allclose(d.weight_mean, full.weight_mean / math.sqrt(0.2))
    assert d.weight_mean[0, 2] == pytest.approx(2 * d.weight_mean[0, 0])  # L4E -> L23E doubled
    assert np.all(d.weight_mean[:, 1::2] < 0) and np.allclose(d.weight_mean[1:, 1::2] / d.weight_mean[1:, ::2], -4)
    assert np.array_equal(d.ext_indegrees, np.round(P.K_EXT * 0.2))
    # full scale with Poisson drive needs no DC; scaled-down indegrees do
    assert np.allclose(full.dc_amp, 0) and np.all(d.dc_amp > 0)


def test_dc_drive_replaces_poisson_by_its_mean():
    full = P.derive(P.PD14Config(N_scaling=1, K_scaling=1, drive="dc"))
    unit = P.psc_over_psp(250.0, 10.0, 0.5)
    expected = P.BG_RATE * P.K_EXT * 0.15 * unit * 0.5e-3
    assert np.allclose(full.dc_amp, expected)
    assert np.allclose(full.poisson_rates, 0)


def test_reference_copies_match_parameters():
    rates = published_rates(PACKAGE_REFERENCE)
    assert list(rates) == list(P.POPULATIONS)
    assert np.allclose([rates[p] for p in P.POPULATIONS], P.FULL_MEAN_RATES)


def test_scale_labels_round_trip():
    assert P.scale_label(0.2, 0.2) == "N0.2_K0.2"
    assert P.parse_scale("N0.05_K1") == (0.05, 1.0)
    with pytest.raises(ValueError):
        P.parse_scale("0.2")
