"""The ``measure`` stage: every number of one ML matrix cell, as tidy rows."""

from __future__ import annotations

import logging
import time
from typing import Any

import torch

from spikemark import datasets, frameworks, hardware
from spikemark.deploy import evaluation_timesteps, read_record, scores_on
from spikemark.models import Classifier
from spikemark.results import ResultSet
from spikemark.stats import median_ci, wilson
from spikemark.train import to_tensors

log = logging.getLogger(__name__)


def time_repeats(fn, *, warmup: int, repeats: int, sync) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    sync()
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        sync()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return walls, cpus


def record_accuracy(rs: ResultSet, classifier: Classifier, x, y, t: int | None) -> None:
    predictions = scores_on(classifier, x, y, t).argmax(1)
    correct = int((predictions == y.cpu()).sum())
    rs.add_summary("accuracy", wilson(correct, len(y)), "fraction", timesteps=t)


def record_timing(rs: ResultSet, classifier: Classifier, x, t: int | None, cfg: dict, target) -> None:
    one = x[:1]
    batch = x[: cfg["batch_size"]]
    with torch.no_grad():
        wall, cpu = time_repeats(lambda: classifier.scores(one, t), warmup=cfg["warmup"], repeats=cfg["repeats"], sync=target.synchronize)
        rs.add_summary("latency_batch1", median_ci(wall), "s", timesteps=t)
        rs.add_summary("latency_batch1_cpu", median_ci(cpu), "s", timesteps=t)
        wall, cpu = time_repeats(lambda: classifier.scores(batch, t), warmup=cfg["warmup"], repeats=cfg["repeats"], sync=target.synchronize)
    rs.add_summary("throughput", median_ci([len(batch) / w for w in wall]), "samples/s", timesteps=t)
    rs.add_summary("batch_time_cpu", median_ci(cpu), "s", timesteps=t)


def record_static(rs: ResultSet, classifier: Classifier) -> None:
    params = list(classifier.module.parameters())
    buffers = list(classifier.module.buffers())
    rs.add("parameter_count", sum(p.numel() for p in params), "count")
    footprint = sum(p.numel() * p.element_size() for p in params + buffers)
    rs.add("footprint", footprint, "bytes")
    weights = [m.weight for m in classifier.module.modules() if isinstance(m, torch.nn.Linear)]
    zeros = sum(int((w == 0).sum()) for w in weights)
    rs.add("connection_sparsity", zeros / sum(w.numel() for w in weights), "fraction")


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
    rs.add("deploy_agreement", record["agreement"], "fraction", source="measured")
    rs.add("deploy_max_abs_diff", record["max_abs_diff"], "score", source="measured")
    if record["status"] == "invalid":
        rs.mark_cell("invalid", record["reason"])
        rs.write_csv(metrics)
        return rs
    target = hardware.get(coords["hardware"])
    torch.set_num_threads(measure_cfg.get("threads", 1))
    classifier = frameworks.get(coords["framework"]).load(model, target.device)
    x, y = to_tensors(datasets.load(dataset), "test", target.device)
    record_static(rs, classifier)
    for t in evaluation_timesteps(classifier, conversion_timesteps):
        record_accuracy(rs, classifier, x, y, t)
        record_timing(rs, classifier, x, t, measure_cfg, target)
        log.info("measured T=%s", t)
    rs.write_csv(metrics)
    return rs
