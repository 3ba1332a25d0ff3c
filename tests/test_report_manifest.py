"""The manifest of named outputs: the one list that report.smk, the notebooks and the
``snakemake --report`` captions read, and cheap to import (the Snakefile reads it)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import matplotlib.figure
import pandas as pd
import pytest

from conftest import REPO
from report_fixtures import combined, sets, table  # noqa: F401 (fixtures)
from spikemark import report
from spikemark.report import manifest

HEAVY = ("pandas", "matplotlib", "seaborn", "scipy", "numpy", "IPython")


def test_names_are_unique_and_entries_well_formed():
    names = [o.name for o in manifest.OUTPUTS]
    assert len(names) == len(set(names))
    for o in manifest.OUTPUTS:
        assert o.name.startswith({"table": "table_", "figure": "fig_"}[o.kind]), o.name
        assert o.page in (manifest.INDEX, manifest.SIMULATION)
        assert callable(manifest.maker(o)), o.maker
        assert o.caption.endswith(".") and len(o.caption) > 40


def test_caption_files_are_the_manifests_captions():
    captions = REPO / "workflow" / "report"
    for o in manifest.OUTPUTS:
        assert (captions / f"{o.name}.rst").read_text() == manifest.caption_rst(
            o
        ), f"{o.name}.rst differs from the manifest: run python -m spikemark.report.manifest workflow/report"
    stray = {p.stem for p in captions.glob("*.rst")} - {o.name for o in manifest.OUTPUTS} - {"workflow"}
    assert not stray, stray


def test_write_captions_round_trips(tmp_path):
    written = manifest.write_captions(tmp_path)
    assert len(written) == len(manifest.OUTPUTS)
    first = manifest.OUTPUTS[0]
    assert (tmp_path / f"{first.name}.rst").read_text().split() == first.caption.split()
    assert all(len(line) <= 100 for p in written for line in p.read_text().splitlines())


def _imported_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; import json; print(json.dumps(sorted(sys.modules)))"
    env_path = str(REPO / "src")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": env_path},
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


def test_reading_the_manifest_imports_nothing_heavy():
    """What report.smk imports while Snakemake builds the DAG (every `snakemake` start)."""
    modules = _imported_by("from spikemark.report.manifest import OUTPUTS, outputs, workflow_parameters")
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not heavy, heavy
    assert "spikemark.report.figures" not in modules


def test_package_attributes_are_lazy_but_complete():
    assert "matplotlib" not in {m.split(".")[0] for m in _imported_by("import spikemark.report")}
    for name in report.__all__:
        assert getattr(report, name) is not None, name
    with pytest.raises(AttributeError):
        report.no_such_thing  # noqa: B018


def _notebook_calls(name: str) -> set[str]:
    book = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
    source = "\n".join("".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code")
    return set(re.findall(r"report\.(?:show|view)\(\s*\"(\w+)\"", source)) | set(
        re.findall(r"\"((?:table|fig)_\w+)\"", source)
    )


def test_each_page_shows_every_output_of_the_manifest_and_no_other():
    assert _notebook_calls("report") == {o.name for o in manifest.outputs(page=manifest.INDEX)}
    assert _notebook_calls("simulation") == {o.name for o in manifest.outputs(page=manifest.SIMULATION)}
    assert _notebook_calls("dataset") == {o.name for o in manifest.outputs(per_dataset=True)}


def test_report_rules_name_no_output_themselves():
    """report.smk takes every name, category and caption from the manifest (the dry run in
    test_report_workflow checks the files it then declares)."""
    smk = (REPO / "workflow" / "rules" / "report.smk").read_text()
    assert "spikemark.report.manifest" in smk
    assert not re.search(r"\b(table|fig)_\w+", smk)


def test_every_output_is_made_from_the_fixtures(combined, tmp_path):
    reference = report.load_reference()
    context = {"published": reference.published, "rates_reference": reference.rates, "drive": "dc"}
    for o in manifest.OUTPUTS:
        made = manifest.make(o, combined, **context)
        if o.kind == "table":
            assert isinstance(made, pd.DataFrame) and not made.empty, o.name
        else:
            assert isinstance(made, matplotlib.figure.Figure) and made.axes, o.name
            matplotlib.pyplot.close(made)


def test_unknown_output_names_the_known_ones():
    with pytest.raises(KeyError, match="table_framework_comparison"):
        manifest.output("table_nonsense")
