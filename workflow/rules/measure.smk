# One timed job per sweep measures every level of one model on one framework and hardware.


rule measure:
    input:
        dataset=results("data/{dataset}.npz"),
        model=PLAN.cell_files(PRUNED_MODEL),
        deployment=PLAN.cell_files(f"cells/{CELL}/deployment.json"),
    output:
        metrics=PLAN.cell_files(f"cells/{CELL}/metrics.csv"),
        provenance=PLAN.cell_files(f"cells/{CELL}/provenance.json"),
    log:
        logs(f"measure/{SWEEP}.log"),
    benchmark:
        benchmarks(f"measure/{SWEEP}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: config["measure"]["threads"]
    resources:
        mem_mb=4000,
        runtime=PLAN.sweep_runtime(20),
        gpu=gpus,
        timing=timing_slot,
    params:
        cells=sweep_cells,
        measure_cfg=PLAN.measure_settings(),
        conversion_timesteps=lambda wc: PLAN.conversion_timesteps(wc.method),
        track="ml",
    script:
        "../scripts/measure.py"
