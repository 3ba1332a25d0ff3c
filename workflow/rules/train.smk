rule train_ann:
    input:
        dataset=results("data/{dataset}.npz"),
    output:
        model=results("models/{dataset}/seed{seed}/ann.pt"),
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
        gpu=1 if config["training"]["device"] == "cuda" else 0,
    params:
        model_cfg=model_config,
        training=config["training"],
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/train_ann.py"


rule train_snn:
    input:
        dataset=results("data/{dataset}.npz"),
    output:
        model=results("models/{dataset}/seed{seed}/surrogate.pt"),
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
        gpu=1 if config["training"]["device"] == "cuda" else 0,
    params:
        model_cfg=model_config,
        training=config["training"],
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/train_snn.py"
