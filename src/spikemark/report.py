"""Tables and figures of the report, as small functions the notebooks call.

Every statistical cell shows median (or fraction) with its 95 % interval and N; skipped,
failed and invalid cells stay in the tables with their reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ML_KEYS = ["dataset", "method", "framework", "hardware", "sparsity"]


def load_metrics(path: str | Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("value", "ci_low", "ci_high", "n"):
        table[col] = pd.to_numeric(table[col].replace("", None), errors="coerce")
    return table


def fmt_stat(value: float, lo: float, hi: float, n: float, digits: int = 3) -> str:
    """``value [lo, hi] (n=N)``; interval and N are left out for single values."""
    if pd.isna(value):
        return ""
    text = f"{value:.{digits}g}"
    if not pd.isna(lo) and not pd.isna(hi):
        text += f" [{lo:.{digits}g}, {hi:.{digits}g}]"
    if not pd.isna(n) and n > 1:
        text += f" (n={int(n)})"
    return text


def measure_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The ML rows of the measure stage (robustness-protocol rows are ``variant = robustness``)."""
    return table[(table["track"] == "ml") & (table["variant"] != "robustness")]


def cell_status(table: pd.DataFrame) -> pd.DataFrame:
    """One row per ML cell: its status and reason (ok where no ``cell`` row says otherwise)."""
    ml = measure_rows(table)
    cells = ml.groupby(ML_KEYS, sort=True).agg(run_id=("run_id", "first")).reset_index()
    marks = ml[ml["metric"] == "cell"][ML_KEYS + ["status", "reason"]]
    out = cells.merge(marks, on=ML_KEYS, how="left")
    out["status"] = out["status"].fillna("ok")
    out["reason"] = out["reason"].fillna("")
    return out


def headline_timesteps(ml: pd.DataFrame) -> pd.DataFrame:
    """Per cell, keep the rows at the largest evaluated T (and T-less rows)."""
    t = pd.to_numeric(ml["timesteps"].replace("", None), errors="coerce")
    largest = t.groupby([ml[k] for k in ML_KEYS]).transform("max")
    return ml[t.isna() | (t == largest)]


def framework_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The main table: per dataset × method × framework × hardware × sparsity."""
    metrics = {
        "accuracy": "accuracy",
        "latency_batch1": "latency batch 1 (s)",
        "throughput": "throughput (samples/s)",
        "connection_sparsity": "connection sparsity",
        "parameter_count": "parameters",
    }
    ml = measure_rows(table)
    ml = headline_timesteps(ml[ml["metric"].isin(metrics)])
    ml = ml.assign(text=[fmt_stat(*r) for r in ml[["value", "ci_low", "ci_high", "n"]].itertuples(index=False)])
    wide = ml.pivot_table(index=ML_KEYS, columns="metric", values="text", aggfunc="first").reset_index()
    tvals = ml[ml["metric"] == "accuracy"].groupby(ML_KEYS)["timesteps"].first().rename("T").reset_index()
    status = cell_status(table)
    out = status.merge(tvals, on=ML_KEYS, how="left").merge(wide, on=ML_KEYS, how="left")
    out = out.rename(columns=metrics).drop(columns=["run_id"])
    ordered = ML_KEYS + ["T"] + [m for m in metrics.values() if m in out] + ["status", "reason"]
    return out[ordered].fillna("")


def accuracy_by_timesteps(table: pd.DataFrame) -> pd.DataFrame:
    """Accuracy against T for SNN cells, with the ANN of the same dataset / sparsity beside."""
    ml = measure_rows(table)
    acc = ml[(ml["metric"] == "accuracy") & (ml["status"] == "ok")].copy()
    acc["T"] = pd.to_numeric(acc["timesteps"].replace("", None), errors="coerce")
    acc["sparsity"] = acc["sparsity"].astype(float)
    return acc[["dataset", "method", "framework", "hardware", "sparsity", "T", "value", "ci_low", "ci_high", "n"]]


def conversion_penalty(table: pd.DataFrame) -> pd.DataFrame:
    """ANN accuracy minus converted-SNN accuracy at every T (same dataset, sparsity, hardware)."""
    acc = accuracy_by_timesteps(table)
    ann = acc[acc["method"] == "ann"][["dataset", "hardware", "sparsity", "value"]].rename(columns={"value": "ann_accuracy"})
    snn = acc[acc["method"] == "ann2snn"].rename(columns={"value": "snn_accuracy"})
    out = snn.merge(ann, on=["dataset", "hardware", "sparsity"], how="inner")
    out["penalty_points"] = 100 * (out["ann_accuracy"] - out["snn_accuracy"])
    cols = ["dataset", "framework", "hardware", "sparsity", "T", "ann_accuracy", "snn_accuracy", "penalty_points"]
    return out[cols].sort_values(["dataset", "hardware", "sparsity", "T"]).reset_index(drop=True)


def write_table(frame: pd.DataFrame, out_dir: str | Path, name: str) -> None:
    """A table as CSV, Markdown and LaTeX."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / f"{name}.csv", index=False)
    (out / f"{name}.md").write_text(frame.to_markdown(index=False) + "\n")
    (out / f"{name}.tex").write_text(frame.to_latex(index=False, escape=True))


def render_notebook(notebook: str, executed: str, html: str, *, parameters: dict) -> None:
    """Execute ``notebook`` with papermill and render it to HTML with code hidden."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    Path(executed).parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(notebook, executed, parameters=parameters, kernel_name="python3", cwd=".", progress_bar=False)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    Path(html).write_text(body)
