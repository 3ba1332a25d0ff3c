# Aggregation and the report. The report pages only read metrics.csv / provenance.csv, so
# re-rendering with unchanged results runs no upstream rule; `python -m spikemark.report`
# does the same without Snakemake and combines several machines' results.
from spikemark.report.render import workflow_parameters

REPORT = "report"
ML_FIGURES = [
    "fig_accuracy_vs_energy",
    "fig_accuracy_vs_timesteps",
    "fig_sparsity_sweep",
]
ML_TABLES = ["table_framework_comparison", "table_conversion", "table_pruning"]
# Written by the overview page even when their track is off (then empty, saying so).
LATENCY_FIGURES = ["fig_latency"]
LATENCY_TABLES = ["table_latency"]
ROBUSTNESS_FIGURES = ["fig_robustness_timesteps", "fig_robustness_noise"]
ROBUSTNESS_TABLES = ["table_robustness"]
# The overview page's figures and tables by category of the Snakemake report.
INDEX_FIGURES = {
    "ML track": ML_FIGURES,
    "Framework latency benchmark": LATENCY_FIGURES,
    "Robustness": ROBUSTNESS_FIGURES,
}
INDEX_TABLES = {
    "ML track": ML_TABLES,
    "Framework latency benchmark": LATENCY_TABLES,
    "Robustness": ROBUSTNESS_TABLES,
}
SIM_FIGURES = ["fig_pd14_strong_scaling", "fig_pd14_rates"]
SIM_TABLES = ["table_pd14", "table_pd14_rates"]


report: "../report/workflow.rst"


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
        parameters=lambda wc, input: workflow_parameters(
            input.metrics, results(REPORT), config["datasets"], dataset=wc.dataset
        ),
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
        figures=[
            report(
                results(f"{REPORT}/{name}.png"),
                caption=f"../report/{name}.rst",
                category="Simulation track",
            )
            for name in SIM_FIGURES
        ],
        pdfs=expand(results(f"{REPORT}/{{name}}.pdf"), name=SIM_FIGURES),
        tables=[
            report(
                results(f"{REPORT}/{name}.csv"),
                caption=f"../report/{name}.rst",
                category="Simulation track",
            )
            for name in SIM_TABLES
        ],
        formats=expand(
            results(f"{REPORT}/{{name}}.{{ext}}"), name=SIM_TABLES, ext=["md", "tex"]
        ),
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
        parameters=lambda wc, input: workflow_parameters(
            input.metrics,
            results(REPORT),
            config["datasets"],
            reference_dir="",
            drive=config["simulation"]["drive"],
        ),
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
        figures=[
            report(
                results(f"{REPORT}/{name}.png"),
                caption=f"../report/{name}.rst",
                category=category,
            )
            for category, names in INDEX_FIGURES.items()
            for name in names
        ],
        pdfs=expand(
            results(f"{REPORT}/{{name}}.pdf"), name=sum(INDEX_FIGURES.values(), [])
        ),
        tables=[
            report(
                results(f"{REPORT}/{name}.csv"),
                caption=f"../report/{name}.rst",
                category=category,
            )
            for category, names in INDEX_TABLES.items()
            for name in names
        ],
        formats=expand(
            results(f"{REPORT}/{{name}}.{{ext}}"),
            name=sum(INDEX_TABLES.values(), []),
            ext=["md", "tex"],
        ),
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
        parameters=lambda wc, input: workflow_parameters(
            input.metrics, results(REPORT), config["datasets"]
        ),
    script:
        "../scripts/report.py"
