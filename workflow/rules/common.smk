# Input functions, the matrix expansion and shared settings. Rules stay declarative.
import json

from spikemark.frameworks import for_method

RESULTS = config["results_dir"]
ENVS = Path(workflow.basedir) / "envs"
SPARSITY_FORMAT = "{:g}"

# Jobs that time things take this resource; one unit means they never share the cores.
# A cluster profile raises it (each Slurm job has its own allocation).
if "timing" not in workflow.global_resources:
    workflow.register_resource("timing", 1)


wildcard_constraints:
    dataset="[A-Za-z0-9_.-]+",
    method="ann|ann2snn|surrogate",
    sparsity="[0-9.]+",
    framework="[A-Za-z0-9_.-]+",
    hardware="[A-Za-z0-9_.-]+",
    seed="[0-9]+",


def results(path):
    return f"{RESULTS}/{path}"


def logs(path):
    return f"{RESULTS}/logs/{path}"


def benchmarks(path):
    return f"{RESULTS}/benchmarks/{path}"


def sparsity_label(value):
    return SPARSITY_FORMAT.format(float(value))


CELL = "{dataset}/{method}/s{sparsity}/{framework}/{hardware}/seed{seed}"


def ml_cells():
    """Every (dataset, method, sparsity, framework, hardware, seed) cell of the matrix."""
    for dataset in config["datasets"]:
        for method in config["methods"]:
            for framework in for_method(method, config["frameworks"]):
                for hardware in config["hardware"]:
                    for sparsity in config["pruning"]["sparsity"]:
                        for seed in config["training"]["seeds"]:
                            yield dict(
                                dataset=dataset,
                                method=method,
                                sparsity=sparsity_label(sparsity),
                                framework=framework,
                                hardware=hardware,
                                seed=seed,
                            )


def ml_cell_files(name):
    return [results(f"cells/{CELL}/{name}".format(**cell)) for cell in ml_cells()]


def model_config(wildcards):
    return {
        "arch": "mlp",
        "hidden": [128],
        **config["models"].get(wildcards.dataset, {}),
    }


def trained_model(wildcards):
    """The model a method prunes: the ANN itself, its conversion, or the surrogate SNN."""
    return results(
        f"models/{wildcards.dataset}/seed{wildcards.seed}/{wildcards.method}.pt"
    )


def cell_coords(wildcards):
    return dict(
        dataset=wildcards.dataset,
        method=wildcards.method,
        sparsity=float(wildcards.sparsity),
        framework=wildcards.framework,
        hardware=wildcards.hardware,
        seed=int(wildcards.seed),
        pruning=config["pruning"]["method"],
    )


def gpus_for(wildcards):
    return 1 if wildcards.hardware == "cuda" else 0


# Latency benchmark (workflow/rules/latency.smk): one job per framework and hardware.
LATENCY_CELL = "{framework}/{hardware}"


def latency_cells():
    bench = config["latency_benchmark"]
    if not bench["enabled"]:
        return []
    return [
        dict(framework=framework, hardware=hardware)
        for framework in bench["frameworks"]
        for hardware in bench["hardware"]
    ]


def latency_files(name):
    return [
        results(f"latency/{LATENCY_CELL}/{name}".format(**cell))
        for cell in latency_cells()
    ]


def latency_metric_fragments():
    return latency_files("metrics.csv")


def latency_provenance_files():
    return latency_files("provenance.json")


# Robustness protocol (workflow/rules/robustness.smk): one job per SNN cell.
ROBUSTNESS_METHODS = ("ann2snn", "surrogate")


def robustness_cells():
    cfg = config["robustness"]
    if not cfg["enabled"]:
        return []
    return [
        cell
        for cell in ml_cells()
        if cell["method"] in ROBUSTNESS_METHODS
        and cell["framework"] in cfg["frameworks"]
    ]


def robustness_files(name):
    return [
        results(f"cells/{CELL}/{name}".format(**cell)) for cell in robustness_cells()
    ]


def robustness_metric_fragments():
    return robustness_files("robustness.csv")


def robustness_provenance_files():
    return robustness_files("robustness_provenance.json")


def all_metric_fragments():
    return (
        ml_cell_files("metrics.csv")
        + simulation_metric_fragments()
        + latency_metric_fragments()
        + robustness_metric_fragments()
    )


def all_provenance_files():
    return (
        ml_cell_files("provenance.json")
        + simulation_provenance_files()
        + latency_provenance_files()
        + robustness_provenance_files()
    )


def exit_with_cell_summary():
    """Print how many cells ran, were skipped or failed; exit non-zero if any failed."""
    path = Path(results("summary.json"))
    if not path.exists():
        return
    summary = json.loads(path.read_text())
    counts = summary["by_status"]
    print(
        f"spikemark: {summary['cells']} cells: "
        + ", ".join(f"{n} {status}" for status, n in counts.items()),
        file=sys.stderr,
    )
    for cell in summary["failed"]:
        print(f"  failed: {cell}", file=sys.stderr)
    if counts.get("failed", 0):
        sys.exit(1)
