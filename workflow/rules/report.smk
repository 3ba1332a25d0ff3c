# The report. Its pages only read metrics.csv / provenance.csv, so re-rendering with
# unchanged results runs no upstream rule; `python -m spikemark.report` does the same without
# Snakemake and combines several machines' results. Which tables and figures each page writes,
# with their captions and categories, comes from the manifest (spikemark.report.manifest).
from snakemake.io import report as captioned_file
from spikemark.report.manifest import (
    INDEX,
    SIMULATION,
    outputs,
    page_files,
    workflow_parameters,
)

REPORT = "report"


# Every page of the report (the overview links to the others by file name only).
REPORT_PAGES = [
    results(f"{REPORT}/{page}") for page in page_files(PLAN.report_datasets())
]

# A deleted metrics.csv is rebuilt from the cell files by any target that renders a page
# (e.g. `snakemake report`); see spikemark.summary.outdate_pages_without_table.
if not workflow.remote_exec:
    outdate_pages_without_table(results("metrics.csv"), REPORT_PAGES)


# Per page: the first file of each output carries its caption and category into
# `snakemake --report`; its other formats are plain outputs.
CAPTIONED = {
    page: [
        captioned_file(
            results(f"{REPORT}/{o.files[0]}"),
            caption=f"../report/{o.name}.rst",
            category=o.category,
        )
        for o in outputs(page=page)
    ]
    for page in (INDEX, SIMULATION)
}
OTHER_FORMATS = {
    page: [results(f"{REPORT}/{f}") for o in outputs(page=page) for f in o.files[1:]]
    for page in (INDEX, SIMULATION)
}


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
            input.metrics, results(REPORT), PLAN.report_datasets(), dataset=wc.dataset
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
        html=results(f"{REPORT}/{SIMULATION}"),
        captioned=CAPTIONED[SIMULATION],
        formats=OTHER_FORMATS[SIMULATION],
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
            PLAN.report_datasets(),
            reference_dir="",
            drive=config["simulation"]["drive"],
        ),
    script:
        "../scripts/report.py"


# The overview: it links to the other pages by file name, so it does not wait for them.
rule report:
    input:
        notebook="notebooks/report.ipynb",
        metrics=results("metrics.csv"),
        provenance=results("provenance.csv"),
    output:
        executed=results(f"{REPORT}/executed/report.ipynb"),
        html=results(f"{REPORT}/{INDEX}"),
        captioned=CAPTIONED[INDEX],
        formats=OTHER_FORMATS[INDEX],
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
            input.metrics, results(REPORT), PLAN.report_datasets()
        ),
    script:
        "../scripts/report.py"


rule cell_summary:
    """Ends every run non-zero while the results hold failed cells (see spikemark.summary)."""
    input:
        summary=results("summary.json"),
        # Last of all: the report renders before a failed cell fails the run.
        pages=REPORT_PAGES,
    output:
        ok=results("cells_ok.txt"),
    log:
        logs("cell_summary.log"),
    localrule: True
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/cell_summary.py"
