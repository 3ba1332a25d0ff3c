# Aggregation: every job's fragment into metrics.csv, provenance.csv and the cube.


rule aggregate:
    input:
        fragments=PLAN.metric_fragments(),
        provenance_files=PLAN.provenance_files(),
    output:
        metrics_csv=results("metrics.csv"),
        provenance_csv=results("provenance.csv"),
        cube=results("metrics.nc"),
        summary=results("summary.json"),
    log:
        logs("aggregate.log"),
    benchmark:
        benchmarks("aggregate.tsv")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # The whole config's hash and text go into the cube's attributes and the aggregate's
        # own provenance row (each job's row holds the hash of the slice it used).
        config_hash=PLAN.config_hash,
        config_text=json.dumps(config, sort_keys=True),
    script:
        "../scripts/aggregate.py"
