# Aggregation and the report. The report pages only read metrics.csv / provenance.csv, so
# re-rendering with unchanged results runs no upstream rule; `python -m spikemark.report`
# does the same without Snakemake and combines several machines' results.
REPORT = "report"
ML_FIGURES = ["fig_accuracy_vs_energy", "fig_accuracy_vs_timesteps", "fig_sparsity_sweep"]
ML_TABLES = ["table_framework_comparison", "table_conversion", "table_pruning"]
SIM_FIGURES = ["fig_pd14_strong_scaling", "fig_pd14_rates"]
SIM_TABLES = ["table_pd14", "table_pd14_rates"]
TABLE_FORMATS = ["csv", "md", "tex"]


report: "../report/workflow.rst"


def report_outputs(names, exts):
    return [results(f"{REPORT}/{name}.{ext}") for name in names for ext in exts]


def report_parameters(wildcards, input):
    """Papermill parameters shared by every page (the navigation lists every page)."""
    from spikemark.report.render import pages

    return {
        "metrics": [str(Path(input.metrics).parent)],
        "out_dir": results(REPORT),
        "pages": pages(config["datasets"]),
    }


def figure(name, category):
    return report(
        results(f"{REPORT}/{name}.png"),
        caption=f"../report/{name}.rst",
        category=category,
    )


def table(name, category):
    return report(
        results(f"{REPORT}/{name}.csv"),
        caption=f"../report/{name}.rst",
        category=category,
    )


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


rule report_dataset:
    input:
        notebook="notebooks/dataset.ipynb",
        metrics=results("metrics.csv"),
        provenance=results("provenance.csv"),
    output:
        executed=results(f"{REPORT}/executed/dataset_{{dataset}}.ipynb"),
        html=results(f"{REPORT}/dataset_{{dataset}}.html"),
    log:
        logs("report/dataset_{dataset}.log"),
    benchmark:
        benchmarks("report/dataset_{dataset}.tsv")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        parameters=lambda wc, input: {
            **report_parameters(wc, input),
            "dataset": wc.dataset,
        },
    script:
        "../scripts/report.py"


rule report_simulation:
    input:
        notebook="notebooks/simulation.ipynb",
        metrics=results("metrics.csv"),
        provenance=results("provenance.csv"),
    output:
        executed=results(f"{REPORT}/executed/simulation.ipynb"),
        html=results(f"{REPORT}/simulation.html"),
        figures=[figure(name, "Simulation track") for name in SIM_FIGURES],
        pdfs=report_outputs(SIM_FIGURES, ["pdf"]),
        tables=[table(name, "Simulation track") for name in SIM_TABLES],
        formats=report_outputs(SIM_TABLES, ["md", "tex"]),
    log:
        logs("report/simulation.log"),
    benchmark:
        benchmarks("report/simulation.tsv")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        parameters=lambda wc, input: {
            **report_parameters(wc, input),
            "reference_dir": "",
            "drive": config["simulation"]["drive"],
        },
    script:
        "../scripts/report.py"


rule report:
    input:
        notebook="notebooks/report.ipynb",
        metrics=results("metrics.csv"),
        provenance=results("provenance.csv"),
        pages=expand(
            results(f"{REPORT}/dataset_{{dataset}}.html"), dataset=config["datasets"]
        ),
        simulation=results(f"{REPORT}/simulation.html"),
    output:
        executed=results(f"{REPORT}/executed/report.ipynb"),
        html=results(f"{REPORT}/index.html"),
        figures=[figure(name, "ML track") for name in ML_FIGURES],
        pdfs=report_outputs(ML_FIGURES, ["pdf"]),
        tables=[table(name, "ML track") for name in ML_TABLES],
        formats=report_outputs(ML_TABLES, ["md", "tex"]),
    log:
        logs("report/index.log"),
    benchmark:
        benchmarks("report/index.tsv")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        parameters=report_parameters,
    script:
        "../scripts/report.py"
