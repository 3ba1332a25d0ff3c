"""Writing the named outputs and showing them on a page.

A table is written as CSV, Markdown and LaTeX and shown as an HTML table; a figure is
saved as PNG (150 dpi) and PDF and shown as an embedded PNG. :func:`show` does both for an
output of the manifest (with its caption); :func:`view` shows one dataset's part of it
without writing anything (the dataset pages).
"""

from __future__ import annotations

import io
import re
from html import escape
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


#: Tables size to their content (nbconvert's page CSS fixes equal column widths, which
#: wraps every number with its interval over several lines); numbers never wrap, reasons do.
TABLE_STYLE = (
    "<style>table.spikemark{table-layout:auto;margin-left:0;font-size:12px}"
    "table.spikemark td,table.spikemark th{white-space:nowrap;padding:0.2em 0.6em;text-align:left}"
    "table.spikemark td.reason{white-space:normal;min-width:18em}"
    "p.spikemark-constant{font-size:12px;margin:0.2em 0}</style>"
)
#: Columns whose text wraps in the HTML view.
WRAPPING = ("reason", "energy covers", "system", "reference")
_SHARED_N = re.compile(r"^(.*) \(n=(\d+)\)$")


def _shared_n(cells: pd.Series) -> str | None:
    """The N every non-empty cell of a column ends with, if they all share one."""
    found = {m.group(2) if m else None for m in map(_SHARED_N.match, cells[cells != ""])}
    return next(iter(found)) if len(found) == 1 and None not in found else None


def compact_view(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table as a page shows it, narrower than its files: empty columns dropped, columns
    with one value for every row said once above it, and an N that every cell of a column
    shares moved into the header. Returns the view and the "all rows" notes."""
    view = frame.astype(str)
    view = view.loc[:, [(view[c] != "").any() for c in view]]
    notes = []
    if len(view) > 1:
        constant = [c for c in view if view[c].nunique() == 1]
        notes = [f"{c} {view[c].iloc[0]}" for c in constant]
        view = view.drop(columns=constant)
    renamed = {}
    for column in view:
        n = _shared_n(view[column])
        if n is not None:
            view[column] = view[column].str.replace(_SHARED_N, r"\1", regex=True)
            renamed[column] = f"{column}, n={n}"
    return view.rename(columns=renamed), notes


def table_html(frame: pd.DataFrame, empty: str = "(no rows)", *, name: str = "") -> str:
    """A table for the HTML page (a real ``<table>``, with ``name`` as its id; non-ok cells
    stay visible)."""
    if frame.empty:
        return f"<p><em>{escape(empty)}</em></p>"
    view, notes = compact_view(frame)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in view.columns)
    wrapping = [any(str(c).startswith(w) for w in WRAPPING) for c in view.columns]
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="reason">{escape(v)}</td>' if wrap else f"<td>{escape(v)}</td>"
            for v, wrap in zip(row, wrapping)
        )
        + "</tr>"
        for row in view.itertuples(index=False)
    )
    note = f'<p class="spikemark-constant">All rows: {escape(" · ".join(notes))}</p>' if notes else ""
    ident = f' id="{escape(name)}"' if name else ""
    table = f'<table class="spikemark"{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f'{TABLE_STYLE}{note}<div style="overflow-x:auto">{table}</div>'


def html_table(frame: pd.DataFrame, empty: str = "(no rows)", *, name: str = ""):
    """:func:`table_html` as a notebook display object."""
    from IPython.display import HTML

    return HTML(table_html(frame, empty, name=name))


def publish_table(frame: pd.DataFrame, out_dir: str | Path, name: str, empty: str = "(no rows)"):
    """Write a named table (CSV, Markdown, LaTeX) and return it for the page."""
    write_table(frame, out_dir, name)
    return html_table(frame, empty, name=name)


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
    return figure_image(made) if entry.kind == FIGURE else html_table(made, entry.empty, name=name)
