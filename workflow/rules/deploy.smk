rule deploy:
    input:
        dataset=results("data/{dataset}.npz"),
        model=results(PRUNED_MODEL),
    output:
        record=results(f"cells/{CELL}/deployment.json"),
    log:
        logs(f"deploy/{CELL}.log"),
    benchmark:
        benchmarks(f"deploy/{CELL}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpus_for,
    params:
        framework="{framework}",
        hardware_name="{hardware}",
        conversion_timesteps=config["conversion"]["timesteps"],
        agreement_threshold=config["deploy"]["agreement_threshold"],
    script:
        "../scripts/deploy.py"
