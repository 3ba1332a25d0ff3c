# Framework latency benchmark (track latency): one Linear + LIF layer per framework and
# hardware, every configured size and variant (eager / compiled) inside one job.


rule latency_benchmark:
    output:
        metrics=results(f"latency/{LATENCY_CELL}/metrics.csv"),
        provenance=results(f"latency/{LATENCY_CELL}/provenance.json"),
    log:
        logs(f"latency/{LATENCY_CELL}.log"),
    benchmark:
        benchmarks(f"latency/{LATENCY_CELL}.tsv")
    conda:
        "../../envs/torch.yaml"
    threads: config["latency_benchmark"]["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpus,
        timing=timing_slot,
    params:
        coords=lambda wc: dict(framework=wc.framework, hardware=wc.hardware),
        bench_cfg=lambda wc: PLAN.latency_settings(wc.hardware),
        track="latency",
    script:
        "../scripts/latency.py"
