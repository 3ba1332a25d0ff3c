"""The plan (spikemark.matrix.Plan): job lists, config slices and resources, without Snakemake."""

from __future__ import annotations

import copy

import pytest

from conftest import REPO
from spikemark.config import load
from spikemark.matrix import DENSE, Plan, parse_scale, pruning_levels, scale_label, sparsity_label

DEFAULT = load(REPO / "config" / "config.yaml")
PAPER = load(REPO / "config" / "paper.yaml")


def plan_of(**changes) -> Plan:
    config = copy.deepcopy(DEFAULT)
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            config[section][name] = value
        else:
            config[section] = value
    return Plan(config)


def test_the_default_matrix():
    plan = Plan(DEFAULT)
    assert len(plan.models()) == 2 * 3  # datasets x methods x seeds
    # ann on torch, the SNN methods on spikingjelly; cpu and cuda each
    assert len(plan.sweeps()) == 2 * 3 * 1 * 2
    assert plan.levels == [(DENSE, "0"), ("global_magnitude", "0.5"), ("lamp", "0.5"),
                           ("global_magnitude", "0.9"), ("lamp", "0.9")]  # fmt: skip
    cells = plan.ml_cells()
    assert len(cells) == len(plan.sweeps()) * 5
    assert len({tuple(sorted(c.items())) for c in cells}) == len(cells)
    assert {c["framework"] for c in cells if c["method"] == "ann"} == {"torch"}
    # robustness: the dense level of the SNN sweeps of its frameworks
    assert plan.robustness_levels == [(DENSE, "0")]
    assert {(s["method"], s["framework"]) for s in plan.robustness_sweeps()} == {
        ("ann2snn", "spikingjelly"), ("surrogate", "spikingjelly")
    }
    # PD14 over >= 3 seeds and two thread counts (the laptop budget's floor)
    assert len(plan.sim_runs()) == 2 * 1 * 1 * 2 * 3  # frameworks x scales x ranks x threads x seeds
    assert len(plan.latency_cells()) == 7 * 2  # the seven libraries of the default config, cpu and cuda


def test_fragments_name_every_cell_once_and_follow_the_paths():
    plan = Plan(DEFAULT)
    fragments = plan.metric_fragments()
    assert len(fragments) == len(set(fragments))
    ml = [f for f in fragments if "/cells/" in f and f.endswith("/metrics.csv")]
    assert len(ml) == len(plan.ml_cells())
    assert f"{plan.results_dir}/cells/digits/ann2snn/lamp/s0.9/spikingjelly/cpu/seed0/metrics.csv" in ml
    assert f"{plan.results_dir}/simulation/nest/N0.2_K0.2/ranks1_threads2/seed2/metrics.csv" in fragments
    assert f"{plan.results_dir}/simulation/validation/N0.2_K0.2/pynn-nest/metrics.csv" in fragments
    assert len([f for f in fragments if f.endswith("robustness.csv")]) == 2 * 2 * 2  # datasets x SNN x hw
    assert len(plan.provenance_files()) == len(fragments)


def test_cell_files_keep_the_sweep_wildcards():
    plan = Plan(DEFAULT)
    files = plan.cell_files("models/{dataset}/seed{seed}/{method}/{pruning}/pruned_s{sparsity}.pt")
    assert files[0] == f"{plan.results_dir}/models/{{dataset}}/seed{{seed}}/{{method}}/none/pruned_s0.pt"
    assert len(files) == len(plan.levels)
    cells = plan.sweep_cells("digits", "ann2snn", "spikingjelly", "cpu", "0")
    assert [c["coords"]["pruning"] for c in cells] == [p for p, _ in plan.levels]
    assert cells[3]["coords"] == dict(dataset="digits", method="ann2snn", framework="spikingjelly",
                                      hardware="cpu", seed=0, pruning="global_magnitude", sparsity=0.9)  # fmt: skip


def test_slices_hold_only_what_their_jobs_read():
    plan = Plan(DEFAULT)
    assert set(plan.training("ann")) == {"device", "epochs", "batch_size", "lr"}
    assert set(plan.training("surrogate")) == {"device", "snn_epochs", "batch_size", "snn_lr", "snn_timesteps"}
    assert plan.conversion_timesteps("ann2snn") == DEFAULT["conversion"]["timesteps"]
    assert plan.conversion_timesteps("ann") == plan.conversion_timesteps("surrogate") == []
    assert plan.finetune_training() == {}  # no fine-tuning, so the training keys do not matter
    assert "threads" not in plan.measure_settings()
    assert set(plan.latency_settings("cpu")["sizes"]) == {"cpu"}
    assert "pynn_stock_bookkeeping" not in plan.sim_network("nest")
    assert "pynn_stock_bookkeeping" in plan.sim_network("pynn-nest")
    assert plan.dataset_source("digits") == {} and plan.dataset_test_fraction("digits") == 0.25
    assert plan.dataset_source("mnist") == DEFAULT["data"] and plan.dataset_test_fraction("mnist") is None


def test_a_seed_or_a_sweep_list_is_no_param_of_the_jobs_it_does_not_change():
    """Editing the matrix (which seeds, which frameworks) must not change any job's params."""
    base, more = Plan(DEFAULT), plan_of(training__seeds=[0, 1], frameworks=["spikingjelly", "norse"])
    assert base.training("ann") == more.training("ann")
    assert base.measure_settings() == more.measure_settings()
    lat = plan_of(latency_benchmark__timesteps=50)
    assert lat.latency_settings("cpu") != base.latency_settings("cpu")
    assert lat.measure_settings() == base.measure_settings() and lat.sim_network("nest") == base.sim_network("nest")


def test_slices_do_not_depend_on_the_order_of_the_keys():
    """Snakemake compares params as text: a config with its keys in another order (a YAML
    file written by another tool, defaults filled in) must give identical slices."""
    reordered = copy.deepcopy(DEFAULT)
    reordered["measure"] = dict(reversed(list(reordered["measure"].items())))
    reordered["measure"]["energy"] = dict(reversed(list(reordered["measure"]["energy"].items())))
    reordered["simulation"] = dict(reversed(list(reordered["simulation"].items())))
    a, b = Plan(DEFAULT), Plan(reordered)
    assert repr(a.measure_settings()) == repr(b.measure_settings())
    assert repr(a.sim_network("pynn-nest")) == repr(b.sim_network("pynn-nest"))
    assert repr(a.model_config("digits")) == repr(b.model_config("digits"))


def test_model_config_defaults_come_from_the_schema():
    plan = plan_of(datasets=["digits", "randman", "mnist"])
    assert plan.model_config("digits") == {**DEFAULT["models"]["digits"], "channels": [16, 32]}
    # no models entry for mnist: the schema's defaults of one
    assert plan.model_config("mnist") == {"arch": "mlp", "hidden": [128, 64], "channels": [16, 32]}


def test_simulation_runs_validation_and_resources():
    plan = plan_of(simulation={**DEFAULT["simulation"], "mpi_ranks": [1, 2]})
    runs = plan.sim_runs()
    seeds = len(DEFAULT["simulation"]["seeds"])
    assert {r["ranks"] for r in runs} == {1, 2} and len(runs) == 2 * 2 * 2 * seeds  # frameworks x ranks x threads
    inputs = plan.sim_validation_inputs("validation", "N0.2_K0.2", "pynn-nest")
    assert [p.rsplit("/", 3)[-3:] for p in inputs["tests"]] == [["pynn-nest", "seed1", "stats.npz"]]
    assert len(inputs["references"]) == 4 and all("/nest/seed100" in p for p in inputs["references"])
    tier = plan.sim_tier("validation")
    # the default's own recorded time (the calibrated 1 s), the timed runs' presimulation
    assert (tier["threads"], tier["t_sim_ms"], tier["t_presim_ms"]) == (1, 1000, DEFAULT["simulation"]["t_presim_ms"])
    assert plan.sim_validation_network("validation", "nest")["t_sim_ms"] == 1000
    assert plan.sim_network("nest")["t_sim_ms"] == DEFAULT["simulation"]["t_sim_ms"] != 1000
    # without validation.threads or times: the largest of simulation.threads, the timed runs' times
    unset = plan_of(simulation={**DEFAULT["simulation"], "validation": {}})
    assert unset.sim_tier("validation")["threads"] == 2
    assert unset.sim_tier("validation")["t_sim_ms"] == DEFAULT["simulation"]["t_sim_ms"]
    assert plan.sim_mem_mb("pynn-nest", "N0.2_K0.2") > plan.sim_mem_mb("nest", "N0.2_K0.2")
    assert plan.sim_run_runtime("N1_K1", 1) > plan.sim_run_runtime("N0.2_K0.2", 2)
    assert plan.sim_run_coords("nest", "N0.2_K0.2", "2", "4", "7") == dict(
        framework="nest", scale="N0.2_K0.2", ranks=2, threads=4, seed=7
    )


def test_the_paper_plan_is_the_full_matrix():
    plan = Plan(PAPER)
    assert len(plan.ml_cells()) == 6864  # 13 method x framework pairs x 8 datasets x 2 hardware x 11 levels x 3 seeds
    assert len(plan.sweeps()) == 6864 // len(plan.levels)
    assert plan.sim_runs() and plan.latency_cells()


def test_labels_round_trip():
    assert scale_label(0.2, 1) == "N0.2_K1" and parse_scale("N0.2_K1") == (0.2, 1.0)
    assert sparsity_label(0.0) == "0" and sparsity_label("0.50") == "0.5"
    with pytest.raises(ValueError, match="N0.2_K0.2"):
        parse_scale("0.2")
    assert pruning_levels(["lamp"], [0.5]) == [("lamp", 0.5)]  # no dense level unless 0 is listed
