# Robustness protocol: accuracy, latency and synaptic operations against time steps and
# input noise, for the converted and surrogate-trained SNNs (one timed job per sweep, over
# the levels of robustness.sparsity).


rule robustness:
    input:
        dataset=results("data/{dataset}.npz"),
        model=PLAN.cell_files(PRUNED_MODEL, PLAN.robustness_levels),
        deployment=PLAN.cell_files(
            f"cells/{CELL}/deployment.json", PLAN.robustness_levels
        ),
    output:
        metrics=PLAN.cell_files(f"cells/{CELL}/robustness.csv", PLAN.robustness_levels),
        provenance=PLAN.cell_files(
            f"cells/{CELL}/robustness_provenance.json", PLAN.robustness_levels
        ),
    log:
        logs(f"robustness/{SWEEP}.log"),
    benchmark:
        benchmarks(f"robustness/{SWEEP}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: config["measure"]["threads"]
    resources:
        mem_mb=4000,
        runtime=PLAN.sweep_runtime(20),
        gpu=gpus,
        timing=timing_slot,
    params:
        cells=robustness_cells,
        robustness_cfg=PLAN.robustness_settings(),
        batch_size=config["measure"]["batch_size"],
        conversion_timesteps=lambda wc: PLAN.conversion_timesteps(wc.method),
        track="ml",
    script:
        "../scripts/robustness.py"
