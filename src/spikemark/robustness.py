"""Robustness protocol: how a deployed SNN's accuracy, latency and synaptic operations
change with the number of time steps and with Gaussian input noise.

For one ML cell (converted or surrogate-trained SNN on its framework and hardware):

- time-step sweep: every T of ``robustness.timesteps`` at noise 0;
- noise sweep: every σ of ``robustness.noise_levels`` at the cell's evaluation T (the
  largest conversion T for converted SNNs, the training T for surrogate SNNs); the noisy
  input is ``x + σ·N(0, 1)`` (datasets are scaled to [0, 1]), drawn once per σ from a
  seeded generator, so every T and framework sees the same noise.

Spike-raster data fed to a surrogate SNN keep their own time bins (no T sweep). Rows are
``track = ml``, ``variant = robustness``, with ``timesteps`` and ``noise`` set: accuracy
(Wilson interval), NeuroBench workload metrics (synaptic operations, activation sparsity,
membrane updates) and ``latency_batch1`` timings (repeats until stable, watched by the
contention guard like every timed phase: see :mod:`spikemark.measure.timing`).
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from spikemark import datasets, frameworks, hardware
from spikemark.deploy import evaluation_timesteps, read_record
from spikemark.measure.cell import metric_convention, timed_runs
from spikemark.measure.neuro import add_metric_rows, workload_metrics
from spikemark.measure.timing import add_timing_rows, latency
from spikemark.pipeline import mark
from spikemark.results import ResultSet
from spikemark.train import batches, to_tensors

log = logging.getLogger(__name__)

VARIANT = "robustness"


def noisy(x: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """``x`` plus zero-mean Gaussian noise of standard deviation ``sigma`` (seeded)."""
    if sigma == 0:
        return x.float()
    generator = torch.Generator().manual_seed(seed)
    return x.float() + sigma * torch.randn(x.shape, generator=generator).to(x.device)


def protocol_points(kind: str, raster: bool, reference_t: int | None, cfg: dict) -> list[tuple[int | None, float]]:
    """(T, σ) pairs: the T sweep at σ = 0, then the σ sweep at the reference T."""
    sweep = [None] if (raster and kind == "spiking_snn") else sorted({int(t) for t in cfg["timesteps"]})
    points = [(t, 0.0) for t in sweep]
    ref = None if sweep == [None] else reference_t
    for sigma in sorted({float(s) for s in cfg["noise_levels"]}):
        if (ref, sigma) not in points:
            points.append((ref, sigma))
    return points


def robustness(
    dataset: str,
    model: str,
    deployment: str,
    metrics: str,
    *,
    coords: dict[str, Any],
    robustness_cfg: dict,
    batch_size: int,
    conversion_timesteps: list[int],
) -> ResultSet:
    """Run the protocol for one deployed cell and write its rows to ``metrics``."""
    rs = ResultSet("ml", {**coords, "variant": VARIANT})
    record = read_record(deployment)
    if record["status"] != "ok":
        rs.mark_cell(record["status"] if record["status"] != "unavailable" else "skipped", record["reason"])
        rs.write_csv(metrics)
        return rs
    target = hardware.get(coords["hardware"])
    classifier = frameworks.get(coords["framework"]).load(model, target.device)
    if classifier.kind == "ann":
        rs.mark_cell("skipped", "the robustness protocol is for SNNs (time steps do not apply to the ANN)")
        rs.write_csv(metrics)
        return rs
    x, y = to_tensors(datasets.load(dataset), "test", target.device)
    raster = x.dim() == 3
    reference_t = evaluation_timesteps(classifier, conversion_timesteps)[-1]
    runs = timed_runs(robustness_cfg, target.device)
    mark("imports-done")
    mark("measurement-start")
    for t, sigma in protocol_points(classifier.kind, raster, reference_t, robustness_cfg):
        inputs = noisy(x, sigma, robustness_cfg["seed"])

        def forward(batch, t=t):
            return classifier.scores(batch, t)

        label = {"timesteps": t or classifier.native_timesteps(), "noise": sigma}
        workload = workload_metrics(
            classifier.module, forward, batches(inputs, y, batch_size), convention=metric_convention(classifier)
        )
        add_metric_rows(rs, classifier.module, {}, workload, **label)
        add_timing_rows(rs, "latency_batch1", latency(forward, inputs[:1], **runs), **label)
        log.info("robustness T=%s noise=%g: accuracy %.4f", label["timesteps"], sigma,
                 workload["n_correct"] / workload["n_samples"])
    mark("measurement-end")
    rs.write_csv(metrics)
    return rs
