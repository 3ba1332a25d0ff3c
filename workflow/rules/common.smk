# Input functions, the matrix expansion and shared settings. Rules stay declarative.
import json

from spikemark.datasets import needs_download
from spikemark.hardware import nvidia_driver_present
from spikemark.matrix import DENSE, PRUNING_METHODS, for_method, pruning_levels

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
    pruning="|".join((DENSE, *PRUNING_METHODS)),
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


CELL = "{dataset}/{method}/{pruning}/s{sparsity}/{framework}/{hardware}/seed{seed}"
# The pruned (or dense) model a cell deploys.
PRUNED_MODEL = "models/{dataset}/seed{seed}/{method}/{pruning}/pruned_s{sparsity}.pt"


def ml_cells():
    """Every (dataset, method, pruning, sparsity, framework, hardware, seed) cell."""
    levels = pruning_levels(config["pruning"]["methods"], config["pruning"]["sparsity"])
    for dataset in config["datasets"]:
        for method in config["methods"]:
            for framework in for_method(method, config["frameworks"]):
                for hardware in config["hardware"]:
                    for pruning, sparsity in levels:
                        for seed in config["training"]["seeds"]:
                            yield dict(
                                dataset=dataset,
                                method=method,
                                pruning=pruning,
                                sparsity=sparsity_label(sparsity),
                                framework=framework,
                                hardware=hardware,
                                seed=seed,
                            )


def ml_cell_files(name):
    return [results(f"cells/{CELL}/{name}".format(**cell)) for cell in ml_cells()]


def dataset_is_downloaded(name):
    """Whether a dataset's raw files come from the network (not generated or shipped)."""
    return needs_download(name)


def download_manifests():
    """The download target: a manifest per configured dataset that is downloaded."""
    return [
        results(f"downloads/{name}.json")
        for name in config["datasets"]
        if needs_download(name)
    ]


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
        pruning=wildcards.pruning,
    )


def gpus_for(wildcards):
    return 1 if wildcards.hardware == "cuda" else 0


def timing_slot(wildcards):
    """The `timing` units a timed job holds: one, except a cuda job where the host running
    the workflow has no NVIDIA driver. Locally that job only records its skip (it times
    nothing), so it need not wait for, nor block, the timed jobs. On a cluster the profile
    raises `timing` so far that it never limits anything."""
    return 0 if wildcards.hardware == "cuda" and not nvidia_driver_present() else 1


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
    sparsities = cfg["sparsity"]
    return [
        cell
        for cell in ml_cells()
        if cell["method"] in ROBUSTNESS_METHODS
        and cell["framework"] in cfg["frameworks"]
        and (sparsities is None or float(cell["sparsity"]) in map(float, sparsities))
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


# ---- simulation track (PD14): settings and input functions of workflow/rules/simulate.smk
from spikemark.simulation.cells import settings as simulation_settings
from spikemark.simulation.pd14_params import scale_label

SIM = simulation_settings(config.get("simulation", {}))
SIM_DIR = "simulation"
SIM_RUN = "{framework}/{scale}/threads{threads}/seed{seed}"
SIM_MPI_RUN = "{framework}/{scale}/ranks{ranks}_threads{threads}/seed{seed}"


def sim_enabled():
    return SIM.get("enabled", True)


def sim_scales():
    return [scale_label(s["N"], s["K"]) for s in SIM["scales"]]


def sim_scale_product(scale):
    n, k = (float(x[1:]) for x in scale.split("_"))
    return n, k


def sim_test_seeds(tier):
    if tier == "validation_full":
        return SIM["validation_full"]["seeds"]
    return SIM["seeds"][:1]


def sim_reference_seeds(tier):
    seeds = SIM[tier]["reference_seeds"]
    if len(seeds) < 2:
        raise ValueError(f"simulation.{tier}.reference_seeds needs at least two seeds")
    return seeds


def sim_tiers():
    return ["validation"] + (
        ["validation_full"] if SIM["validation_full"]["enabled"] else []
    )


def sim_stats(tier, scale, framework, seeds):
    return [
        results(f"{SIM_DIR}/{tier}/{scale}/{framework}/seed{seed}/stats.npz")
        for seed in seeds
    ]


def sim_validation_inputs(wildcards):
    tier = wildcards.tier
    reference = SIM["validation"]["reference_framework"]
    tests = sim_test_seeds(tier)
    refs = sim_reference_seeds(tier)
    if wildcards.framework == reference and set(tests) & set(refs):
        raise ValueError(
            f"simulation.{tier}: test seeds {tests} overlap the reference seeds {refs}"
        )
    return {
        "tests": sim_stats(tier, wildcards.scale, wildcards.framework, tests),
        "references": sim_stats(tier, wildcards.scale, reference, refs),
    }


def sim_mem_mb(wildcards):
    """NEST needs ~1.4 GB at N=K=0.2 (12 M synapses) and ~25 GB at full scale; PyNN adds."""
    n, k = sim_scale_product(wildcards.scale)
    base = 1000 + 25000 * n * k
    return int(base * (1.5 if wildcards.framework == "pynn-nest" else 1.0))


def sim_runtime(wildcards, t_ms):
    """Minutes: generous for the measured single-thread RTF (~25 at N=K=0.2, Poisson drive)."""
    n, k = sim_scale_product(wildcards.scale)
    threads = int(getattr(wildcards, "threads", 0) or max(SIM["threads"]))
    rtf = 30 + 3000 * n * k
    return int(10 + rtf * t_ms / 60000 / threads)


def sim_timed_runtime(wildcards):
    return sim_runtime(wildcards, SIM["t_presim_ms"] + SIM["t_sim_ms"])


def sim_validation_runtime(wildcards):
    section = SIM[wildcards.tier]
    t_ms = section.get("t_presim_ms", SIM["t_presim_ms"]) + section.get(
        "t_sim_ms", SIM["t_sim_ms"]
    )
    return sim_runtime(wildcards, t_ms)


def sim_validation_threads(wildcards):
    return int(SIM[wildcards.tier].get("threads") or max(SIM["threads"]))


def sim_run_cells():
    for framework in SIM["frameworks"]:
        for scale in sim_scales():
            for threads in SIM["threads"]:
                for seed in SIM["seeds"]:
                    yield dict(
                        framework=framework, scale=scale, threads=threads, seed=seed
                    )


def sim_mpi_cells():
    for ranks in SIM["mpi_ranks"]:
        if int(ranks) > 1:
            for cell in sim_run_cells():
                yield dict(cell, ranks=ranks)


def sim_files(name):
    if not sim_enabled():
        return []
    files = [
        results(f"{SIM_DIR}/{SIM_RUN}/{name}".format(**cell))
        for cell in sim_run_cells()
    ]
    files += [
        results(f"{SIM_DIR}/{SIM_MPI_RUN}/{name}".format(**cell))
        for cell in sim_mpi_cells()
    ]
    files += [
        results(f"{SIM_DIR}/{tier}/{scale}/{framework}/{name}")
        for tier in sim_tiers()
        for scale in sim_scales()
        for framework in SIM["frameworks"]
    ]
    return files


def simulation_metric_fragments():
    """Every CSV fragment of the simulation track (runs and validation) for aggregate."""
    return sim_files("metrics.csv")


def simulation_provenance_files():
    return sim_files("provenance.json")
