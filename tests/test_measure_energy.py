"""Energy meters: RAPL on a stand-in powercap tree, unavailable meters, estimates by hand.

The RAPL tests write a *stand-in* for ``/sys/class/powercap``: the real file layout
(``intel-rapl:N/name``, ``energy_uj``, ``max_energy_range_uj``, nested subzones
``intel-rapl:N:M`` also linked at the top level, an ``intel-rapl-mmio`` duplicate), whose
counters the test advances the way the hardware would. Nothing is mocked: the meter reads
these files exactly as it reads sysfs.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
import torch

from spikemark.measure.energy import METERS, EnergyReading, add_energy_rows, measure_energy
from spikemark.measure.energy.base import Window
from spikemark.measure.energy.estimate_ops import EstimateOpsMeter
from spikemark.measure.energy.estimate_tdp import EstimateTdpMeter
from spikemark.measure.energy.nvml import NvmlMeter
from spikemark.measure.energy.rapl import RaplMeter
from spikemark.measure.energy.slurm import SlurmMeter
from spikemark.results import ResultSet

from powercap_stand_in import MAX_RANGE, powercap  # noqa: F401 - the stand-in powercap tree fixture

def test_rapl_finds_every_package_and_domain(powercap):
    meter = RaplMeter({"rapl_root": str(powercap.root)})
    assert sorted(meter.zones()) == [
        "package-0",
        "package-0/core",
        "package-0/dram",
        "package-1",
        "package-1/dram",
        "psys",
    ]
    # core is part of its package and psys covers the packages: not in the total.
    assert meter.total_domains(sorted(meter.zones())) == [
        "package-0",
        "package-0/dram",
        "package-1",
        "package-1/dram",
    ]


def test_rapl_counts_a_window_and_a_wrap_around(powercap):
    meter = RaplMeter({"rapl_root": str(powercap.root)})
    powercap.set("1", MAX_RANGE - 1_000_000)  # 1 J before package-1's counter wraps
    meter.start()
    powercap.add("0", 2.5)
    powercap.add("1", 1.5)  # wraps to 500 000 µJ
    joules = meter.stop()
    assert powercap.get("1") < MAX_RANGE - 1_000_000  # the counter did wrap
    assert joules["package-0"] == pytest.approx(2.5)
    assert joules["package-1"] == pytest.approx(1.5, abs=2e-6)
    assert joules["package-0/dram"] == 0


def _as_nobody(fn):
    """Run ``fn`` in a forked child with uid/gid nobody; return its JSON result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        out = fh.read()
    os.waitpid(pid, 0)
    return json.loads(out)


def test_rapl_unreadable_counter_is_unavailable_with_reason(powercap):
    """energy_uj is root-only on current kernels: the reason says so, no zero appears."""
    for zone in ("0", "0:0"):
        (powercap.paths[zone] / "energy_uj").chmod(0o400)
    for zone in ("0:1", "1", "1:0", "2"):
        (powercap.paths[zone] / "energy_uj").chmod(0o444)

    def readings():
        rows = measure_energy(
            lambda: None, ["rapl"], inferences=1, config={"rapl_root": str(powercap.root)}, idle_s=0.05
        )
        return [[r.metric, r.domain, r.status, r.reason, r.value.value if r.value else None] for r in rows]

    if os.geteuid() == 0:
        rows = _as_nobody(readings)
    else:
        for zone in ("0", "0:0"):
            (powercap.paths[zone] / "energy_uj").chmod(0)
        rows = readings()
    by_key = {(m, d): (status, reason, value) for m, d, status, reason, value in rows}
    status, reason, value = by_key[("energy", "package-0")]
    assert status == "unavailable" and "permission denied" in reason and value is None
    # package-1 was read (no permission problem); its counter did not advance beyond the
    # idle baseline, which is "not resolved", never a zero.
    status, reason, value = by_key[("energy", "package-1")]
    assert status == "unavailable" and reason.startswith("not resolved") and value is None
    total = by_key[("energy_per_inference", "total")]
    assert total[0] == "unavailable" and "permission denied" in total[1] and total[2] is None


def test_rapl_idle_baseline_is_subtracted(powercap):
    """A background 'idle' power of 10 W on package-0; the workload adds 8 J in total."""
    stop = threading.Event()

    def idle_power():
        t0, e0 = time.perf_counter(), powercap.get("0")
        while not stop.is_set():
            powercap.set("0", e0 + round(10e6 * (time.perf_counter() - t0)))
            time.sleep(0.001)

    def workload():
        for zone, joules in (("1", 2.0), ("0:0", 3.0), ("0:1", 1.0), ("1:0", 0.0), ("2", 100.0)):
            powercap.add(zone, joules)
        time.sleep(0.1)

    thread = threading.Thread(target=idle_power)
    thread.start()
    try:
        time.sleep(0.05)
        readings = measure_energy(
            workload,
            ["rapl"],
            inferences=100,
            config={"rapl_root": str(powercap.root)},
            repeats=3,
            idle_s=0.3,
        )
    finally:
        stop.set()
        thread.join()
    by_key = {(r.metric, r.domain): r for r in readings}
    # package-1/dram drew nothing: its workload energy is not resolved (never a zero). package-0
    # drew only its idle power: within the baseline's jitter, so either not resolved or
    # nearly zero -- never a negative number. Every other reading is ok.
    dram = by_key[("energy", "package-1/dram")]
    assert dram.status == "unavailable" and dram.reason.startswith("not resolved") and dram.value is None
    idle_only = by_key[("energy", "package-0")]
    assert idle_only.reason.startswith("not resolved") if idle_only.status != "ok" else idle_only.value.ci_low > 0
    if idle_only.status == "ok":
        assert idle_only.value.value < 0.2
    others = [r for r in readings if r.metric != "energy_per_synop" and r.domain not in ("package-0", "package-1/dram")]
    assert others and all(r.status == "ok" for r in others)
    assert by_key[("idle_power", "total")].value.value == pytest.approx(10, rel=0.1)
    energy = by_key[("energy", "total")].value
    assert energy.n == 3 and energy.value == pytest.approx(3.0, abs=0.15)  # package-1 + dram: 2 + 1 J
    assert by_key[("energy_per_inference", "total")].value.value == pytest.approx(0.03, abs=0.0015)
    assert by_key[("energy", "psys")].value.value == pytest.approx(100, abs=0.1)  # reported, not in total
    assert by_key[("energy_per_synop", "total")].status == "unavailable"  # no op counts given


def test_rapl_missing_sysfs_is_unavailable(tmp_path):
    readings = measure_energy(
        lambda: None, ["rapl"], inferences=1, config={"rapl_root": str(tmp_path / "none")}
    )
    assert {r.status for r in readings} == {"unavailable"}
    assert all("powercap" in r.reason for r in readings)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: see test_nvml_measures_on_gpu")
def test_nvml_without_gpu_is_unavailable():
    reason = NvmlMeter().unavailable_reason()
    assert reason and "NVML" in reason
    readings = measure_energy(lambda: None, ["nvml"], inferences=1)
    assert [r.status for r in readings] == ["unavailable", "unavailable"]
    assert all(r.reason == reason and r.value is None for r in readings)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_nvml_measures_on_gpu():
    a = torch.randn(4096, 4096, device="cuda")

    def workload():
        for _ in range(200):
            a @ a

    readings = measure_energy(workload, ["nvml"], inferences=200, idle_s=1.0, repeats=3, device="cuda")
    energy = {r.metric: r for r in readings if r.domain == "total"}["energy"]
    assert energy.status == "ok" and energy.value.value > 0


def test_slurm_outside_a_job_is_unavailable(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    readings = measure_energy(lambda: None, ["slurm"], inferences=1)
    assert {r.status for r in readings} == {"unavailable"}
    assert all("SLURM_JOB_ID" in r.reason for r in readings)


def test_slurm_without_energy_accounting_is_unavailable(monkeypatch):
    """Here no sacct exists, or (on a cluster) the id is unknown or energy unaccounted."""
    monkeypatch.setenv("SLURM_JOB_ID", "999999999")
    reason = SlurmMeter().unavailable_reason()
    assert reason
    readings = measure_energy(lambda: None, ["slurm"], inferences=1)
    assert all(r.status == "unavailable" and r.reason == reason for r in readings)


def test_estimate_ops_by_hand():
    ops = {"effective_macs": 1000.0, "effective_acs": 2000.0, "convention": "folded"}
    readings = measure_energy(lambda: None, ["estimate-ops"], inferences=10, ops=ops)
    by_metric = {r.metric: r for r in readings}
    # 45 nm fp32: 4.6 pJ · 1000 + 0.9 pJ · 2000 = 6400 pJ per inference.
    assert by_metric["energy_per_inference"].value.value == pytest.approx(6.4e-9)
    assert by_metric["energy"].value.value == pytest.approx(6.4e-8)
    assert by_metric["energy_per_synop"].value.value == pytest.approx(6.4e-9 / 3000)
    assert by_metric["energy"].domain == "ops=folded"
    assert EstimateOpsMeter({"ops_preset": "45nm-int8"}).per_inference(1000, 2000) == pytest.approx(290e-12)
    assert EstimateOpsMeter({"ops_preset": "45nm-fp16"}).per_inference(1000, 2000) == pytest.approx(2300e-12)
    custom = EstimateOpsMeter({"e_mac_pj": 1.0, "e_ac_pj": 0.1})
    assert custom.per_inference(1000, 2000) == pytest.approx(1200e-12)


def test_estimate_ops_without_counts_is_unavailable():
    readings = measure_energy(lambda: None, ["estimate-ops"], inferences=1)
    assert {r.status for r in readings} == {"unavailable"}


def test_estimate_tdp_by_hand():
    meter = EstimateTdpMeter({"tdp_watts": 100, "tdp_cores": 4})
    assert meter.estimate(Window(wall_s=1.0, cpu_s=2.0, inferences=1)) == pytest.approx(50.0)

    def busy():
        end = time.process_time() + 0.05
        while time.process_time() < end:
            pass

    readings = measure_energy(busy, ["estimate-tdp"], inferences=5, config={"tdp_watts": 100, "tdp_cores": 4})
    energy = {r.metric: r for r in readings}["energy"].value.value
    assert energy == pytest.approx(0.05 * 25, rel=0.5)


def test_estimate_tdp_without_tdp_is_unavailable():
    readings = measure_energy(lambda: None, ["estimate-tdp"], inferences=1, config={"tdp_watts": None})
    assert {r.status for r in readings} == {"unavailable"}
    assert "tdp_watts" in readings[0].reason


def test_rows_have_source_unit_and_reason():
    rs = ResultSet("ml", {"dataset": "digits"})
    ops = {"effective_macs": 10.0, "effective_acs": 0.0}
    add_energy_rows(rs, measure_energy(lambda: None, ["estimate-ops", "slurm"], inferences=1, ops=ops))
    sources = {(r["metric"], r["source"], r["status"]) for r in rs.rows}
    assert ("energy_per_inference", "estimate-ops", "ok") in sources
    assert ("energy_per_inference", "slurm", "unavailable") in sources
    assert all(r["unit"] for r in rs.rows)
    assert all(r["value"] == "" for r in rs.rows if r["status"] == "unavailable")


def test_registry_and_unknown_meter():
    assert set(METERS) == {"rapl", "nvml", "slurm", "estimate-ops", "estimate-tdp"}
    with pytest.raises(ValueError, match="unknown energy meters"):
        measure_energy(lambda: None, ["joulemeter"], inferences=1)
    assert EnergyReading("energy", "rapl", None, status="unavailable", reason="x").unit == "J"


def _fake_slurm_tools(tmp_path, monkeypatch, energy_plugin: str, sstat_values: list[str]):
    """scontrol / sstat / sacct stand-ins: sstat prints the next of ``sstat_values``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    counter = tmp_path / "calls"
    counter.write_text("0")
    values = " ".join(sstat_values)
    scripts = {
        "scontrol": f"#!/bin/sh\necho 'AcctGatherEnergyType    = {energy_plugin}'\n",
        "sstat": (
            "#!/bin/sh\n"
            f"n=$(cat {counter}); echo $((n + 1)) > {counter}\n"
            f"set -- {values}; shift $n 2>/dev/null || true; echo ${{1:-{sstat_values[-1]}}}\n"
        ),
        "sacct": "#!/bin/sh\necho 'Slurm accounting storage is disabled' >&2; exit 1\n",
    }
    for name, text in scripts.items():
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_JOB_ID", "42")


def test_slurm_without_energy_plugin_says_so(tmp_path, monkeypatch):
    """A real Slurm without AcctGatherEnergyType reports ConsumedEnergyRaw 0: unavailable, why."""
    _fake_slurm_tools(tmp_path, monkeypatch, "acct_gather_energy/none", ["0"])
    reason = SlurmMeter().unavailable_reason()
    assert reason == "the cluster does not account energy (AcctGatherEnergyType = acct_gather_energy/none)"
    readings = measure_energy(lambda: None, ["slurm"], inferences=1)
    assert {r.status for r in readings} == {"unavailable"} and all(r.reason == reason for r in readings)


def test_slurm_with_energy_accounting_gives_the_counter_difference(tmp_path, monkeypatch):
    """With an energy plugin, a counter still at 0 (not yet sampled) is fine at start."""
    _fake_slurm_tools(tmp_path, monkeypatch, "acct_gather_energy/rapl", ["0", "0", "1000", "1600"])
    meter = SlurmMeter()
    assert meter.unavailable_reason() is None  # first read: 0, not yet sampled
    meter.start()  # second read: 0
    assert meter.stop() == {"job": 1000.0}
    meter.start()  # 1600 ... then the counter stays: no advance in the window
    assert meter.stop() == {"job": None} and "did not advance" in meter.reasons["job"]
