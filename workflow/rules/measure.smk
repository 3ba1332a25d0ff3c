rule measure:
    input:
        dataset=results("data/{dataset}.npz"),
        model=results(PRUNED_MODEL),
        deployment=results(f"cells/{CELL}/deployment.json"),
    output:
        metrics=results(f"cells/{CELL}/metrics.csv"),
        provenance=results(f"cells/{CELL}/provenance.json"),
    log:
        logs(f"measure/{CELL}.log"),
    benchmark:
        benchmarks(f"measure/{CELL}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: config["measure"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=gpus_for,
        timing=timing_slot,
    params:
        coords=cell_coords,
        measure_cfg=config["measure"],
        conversion_timesteps=config["conversion"]["timesteps"],
        track="ml",
        provenance_config=config,
    script:
        "../scripts/measure.py"
