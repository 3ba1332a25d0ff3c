"""Configuration: validated against the JSON schema, defaults filled, errors made readable.

A malformed config stops the workflow before any job with one message that names the
key and the allowed values (no traceback).

The schema file holds no list of registered names: a value that must name a registry
entry is marked ``x-registry: <registry>`` (:mod:`spikemark.registries`), and
:func:`load_schema` adds the ``enum`` of the entries registered when it runs. A dataset
whose class declares ``options_schema`` gets that as its ``dataset_options.<name>``.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A config that does not satisfy the schema; the message is for the user."""


def _with_defaults(validator_class):
    """A validator that fills in each property's ``default`` before validating it."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _with_defaults(jsonschema.Draft202012Validator)


#: Schema keyword naming the registry whose entries are a value's allowed values.
REGISTRY_MARKER = "x-registry"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """The schema file with the registries' current entries filled in (see the module docstring)."""
    with open(path) as fh:
        schema = yaml.safe_load(fh)
    resolve_registries(schema)
    add_dataset_options(schema)
    return schema


def resolve_registries(node: Any) -> None:
    """Give every sub-schema marked ``x-registry: <name>`` the ``enum`` of that registry's
    entries (the marker stays, for the docs)."""
    from spikemark.registries import names

    if isinstance(node, dict):
        if REGISTRY_MARKER in node:
            node["enum"] = names(node[REGISTRY_MARKER])
        for value in node.values():
            resolve_registries(value)
    elif isinstance(node, list):
        for value in node:
            resolve_registries(value)


def _dataset_option_schemas() -> dict[str, dict[str, Any]]:
    """name → options schema of each registered dataset that declares one."""
    import spikemark.datasets as datasets

    if hasattr(datasets, "option_schemas"):
        return dict(datasets.option_schemas())
    declared = {name: getattr(entry, "options_schema", None) for name, entry in datasets.REGISTRY.items()}
    return {name: schema for name, schema in declared.items() if schema is not None}


def add_dataset_options(schema: dict[str, Any]) -> None:
    """Make each dataset's declared ``options_schema`` its ``dataset_options.<name>``, in
    registry order; a fragment still in the schema file stays where no class declares one."""
    from spikemark.registries import names

    section = schema["properties"]["dataset_options"]
    written = section.get("properties", {})
    declared = _dataset_option_schemas()
    properties: dict[str, Any] = {}
    for name in names("datasets"):
        if name in declared:
            properties[name] = {"type": "object", "additionalProperties": False, "default": {}, **declared[name]}
        elif name in written:
            properties[name] = written[name]
    properties.update({key: value for key, value in written.items() if key not in properties})
    section["properties"] = properties


def fill_defaults(
    instance: dict[str, Any], path: tuple[str, ...] = (), schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``instance`` with the defaults of the schema part at ``path`` filled in (``*``: the
    schema of a mapping's values, e.g. ``("models", "*")`` for one dataset's model)."""
    schema = schema or load_schema()
    for key in path:
        schema = schema["additionalProperties"] if key == "*" else schema["properties"][key]
    for _ in DefaultFillingValidator(schema).iter_errors(instance):
        pass  # filling is the point; the whole config was validated already
    return instance


def _key(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def explain(error: jsonschema.ValidationError) -> str:
    """One sentence naming the key, what is wrong and what is allowed."""
    key = _key(error)
    kind = error.validator
    if kind == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"config key '{key}': {error.instance!r} is not allowed; allowed values: {allowed}"
    if kind == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"config key '{key}': unknown key(s) {', '.join(unknown)}; allowed keys: {allowed}"
    if kind == "propertyNames":
        allowed = ", ".join(map(str, error.schema["propertyNames"].get("enum", [])))
        return f"config key '{key}': {error.instance!r} is not an allowed name; allowed: {allowed}"
    if kind == "type":
        return f"config key '{key}': {error.instance!r} has the wrong type; expected {error.validator_value}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bounds = {k: error.schema[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in error.schema}
        return f"config key '{key}': {error.instance!r} is out of range; allowed range: {bounds}"
    description = error.schema.get("description", "")
    return f"config key '{key}': {error.message}" + (f" ({description})" if description else "")


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The most specific error: prefer a sub-error that names a key (e.g. an enum item)."""
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    return error


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", [])
    return set([kind] if isinstance(kind, str) else kind)


def _scalar(text: str, types: set[str]) -> Any:
    """``text`` as the number, boolean or null the schema asks for, else ``text`` unchanged."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool):
        return value if "boolean" in types else text
    if isinstance(value, int) and ("integer" in types or "number" in types):
        return value
    if isinstance(value, float) and "number" in types:
        return value
    if value is None and "null" in types:
        return None
    return text


def coerce_strings(instance: Any, schema: dict[str, Any]) -> Any:
    """Numbers, booleans and nulls that arrive as text where the schema asks for them.

    ``snakemake --config measure='{repeats: 5}'`` parses nested values without types (every
    scalar a string); a value of the right shape must not be rejected for that.
    """
    if isinstance(instance, str) and _types(schema) & {"integer", "number", "boolean", "null"}:
        return _scalar(instance, _types(schema))
    if isinstance(instance, list):
        items = schema.get("items", {})
        return [coerce_strings(item, items) if isinstance(items, dict) else item for item in instance]
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: coerce_strings(value, props.get(key, extra if isinstance(extra, dict) else {}))
            for key, value in instance.items()
        }
    return instance


def non_finite(instance: Any, path: str = "") -> str | None:
    """The first key holding NaN or an infinity (YAML's ``.nan``, ``.inf``), or None."""
    if isinstance(instance, float) and not math.isfinite(instance):
        return path or "(top level)"
    items = instance.items() if isinstance(instance, dict) else enumerate(instance) if isinstance(instance, list) else ()
    for key, value in items:
        found = non_finite(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def cross_key_problem(config: dict[str, Any]) -> str | None:
    """The first mistake no single key shows: a list naming entries another key must hold,
    or an empty matrix the user did not ask for. None if there is none."""
    from spikemark.matrix import sparsity_label

    if config["ml_track"] and not config["datasets"]:
        return "config key 'datasets': empty; name at least one dataset, or set ml_track: false to run only the other tracks"
    robustness = config["robustness"]
    if config["ml_track"] and robustness["enabled"]:
        missing = [f for f in robustness["frameworks"] if f not in config["frameworks"]]
        if missing:
            return (f"config key 'robustness.frameworks': {missing} not in frameworks {config['frameworks']} "
                    "(the protocol runs on deployed frameworks only); name some of those, or set "
                    "robustness.enabled: false")  # fmt: skip
        levels = {sparsity_label(s) for s in config["pruning"]["sparsity"]}
        if robustness["sparsity"] is not None:
            missing = [s for s in robustness["sparsity"] if sparsity_label(s) not in levels]
            if missing:
                return (f"config key 'robustness.sparsity': {missing} not in pruning.sparsity "
                        f"{config['pruning']['sparsity']}; name some of those, or null for all")  # fmt: skip
    sim = config["simulation"]
    if sim["enabled"]:
        tests = {"validation": sim["seeds"][:1], "validation_full": sim["validation_full"]["seeds"]}
        for tier, seeds in tests.items():
            if tier == "validation_full" and not sim["validation_full"]["enabled"]:
                continue
            overlap = sorted(set(seeds) & set(sim[tier]["reference_seeds"]))
            if overlap:
                source = "simulation.seeds (its first)" if tier == "validation" else "simulation.validation_full.seeds"
                return (f"config key 'simulation.{tier}.reference_seeds': {overlap} also in {source}; a run "
                        "cannot validate against itself, choose other reference seeds")  # fmt: skip
    return None


def validate(config: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the config with defaults filled in; raise :class:`ConfigError` if invalid.

    Beyond the schema: numbers given as text are typed (:func:`coerce_strings`), NaN and
    infinities are rejected, cross-key references are checked (:func:`cross_key_problem`)
    and so is the plan (path labels that collide, more cells than ``max_cells``).
    """
    schema = schema or load_schema()
    config = coerce_strings(copy.deepcopy(dict(config)), schema)
    validator = DefaultFillingValidator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(explain(_deepest(error)))
    key = non_finite(config)
    if key:
        raise ConfigError(f"config key '{key}': not a finite number (NaN and infinities are not allowed)")
    problem = cross_key_problem(config)
    if problem:
        raise ConfigError(problem)
    from spikemark.matrix import Plan

    problem = Plan(config, schema=schema).problem()
    if problem:
        raise ConfigError(problem)
    return config


def results_dir_problem(path: str | Path) -> str | None:
    """Why ``results_dir`` cannot receive results (it is a file, or cannot be made), or None."""
    path = Path(path).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None:
        return None
    if not existing.is_dir():
        what = "is a file" if existing == path else f"lies inside a file ({existing})"
        return f"config key 'results_dir': {str(path)!r} {what}; name a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"config key 'results_dir': {str(path)!r} cannot be written ({existing} is read-only for this user)"
    return None


def validate_or_exit(config: dict[str, Any], schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """For the Snakefile: print one clear line and stop, instead of a traceback."""
    try:
        config = validate(config, load_schema(schema_path))
        problem = results_dir_problem(config["results_dir"])
        if problem:
            raise ConfigError(problem)
        return config
    except ConfigError as exc:
        print(f"spikemark: invalid configuration: {exc}", file=sys.stderr)
        sys.exit(2)


def load(path: str | Path) -> dict[str, Any]:
    """Read a YAML config safely and validate it."""
    try:
        with open(path) as fh:
            raw = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML syntax error: {exc}".splitlines()[0]) from None
    return validate(raw)


def _registry_of(sub: dict[str, Any]) -> str | None:
    for node in (sub, sub.get("items", {}), sub.get("propertyNames", {})):
        if isinstance(node, dict) and REGISTRY_MARKER in node:
            return node[REGISTRY_MARKER]
    return None


def _rows(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, str, str, str, str | None]]:
    """(key, description, default, allowed, registry) of every key below ``schema``."""
    rows = []
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        items = sub.get("items", {})
        registry = _registry_of(sub)
        enum = sub.get("enum") or items.get("enum") or sub.get("propertyNames", {}).get("enum")
        if enum is not None:
            allowed = ", ".join(map(str, enum))
            allowed += f" (registry `{registry}`)" if registry else ""
        else:
            bounds = [f"{k} {sub[k]}" for k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum") if k in sub]
            bounds += [f"items {k} {items[k]}" for k in ("minimum", "maximum") if k in items]
            allowed = "; ".join(bounds) or str(sub.get("type", ""))
        default = json_default(sub.get("default", ""))
        description = " ".join(str(sub.get("description", "")).split())
        rows.append((key, description, default, allowed, registry))
        if sub.get("type") == "object":
            rows += _rows(sub, prefix=f"{key}.")
        if isinstance(sub.get("additionalProperties"), dict):
            rows += _rows(sub["additionalProperties"], prefix=f"{key}.<name>.")
        if "properties" in items:
            rows += _rows(items, prefix=f"{key}[].")
    return rows


def json_default(value: Any) -> str:
    import json

    return "" if value == "" else json.dumps(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def document(schema: dict[str, Any] | None = None) -> str:
    """``config/README.md``: every key with its description, default and allowed values, and
    every registry's entries with their one-line descriptions."""
    from spikemark.registries import REGISTRIES, description, entries

    schema = schema or load_schema()
    rows = _rows(schema)
    lines = [
        "# Configuration keys",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` and the package's registries by",
        "`python -c 'from spikemark.config import document; print(document(), end=\"\")' > config/README.md`",
        "(a test checks that it is current). `config.yaml` is the embedded default, `test.yaml` a",
        "tiny matrix for tests and CI; a key left out takes its default. Unknown keys are errors.",
        "",
    ]
    lines += _table(
        ["key", "meaning", "default", "allowed"],
        [[f"`{key}`", text, f"`{default}`" if default else "", allowed] for key, text, default, allowed, _ in rows],
    )
    lines += [
        "",
        "## Registered entries",
        "",
        "Allowed values marked (registry `<name>`) above are the entries registered in the package",
        "when the config is validated (`spikemark.registries`): a newly registered entry is allowed",
        "without editing the schema.",
    ]
    for name, registry in REGISTRIES.items():
        keys = ", ".join(f"`{key}`" for key, *_, used in rows if used == name)
        lines += ["", f"### {registry.title} (registry `{name}`: {keys or 'no key'})", ""]
        lines += _table(["name", "what it is"], [[f"`{entry}`", description(value) or "—"] for entry, value in entries(name).items()])
    return "\n".join(lines) + "\n"
