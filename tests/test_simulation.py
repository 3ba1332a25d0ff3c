"""PD14 on real NEST and PyNN at small scales (seconds per run)."""

import csv
import os

# Idle OpenMP threads sleep rather than spin: the 2-thread test stays fast on a busy machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest
from powercap_stand_in import CpuPower, powercap  # noqa: F401 - the stand-in powercap tree fixture

from spikemark import pipeline
from spikemark.measure.contention import CpuHog, Guard, Settings
from spikemark.results import COLUMNS, ResultSet
from spikemark.simulation import cells
from spikemark.simulation.pd14_nest import NestPD14
from spikemark.simulation.pd14_params import POPULATIONS, PD14Config, derive
from spikemark.simulation.run import pd14_metering, record_rows, run_pd14
from spikemark.simulation.validate import judge, run_stats

#: Small enough for seconds per run, large enough that every population fires (Poisson drive).
SMALL = dict(N_scaling=0.05, K_scaling=0.05, drive="poisson", t_presim_ms=200.0, t_sim_ms=500.0, threads=1)


def stats_of(cfg: PD14Config, framework: str = "nest"):
    rec = run_pd14(cfg.with_(record_spikes=True), framework)
    t0 = cfg.t_presim_ms
    return run_stats(rec.spikes, rec.population_sizes, t0, t0 + cfg.t_sim_ms, metrics=("rate",))


@pytest.fixture(scope="module")
def reference_ensemble():
    return [stats_of(PD14Config(**SMALL, seed=seed)) for seed in (101, 102, 103)]


def test_counts_match_parameters():
    cfg = PD14Config(N_scaling=0.02, K_scaling=0.02, threads=1, seed=3)
    d = derive(cfg)
    net = NestPD14(cfg)
    net.setup()
    net.create()
    net.connect()
    try:
        sizes = net.population_sizes()
        assert [sizes[p] for p in POPULATIONS] == [int(round(n * 0.02)) for n in
                                                   (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)]
        # fixed_total_number makes exactly the derived number of synapses per projection
        made = net.recurrent_connections()
        assert np.array_equal(made, d.num_synapses)
        # ... drawn with replacement: indegrees of L23E <- L23E are multinomial around K/N
        nest = net.nest
        conns = nest.GetConnections(source=net.pops[0], target=net.pops[0])
        targets = np.asarray(conns.get("target")) - net.pops[0][0].global_id
        indeg = np.bincount(targets, minlength=len(net.pops[0]))
        n_post = len(net.pops[0])
        mean = d.num_synapses[0, 0] / n_post
        assert indeg.mean() == pytest.approx(mean)
        assert indeg.var() == pytest.approx(mean * (1 - 1 / n_post), rel=0.25)
        # weights around the scaled mean with 10 % SD, delays >= one step
        w = np.asarray(conns.get("weight"))
        assert w.mean() == pytest.approx(d.weight_mean[0, 0], rel=0.02)
        assert w.std() / w.mean() == pytest.approx(0.1, rel=0.15) and np.all(w > 0)
        dl = np.asarray(nest.GetConnections(source=net.pops[1], target=net.pops[0]).get("delay"))
        assert dl.min() >= cfg.resolution and dl.mean() == pytest.approx(0.75, rel=0.1)
        # total connections: recurrent + one per neuron from its Poisson generator
        assert net.kernel_status()["num_connections"] == d.total_synapses + d.total_neurons
    finally:
        net.close()


def test_zero_background_is_invalid(reference_ensemble):
    broken = stats_of(PD14Config(**SMALL, seed=7, bg_rate=0.0))
    verdict = judge([broken], reference_ensemble, min_rate_hz=0.1, margin=0.5)
    assert verdict.status == "invalid"
    assert "inactive populations" in verdict.reason


def test_healthy_network_is_valid(reference_ensemble):
    verdict = judge([stats_of(PD14Config(**SMALL, seed=7))], reference_ensemble, min_rate_hz=0.1, margin=0.5)
    assert verdict.status == "ok", verdict.reason


def test_pynn_agrees_with_nest(reference_ensemble):
    pynn = stats_of(PD14Config(**SMALL, seed=7), framework="pynn-nest")
    verdict = judge([pynn], reference_ensemble, min_rate_hz=0.1, margin=0.5)
    assert verdict.status == "ok", verdict.reason
    for pop in POPULATIONS:
        ref = np.mean([r.mean("rate", pop) for r in reference_ensemble])
        assert pynn.mean("rate", pop) == pytest.approx(ref, rel=0.35, abs=0.2)


def _rows(results):
    return {(r["metric"], r["source"], r["variant"]): r for r in results.rows}


#: measure.energy as a timed PD14 run reads it (spikemark.matrix.Plan.sim_measure_settings).
METERS = {"meters": ["rapl"], "idle_seconds": 0.5}


def test_run_rows_have_units_and_sources():
    cfg = PD14Config(**SMALL, seed=5)
    rec = run_pd14(cfg.with_(threads=2), "nest", metering=pd14_metering(METERS, 10.0))
    results = ResultSet("simulation", coords={"framework": "nest", "scale": cfg.scale_label, "threads": 2, "seed": 5})
    record_rows(results, rec)
    rows = _rows(results)
    for phase in ("create", "connect", "presimulate", "simulate"):
        row = rows[(f"time_{phase}", "measured", "")]
        assert row["unit"] == "s" and row["status"] == "ok" and row["value"] > 0
    rtf = rows[("rtf", "measured", "")]
    assert rtf["unit"] == "1" and rtf["value"] == pytest.approx(rec.wall["simulate"] / 0.5)
    # kernel timers: reduced (max over threads) and kept per thread
    prep = rows[("kernel_time_communicate_prepare", "nest-kernel", "")]
    per_thread = [rows[("kernel_time_communicate_prepare", "nest-kernel", f"thread{i}")]["value"] for i in range(2)]
    assert prep["value"] == max(per_thread)
    assert rows[("time_simulate", "measured", "")]["value"] > 0
    assert rows[("kernel_time_simulate", "nest-kernel", "")]["unit"] == "s"
    events = rows[("synaptic_events", "nest-kernel", "")]["value"]
    assert events == pytest.approx(rec.spike_count * rec.recurrent_synapses / rec.num_neurons) and events > 0
    assert rows[("synaptic_events_per_second", "measured", "")]["unit"] == "1/s"
    assert rows[("memory_nest", "nest-kernel", "")]["unit"] == "MiB"
    # energy: never a bare number; unavailable here (no RAPL), plus a labelled TDP estimate
    for metric in ("energy_simulate", "energy_per_synaptic_event"):
        measured = rows[(metric, "rapl", "")]
        assert measured["status"] == "unavailable" and measured["value"] == "" and "powercap" in measured["reason"]
    estimate = rows[("energy_per_synaptic_event", "estimate-tdp", "")]
    assert estimate["status"] == "ok" and estimate["unit"] == "uJ"
    # the estimate reads the CPU time of the metered window, a hair wider than the timed one
    assert estimate["value"] == pytest.approx(rec.cpu["simulate"] * 10.0 / events * 1e6, rel=0.01)


def test_energy_without_tdp_is_unavailable():
    results = ResultSet("simulation")
    cfg = PD14Config(**SMALL, seed=5).with_(t_presim_ms=0.0, t_sim_ms=100.0)
    record_rows(results, run_pd14(cfg, "nest", metering=pd14_metering(METERS, None)))
    energy = [r for r in results.rows if r["metric"].startswith("energy")]
    assert {r["source"] for r in energy} == {"rapl", "estimate-tdp"}
    assert energy and all(r["status"] == "unavailable" and r["value"] == "" for r in energy)
    assert any("simulation.tdp_watts_per_core" in r["reason"] for r in energy)


def test_energy_from_rapl_on_a_stand_in_powercap_tree(powercap):
    """A PD14 cell meters its simulate phase with the registry's RAPL meter: a stand-in
    package that draws 5 W idle plus 20 W per busy core (this process's CPU time)."""
    cfg = PD14Config(**SMALL, seed=5)
    metering = pd14_metering({**METERS, "rapl_root": str(powercap.root)}, 10.0)
    with CpuPower(powercap, idle_w=5.0, active_w=20.0):
        rec = run_pd14(cfg, "nest", metering=metering)
    results = ResultSet("simulation")
    record_rows(results, rec)
    rows = _rows(results)
    energy = rows[("energy_simulate", "rapl", "")]
    # The idle baseline (5 W) is subtracted: what is left is the simulation's 20 W per core.
    assert energy["status"] == "ok" and energy["unit"] == "J" and energy["n"] == 1
    assert energy["value"] == pytest.approx(20.0 * rec.cpu["simulate"], rel=0.25)
    # (the stand-in updates the counter every millisecond when the machine lets it: a lag)
    assert rows[("idle_power", "rapl", "")]["value"] == pytest.approx(5.0, rel=0.3)
    e_syn = rows[("energy_per_synaptic_event", "rapl", "")]
    events = rows[("synaptic_events", "nest-kernel", "")]["value"]
    assert e_syn["status"] == "ok" and e_syn["unit"] == "uJ"
    assert e_syn["value"] == pytest.approx(energy["value"] / events * 1e6)
    # the labelled estimate beside it, and each RAPL domain on its own row
    assert rows[("energy_per_synaptic_event", "estimate-tdp", "")]["status"] == "ok"
    assert rows[("energy_simulate", "rapl", "package-0")]["status"] == "ok"


def test_contended_phases_are_repeated_then_invalid_counts_unaffected():
    """A hog pinned to the CPU the run is pinned to: the simulate phase is run again in
    place, construction rebuilt, then their timings are invalid 'contended: ...'."""
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})  # NEST's threads, started below, inherit it
    try:
        guard = Guard(Settings(retries=1, backoff_s=0.05), threads=1)
        with CpuHog([cpu], seconds=120):
            rec = run_pd14(PD14Config(**SMALL, seed=5), "nest", guard=guard)
    finally:
        os.sched_setaffinity(0, before)
    results = ResultSet("simulation")
    record_rows(results, rec, guard=guard)
    rows = _rows(results)
    for metric in ("time_simulate", "cpu_time_simulate", "rtf", "synaptic_events_per_second", "kernel_time_simulate"):
        source = "nest-kernel" if metric.startswith("kernel") else "measured"
        row = rows[(metric, source, "")]
        assert row["status"] == "invalid" and row["reason"].startswith("contended: got "), metric
        assert row["value"] > 0
    assert rows[("attempts_simulate", "contention-guard", "")]["value"] == 2
    assert rows[("cpu_share_simulate", "contention-guard", "")]["value"] < 0.75
    for metric in ("spike_count", "synaptic_events", "num_neurons", "rate_mean"):
        assert next(r for (m, _, v), r in rows.items() if m == metric and v == "")["status"] == "ok"


#: The network slice a simulate job receives (spikemark.matrix.Plan.sim_network).
NETWORK = {"drive": "poisson", "bg_rate": 8.0, "t_presim_ms": 200.0, "t_sim_ms": 500.0}


def run_coords(framework="nest", scale="N0.02_K0.02", ranks=1, threads=1, seed=1):
    return dict(framework=framework, scale=scale, ranks=ranks, threads=threads, seed=seed)


def test_a_two_rank_cell_runs_where_nest_has_mpi_and_is_skipped_elsewhere(tmp_path):
    from spikemark.simulation.mpi import mpi_unavailable_reason

    out = tmp_path / "metrics.csv"
    result = cells.simulate(None, out, coords=run_coords(ranks=2), network=NETWORK)
    rows = list(csv.DictReader(out.open()))
    assert {r["ranks"] for r in rows} == {"2"}
    if mpi_unavailable_reason():
        assert len(rows) == 1 and rows[0]["metric"] == "cell" and rows[0]["status"] == "skipped"
        assert "MPI" in rows[0]["reason"] and rows[0]["variant"] == ""
    else:  # the MPI build (CI): the run's own rows and each rank's, and how it was launched
        assert {r["variant"] for r in rows if r["metric"] == "spike_count"} == {"", "rank0", "rank1"}
        assert result.provenance["mpi_ranks"] == 2 and result.provenance["mpi_nodes"]


def test_failing_cell_writes_failed_row(tmp_path):
    """Through the job protocol: the stage raises, the job leaves a failed row with the cell's coordinates."""
    out = tmp_path / "metrics.csv"
    params = {"coords": run_coords(framework="no-such-framework"), "network": NETWORK, "track": "simulation"}
    pipeline.run_one(cells.simulate, {"verdict": None}, {"metrics": str(out)}, params, "simulate_pd14")
    rows = list(csv.DictReader(out.open()))
    assert [r["status"] for r in rows] == ["failed"] and "framework" in rows[0]["reason"]
    assert rows[0]["framework"] == "no-such-framework" and rows[0]["track"] == "simulation"
    assert list(rows[0]) == list(COLUMNS)


def test_pipeline_marks_broken_network_invalid(tmp_path, reference_ensemble):
    """Cell functions end to end: a zero-background config validates invalid, its timed rows too."""
    network = {**NETWORK, "bg_rate": 0.0}
    refs = []
    for i, stats in enumerate(reference_ensemble):
        refs.append(tmp_path / f"ref{i}.npz")
        stats.save(refs[-1])
    test = tmp_path / "test.npz"
    cells.validation_run(test, framework="nest", scale="N0.05_K0.05", seed=7, threads=1, network=network)
    out, verdict = tmp_path / "validation.csv", tmp_path / "verdict.json"
    judge = {"min_rate_hz": 0.1, "ks_margin": 0.75, "ks_alpha": 0.01}
    coords = {"framework": "nest", "scale": "N0.05_K0.05", "variant": "validation"}
    cells.validate([test], refs, out, verdict, coords=coords, judge=judge)
    rows = list(csv.DictReader(out.open()))
    cell = [r for r in rows if r["metric"] == "cell"]
    assert cell and cell[0]["status"] == "invalid" and "inactive" in cell[0]["reason"]
    published = [r for r in rows if r["metric"] == "rate_published_full_scale"]
    assert len(published) == 8 and all(r["status"] == "ok" for r in published)
    assert {r["status"] for r in rows if r["metric"] == "rate"} == {"invalid"}

    timed = tmp_path / "metrics.csv"
    cells.simulate(verdict, timed, coords=run_coords(scale="N0.05_K0.05", seed=7),
                   network={**network, "t_presim_ms": 0.0, "t_sim_ms": 100.0})
    rows = list(csv.DictReader(timed.open()))
    rtf = [r for r in rows if r["metric"] == "rtf"]
    assert rtf and rtf[0]["status"] == "invalid" and rtf[0]["reason"].startswith("validation invalid")


def test_oversubscribed_cell_records_its_timings_invalid(tmp_path):
    """More threads than this process has cores: the timings say so; counts are kept."""
    threads = len(os.sched_getaffinity(0)) + 1
    out = tmp_path / "metrics.csv"
    guard_cfg = {"enabled": True, "min_share": 0.9, "load_margin": 0.5, "retries": 2, "backoff_s": 1.0}
    cells.simulate(None, out, coords=run_coords(threads=threads), network={**NETWORK, "t_presim_ms": 0.0, "t_sim_ms": 100.0},
                   measure_cfg={"energy": {"meters": ["rapl"], "idle_seconds": 0.1}, "contention": guard_cfg})
    rows = {(r["metric"], r["source"], r["variant"]): r for r in csv.DictReader(out.open())}
    rtf = rows[("rtf", "measured", "")]
    assert rtf["status"] == "invalid" and rtf["reason"].startswith(f"oversubscribed: {threads} threads on ")
    assert rows[("attempts_simulate", "contention-guard", "")]["value"] == "1"  # not retried
    assert rows[("spike_count", "nest-kernel", "")]["status"] == "ok"
    assert rows[("energy_simulate", "rapl", "")]["status"] == "unavailable"


def test_a_run_whose_ranks_were_not_metered_keeps_the_estimate(powercap):
    """An MPI run's simulate phase happens in its ranks: a meter that works here (RAPL on
    the stand-in tree) says it did not watch them; the labelled estimate comes from the
    run's CPU time (a single-process record stands in for the merged one)."""
    from spikemark.simulation.run import unmetered_energy

    rec = run_pd14(PD14Config(**SMALL, seed=5).with_(t_presim_ms=0.0, t_sim_ms=100.0), "nest")
    metering = pd14_metering({**METERS, "rapl_root": str(powercap.root)}, 10.0)
    unmetered_energy(rec, metering, cells.MPI_UNMETERED)
    results = ResultSet("simulation")
    record_rows(results, rec)
    rows = _rows(results)
    for metric in ("energy_simulate", "energy_per_synaptic_event"):
        assert rows[(metric, "rapl", "")]["status"] == "unavailable"
        assert rows[(metric, "rapl", "")]["reason"] == cells.MPI_UNMETERED
    assert rows[("energy_simulate", "estimate-tdp", "")]["value"] == pytest.approx(rec.cpu["simulate"] * 10.0)
