# Simulation track: the Potjans-Diesmann (2014) microcircuit on NEST and PyNN.
#
# Per network configuration (framework, scale), tier-1 validation runs first: a reference
# ensemble (validation.reference_framework, validation.reference_seeds) and one recorded
# run per framework (seed = first of simulation.seeds) at the timed runs' model time. Its
# verdict is an input of every timed run of that configuration, whose rows become
# `invalid` if the dynamics failed validation. Timed runs record no spikes.
# Tier 2 (validation_full.enabled, the paper config; target `validate`): long model time,
# rates, ISI CVs and spike-count correlations, ten seeds.
# Runs over more than one MPI rank are skipped at run time where NEST has no MPI.


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
    conda:
        "../../envs/nest.yaml"
    # The run holds ranks x threads cores.
    threads: lambda wc: int(wc.ranks) * int(wc.threads)
    resources:
        mem_mb=lambda wc: PLAN.sim_mem_mb(wc.framework, wc.scale, wc.ranks),
        runtime=lambda wc: PLAN.sim_run_runtime(wc.scale, wc.threads),
        timing=1,
        # On Slurm: one task per rank, its threads as CPUs per task (none for one rank).
        mpi=lambda wc: PLAN.sim_mpi(wc.ranks),
        tasks=lambda wc: PLAN.sim_tasks(wc.ranks),
        cpus_per_task=lambda wc: PLAN.sim_cpus_per_task(wc.ranks, wc.threads),
    params:
        coords=lambda wc: PLAN.sim_run_coords(**dict(wc.items())),
        network=lambda wc: PLAN.sim_network(wc.framework),
        tdp_watts_per_core=PLAN.sim_tdp_watts_per_core(),
        measure_cfg=PLAN.sim_measure_settings(),
        track="simulation",
    script:
        "../scripts/simulate_pd14.py"


rule pd14_validation_run:
    """One PD14 run with spikes recorded; writes per-population rate (CV, cc) samples."""
    output:
        stats=results(f"{SIM_DIR}/{SIM_VALIDATION}/seed{{seed}}/stats.npz"),
    log:
        logs(f"{SIM_DIR}/{SIM_VALIDATION}/seed{{seed}}.log"),
    benchmark:
        benchmarks(f"{SIM_DIR}/{SIM_VALIDATION}/seed{{seed}}.tsv")
    conda:
        "../../envs/nest.yaml"
    threads: lambda wc: PLAN.sim_tier(wc.tier)["threads"]
    # Validation runs record spikes and time nothing: they need no exclusive `timing` slot.
    resources:
        mem_mb=lambda wc: PLAN.sim_mem_mb(wc.framework, wc.scale),
        runtime=lambda wc: PLAN.sim_validation_runtime(wc.tier, wc.scale),
    params:
        framework="{framework}",
        scale="{scale}",
        seed=lambda wc: int(wc.seed),
        threads=lambda wc: PLAN.sim_tier(wc.tier)["threads"],
        network=lambda wc: PLAN.sim_validation_network(wc.tier, wc.framework),
        statistics=lambda wc: PLAN.sim_tier(wc.tier)["metrics"],
        meta=lambda wc: dict(tier=wc.tier),
    script:
        "../scripts/pd14_validation_run.py"


rule validate_pd14:
    """Judge one framework at one scale against the reference ensemble: ok or invalid."""
    input:
        unpack(lambda wc: PLAN.sim_validation_inputs(wc.tier, wc.scale, wc.framework)),
    output:
        metrics=results(f"{SIM_DIR}/{SIM_VALIDATION}/metrics.csv"),
        verdict=results(f"{SIM_DIR}/{SIM_VALIDATION}/verdict.json"),
        provenance=results(f"{SIM_DIR}/{SIM_VALIDATION}/provenance.json"),
    log:
        logs(f"{SIM_DIR}/{SIM_VALIDATION}/validate.log"),
    benchmark:
        benchmarks(f"{SIM_DIR}/{SIM_VALIDATION}/validate.tsv")
    conda:
        "../../envs/nest.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        coords=lambda wc: PLAN.sim_validation_coords(**dict(wc.items())),
        judge=PLAN.sim_judge(),
        statistics=lambda wc: PLAN.sim_tier(wc.tier)["metrics"],
        reference_dir=PLAN.sim["reference_dir"],
        track="simulation",
    script:
        "../scripts/pd14_validate.py"


rule validate:
    """Tier-2 PD14 validation (paper config): long model time, rates, ISI CVs, correlations."""
    input:
        PLAN.sim_full_validation_files(),
