"""The plan: every job a validated config asks for, and what each job needs.

The Snakefile builds one :class:`Plan` from the validated config (defaults already filled
in from the schema) and its rules only look things up here: which jobs exist, which files
a rule gathers, the slice of the config each job uses (its params) and its resources.
Unit tests exercise the plan without Snakemake. Kept free of heavy imports: the Snakefile
imports it while it builds the DAG, and an up-to-date re-run must return in seconds.

Terms (README, "The pipeline"):

- an ML *cell* is one (dataset, method, pruning, sparsity, framework, hardware, seed), with
  its files under ``cells/<dataset>/<method>/<pruning>/s<sparsity>/<framework>/<hardware>/seed<seed>/``;
- a *model* is one (dataset, method, seed): trained once, then pruned at every *level*
  (pruning method, sparsity) in one ``prune`` job;
- a *sweep* is one (dataset, method, framework, hardware, seed): the cells of one model on
  one target, every pruning level; ``deploy``, ``measure`` and ``robustness`` run one job
  per sweep, so the framework's libraries are imported once for all its levels, and one
  failing level is recorded as a failed cell while the others finish;
- a simulation *run* is one (framework, scale, ranks, threads, seed) of the PD14 track.

Every param a rule passes comes from a method here that returns only the keys the job
reads, so editing one config key re-runs only the jobs whose inputs or params it changes.
"""

from __future__ import annotations

import copy
from typing import Any

from spikemark.provenance import config_hash

#: The runtime of the ReLU ANN; SNN methods run on the configured SNN frameworks.
ANN_FRAMEWORK = "torch"
#: Methods whose models are SNNs (the robustness protocol sweeps them).
SNN_METHODS = ("ann2snn", "surrogate")
#: Pruning methods (``spikemark.prune`` holds their code); the dense baseline is ``none``.
PRUNING_METHODS = ("global_magnitude", "lamp")
DENSE = "none"

#: Path patterns under the results directory; their fields are the rules' wildcards.
CELL = "{dataset}/{method}/{pruning}/s{sparsity}/{framework}/{hardware}/seed{seed}"
SWEEP = "{dataset}/{method}/{framework}/{hardware}/seed{seed}"
MODEL = "models/{dataset}/seed{seed}/{method}.pt"
PRUNED_MODEL = "models/{dataset}/seed{seed}/{method}/{pruning}/pruned_s{sparsity}.pt"
LATENCY_CELL = "{framework}/{hardware}"
SIM_DIR = "simulation"
SIM_RUN = "{framework}/{scale}/ranks{ranks}_threads{threads}/seed{seed}"
SIM_VALIDATION = "{tier}/{scale}/{framework}"
VALIDATION_TIERS = ("validation", "validation_full")

#: Keys of ``training`` each kind of training reads (``seeds`` is the matrix, not a param).
ANN_TRAINING = ("device", "epochs", "batch_size", "lr")
SNN_TRAINING = ("device", "snn_epochs", "batch_size", "snn_lr", "snn_timesteps")
#: What fine-tuning after pruning reads (only when ``pruning.finetune_epochs`` > 0).
FINETUNE_TRAINING = ("batch_size", "lr", "snn_timesteps")
MEASURE_KEYS = ("warmup", "repeats", "batch_size", "energy", "stability", "contention")
#: What every timed job reads from ``measure`` beside its own section: repeats until stable
#: and the contention guard.
TIMED_KEYS = ("stability", "contention")
#: What a timed PD14 run reads from ``measure.energy``: the counters (estimates, TDP and
#: operation presets are the ML track's; PD14 has simulation.tdp_watts_per_core).
SIM_ENERGY_KEYS = ("meters", "idle_seconds")
ROBUSTNESS_KEYS = ("timesteps", "noise_levels", "seed", "warmup", "repeats")
LATENCY_KEYS = ("timesteps", "batch_size", "warmup", "repeats", "compile")
NETWORK_KEYS = ("drive", "bg_rate", "t_presim_ms", "t_sim_ms")
JUDGE_KEYS = ("min_rate_hz", "ks_margin", "ks_alpha")


def for_method(method: str, snn_frameworks: list[str]) -> list[str]:
    """Frameworks a method is deployed on: torch for the ANN, the SNN runtimes otherwise."""
    return [ANN_FRAMEWORK] if method == "ann" else list(snn_frameworks)


def pruning_levels(methods: list[str], sparsities: list[float]) -> list[tuple[str, float]]:
    """(pruning method, sparsity) pairs of the matrix.

    Every non-zero sparsity is pruned by every method, so methods are compared at equal
    sparsity; sparsity 0 is one dense baseline cell (method ``none``) shared by all of them
    rather than one identical copy per method.
    """
    levels = [(DENSE, 0.0)] if any(float(s) == 0 for s in sparsities) else []
    for sparsity in sparsities:
        if float(sparsity) > 0:
            levels += [(method, float(sparsity)) for method in methods]
    return levels


def sparsity_label(value: float | str) -> str:
    """The ``sparsity`` path label (``0``, ``0.5``, ``0.9``)."""
    return f"{float(value):g}"


def scale_label(n: float, k: float) -> str:
    """The ``scale`` wildcard value, e.g. ``N0.2_K0.2``."""
    return f"N{float(n):g}_K{float(k):g}"


def parse_scale(label: str) -> tuple[float, float]:
    """Inverse of :func:`scale_label`."""
    try:
        n_part, k_part = label.split("_")
        if not (n_part.startswith("N") and k_part.startswith("K")):
            raise ValueError
        return float(n_part[1:]), float(k_part[1:])
    except ValueError:
        raise ValueError(f"scale must look like N0.2_K0.2, not {label!r}") from None


def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys sorted: a param that Snakemake compares between
    runs must not change when the same keys come in another order (YAML files, defaults)."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    return value


def _pick(section: dict, keys: tuple[str, ...]) -> dict:
    return canonical({key: section[key] for key in keys if key in section})


def _fill(pattern: str, **values: Any) -> str:
    """Fill some fields of a path pattern, keeping the others as wildcards."""
    for key, value in values.items():
        pattern = pattern.replace("{" + key + "}", str(value))
    return pattern


class Plan:
    """The jobs of one validated config (see the module docstring)."""

    def __init__(self, config: dict[str, Any], schema: dict[str, Any] | None = None):
        self.config = config
        self.results_dir = str(config["results_dir"])
        self.sim = config["simulation"]
        self._schema = schema

    @property
    def schema(self) -> dict[str, Any]:
        """The config schema (loaded once; the model defaults come from it)."""
        if self._schema is None:
            from spikemark.config import load_schema

            self._schema = load_schema()
        return self._schema

    # -- checks --------------------------------------------------------------------------
    def size(self) -> dict[str, int]:
        """Cells of each kind: what a run will do, whatever the number of jobs."""
        return {
            "ML cells": len(self.ml_cells()),
            "robustness cells": len(self.robustness_sweeps()) * len(self.robustness_levels),
            "latency cells": len(self.latency_cells()),
            "simulation runs": len(self.sim_runs()),
        }

    def problem(self) -> str | None:
        """What makes this plan unrunnable as written (one line), or None."""
        sparsities = self.config["pruning"]["sparsity"]
        labels = [sparsity_label(s) for s in sparsities]
        if len(set(labels)) < len(labels):
            twins = sorted({s for s, label in zip(sparsities, labels) if labels.count(label) > 1})
            return (f"config key 'pruning.sparsity': {twins} share the path label "
                    f"s{labels[[float(x) for x in sparsities].index(twins[0])]}; give distinct values")  # fmt: skip
        weak = self.sim["weak_scaling"]
        if weak["enabled"]:
            largest = weak["N_per_vp"] * max(self.sim["mpi_ranks"]) * max(self.sim["threads"])
            if largest > 1:
                return (f"config key 'simulation.weak_scaling.N_per_vp': {weak['N_per_vp']} x "
                        f"{max(self.sim['mpi_ranks'])} ranks x {max(self.sim['threads'])} threads gives N = "
                        f"{largest:g} > 1 (the full network); lower it or the grid")  # fmt: skip
        scales = [scale_label(s["N"], s["K"]) for s in self.sim["scales"]]
        if len(set(scales)) < len(scales):
            return f"config key 'simulation.scales': {sorted({x for x in scales if scales.count(x) > 1})} twice"
        size = self.size()
        bound = int(self.config["max_cells"])
        if sum(size.values()) > bound:
            parts = ", ".join(f"{n} {kind}" for kind, n in size.items() if n)
            return (f"config key 'max_cells': the plan has {sum(size.values())} cells ({parts}), more than "
                    f"max_cells = {bound}; raise max_cells (e.g. --config max_cells={sum(size.values())}) to run it")  # fmt: skip
        return None

    # -- paths -------------------------------------------------------------------------
    def results(self, path: str) -> str:
        return f"{self.results_dir}/{path}"

    def logs(self, path: str) -> str:
        return self.results(f"logs/{path}")

    def benchmarks(self, path: str) -> str:
        return self.results(f"benchmarks/{path}")

    @property
    def config_hash(self) -> str:
        """Hash of the whole config: the aggregate's provenance and the cube's attributes."""
        return config_hash(self.config)

    # -- ML track: the matrix ------------------------------------------------------------
    @property
    def levels(self) -> list[tuple[str, str]]:
        """(pruning, sparsity label) of every pruning level, dense first."""
        pruning = self.config["pruning"]
        return [(p, sparsity_label(s)) for p, s in pruning_levels(pruning["methods"], pruning["sparsity"])]

    @property
    def robustness_levels(self) -> list[tuple[str, str]]:
        """The levels whose SNN cells get the robustness protocol (``robustness.sparsity``)."""
        chosen = self.config["robustness"]["sparsity"]
        if chosen is None:
            return self.levels
        wanted = {sparsity_label(s) for s in chosen}
        return [level for level in self.levels if level[1] in wanted]

    def models(self) -> list[dict[str, Any]]:
        """Every (dataset, method, seed) trained or converted once (none without the ML track)."""
        if not self.config["ml_track"]:
            return []
        return [
            dict(dataset=d, method=m, seed=s)
            for d in self.config["datasets"]
            for m in self.config["methods"]
            for s in self.config["training"]["seeds"]
        ]

    def sweeps(self) -> list[dict[str, Any]]:
        """Every (dataset, method, framework, hardware, seed): one model on one target."""
        return [
            dict(model, framework=framework, hardware=hardware)
            for model in self.models()
            for framework in for_method(model["method"], self.config["frameworks"])
            for hardware in self.config["hardware"]
        ]

    def robustness_sweeps(self) -> list[dict[str, Any]]:
        cfg = self.config["robustness"]
        if not cfg["enabled"] or not self.robustness_levels:
            return []
        return [s for s in self.sweeps() if s["method"] in SNN_METHODS and s["framework"] in cfg["frameworks"]]

    def ml_cells(self) -> list[dict[str, Any]]:
        """Every ML cell: a sweep at one pruning level."""
        return [dict(s, pruning=p, sparsity=x) for s in self.sweeps() for p, x in self.levels]

    def cell_files(self, pattern: str, levels: list[tuple[str, str]] | None = None) -> list[str]:
        """``pattern`` at every level, the other fields left as wildcards (a rule's outputs)."""
        return [
            self.results(_fill(pattern, pruning=p, sparsity=s)) for p, s in (self.levels if levels is None else levels)
        ]

    def sweep_cells(self, dataset: str, method: str, framework: str, hardware: str, seed: int | str,
                    levels: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
        """Per-cell arguments of a sweep job: each cell's coordinates, in level order."""
        coords = dict(dataset=dataset, method=method, framework=framework, hardware=hardware, seed=int(seed))
        return [
            {"coords": canonical(dict(coords, pruning=p, sparsity=float(s)))}
            for p, s in (self.levels if levels is None else levels)
        ]

    def prune_cells(self) -> list[dict[str, Any]]:
        """Per-level arguments of a prune job (every model has the same levels)."""
        return [{"method": p, "sparsity": float(s)} for p, s in self.levels]

    # -- ML track: config slices ---------------------------------------------------------
    def model_config(self, dataset: str) -> dict[str, Any]:
        """The architecture of ``dataset``'s models: ``models.<dataset>``, or the schema's
        defaults of a models entry where the config names none."""
        from spikemark.config import fill_defaults

        entry = copy.deepcopy(self.config["models"].get(dataset, {}))
        return canonical(fill_defaults(entry, ("models", "*"), self.schema))

    def needs_download(self, dataset: str) -> bool:
        from spikemark.datasets import needs_download

        return needs_download(dataset)

    def dataset_options(self, dataset: str) -> dict[str, Any]:
        return canonical(self.config["dataset_options"].get(dataset, {}))

    def dataset_test_fraction(self, dataset: str) -> float | None:
        """Generated and shipped datasets are split here; downloaded ones keep their split."""
        return None if self.needs_download(dataset) else self.config["dataset_options"]["test_fraction"]

    def dataset_source(self, dataset: str) -> dict[str, Any]:
        """Cache folder and mirror: only datasets that are downloaded read them."""
        return canonical(self.config["data"]) if self.needs_download(dataset) else {}

    def report_datasets(self) -> list[str]:
        """The datasets that get a report page: those of the ML track."""
        return list(self.config["datasets"]) if self.config["ml_track"] else []

    def download_manifests(self) -> list[str]:
        return [self.results(f"downloads/{d}.json") for d in self.config["datasets"] if self.needs_download(d)]

    def training(self, method: str) -> dict[str, Any]:
        keys = ANN_TRAINING if method == "ann" else SNN_TRAINING
        return _pick(self.config["training"], keys)

    def training_device_gpus(self) -> int:
        return 1 if self.config["training"]["device"] == "cuda" else 0

    def conversion(self) -> dict[str, Any]:
        return _pick(self.config["conversion"], ("normalisation", "timesteps"))

    def finetune_training(self) -> dict[str, Any]:
        if self.config["pruning"]["finetune_epochs"] == 0:
            return {}
        return _pick(self.config["training"], FINETUNE_TRAINING)

    def conversion_timesteps(self, method: str) -> list[int]:
        """The T list of converted SNNs; the other methods do not read it."""
        return list(self.config["conversion"]["timesteps"]) if method == "ann2snn" else []

    def measure_settings(self) -> dict[str, Any]:
        return _pick(self.config["measure"], MEASURE_KEYS)

    def robustness_settings(self) -> dict[str, Any]:
        return canonical({**_pick(self.config["robustness"], ROBUSTNESS_KEYS), **self.timed_settings()})

    def timed_settings(self) -> dict[str, Any]:
        """``measure.stability`` and ``measure.contention``: how every timed job repeats and
        watches its timings."""
        return _pick(self.config["measure"], TIMED_KEYS)

    # -- latency benchmark ---------------------------------------------------------------
    def latency_cells(self) -> list[dict[str, Any]]:
        bench = self.config["latency_benchmark"]
        if not bench["enabled"]:
            return []
        return [dict(framework=f, hardware=h) for f in bench["frameworks"] for h in bench["hardware"]]

    def latency_settings(self, hardware: str) -> dict[str, Any]:
        bench = self.config["latency_benchmark"]
        sizes = {"sizes": {hardware: list(bench["sizes"][hardware])}}
        return canonical({**_pick(bench, LATENCY_KEYS), **sizes, **self.timed_settings()})

    # -- simulation track ----------------------------------------------------------------
    def sim_grid(self) -> list[tuple[str, int, int]]:
        """(scale, ranks, threads) of every run: each fixed scale over the ranks x threads grid
        (strong scaling), and with ``weak_scaling`` a network growing with the virtual
        processes, N = N_per_vp x ranks x threads at fixed K."""
        decompositions = [(int(r), int(t)) for r in self.sim["mpi_ranks"] for t in self.sim["threads"]]
        grid = [(scale_label(s["N"], s["K"]), r, t) for s in self.sim["scales"] for r, t in decompositions]
        weak = self.sim["weak_scaling"]
        if weak["enabled"]:
            grid += [(scale_label(weak["N_per_vp"] * r * t, weak["K"]), r, t) for r, t in decompositions]
        return list(dict.fromkeys(grid))

    def sim_scales(self) -> list[str]:
        """Every network that is simulated (validated once each)."""
        return list(dict.fromkeys(scale for scale, _, _ in self.sim_grid()))

    def sim_runs(self) -> list[dict[str, Any]]:
        if not self.sim["enabled"]:
            return []
        return [
            dict(framework=f, scale=scale, ranks=r, threads=t, seed=s)
            for f in self.sim["frameworks"]
            for scale, r, t in self.sim_grid()
            for s in self.sim["seeds"]
        ]

    def sim_tiers(self) -> list[str]:
        return ["validation"] + (["validation_full"] if self.sim["validation_full"]["enabled"] else [])

    def sim_validations(self) -> list[dict[str, Any]]:
        if not self.sim["enabled"]:
            return []
        return [
            dict(tier=tier, scale=scale, framework=f)
            for tier in self.sim_tiers()
            for scale in self.sim_scales()
            for f in self.sim["frameworks"]
        ]

    def sim_run_coords(self, framework: str, scale: str, ranks, threads, seed) -> dict[str, Any]:
        """Result coordinates of a timed run (its wildcards, typed)."""
        return dict(framework=framework, scale=scale, ranks=int(ranks), threads=int(threads), seed=int(seed))

    def sim_validation_coords(self, tier: str, scale: str, framework: str) -> dict[str, Any]:
        """Result coordinates of a validation verdict: the tier is its ``variant``."""
        return dict(framework=framework, scale=scale, variant=tier)

    def sim_full_validation_files(self) -> list[str]:
        """The ``validate`` target: every tier-2 verdict's rows."""
        return [
            self.results(f"{SIM_DIR}/{SIM_VALIDATION}/metrics.csv".format(tier="validation_full", scale=scale, framework=f))
            for scale in self.sim_scales()
            for f in self.sim["frameworks"]
        ]

    def sim_tier(self, tier: str) -> dict[str, Any]:
        """Model times and threads of a validation tier (tier 1: the timed runs' times unless it
        names its own)."""
        section = self.sim["validation_full"] if tier == "validation_full" else self.sim["validation"]

        def own_or_timed(key: str) -> float:
            return self.sim[key] if section.get(key) is None else section[key]

        return {
            "t_presim_ms": own_or_timed("t_presim_ms"),
            "t_sim_ms": own_or_timed("t_sim_ms"),
            "threads": int(section.get("threads") or max(self.sim["threads"])),
            "metrics": list(self.sim["validation_full"]["metrics"]) if tier == "validation_full" else ["rate"],
        }

    def sim_test_seeds(self, tier: str) -> list[int]:
        return list(self.sim["validation_full"]["seeds"]) if tier == "validation_full" else self.sim["seeds"][:1]

    def sim_reference_seeds(self, tier: str) -> list[int]:
        section = self.sim["validation_full"] if tier == "validation_full" else self.sim["validation"]
        return list(section["reference_seeds"])

    def sim_stats_files(self, tier: str, scale: str, framework: str, seeds: list[int]) -> list[str]:
        return [self.results(f"{SIM_DIR}/{tier}/{scale}/{framework}/seed{s}/stats.npz") for s in seeds]

    def sim_validation_inputs(self, tier: str, scale: str, framework: str) -> dict[str, list[str]]:
        reference = self.sim["validation"]["reference_framework"]
        return {
            "tests": self.sim_stats_files(tier, scale, framework, self.sim_test_seeds(tier)),
            "references": self.sim_stats_files(tier, scale, reference, self.sim_reference_seeds(tier)),
        }

    def sim_network(self, framework: str, t_presim_ms: float | None = None, t_sim_ms: float | None = None) -> dict:
        """What builds and runs the network (drive, times), as a simulate job reads it."""
        network = _pick(self.sim, NETWORK_KEYS)
        if t_presim_ms is not None:
            network.update(t_presim_ms=t_presim_ms, t_sim_ms=t_sim_ms)
        if framework == "pynn-nest":  # a PyNN-only switch: NEST runs do not depend on it
            network["pynn_stock_bookkeeping"] = self.sim["pynn_stock_bookkeeping"]
        return canonical(network)

    def sim_validation_network(self, tier: str, framework: str) -> dict:
        times = self.sim_tier(tier)
        return self.sim_network(framework, times["t_presim_ms"], times["t_sim_ms"])

    def sim_judge(self) -> dict[str, Any]:
        return _pick(self.sim["validation"], JUDGE_KEYS)

    def sim_tdp_watts_per_core(self) -> float | None:
        return self.sim["tdp_watts_per_core"]

    def sim_measure_settings(self) -> dict[str, Any]:
        """What a timed PD14 run reads from ``measure``: its energy meters and the
        contention guard."""
        measure = self.config["measure"]
        return canonical({"energy": _pick(measure["energy"], SIM_ENERGY_KEYS), "contention": measure["contention"]})

    def sim_mem_mb(self, framework: str, scale: str, ranks: int | str = 1) -> int:
        """Memory of a run, all its ranks together: the fitted model of peak RSS
        (``spikemark.simulation.resources``); a simulator without a fit gets PyNN-NEST's, the
        largest."""
        from spikemark.simulation.resources import MEMORY_MODELS, sim_mem_mb

        n, k = parse_scale(scale)
        return sim_mem_mb(n, k, framework if framework in MEMORY_MODELS else "pynn-nest", int(ranks))

    def sim_mpi(self, ranks: int | str) -> str | None:
        """The Slurm executor's ``mpi`` resource: runs of several ranks launch them with srun
        inside their allocation; single-rank runs have none (None drops the resource)."""
        return "srun" if int(ranks) > 1 else None

    def sim_tasks(self, ranks: int | str) -> int | None:
        return int(ranks) if int(ranks) > 1 else None

    def sim_cpus_per_task(self, ranks: int | str, threads: int | str) -> int | None:
        return int(threads) if int(ranks) > 1 else None

    def sim_runtime(self, scale: str, threads: int | str, t_ms: float) -> int:
        """Minutes: generous for the measured single-thread RTF (~25 at N=K=0.2, Poisson drive)."""
        n, k = parse_scale(scale)
        rtf = 30 + 3000 * n * k
        return int(10 + rtf * t_ms / 60000 / max(1, int(threads)))

    def sim_run_runtime(self, scale: str, threads: int | str) -> int:
        return self.sim_runtime(scale, threads, self.sim["t_presim_ms"] + self.sim["t_sim_ms"])

    def sim_validation_runtime(self, tier: str, scale: str) -> int:
        times = self.sim_tier(tier)
        return self.sim_runtime(scale, times["threads"], times["t_presim_ms"] + times["t_sim_ms"])

    # -- what the aggregate gathers ------------------------------------------------------
    def _files(self, pattern: str, items: list[dict], name: str, levels=None) -> list[str]:
        out = []
        for item in items:
            out += [path.format(**item) for path in self.cell_files(f"{pattern}/{name}", levels)]
        return out

    def ml_files(self, name: str) -> list[str]:
        return self._files(f"cells/{CELL}", self.sweeps(), name)

    def robustness_files(self, name: str) -> list[str]:
        return self._files(f"cells/{CELL}", self.robustness_sweeps(), name, self.robustness_levels)

    def latency_files(self, name: str) -> list[str]:
        return [self.results(f"latency/{LATENCY_CELL}/{name}".format(**c)) for c in self.latency_cells()]

    def sim_files(self, name: str) -> list[str]:
        runs = [self.results(f"{SIM_DIR}/{SIM_RUN}/{name}".format(**r)) for r in self.sim_runs()]
        checks = [self.results(f"{SIM_DIR}/{SIM_VALIDATION}/{name}".format(**v)) for v in self.sim_validations()]
        return runs + checks

    def metric_fragments(self) -> list[str]:
        return (
            self.ml_files("metrics.csv")
            + self.sim_files("metrics.csv")
            + self.latency_files("metrics.csv")
            + self.robustness_files("robustness.csv")
        )

    def provenance_files(self) -> list[str]:
        return (
            self.ml_files("provenance.json")
            + self.sim_files("provenance.json")
            + self.latency_files("provenance.json")
            + self.robustness_files("robustness_provenance.json")
        )

    # -- resources -----------------------------------------------------------------------
    def gpus(self, hardware: str) -> int:
        return 1 if hardware == "cuda" else 0

    def timing_slot(self, hardware: str) -> int:
        """The ``timing`` units a timed job holds: one, except a cuda job where the host
        running the workflow has no NVIDIA driver. Locally that job only records its skip
        (it times nothing), so it need not wait for, nor block, the timed jobs. On a cluster
        the profile raises ``timing`` so far that it never limits anything."""
        from spikemark.hardware import nvidia_driver_present

        return 0 if hardware == "cuda" and not nvidia_driver_present() else 1

    def dataset_mem_mb(self, dataset: str) -> int:
        return 16000 if self.needs_download(dataset) else 2000

    def dataset_runtime(self, dataset: str) -> int:
        return 120 if self.needs_download(dataset) else 30

    def sweep_runtime(self, minutes_per_cell: int) -> int:
        """Minutes of a sweep job: its cells run one after another."""
        return minutes_per_cell * max(1, len(self.levels))
