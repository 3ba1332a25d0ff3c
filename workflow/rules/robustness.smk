# Robustness protocol: accuracy, latency and synaptic operations against time steps and
# input noise, for the converted and surrogate-trained SNN cells (one job per cell).


rule robustness:
    input:
        dataset=results("data/{dataset}.npz"),
        model=results(PRUNED_MODEL),
        deployment=results(f"cells/{CELL}/deployment.json"),
    output:
        metrics=results(f"cells/{CELL}/robustness.csv"),
        provenance=results(f"cells/{CELL}/robustness_provenance.json"),
    log:
        logs(f"robustness/{CELL}.log"),
    benchmark:
        benchmarks(f"robustness/{CELL}.tsv")
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
        robustness_cfg=config["robustness"],
        batch_size=config["measure"]["batch_size"],
        conversion_timesteps=config["conversion"]["timesteps"],
        track="ml",
        provenance_config=config,
    script:
        "../scripts/robustness.py"
