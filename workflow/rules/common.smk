# Shared by every file of rules: the plan of this config, path helpers, wildcard constraints
# and the `timing` resource. The plan (spikemark.matrix.Plan) builds every job list and
# config slice; the rules only look things up in it.
import json

from spikemark.matrix import (
    CELL,
    LATENCY_CELL,
    MODEL,
    PRUNED_MODEL,
    SIM_DIR,
    SIM_RUN,
    SIM_VALIDATION,
    SWEEP,
    Plan,
)
from spikemark.runlock import acquire_or_exit, cancel_wake_up_timers
from spikemark.summary import outdate_pages_without_table, print_cell_summary

PLAN = Plan(config)

# Jobs that time things take this resource; one unit means they never share the cores.
# A cluster profile raises it (each Slurm job has its own allocation).
if "timing" not in workflow.global_resources:
    workflow.register_resource("timing", 1)


wildcard_constraints:
    dataset="[A-Za-z0-9_.-]+",
    method="ann|ann2snn|surrogate",
    pruning="[A-Za-z0-9_]+",
    sparsity="[0-9.]+",
    framework="[A-Za-z0-9_.-]+",
    hardware="[A-Za-z0-9_.-]+",
    seed="[0-9]+",
    scale="N[0-9.]+_K[0-9.]+",
    ranks="[0-9]+",
    threads="[0-9]+",
    tier="validation|validation_full",


results = PLAN.results
logs = PLAN.logs
benchmarks = PLAN.benchmarks


def sweep_cells(wildcards):
    """Per-cell coordinates of a deploy / measure job: its sweep at every pruning level."""
    return PLAN.sweep_cells(**dict(wildcards.items()))


def robustness_cells(wildcards):
    return PLAN.sweep_cells(**dict(wildcards.items()), levels=PLAN.robustness_levels)


def gpus(wildcards):
    return PLAN.gpus(wildcards.hardware)


def timing_slot(wildcards):
    return PLAN.timing_slot(wildcards.hardware)
