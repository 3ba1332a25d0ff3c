# spikemark: reproducible benchmarks for neuronal networks.
# The configuration is validated (defaults filled in) before any job is scheduled.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from spikemark.config import validate_or_exit


configfile: "config/config.yaml"


config = validate_or_exit(
    config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/convert.smk"
include: "workflow/rules/prune.smk"
include: "workflow/rules/deploy.smk"
include: "workflow/rules/measure.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/latency.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        results("metrics.csv"),
        results("metrics.nc"),
        REPORT_PAGES,
        results("cells_ok.txt"),


onstart:
    # One run per results directory; a killed run's lock dies with it.
    acquire_or_exit(PLAN.results_dir)


onsuccess:
    print_cell_summary(results("summary.json"))
    cancel_wake_up_timers()


onerror:
    print_cell_summary(results("summary.json"))
    cancel_wake_up_timers()
