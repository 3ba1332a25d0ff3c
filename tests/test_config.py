"""Config validation: defaults filled in, and one clear message per malformed config."""

from __future__ import annotations

import pytest
import yaml

from spikemark.config import ConfigError, load, validate

from conftest import REPO, run_snakemake


def test_empty_config_gets_every_default():
    config = validate({})
    assert config["datasets"] == ["digits", "randman"]
    assert config["training"]["epochs"] == 20
    assert config["measure"]["energy"]["meters"] == ["rapl", "nvml", "slurm"]
    assert config["simulation"]["scales"] == [{"N": 0.2, "K": 0.2}]


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml"])
def test_shipped_configs_are_valid(name):
    config = load(REPO / "config" / name)
    assert config["methods"] == ["ann", "ann2snn", "surrogate"]


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"datasets": ["imagenet"]}, ["datasets.0", "imagenet", "digits, randman, mnist"]),
        ({"frameworks": ["brian"]}, ["frameworks.0", "spikingjelly"]),
        ({"hardware": ["tpu"]}, ["hardware.0", "cpu, cuda"]),
        ({"pruning": {"sparsity": [1.5]}}, ["pruning.sparsity.0", "out of range", "0.999"]),
        ({"conversion": {"timesteps": [0]}}, ["conversion.timesteps.0", "out of range"]),
        ({"training": {"epochs": "ten"}}, ["training.epochs", "wrong type", "integer"]),
        ({"trainig": {}}, ["unknown key", "trainig", "training"]),
        ({"measure": {"energy": {"meters": ["wattmeter"]}}}, ["measure.energy.meters.0", "rapl, nvml, slurm"]),
        # Allowed values that come from the registries (x-registry in the schema file).
        ({"measure": {"energy": {"estimates": ["rapl"]}}}, ["measure.energy.estimates.0", "estimate-ops, estimate-tdp"]),
        ({"frameworks": ["torch"]}, ["frameworks.0", "'torch' is not allowed", "spikingjelly"]),
        ({"latency_benchmark": {"frameworks": ["torch"]}}, ["latency_benchmark.frameworks.0", "snntorch, norse"]),
        ({"robustness": {"frameworks": ["brian"]}}, ["robustness.frameworks.0", "spikingjelly"]),
        ({"latency_benchmark": {"hardware": ["tpu"]}}, ["latency_benchmark.hardware.0", "cpu, cuda"]),
        ({"latency_benchmark": {"sizes": {"tpu": [8]}}}, ["latency_benchmark.sizes", "'tpu'", "cpu, cuda"]),
        ({"models": {"imagenet": {}}}, ["models", "'imagenet'", "digits, randman"]),
        ({"models": {"digits": {"arch": "resnet"}}}, ["models.digits.arch", "mlp, cnn, rsnn"]),
        ({"pruning": {"methods": ["random"]}}, ["pruning.methods.0", "global_magnitude, lamp"]),
        ({"simulation": {"frameworks": ["brian2"]}}, ["simulation.frameworks.0", "nest, pynn-nest"]),
        ({"simulation": {"validation": {"reference_framework": "neuron"}}},
         ["simulation.validation.reference_framework", "nest, pynn-nest"]),
    ],
)
def test_malformed_config_names_key_and_allowed_values(bad, words):
    with pytest.raises(ConfigError) as info:
        validate(bad)
    for word in words:
        assert word in str(info.value)


def test_yaml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("datasets: [digits\nmethods: ann\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "YAML syntax error" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "content, words",
    [
        ({"datasets": ["imagenet"]}, ["datasets.0", "allowed values: digits, randman, mnist"]),
        ({"pruning": {"sparsity": [-0.1]}}, ["pruning.sparsity.0", "out of range"]),
    ],
)
def test_snakemake_stops_before_any_job_without_traceback(tmp_path, content, words):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**content, "results_dir": str(tmp_path / "out")}))
    proc = run_snakemake("-n", "--configfile", str(path), timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    for word in words:
        assert word in proc.stderr
    assert not (tmp_path / "out").exists()


def test_config_readme_documents_every_key():
    from spikemark.config import document

    assert (REPO / "config" / "README.md").read_text() == document(), "regenerate config/README.md (see its header)"
