rule train_ann:
    input:
        dataset=results("data/{dataset}.npz"),
    output:
        model=results(MODEL.replace("{method}", "ann")),
    log:
        logs("train_ann/{dataset}/seed{seed}.log"),
    benchmark:
        benchmarks("train_ann/{dataset}/seed{seed}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=PLAN.training_device_gpus(),
    params:
        model_cfg=lambda wc: PLAN.model_config(wc.dataset),
        training=PLAN.training("ann"),
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/train_ann.py"


rule train_snn:
    input:
        dataset=results("data/{dataset}.npz"),
    output:
        model=results(MODEL.replace("{method}", "surrogate")),
    log:
        logs("train_snn/{dataset}/seed{seed}.log"),
    benchmark:
        benchmarks("train_snn/{dataset}/seed{seed}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=PLAN.training_device_gpus(),
    params:
        model_cfg=lambda wc: PLAN.model_config(wc.dataset),
        training=PLAN.training("surrogate"),
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/train_snn.py"
