rule convert_ann2snn:
    input:
        dataset=results("data/{dataset}.npz"),
        ann=results(MODEL.replace("{method}", "ann")),
    output:
        snn=results(MODEL.replace("{method}", "ann2snn")),
    log:
        logs("convert_ann2snn/{dataset}/seed{seed}.log"),
    benchmark:
        benchmarks("convert_ann2snn/{dataset}/seed{seed}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        normalisation=PLAN.conversion()["normalisation"],
        timesteps=PLAN.conversion()["timesteps"],
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/convert_ann2snn.py"
