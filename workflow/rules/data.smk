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
        mem_mb=lambda wc: PLAN.dataset_mem_mb(wc.dataset),
        runtime=lambda wc: PLAN.dataset_runtime(wc.dataset),
    params:
        name="{dataset}",
        options=lambda wc: PLAN.dataset_options(wc.dataset),
        test_fraction=lambda wc: PLAN.dataset_test_fraction(wc.dataset),
        source=lambda wc: PLAN.dataset_source(wc.dataset),
    script:
        "../scripts/prepare_dataset.py"


# `snakemake download` on a machine with a network (a cluster's login node) fetches the
# raw files of every configured dataset into data.cache_dir; prepare_dataset then finds
# them there on compute nodes without one.
rule download:
    input:
        PLAN.download_manifests(),


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
        options=lambda wc: PLAN.dataset_options(wc.dataset),
        source=lambda wc: PLAN.dataset_source(wc.dataset),
    script:
        "../scripts/download_dataset.py"
