"""One contract per registry kind: a newly registered entry is allowed by the schema, listed
in the config docs and found by its consumers, without editing anything else; and reading
the registries stays cheap (the Snakefile does it while it builds the DAG)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import toy_dataset
import toy_framework
from spikemark import datasets, frameworks, hardware, matrix, registries
from spikemark.architectures import ARCHITECTURES, Architecture
from spikemark.config import ConfigError, document, load_schema, validate
from spikemark.measure import energy
from spikemark.measure.energy.base import Meter
from spikemark.simulation.simulators import SIMULATORS, Simulator

from conftest import REPO

#: Libraries that must not be imported by reading the registries or the schema.
HEAVY = ("torch", "spikingjelly", "snntorch", "norse", "nest", "pyNN", "matplotlib", "pandas", "nir", "jax")


@pytest.fixture
def toys(monkeypatch):
    """The toy framework and the toy dataset, each added by its one registry line."""
    monkeypatch.setitem(frameworks.FRAMEWORKS, toy_framework.TOY.name, toy_framework.TOY)
    monkeypatch.setitem(datasets.REGISTRY, toy_dataset.TOY.name, toy_dataset.TOY)
    return toy_framework.TOY.name, toy_dataset.TOY.name


def test_reading_every_registry_and_the_schema_imports_no_heavy_library():
    code = (
        "import json, sys\n"
        "from spikemark import config, registries\n"
        "import spikemark.frameworks, spikemark.hardware, spikemark.architectures, spikemark.datasets\n"
        "import spikemark.measure.energy, spikemark.simulation.simulators, spikemark.matrix, spikemark.provenance\n"
        "for name in registries.REGISTRIES: registries.entries(name)\n"
        "config.validate({}, config.load_schema()); config.document(); registries.packages()\n"
        "spikemark.frameworks.neuron_types()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_schema_allows_exactly_the_registered_entries():
    schema = load_schema()
    props = schema["properties"]
    assert props["datasets"]["items"]["enum"] == list(datasets.REGISTRY)
    assert props["models"]["propertyNames"]["enum"] == list(datasets.REGISTRY)
    snn = [name for name, fw in frameworks.FRAMEWORKS.items() if fw.deploys_snns]
    assert props["frameworks"]["items"]["enum"] == snn and "torch" not in snn
    assert props["robustness"]["properties"]["frameworks"]["items"]["enum"] == snn
    bench = props["latency_benchmark"]["properties"]
    assert bench["frameworks"]["items"]["enum"] == list(frameworks.latency_frameworks())
    assert bench["hardware"]["items"]["enum"] == props["hardware"]["items"]["enum"] == list(hardware.HARDWARE)
    assert props["models"]["additionalProperties"]["properties"]["arch"]["enum"] == list(ARCHITECTURES)
    meters = props["measure"]["properties"]["energy"]["properties"]
    assert meters["meters"]["items"]["enum"] == [n for n, m in energy.METERS.items() if m.measured]
    assert meters["estimates"]["items"]["enum"] == [n for n, m in energy.METERS.items() if not m.measured]
    sim = props["simulation"]["properties"]
    assert sim["frameworks"]["items"]["enum"] == list(SIMULATORS)
    assert sim["validation"]["properties"]["reference_framework"]["enum"] == list(SIMULATORS)
    assert props["pruning"]["properties"]["methods"]["items"]["enum"] == list(matrix.PRUNING_METHODS)


def test_schema_file_names_no_registered_entry_as_an_allowed_value():
    """The lists live in the registries only: no enum in the schema file names an entry."""
    import yaml

    raw = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    registered = {name for registry in registries.REGISTRIES for name in registries.names(registry)}

    def enums(node, path=""):
        if isinstance(node, dict):
            if "enum" in node:
                yield path, node["enum"]
            for key, value in node.items():
                yield from enums(value, f"{path}.{key}")
        elif isinstance(node, list):
            for value in node:
                yield from enums(value, path)

    naming = [path for path, enum in enums(raw) if set(enum) & registered]
    # training.device is a torch device string (cpu, cuda), not a hardware name.
    assert naming == [".properties.training.properties.device"]


def test_toy_framework_and_dataset_are_allowed_documented_and_planned(toys):
    framework, dataset = toys
    config = validate(
        {
            "datasets": ["digits", dataset],
            "frameworks": ["spikingjelly", framework],
            "models": {dataset: {"arch": "mlp", "hidden": [8]}},
            "dataset_options": {dataset: {}},
            "latency_benchmark": {"frameworks": [framework]},
            "robustness": {"frameworks": [framework]},
        }
    )
    assert config["dataset_options"][dataset] == {"n_samples": 20}  # its options_schema's default
    # The plan: the toy dataset's models, sweeps on the toy framework, its latency cells.
    plan = matrix.Plan(config)
    sweeps = {(s["dataset"], s["method"], s["framework"]) for s in plan.sweeps()}
    assert (dataset, "surrogate", framework) in sweeps and (dataset, "ann", matrix.ANN_FRAMEWORK) in sweeps
    assert (dataset, "ann", framework) not in sweeps
    assert {c["framework"] for c in plan.latency_cells()} == {framework}
    assert {s["framework"] for s in plan.robustness_sweeps()} == {framework}
    assert any(f"/cells/{dataset}/surrogate/none/s0/{framework}/" in f for f in plan.metric_fragments())
    docs = document()
    assert f"| `{framework}` | A NumPy LIF layer (a test's toy framework). |" in docs
    assert f"| `{dataset}` | Two Gaussian blobs in 4 dimensions (a test's toy dataset). |" in docs
    assert f"`dataset_options.{dataset}.n_samples`" in docs
    assert "numpy" in registries.packages()


def test_toy_dataset_options_are_validated_with_the_key_named(toys):
    _, dataset = toys
    with pytest.raises(ConfigError) as info:
        validate({"datasets": [dataset], "dataset_options": {dataset: {"n_samples": 2}}})
    assert f"dataset_options.{dataset}.n_samples" in str(info.value) and "out of range" in str(info.value)
    with pytest.raises(ConfigError, match="unknown key"):
        validate({"dataset_options": {dataset: {"n_blobs": 3}}})


def test_a_declared_options_schema_replaces_the_schema_files_fragment(monkeypatch):
    randman = type(datasets.REGISTRY["randman"])
    declared = {
        "description": "Randman with one option.",
        "properties": {"n_classes": {"type": "integer", "minimum": 2, "default": 3}},
    }
    monkeypatch.setattr(randman, "options_schema", declared, raising=False)
    assert validate({})["dataset_options"]["randman"] == {"n_classes": 3}
    with pytest.raises(ConfigError, match="unknown key"):
        validate({"dataset_options": {"randman": {"n_inputs": 40}}})  # the file's fragment is gone
    assert "| `randman` | Randman with one option. |" in document()


def test_toy_dataset_prepares_like_any_other(toys, tmp_path):
    _, dataset = toys
    meta = datasets.prepare(dataset, tmp_path / "toy.npz", options={"n_samples": 10}, test_fraction=0.25)
    assert meta["n_train"] + meta["n_test"] == 20 and meta["n_classes"] == 2
    assert datasets.load(tmp_path / "toy.npz").name == dataset


def test_unregistered_names_are_refused_with_the_allowed_values(toys):
    framework, _ = toys
    with pytest.raises(ConfigError) as info:
        validate({"frameworks": ["torch"]})  # the ANN runtime deploys no SNN
    assert "frameworks.0" in str(info.value) and framework in str(info.value)
    with pytest.raises(ConfigError) as info:
        validate({"models": {"imagenet": {"arch": "mlp"}}})
    assert "models" in str(info.value) and "toy_blobs" in str(info.value)


def test_latency_benchmark_runs_a_library_that_is_not_torch(toys, tmp_path):
    framework, _ = toys
    cfg = {
        "timesteps": 5,
        "batch_size": 2,
        "warmup": 1,
        "repeats": 3,
        "sizes": {"cpu": [8]},
        "compile": "always",
    }
    from spikemark.latency import latency_benchmark

    latency_benchmark(
        str(tmp_path / "m.csv"), coords={"framework": framework, "hardware": "cpu"}, bench_cfg=cfg
    )
    table = pd.read_csv(tmp_path / "m.csv", keep_default_na=False, dtype={"run_id": str})
    assert set(table.status) == {"ok"} and set(table.backend) == {"numpy"}
    for metric in ("inference_time", "forward_time", "backward_time"):
        row = table[table.metric == metric].iloc[0]
        assert row.value > 0 and row.n == 3 and row.variant == "eager"
    # No compiler: no compiled variant, and no device memory off an accelerator.
    assert "compiled" not in set(table.variant) and "peak_cuda_memory" not in set(table.metric)


def test_probes_ask_the_registry_for_neuron_types(toys):
    from spikemark.measure.probes import activation_types

    assert toy_framework.ToyNeuron in activation_types()
    names = {kind.cls for kind, _ in frameworks.neuron_types()}
    assert "ToyNeuron" in names


# Every other registry: one new entry, and the keys that take its kind allow it.
NEW_ENTRIES = [
    (
        hardware.HARDWARE,
        type("Tpu", (), {"name": "tpu", "device": "xla", "description": "A toy accelerator."})(),
        {"hardware": ["tpu"], "latency_benchmark": {"hardware": ["tpu"], "sizes": {"tpu": [64]}}},
    ),
    (
        ARCHITECTURES,
        Architecture("toy-arch", "A toy architecture.", {"ann": "spikemark.models:mlp_ann"}),
        {"models": {"digits": {"arch": "toy-arch"}}},
    ),
    (
        energy.METERS,
        type("ToyMeter", (Meter,), {"name": "toy-meter", "description": "A toy counter."}),
        {"measure": {"energy": {"meters": ["toy-meter"]}}},
    ),
    (
        SIMULATORS,
        Simulator("toy-sim", "A toy simulator.", "spikemark.simulation.pd14_nest:NestPD14"),
        {"simulation": {"frameworks": ["toy-sim"], "validation": {"reference_framework": "toy-sim"}}},
    ),
]


@pytest.mark.parametrize(
    "registry,entry,config", NEW_ENTRIES, ids=["hardware", "architecture", "meter", "simulator"]
)
def test_a_new_entry_of_any_registry_is_allowed_and_documented(registry, entry, config, monkeypatch):
    with pytest.raises(ConfigError):
        validate(config)
    monkeypatch.setitem(registry, entry.name, entry)
    validate(config)
    assert f"| `{entry.name}` | {entry.description} |" in document()


def test_a_new_pruning_method_is_allowed(monkeypatch):
    monkeypatch.setattr(matrix, "PRUNING_METHODS", (*matrix.PRUNING_METHODS, "toy_pruning"))
    assert validate({"pruning": {"methods": ["toy_pruning"]}})["pruning"]["methods"] == ["toy_pruning"]


def test_descriptions_fall_back_to_docstrings():
    assert registries.description(energy.METERS["rapl"]).startswith("Intel / AMD RAPL energy counters")
    assert registries.description(datasets.REGISTRY["digits"]).startswith("scikit-learn's handwritten digits")
    assert registries.description(frameworks.get("norse")) == frameworks.get("norse").description
    assert registries.description("lamp") == ""


def test_provenance_tracks_what_the_entries_declare():
    from spikemark.provenance import CORE_PACKAGES, tracked_packages

    tracked = tracked_packages()
    assert tracked[: len(CORE_PACKAGES)] == CORE_PACKAGES and len(set(tracked)) == len(tracked)
    for package in ("spikingjelly", "snntorch", "norse", "nir", "nirtorch", "nest-simulator", "pynn"):
        assert package in tracked


def test_hardware_entries_answer_what_the_plan_asks():
    cpu, cuda = hardware.get("cpu"), hardware.get("cuda")
    assert (cpu.gpus, cuda.gpus) == (0, 1) and cpu.present_here()
    assert cuda.present_here() == hardware.nvidia_driver_present()
    if not cuda.present_here():  # no driver: the verdict on this node agrees and names why
        assert "no NVIDIA driver" in cuda.unavailable_reason()
