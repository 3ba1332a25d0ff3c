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
# Settings and input functions live in common.smk.


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
    # Validation runs record spikes and time nothing: they need no exclusive `timing` slot.
    resources:
        mem_mb=sim_mem_mb,
        runtime=sim_validation_runtime,
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
