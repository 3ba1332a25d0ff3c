"""Energy Slurm accounts to the current job (``ConsumedEnergyRaw``, joules).

Slurm gathers node energy through its ``AcctGatherEnergyType`` plugin (RAPL, IPMI, GPU…)
every ``AcctGatherNodeFreq`` seconds. While the job runs, ``sstat`` reports the running
step's energy; ``sacct`` is the fallback (finished steps, or clusters where sstat is not
allowed). The value covers the node(s) of the step, not only this process, and advances
in poll-interval steps: a window shorter than the interval is reported as unavailable,
not as zero.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from spikemark.measure.energy.base import Meter, MeterUnavailable

TIMEOUT_S = 30


def _step() -> str:
    job = os.environ["SLURM_JOB_ID"]
    step = os.environ.get("SLURM_STEP_ID")
    return f"{job}.{step}" if step else f"{job}.batch"


def _query(command: list[str]) -> float:
    """Sum of ConsumedEnergyRaw over the lines ``command`` prints."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise MeterUnavailable(f"{command[0]} failed: {err}") from err
    if out.returncode != 0:
        message = (out.stderr or out.stdout).strip().splitlines()
        raise MeterUnavailable(f"{command[0]}: {message[-1] if message else f'exit {out.returncode}'}")
    values = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if not values:
        raise MeterUnavailable(
            f"{command[0]} returned no ConsumedEnergyRaw for job {os.environ['SLURM_JOB_ID']}"
        )
    try:
        total = sum(float(v) for v in values)
    except ValueError as err:
        raise MeterUnavailable(f"{command[0]}: unexpected ConsumedEnergyRaw {values!r}") from err
    return total


def energy_plugin() -> str | None:
    """The cluster's ``AcctGatherEnergyType`` (``scontrol show config``), None if unknown."""
    if shutil.which("scontrol") is None:
        return None
    try:
        out = subprocess.run(
            ["scontrol", "show", "config"], capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "AcctGatherEnergyType":
            return value.strip()
    return None


class SlurmMeter(Meter):
    name = "slurm"

    def unavailable_reason(self) -> str | None:
        if "SLURM_JOB_ID" not in os.environ:
            return "not inside a Slurm job (SLURM_JOB_ID is unset)"
        if shutil.which("sstat") is None and shutil.which("sacct") is None:
            return "neither sstat nor sacct is on PATH"
        plugin = energy_plugin()
        if plugin is not None and plugin.endswith("/none"):
            return f"the cluster does not account energy (AcctGatherEnergyType = {plugin})"
        try:
            energy = self._energy()
        except MeterUnavailable as err:
            return str(err)
        if energy == 0 and plugin is None:
            # Without scontrol a counter stuck at 0 cannot be told from an unsampled one.
            return "the cluster does not account energy (ConsumedEnergyRaw is 0)"
        return None

    def _energy(self) -> float:
        fields = ["-n", "-P", "--noconvert", "-o", "ConsumedEnergyRaw"]
        reasons = []
        if shutil.which("sstat"):
            try:
                return _query(["sstat", *fields, "-j", _step()])
            except MeterUnavailable as err:
                reasons.append(str(err))
        if shutil.which("sacct"):
            try:
                return _query(
                    ["sacct", *fields, "-X", "-j", os.environ["SLURM_JOB_ID"]]
                )  # -X: the job line only
            except MeterUnavailable as err:
                reasons.append(str(err))
        raise MeterUnavailable("; ".join(reasons) or "neither sstat nor sacct is on PATH")

    def start(self) -> None:
        self.reasons = {}
        self._begin = self._energy()

    def stop(self) -> dict[str, float | None]:
        delta = self._energy() - self._begin
        if delta <= 0:
            self.reasons["job"] = (
                "ConsumedEnergyRaw did not advance during the window (shorter than AcctGatherNodeFreq)"
            )
            return {"job": None}
        return {"job": delta}
