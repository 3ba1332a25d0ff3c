rule prune:
    input:
        dataset=results("data/{dataset}.npz"),
        model=trained_model,
    output:
        pruned=results(PRUNED_MODEL),
    log:
        logs("prune/{dataset}/seed{seed}/{method}/{pruning}_s{sparsity}.log"),
    benchmark:
        benchmarks("prune/{dataset}/seed{seed}/{method}/{pruning}_s{sparsity}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        sparsity=lambda wc: float(wc.sparsity),
        method=lambda wc: wc.pruning,
        finetune_epochs=config["pruning"]["finetune_epochs"],
        training=config["training"],
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/prune.py"
