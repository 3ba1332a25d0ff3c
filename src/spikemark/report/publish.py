"""Writing the named outputs and showing them on a page.

A table is written as CSV, Markdown and LaTeX and shown as an HTML table; a figure is
saved as PNG (150 dpi) and PDF and shown as an embedded PNG. :func:`show` does both for an
output of the manifest (with its caption); :func:`view` shows one dataset's part of it
without writing anything (the dataset pages).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from spikemark.report.manifest import FIGURE, Output, make, output


def to_markdown(frame: pd.DataFrame, empty: str = "(no rows)") -> str:
    if frame.empty:
        return empty
    return frame.to_markdown(index=False, disable_numparse=True)


def write_table(frame: pd.DataFrame, out_dir: str | Path, name: str) -> list[Path]:
    """A table as CSV, Markdown and LaTeX; returns the three paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.{ext}" for ext in ("csv", "md", "tex")]
    frame.to_csv(paths[0], index=False)
    paths[1].write_text(to_markdown(frame) + "\n")
    paths[2].write_text(frame.to_latex(index=False, escape=True))
    return paths


def html_table(frame: pd.DataFrame, empty: str = "(no rows)"):
    """A table for the HTML page (a real ``<table>``; non-ok cells stay visible)."""
    from IPython.display import HTML

    if frame.empty:
        return HTML(f"<p><em>{empty}</em></p>")
    html = frame.to_html(index=False, classes="spikemark", border=0, escape=True)
    return HTML(f'<div style="overflow-x:auto">{html}</div>')


def publish_table(frame: pd.DataFrame, out_dir: str | Path, name: str, empty: str = "(no rows)"):
    """Write a named table (CSV, Markdown, LaTeX) and return it for the page."""
    write_table(frame, out_dir, name)
    return html_table(frame, empty)


def save_figure(fig, out_dir: str | Path, name: str) -> list[Path]:
    """PNG (150 dpi) and PDF."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def figure_image(fig):
    """The figure as an embedded PNG (IPython Image), and closed."""
    import matplotlib.pyplot as plt
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Image(data=buf.getvalue())


def publish_figure(fig, out_dir: str | Path, name: str):
    """Save a named figure (PNG and PDF) and return it as an embedded PNG for the page."""
    import matplotlib.pyplot as plt
    from IPython.display import Image

    paths = save_figure(fig, out_dir, name)
    plt.close(fig)
    return Image(filename=str(paths[0]))


def _caption(entry: Output, written: bool) -> None:
    from IPython.display import Markdown, display

    files = (
        f" Output: `{entry.name}.{{{','.join(f.rsplit('.', 1)[1] for f in entry.files)}}}`."
        if written
        else ""
    )
    display(Markdown(entry.caption + files))


def show(name: str, table: pd.DataFrame, out_dir: str | Path, **context: Any):
    """Make the named output, write its files under ``out_dir``, show its caption, and
    return it for the page."""
    entry = output(name)
    made = make(entry, table, **context)
    _caption(entry, written=True)
    if entry.kind == FIGURE:
        return publish_figure(made, out_dir, name)
    return publish_table(made, out_dir, name, entry.empty)


def dataset_rows(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The rows a dataset page shows: that dataset's ML rows and every other track's."""
    return table[(table["track"] != "ml") | (table["dataset"] == dataset)]


def view(name: str, table: pd.DataFrame, dataset: str, **context: Any):
    """The named output for one dataset, shown (with its caption) but not written."""
    entry = output(name)
    made = make(entry, dataset_rows(table, dataset), **context)
    _caption(entry, written=False)
    return figure_image(made) if entry.kind == FIGURE else html_table(made, entry.empty)


def banner_html(table: pd.DataFrame, provenance: pd.DataFrame):
    """The report's opening one-line banner (:func:`spikemark.report.status.banner`), or
    nothing when there is no caveat."""
    from html import escape

    from IPython.display import HTML

    from spikemark.report.status import banner

    text = banner(table, provenance)
    if not text:
        return None
    style = "background:#fff3cd;border:1px solid #e0b000;padding:0.4em 0.8em;margin:0.5em 0"
    return HTML(f'<div id="spikemark-banner" style="{style}">{escape(text)}</div>')
