"""Configuration: validated against the JSON schema, defaults filled, errors made readable.

A malformed config stops the workflow before any job with one message that names the
key and the allowed values (no traceback).
"""

from __future__ import annotations

import copy
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


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.safe_load(fh)


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


def validate(config: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the config with defaults filled in; raise :class:`ConfigError` if invalid."""
    config = copy.deepcopy(dict(config))
    validator = DefaultFillingValidator(schema or load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(explain(_deepest(error)))
    return config


def validate_or_exit(config: dict[str, Any], schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """For the Snakefile: print one clear line and stop, instead of a traceback."""
    try:
        return validate(config, load_schema(schema_path))
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
