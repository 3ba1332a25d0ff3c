# One job per sweep (a model on one framework and hardware) deploys it at every level.


rule deploy:
    input:
        dataset=results("data/{dataset}.npz"),
        model=PLAN.cell_files(PRUNED_MODEL),
    output:
        record=PLAN.cell_files(f"cells/{CELL}/deployment.json"),
    log:
        logs(f"deploy/{SWEEP}.log"),
    benchmark:
        benchmarks(f"deploy/{SWEEP}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=PLAN.sweep_runtime(10),
        gpu=gpus,
    params:
        cells=sweep_cells,
        framework="{framework}",
        hardware_name="{hardware}",
        conversion_timesteps=lambda wc: PLAN.conversion_timesteps(wc.method),
        agreement_threshold=config["deploy"]["agreement_threshold"],
    script:
        "../scripts/deploy.py"
