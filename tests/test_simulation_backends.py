"""PD14 on more PyNN back-ends: NEURON (real pyNN.neuron, small scales) and Brian 2 (skipped
with the reason where it does not import)."""

from __future__ import annotations

import multiprocessing
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
import pytest

from conftest import SUMMARY_LINES
from spikemark.errors import StageFailed
from spikemark.simulation import cells
from spikemark.simulation.pd14_params import NEURON_PARAMS, POPULATIONS, PD14Config, derive
from spikemark.simulation.pd14_pynn_brian2 import PyNNBrian2PD14
from spikemark.simulation.pd14_pynn_neuron import PyNNNeuronPD14, import_pynn_neuron
from spikemark.simulation.run import run_pd14
from spikemark.simulation.simulators import SIMULATORS, network_class
from spikemark.simulation.validate import RunStats

#: As tests/test_simulation.py's small network: every population fires (Poisson drive).
NETWORK = {"drive": "poisson", "bg_rate": 8.0, "t_presim_ms": 200.0, "t_sim_ms": 500.0}


def test_backends_are_registered_simulators():
    assert {"pynn-neuron", "pynn-brian2"} <= set(SIMULATORS)
    assert network_class("pynn-neuron") is PyNNNeuronPD14 and network_class("pynn-brian2") is PyNNBrian2PD14
    assert "neuron" in SIMULATORS["pynn-neuron"].packages


def test_neuron_network_follows_the_parameters():
    cfg = PD14Config(N_scaling=0.02, K_scaling=0.02, drive="poisson", threads=1, seed=3)
    d = derive(cfg)
    net = PyNNNeuronPD14(cfg)
    net.setup()
    net.create()
    net.connect()
    try:
        sizes = net.population_sizes()
        assert [sizes[p] for p in POPULATIONS] == [int(n) for n in d.num_neurons]
        assert np.array_equal(net.recurrent_connections(), d.num_synapses)  # fixed total number per projection
        # recurrent synapses plus one Poisson source per neuron, as NEST counts them
        assert net.kernel_status()["num_connections"] == d.total_synapses + d.total_neurons
        l23e = net.projections[0]  # L23E <- L23E
        w = np.asarray(l23e.get("weight", format="list"))[:, 2]
        assert w.mean() == pytest.approx(d.weight_mean[0, 0] / 1000 * net.charge_factor(), rel=0.03)
        assert w.std() / w.mean() == pytest.approx(0.1, rel=0.2) and np.all(w > 0)
        inh = next(p for p in net.projections if p.pre.label == "L23I" and p.post.label == "L23E")
        delays = np.asarray(inh.get("delay", format="list"))[:, 2]
        assert delays.min() >= cfg.resolution and delays.mean() == pytest.approx(0.75, rel=0.1)
        assert np.allclose(delays / cfg.resolution, np.round(delays / cfg.resolution))  # on the time grid
    finally:
        net.close()


def _mean_depolarisation(weight_factor: float) -> tuple[float, float]:
    """One IF_curr_exp neuron on pyNN.neuron fed fixed spike times: (its mean V − E_L, and the
    exact value of the model's linear sub-threshold dynamics on the same grid)."""
    sim = import_pynn_neuron()
    h, tau_m, tau_s, c_m = 0.1, NEURON_PARAMS["tau_m"], NEURON_PARAMS["tau_syn"], NEURON_PARAMS["C_m"] / 1000
    w, delay, t_end = 0.05, 1.5, 500.0  # nA: far below threshold
    sim.setup(timestep=h, min_delay=h)
    times = np.unique(np.round(np.random.default_rng(0).uniform(1, t_end - 50, 1500), 1))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
    cell = sim.Population(1, sim.IF_curr_exp(cm=c_m, tau_m=tau_m, tau_syn_E=tau_s, v_rest=-65.0, v_thresh=-50.0))
    cell.initialize(v=-65.0)
    cell.record("v")
    sim.Projection(source, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w * weight_factor, delay=delay),
                   receptor_type="excitatory")
    sim.run(t_end)
    v = np.asarray(cell.get_data().segments[0].analogsignals[0]).ravel()
    sim.end()
    grid = np.arange(len(v)) * h
    lag = grid[None, :] - (times[:, None] + delay)
    kernel = np.where(lag > 0, np.exp(-lag.clip(0) / tau_m) - np.exp(-lag.clip(0) / tau_s), 0.0)
    exact = w * tau_s / (c_m * (tau_m - tau_s)) * tau_m * kernel.sum(0)
    return float((v + 65.0).mean()), float(exact.mean())


def test_neuron_pscs_carry_the_model_charge_only_with_the_correction():
    factor = PyNNNeuronPD14(PD14Config()).charge_factor()
    assert factor == pytest.approx((1 - np.exp(-0.2)) / 0.2)
    plain, exact = _mean_depolarisation(1.0)
    assert plain / exact == pytest.approx(1 / factor, rel=0.01)  # 10 % too much charge per PSC
    corrected, exact = _mean_depolarisation(factor)
    assert corrected == pytest.approx(exact, rel=0.01)


def test_neuron_cells_with_threads_are_skipped():
    with pytest.raises(StageFailed) as info:
        run_pd14(PD14Config(N_scaling=0.02, K_scaling=0.02, threads=2), "pynn-neuron")
    assert info.value.status == "skipped" and "one thread per process" in info.value.reason


def test_brian2_is_skipped_with_the_reason(tmp_path):
    with pytest.raises(StageFailed) as info:
        run_pd14(PD14Config(N_scaling=0.02, K_scaling=0.02, threads=1), "pynn-brian2")
    assert info.value.status == "skipped" and "brian2" in info.value.reason


def test_neuron_timed_run_counts_spikes_without_recording_them():
    rec = run_pd14(PD14Config(N_scaling=0.02, K_scaling=0.02, drive="poisson", t_presim_ms=50.0, t_sim_ms=100.0,
                              threads=1, seed=2), "pynn-neuron")
    assert rec.spikes is None and rec.spike_count > 0 and rec.rtf > 0
    assert rec.num_connections == rec.recurrent_synapses + rec.num_neurons


def in_own_process(stage, *args, **kwargs) -> None:
    """Run a stage function as a workflow job runs it, in a process of its own (a finished
    NEURON network stays in its process: see PyNNNeuronPD14.close)."""
    job = multiprocessing.get_context("spawn").Process(target=stage, args=args, kwargs=kwargs)
    job.start()
    job.join()
    assert job.exitcode == 0


@pytest.mark.slow
def test_neuron_run_is_valid_against_the_nest_ensemble(tmp_path):
    """The workflow's stage functions on NEURON: a validation run judged against a NEST
    reference ensemble of three seeds (N = K = 0.05, Poisson drive, 0.5 s after 0.2 s), then
    a timed run that inherits the verdict (~1.5 min here)."""
    refs = []
    for seed in (101, 102, 103):
        path = tmp_path / f"ref{seed}.json"
        cells.validation_run(path, framework="nest", scale="N0.05_K0.05", seed=seed, threads=1, network=NETWORK)
        refs.append(path)
    test = tmp_path / "neuron.json"
    in_own_process(cells.validation_run, test, framework="pynn-neuron", scale="N0.05_K0.05", seed=7, threads=1,
                   network=NETWORK)
    verdict = tmp_path / "verdict.json"
    coords = {"framework": "pynn-neuron", "scale": "N0.05_K0.05", "variant": "validation"}
    cells.validate([test], refs, tmp_path / "validation.csv", verdict, coords=coords,
                   judge={"min_rate_hz": 0.1, "ks_margin": 0.5, "ks_alpha": 0.01})
    assert '"status": "ok"' in verdict.read_text(), verdict.read_text()
    ensemble, neuron = [RunStats.load(p) for p in refs], RunStats.load(test)
    for pop in POPULATIONS:
        ref = np.mean([r.mean("rate", pop) for r in ensemble])
        assert neuron.mean("rate", pop) == pytest.approx(ref, rel=0.35, abs=0.2), pop
    timed = tmp_path / "timed.csv"
    in_own_process(cells.simulate, verdict, timed, network=NETWORK,
                   coords={"framework": "pynn-neuron", "scale": "N0.05_K0.05", "ranks": 1, "threads": 1, "seed": 7})
    rows = pd.read_csv(timed, keep_default_na=False).set_index("metric")
    assert rows.loc["rtf", "status"] == "ok" and float(rows.loc["rtf", "value"]) > 0
    assert float(rows.loc["spike_count", "value"]) > 0
    SUMMARY_LINES.append(
        f"PD14 on pyNN.neuron, N = K = 0.05, Poisson, 1 thread: validated (KS vs 3 NEST seeds); "
        f"RTF {float(rows.loc['rtf', 'value']):.1f}, construction {float(rows.loc['time_construction', 'value']):.1f} s"
    )

