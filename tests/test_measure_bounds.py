"""No value and no interval bound of a non-negative metric below zero, in any row a stage writes.

Times, rates, energies, memory, counts, fractions and shares cannot be negative, and
neither can the bounds of their intervals: every summary the pipeline writes is a median
with order-statistic bounds, a Wilson interval, or (over seeds) a geometric mean with a
log-scale interval. The stage functions run here on tiny real data (the ML measure, the
latency benchmark, a PD14 cell metered by RAPL on a stand-in powercap tree, its
validation); ``tests/test_contention.py`` checks every row of a whole ``config/test.yaml``
run the same way.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from powercap_stand_in import CpuPower, powercap  # noqa: F401 - the stand-in powercap tree fixture

#: Metrics that may be negative: the mean spike-count correlation coefficient of a population.
SIGNED = ("cc_mean",)
#: The guard's settings as the schema's defaults give them.
GUARD = {"enabled": True, "min_share": 0.9, "load_margin": 0.5, "retries": 1, "backoff_s": 0.1}


def negative_bounds(rows: list[dict]) -> list[str]:
    """Rows whose value or interval bound is below zero (signed metrics left out)."""
    bad = []
    for row in rows:
        if row["metric"] in SIGNED:
            continue
        for column in ("value", "ci_low", "ci_high"):
            text = row[column]
            if text not in ("", None) and not math.isnan(float(text)) and float(text) < 0:
                bad.append(f"{row['metric']} ({row['source']}, {row['variant']}): {column} = {text}")
    return bad


def read(path: Path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_ml_cell_and_latency_rows_are_non_negative(data_dir, digits_models, powercap, tmp_path):
    from spikemark.deploy import deploy
    from spikemark.latency import latency_benchmark
    from spikemark.measure.cell import measure

    data, model = str(data_dir / "digits.npz"), str(digits_models["ann2snn"])
    record = tmp_path / "deployment.json"
    deploy(
        data,
        model,
        str(record),
        framework="spikingjelly",
        hardware_name="cpu",
        conversion_timesteps=[4],
        agreement_threshold=0.99,
    )
    cfg = {
        "warmup": 1,
        "repeats": 3,
        "batch_size": 64,
        "contention": GUARD,
        "stability": {"max_repeats": 6},
        "energy": {
            "meters": ["rapl", "nvml", "slurm"],
            "estimates": ["estimate-ops", "estimate-tdp"],
            "tdp_watts": 100.0,
            "ops_preset": "45nm-fp32",
            "idle_seconds": 0.1,
            "rapl_root": str(powercap.root),
        },
    }
    coords = {
        "dataset": "digits",
        "method": "ann2snn",
        "pruning": "none",
        "sparsity": 0.0,
        "framework": "spikingjelly",
        "hardware": "cpu",
        "seed": 0,
    }
    with CpuPower(powercap, idle_w=5.0, active_w=20.0):
        measure(
            data,
            model,
            str(record),
            str(tmp_path / "ml.csv"),
            coords=coords,
            measure_cfg=cfg,
            conversion_timesteps=[4],
        )
    bench = {
        "timesteps": 4,
        "batch_size": 2,
        "warmup": 1,
        "repeats": 2,
        "compile": "never",
        "sizes": {"cpu": [16]},
        "contention": GUARD,
        "stability": {"max_repeats": 4},
    }
    latency_benchmark(
        str(tmp_path / "latency.csv"),
        coords={"framework": "spikingjelly", "hardware": "cpu"},
        bench_cfg=bench,
    )
    rows = read(tmp_path / "ml.csv") + read(tmp_path / "latency.csv")
    assert {"latency_batch1", "throughput", "energy_per_inference", "inference_time"} <= {
        r["metric"] for r in rows
    }
    assert {"rapl", "estimate-ops", "estimate-tdp"} <= {r["source"] for r in rows if r["metric"] == "energy"}
    assert negative_bounds(rows) == []


def test_pd14_rows_are_non_negative(powercap, tmp_path):
    from spikemark.simulation import cells

    network = {"drive": "poisson", "bg_rate": 8.0, "t_presim_ms": 100.0, "t_sim_ms": 300.0}
    measure_cfg = {
        "energy": {"meters": ["rapl"], "idle_seconds": 0.2, "rapl_root": str(powercap.root)},
        "contention": GUARD,
    }
    coords = {"framework": "nest", "scale": "N0.05_K0.05", "ranks": 1, "threads": 1, "seed": 3}
    with CpuPower(powercap, idle_w=5.0, active_w=20.0):
        cells.simulate(
            None,
            tmp_path / "pd14.csv",
            coords=coords,
            network=network,
            tdp_watts_per_core=10.0,
            measure_cfg=measure_cfg,
        )
    rows = read(tmp_path / "pd14.csv")
    metered = [r for r in rows if r["metric"] == "energy_per_synaptic_event" and r["source"] == "rapl"]
    assert metered and metered[0]["value"] != ""
    assert negative_bounds(rows) == []


def test_the_check_sees_a_negative_bound():
    rows = [
        {
            "metric": "rtf",
            "source": "summary",
            "variant": "",
            "value": "23.3",
            "ci_low": "-6.8",
            "ci_high": "53.3",
        },
        {
            "metric": "cc_mean",
            "source": "measured",
            "variant": "",
            "value": "-0.01",
            "ci_low": "",
            "ci_high": "",
        },
    ]
    assert negative_bounds(rows) == ["rtf (summary, ): ci_low = -6.8"]


@pytest.mark.parametrize("values", [[23.3, 4.1, 42.6], [12.6, 12.5, 12.7], [1e-9, 2e-9]])
def test_summaries_over_seeds_stay_positive(values):
    from spikemark.stats import positive_summary

    summary = positive_summary(values)
    assert 0 < summary.ci_low <= summary.value <= summary.ci_high
