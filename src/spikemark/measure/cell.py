"""The ``measure`` stage: every number of one ML matrix cell, as tidy rows.

Per evaluated T: accuracy, NeuroBench workload metrics, latency (batch 1) and throughput
(configured batch) with warm-up and repeats until stable, peak memory, and energy from every
configured meter (measured where a counter exists, labelled estimates beside, unavailable
with the reason otherwise). Static metrics (parameters, footprint, connection sparsity)
once. Every timed phase is watched by the contention guard (``measure.contention``): its
timings are ``invalid`` with the reason where the machine stayed busy; accuracy and
operation counts are unaffected.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from spikemark.deploy import read_record
from spikemark.results import ResultSet

if TYPE_CHECKING:
    from spikemark.models import Classifier

log = logging.getLogger(__name__)


def metric_convention(classifier: Classifier) -> str:
    """ANNs follow NeuroBench exactly. Our SNNs are stored with the converter's scales
    already folded into thresholds and weights, so NeuroBench's own counting gives ACs for
    spike-fed layers; the ``folded`` convention additionally counts SpikingJelly membrane
    updates, which NeuroBench 2.3 cannot read."""
    return "neurobench" if classifier.kind == "ann" else "folded"


def timed_runs(cfg: dict, device: str) -> dict[str, Any]:
    """Keywords of :func:`spikemark.measure.timing.measure_time` from a timed job's config
    slice: warm-up, minimum repeats, repeats until stable (``stability``) and the
    contention guard (``contention``; no guard where the slice has none)."""
    from spikemark.measure.contention import guard_for
    from spikemark.measure.timing import Stability

    return {
        "warmup": cfg["warmup"],
        "repeats": cfg["repeats"],
        "device": device,
        "stability": Stability.from_config(cfg.get("stability")),
        # A GPU workload's host thread waits on the device by design: judged by other load only.
        "guard": guard_for(cfg.get("contention"), cpu_bound=str(device).partition(":")[0] != "cuda"),
    }


def measure_timestep(rs: ResultSet, classifier: Classifier, x, y, t: int | None, cfg: dict, device: str, static: dict) -> None:
    from spikemark.measure.energy import add_energy_rows, measure_energy
    from spikemark.measure.neuro import add_metric_rows, workload_metrics
    from spikemark.measure.timing import add_timing_rows, latency, throughput
    from spikemark.train import batches

    def forward(inputs):
        return classifier.scores(inputs, t)

    workload = workload_metrics(
        classifier.module, forward, batches(x, y, cfg["batch_size"]), convention=metric_convention(classifier)
    )
    add_metric_rows(rs, classifier.module, static, workload, timesteps=t)
    runs = timed_runs(cfg, device)
    add_timing_rows(rs, "latency_batch1", latency(forward, x[:1], **runs), timesteps=t)
    batch = x[: cfg["batch_size"]]
    rate, timing = throughput(forward, batch, **runs)
    rs.add_summary("throughput", rate, "samples/s", timesteps=t, **timing.verdict())
    add_timing_rows(rs, "batch_time", timing, timesteps=t)
    energy_cfg = cfg["energy"]
    readings = measure_energy(
        lambda: forward(batch),
        [*energy_cfg["meters"], *energy_cfg["estimates"]],
        inferences=len(batch),
        ops=workload,
        config=energy_cfg,
        repeats=cfg["repeats"],
        idle_s=energy_cfg["idle_seconds"],
        device=device,
        guard=runs["guard"],
    )
    add_energy_rows(rs, readings, timesteps=t)


def measure(
    dataset: str,
    model: str,
    deployment: str,
    metrics: str,
    *,
    coords: dict[str, Any],
    measure_cfg: dict,
    conversion_timesteps: list[int],
) -> ResultSet:
    """Measure one deployed cell and write its rows to ``metrics``."""
    rs = ResultSet("ml", dict(coords))
    record = read_record(deployment)
    if record["status"] in ("skipped", "failed"):
        rs.mark_cell(record["status"], record["reason"])
        rs.write_csv(metrics)
        return rs
    rs.add("deploy_agreement", record["agreement"], "fraction")
    rs.add("deploy_max_abs_diff", record["max_abs_diff"], "score")
    if record["status"] == "invalid":
        rs.mark_cell("invalid", record["reason"])
        rs.write_csv(metrics)
        return rs
    measure_deployed(rs, dataset, model, coords=coords, measure_cfg=measure_cfg, conversion_timesteps=conversion_timesteps)
    rs.write_csv(metrics)
    return rs


def measure_deployed(rs: ResultSet, dataset: str, model: str, *, coords: dict, measure_cfg: dict, conversion_timesteps: list[int]) -> None:
    """All rows of a cell whose deployment succeeded (heavy imports start here)."""
    from spikemark import datasets, frameworks, hardware
    from spikemark.deploy import evaluation_timesteps
    from spikemark.measure.neuro import static_metrics
    from spikemark.train import to_tensors

    from spikemark.pipeline import mark

    target = hardware.get(coords["hardware"])
    classifier = frameworks.get(coords["framework"]).load(model, target.device)
    x, y = to_tensors(datasets.load(dataset), "test", target.device)
    mark("imports-done")
    mark("measurement-start")
    static = static_metrics(classifier.module)
    for t in evaluation_timesteps(classifier, conversion_timesteps):
        measure_timestep(rs, classifier, x, y, t, measure_cfg, target.device, static)
        static = {}  # static metrics do not depend on T: one row each
        log.info("measured T=%s", t)
    mark("measurement-end")
