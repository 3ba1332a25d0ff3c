# One job per trained model prunes it at every level (dense baseline included).


rule prune:
    input:
        dataset=results("data/{dataset}.npz"),
        model=results(MODEL),
    output:
        pruned=PLAN.cell_files(PRUNED_MODEL),
    log:
        logs("prune/{dataset}/seed{seed}/{method}.log"),
    benchmark:
        benchmarks("prune/{dataset}/seed{seed}/{method}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=PLAN.sweep_runtime(20),
    params:
        cells=PLAN.prune_cells(),
        finetune_epochs=config["pruning"]["finetune_epochs"],
        training=PLAN.finetune_training(),
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/prune.py"
