# Aggregation: every job's fragment into metrics.csv, provenance.csv and the cube.


rule aggregate:
    input:
        fragments=all_metric_fragments(),
        provenance_files=all_provenance_files(),
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
        config=config,
    script:
        "../scripts/aggregate.py"
