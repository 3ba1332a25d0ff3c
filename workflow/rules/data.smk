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
        mem_mb=lambda wc: 16000 if dataset_is_downloaded(wc.dataset) else 2000,
        runtime=lambda wc: 120 if dataset_is_downloaded(wc.dataset) else 30,
    params:
        name="{dataset}",
        options=lambda wc: config["dataset_options"].get(wc.dataset, {}),
        test_fraction=config["dataset_options"]["test_fraction"],
        source=config["data"],
    script:
        "../scripts/prepare_dataset.py"


# `snakemake download` on a machine with a network (a cluster's login node) fetches the
# raw files of every configured dataset into data.cache_dir; prepare_dataset then finds
# them there on compute nodes without one.
rule download:
    input:
        download_manifests(),


rule download_dataset:
    output:
        manifest=results("downloads/{dataset}.json"),
    log:
        logs("download/{dataset}.log"),
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        runtime=240,
    params:
        name="{dataset}",
        options=lambda wc: config["dataset_options"].get(wc.dataset, {}),
        source=config["data"],
    script:
        "../scripts/download_dataset.py"
