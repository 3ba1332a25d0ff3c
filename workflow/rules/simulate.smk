# Simulation track: the Potjans-Diesmann (2014) microcircuit on NEST and PyNN.
#
# Per network configuration (framework, scale), tier-1 validation runs first: a reference
# ensemble (validation.reference_framework, validation.reference_seeds) and one recorded
# run per framework (seed = first of simulation.seeds) at the timed runs' model time. Its
# verdict is an input of every timed run of that configuration, whose rows become
# `invalid` if the dynamics failed validation. Timed runs record no spikes.
# Tier 2 (validation_full.enabled, the paper config; target `validate`): long model time,
# rates, ISI CVs and spike-count correlations, ten seeds.
# Cells with more than one MPI rank (mpi_ranks) are skipped at run time when NEST has no MPI.
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


rule simulate_pd14:
    """One timed PD14 run (no spikes recorded): phases, RTF, events, memory, energy."""
    input:
        verdict=results(f"{SIM_DIR}/validation/{{scale}}/{{framework}}/verdict.json"),
    output:
        metrics=results(f"{SIM_DIR}/{SIM_RUN}/metrics.csv"),
        provenance=results(f"{SIM_DIR}/{SIM_RUN}/provenance.json"),
    log:
        logs(f"{SIM_DIR}/{SIM_RUN}.log"),
    benchmark:
        benchmarks(f"{SIM_DIR}/{SIM_RUN}.tsv")
    wildcard_constraints:
        framework="[A-Za-z0-9_.-]+",
        scale="[A-Za-z0-9_.-]+",
        threads="[0-9]+",
        seed="[0-9]+",
    conda:
        "../../envs/nest.yaml"
    threads: lambda wildcards: int(wildcards.threads)
    resources:
        mem_mb=sim_mem_mb,
        runtime=sim_timed_runtime,
        timing=1,
    params:
        simulation=SIM,
        config=config,
        ranks=1,
    script:
        "../scripts/simulate_pd14.py"


rule simulate_pd14_mpi:
    """A cell over several MPI ranks: skipped at run time when NEST has no MPI."""
    input:
        verdict=results(f"{SIM_DIR}/validation/{{scale}}/{{framework}}/verdict.json"),
    output:
        metrics=results(f"{SIM_DIR}/{SIM_MPI_RUN}/metrics.csv"),
        provenance=results(f"{SIM_DIR}/{SIM_MPI_RUN}/provenance.json"),
    log:
        logs(f"{SIM_DIR}/{SIM_MPI_RUN}.log"),
    benchmark:
        benchmarks(f"{SIM_DIR}/{SIM_MPI_RUN}.tsv")
    wildcard_constraints:
        framework="[A-Za-z0-9_.-]+",
        scale="[A-Za-z0-9_.-]+",
        ranks="[0-9]+",
        threads="[0-9]+",
        seed="[0-9]+",
    conda:
        "../../envs/nest.yaml"
    threads: lambda wildcards: int(wildcards.threads)
    resources:
        mem_mb=sim_mem_mb,
        runtime=sim_timed_runtime,
        timing=1,
    params:
        simulation=SIM,
        config=config,
        ranks=lambda wildcards: int(wildcards.ranks),
    script:
        "../scripts/simulate_pd14.py"


rule pd14_validation_run:
    """One PD14 run with spikes recorded; writes per-population rate (CV, cc) samples."""
    output:
        stats=results(
            f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/seed{{seed}}/stats.npz"
        ),
    log:
        logs(f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/seed{{seed}}.log"),
    benchmark:
        benchmarks(f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/seed{{seed}}.tsv")
    wildcard_constraints:
        tier="validation|validation_full",
        framework="[A-Za-z0-9_.-]+",
        scale="[A-Za-z0-9_.-]+",
        seed="[0-9]+",
    conda:
        "../../envs/nest.yaml"
    threads: sim_validation_threads
    resources:
        mem_mb=sim_mem_mb,
        runtime=sim_validation_runtime,
        timing=1,
    params:
        simulation=SIM,
        metrics=lambda wildcards: (
            SIM["validation_full"]["metrics"]
            if wildcards.tier == "validation_full"
            else ["rate"]
        ),
    script:
        "../scripts/pd14_validation_run.py"


rule validate_pd14:
    """Judge one framework at one scale against the reference ensemble: ok or invalid."""
    input:
        unpack(sim_validation_inputs),
    output:
        metrics=results(f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/metrics.csv"),
        verdict=results(f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/verdict.json"),
        provenance=results(
            f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/provenance.json"
        ),
    log:
        logs(f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/validate.log"),
    benchmark:
        benchmarks(f"{SIM_DIR}/{{tier}}/{{scale}}/{{framework}}/validate.tsv")
    wildcard_constraints:
        tier="validation|validation_full",
        framework="[A-Za-z0-9_.-]+",
        scale="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/nest.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        simulation=SIM,
        config=config,
        metrics=lambda wildcards: (
            SIM["validation_full"]["metrics"]
            if wildcards.tier == "validation_full"
            else ["rate"]
        ),
    script:
        "../scripts/pd14_validate.py"


rule validate:
    """Tier-2 PD14 validation (paper config): long model time, rates, ISI CVs, correlations."""
    input:
        [
            results(f"{SIM_DIR}/validation_full/{scale}/{framework}/metrics.csv")
            for scale in sim_scales()
            for framework in SIM["frameworks"]
        ],
