rule prepare_dataset:
    output:
        data=results("data/{dataset}.npz"),
        metadata=results("data/{dataset}.json"),
    log:
        logs("prepare_dataset/{dataset}.log"),
    benchmark:
        benchmarks("prepare_dataset/{dataset}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        name="{dataset}",
        options=lambda wc: config["dataset_options"].get(wc.dataset, {}),
        test_fraction=config["dataset_options"]["test_fraction"],
    script:
        "../scripts/prepare_dataset.py"
