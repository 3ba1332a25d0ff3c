"""The real workflow, end to end, through the snakemake CLI on config/test.yaml."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import xarray as xr
import yaml

from conftest import REPO, run_snakemake
from spikemark import provenance
from spikemark.config import load
from spikemark.matrix import Plan, pruning_levels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    """One full run of the tiny test matrix into a temporary results directory."""
    out = tmp_path_factory.mktemp("results")
    proc = run_snakemake("-c", "2", "--configfile", "config/test.yaml", "--config", f"results_dir={out}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def expected_cells():
    cfg = yaml.safe_load((REPO / "config/test.yaml").read_text())
    n_fw = {"ann": 1, "ann2snn": len(cfg["frameworks"]), "surrogate": len(cfg["frameworks"])}
    levels = pruning_levels(cfg["pruning"]["methods"], cfg["pruning"]["sparsity"])
    per_dataset = sum(n_fw[m] for m in cfg["methods"]) * len(cfg["hardware"]) * len(levels)
    return per_dataset * len(cfg["datasets"]) * len(cfg["training"]["seeds"])


def test_dry_run_of_default_config_lists_the_dag():
    proc = run_snakemake("-n", "--quiet", "rules", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for rule in ("prepare_dataset", "train_ann", "convert_ann2snn", "train_snn", "prune", "deploy", "measure", "aggregate", "report"):
        assert rule in proc.stdout + proc.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, re.M))
    plan = Plan(load(REPO / "config/config.yaml"))
    # one prune job per trained model (every level); one deploy and one measure job per sweep
    assert int(counts["prune"]) == len(plan.models())
    assert int(counts["deploy"]) == int(counts["measure"]) == len(plan.sweeps())
    assert int(counts["robustness"]) == len(plan.robustness_sweeps())
    assert int(counts["simulate_pd14"]) == len(plan.sim_runs())


def test_every_cell_appears_ran_or_skipped_with_reason(test_run):
    out, proc = test_run
    everything = pd.read_csv(out / "metrics.csv", keep_default_na=False, dtype={"run_id": str})
    # ML cells only: the latency track and the robustness rows have run ids of their own
    robust = everything[everything.variant == "robustness"].run_id
    table = everything[(everything.track == "ml") & ~everything.run_id.isin(robust)]
    assert table.run_id.nunique() == expected_cells()
    cells = table[table.metric == "cell"]
    if not torch.cuda.is_available():
        assert set(cells.hardware) == {"cuda"} and set(cells.status) == {"skipped"}
        assert cells.reason.str.contains("no CUDA device").all()
        assert len(cells) == expected_cells() // 2
    cpu = table[(table.hardware == "cpu") & (table.status == "ok")]
    acc = cpu[cpu.metric == "accuracy"].astype({"value": float})
    assert (acc.value > 0.2).all()  # the tiny models still learn something
    assert set(cpu.method) == {"ann", "ann2snn", "surrogate"}
    marks = everything[everything.metric == "cell"]
    n_skipped = marks.run_id.nunique()
    n_ok = everything.run_id.nunique() - n_skipped
    assert f"{n_ok} ok, {n_skipped} skipped, 0 failed" in proc.stderr or torch.cuda.is_available()


def test_mpi_runs_run_where_nest_has_mpi_and_are_skipped_elsewhere(test_run):
    from spikemark.simulation.mpi import mpi_unavailable_reason

    out, _ = test_run
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False, dtype=str)
    two = table[(table.track == "simulation") & (table.ranks == "2")]
    assert set(two.framework) == {"nest", "pynn-nest"} and set(two.threads) == {"1"}
    why = mpi_unavailable_reason()
    if why:
        assert set(two.metric) == {"cell"} and set(two.status) == {"skipped"} and two.reason.str.contains("MPI").all()
    else:
        assert set(two[two.metric == "rtf"].status) == {"ok"}
        assert {"", "rank0", "rank1"} <= set(two[two.metric == "spike_count"].variant)


def test_latency_and_robustness_rows(test_run):
    out, _ = test_run
    cfg = yaml.safe_load((REPO / "config/test.yaml").read_text())
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False)
    latency = table[table.track == "latency"]
    bench = cfg["latency_benchmark"]
    assert latency.run_id.nunique() == len(bench["frameworks"]) * len(bench["hardware"])
    ok = latency[(latency.hardware == "cpu") & (latency.status == "ok")]
    assert set(ok.framework) == {f for f in bench["frameworks"] if "-" not in f}
    assert {"inference_time", "forward_time", "backward_time", "peak_host_memory"} <= set(ok.metric)
    robust = table[(table.variant == "robustness") & (table.hardware == "cpu")]
    acc = robust[robust.metric == "accuracy"]
    assert set(acc.method) == {"ann2snn", "surrogate"}
    assert {float(n) for n in acc.noise} == {float(n) for n in cfg["robustness"]["noise_levels"]}


def test_results_files_hold_the_same_numbers(test_run):
    out, _ = test_run
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False, dtype={"run_id": str})
    # strings: a hex config hash can be all digits
    prov = pd.read_csv(out / "provenance.csv", keep_default_na=False, dtype=str)
    own = prov[prov.rule == "aggregate"]
    assert len(own) == 1 and set(table.run_id) == set(prov.run_id) - set(own.run_id)
    assert (prov.config_hash != "").all() and (prov.git_commit != "").all() and (prov.host != "").all()
    cube = xr.open_dataset(out / "metrics.nc", group="ml", engine="h5netcdf")
    # the cube and the aggregate's row hash the whole config; every job its own slice of it
    assert cube.attrs["config_hash"] == own.config_hash.iloc[0]
    jobs = prov[prov.rule != "aggregate"]
    measured = jobs[jobs.rule == "measure"]
    assert {tuple(sorted(json.loads(s))) for s in measured.config_slice} == {
        ("conversion_timesteps", "coords", "measure_cfg")
    }
    for _, row in jobs.iterrows():
        assert row.config_hash == provenance.config_hash(json.loads(row.config_slice))
    row = table[(table.metric == "accuracy") & (table.method == "ann") & (table.hardware == "cpu")].iloc[0]
    # "method" is also a keyword of .sel(), so coordinates go in a dict
    where = {"dataset": row.dataset, "method": "ann", "framework": "torch", "hardware": "cpu",
             "sparsity": float(row.sparsity), "seed": int(row.seed), "metric": "accuracy"}
    value = cube["value"].sel(where).values
    assert float(value[~pd.isna(value)][0]) == pytest.approx(float(row.value))
    if not torch.cuda.is_available():
        status = cube["status"].sel({**where, "hardware": "cuda", "metric": "cell"}).values
        assert "skipped" in set(status.flat)


def test_report_renders_the_main_table_and_figures(test_run):
    out, _ = test_run
    html = (out / "report" / "index.html").read_text()
    assert "<table" in html and "data:image/png;base64" in html
    assert "no CUDA device" in html or torch.cuda.is_available()
    comparison = pd.read_csv(out / "report" / "table_framework_comparison.csv", keep_default_na=False)
    assert len(comparison) == expected_cells()
    assert (out / "report" / "fig_accuracy_vs_timesteps.png").stat().st_size > 1000


def test_rerun_with_everything_up_to_date_does_nothing(test_run):
    out, _ = test_run
    proc = run_snakemake("-n", "-c", "2", "--configfile", "config/test.yaml", "--config", f"results_dir={out}")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def scheduled_after_edit(out, tmp_path, edit) -> list:
    """The jobs a dry run schedules on the completed run once ``edit`` changed its config."""
    from spikemark import plan

    cfg = yaml.safe_load((REPO / "config/test.yaml").read_text())
    edit(cfg)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake("-n", "-c", "2", "--configfile", str(path), "--config", f"results_dir={out}", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return plan.parse_dry_run(proc.stdout + proc.stderr)


REPORT_RULES = {"aggregate", "report_dataset", "report_simulation", "report", "cell_summary", "all"}


def test_editing_one_key_reruns_only_what_it_affects(test_run, tmp_path):
    out, _ = test_run

    def latency_timesteps(cfg):
        cfg["latency_benchmark"]["timesteps"] = 5

    jobs = scheduled_after_edit(out, tmp_path, latency_timesteps)
    assert {j.rule for j in jobs} == {"latency_benchmark"} | REPORT_RULES

    def digits_model(cfg):
        cfg["models"]["digits"] = {"arch": "mlp", "hidden": [24]}

    jobs = scheduled_after_edit(out, tmp_path, digits_model)
    chain = [j for j in jobs if j.rule not in REPORT_RULES]
    assert {"train_ann", "train_snn", "convert_ann2snn", "prune", "deploy", "measure"} <= {j.rule for j in chain}
    assert {j.wildcards["dataset"] for j in chain} == {"digits"}

    def one_more_dataset(cfg):
        cfg["datasets"] = [*cfg["datasets"], "mnist"]

    jobs = scheduled_after_edit(out, tmp_path, one_more_dataset)
    chain = [j for j in jobs if j.rule not in REPORT_RULES]
    assert "prepare_dataset" in {j.rule for j in chain}
    assert {j.wildcards["dataset"] for j in chain} == {"mnist"}
    assert {j.rule for j in jobs} - {j.rule for j in chain} <= REPORT_RULES


def test_a_failing_cell_is_recorded_and_the_rest_still_finish(test_run, tmp_path):
    out, _ = test_run
    victim = out / "models/digits/seed0/surrogate/lamp/pruned_s0.5.pt"
    victim.write_bytes(b"this is not a checkpoint")  # a corrupted artefact, newer than its outputs
    time.sleep(1)
    proc = run_snakemake("-c", "2", "--configfile", "config/test.yaml", "--config", f"results_dir={out}")
    assert proc.returncode != 0  # the final summary counts the failed cell
    # the cell's measure job and its robustness job both record the failure
    assert "2 failed" in proc.stderr
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False)
    failed = table[table.status == "failed"]
    assert set(zip(failed.dataset, failed.method, failed.sparsity.astype(float), failed.hardware)) == {("digits", "surrogate", 0.5, "cpu")}
    assert failed.reason.iloc[0] != ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["by_status"]["failed"] == 2
    assert (out / "report" / "index.html").exists()
    assert "failed" in (out / "report" / "table_framework_comparison.md").read_text()


def test_cuda_jobs_without_a_driver_hold_no_timing_slot():
    """On this host (real: no NVIDIA driver files) a cuda measure job only records its skip,
    so it must not queue behind, or block, the timed cpu jobs."""
    from spikemark import plan
    from spikemark.hardware import nvidia_driver_present

    proc = run_snakemake("-n", "--configfile", "config/test.yaml", "--config", "results_dir=/tmp/spikemark-dry", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = [j for j in plan.parse_dry_run(proc.stdout + proc.stderr) if j.rule in ("measure", "robustness", "latency_benchmark")]
    slots = {hw: {j.number("timing") for j in jobs if j.wildcards.get("hardware") == hw} for hw in ("cpu", "cuda")}
    assert slots["cpu"] == {1}
    assert slots["cuda"] == ({1} if nvidia_driver_present() else {0})
