"""Timing: n = repeats, ordered intervals, CPU time apart from wall time, peak memory."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from spikemark.measure.timing import (
    HWM_LIFETIME,
    HWM_RESET,
    add_timing_rows,
    latency,
    measure_time,
    throughput,
)
from spikemark.results import ResultSet


def test_repeats_and_interval():
    calls = []
    timing = measure_time(lambda: calls.append(time.sleep(0.002)), warmup=3, repeats=7)
    assert len(calls) == 10
    for summary in (timing.wall, timing.cpu):
        assert summary.n == 7
        assert summary.ci_low <= summary.value <= summary.ci_high
    assert timing.wall.value >= 0.002
    # Sleeping uses wall time, not CPU time.
    assert timing.cpu.value < timing.wall.value


def test_cpu_time_counts_busy_work():
    def busy():  # 10 ms of CPU, however busy the machine is
        end = time.process_time() + 0.01
        while time.process_time() < end:
            pass

    timing = measure_time(busy, warmup=0, repeats=3)
    assert timing.cpu.value >= 0.01 and timing.wall.value >= timing.cpu.value * 0.99


def test_peak_host_memory_sees_tensor_allocations():
    size = 200 * 2**20

    def allocate():
        buf = torch.ones(size // 4)  # touched, so resident
        del buf

    timing = measure_time(allocate, warmup=0, repeats=1)
    assert timing.host_memory_method in (HWM_RESET, HWM_LIFETIME)
    assert timing.peak_host_bytes >= size
    assert timing.peak_cuda_bytes is None


def test_latency_and_throughput_on_a_model():
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).eval()
    x = torch.randn(64, 64)
    lat = latency(model, x[:1], warmup=1, repeats=5)
    assert lat.wall.n == 5
    rate, timing = throughput(model, x, warmup=1, repeats=5)
    assert rate.n == 5 and rate.ci_low <= rate.value <= rate.ci_high
    assert rate.value == pytest.approx(64 / timing.wall.value, rel=0.5)
    with pytest.raises(ValueError, match="batch of one"):
        latency(model, x, repeats=1)

    rs = ResultSet("ml")
    add_timing_rows(rs, "latency_batch1", lat)
    metrics = {r["metric"]: r for r in rs.rows}
    assert metrics["latency_batch1"]["n"] == 5 and metrics["latency_batch1"]["unit"] == "s"
    assert metrics["latency_batch1_cpu"]["ci_low"] <= metrics["latency_batch1_cpu"]["ci_high"]
    assert metrics["latency_batch1_peak_host_memory"]["source"] == lat.host_memory_method


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_timing_synchronises_and_reports_peak_memory():
    a = torch.randn(4096, 4096, device="cuda")
    timing = measure_time(lambda: a @ a, warmup=2, repeats=5, device="cuda")
    assert timing.peak_cuda_bytes >= a.numel() * 4 * 2  # a and the product
    # Without synchronisation a 4096³ matmul would seem to take microseconds.
    assert timing.wall.value > 1e-4
