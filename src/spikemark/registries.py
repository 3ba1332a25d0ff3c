"""Every registry a config names, in one index: where the schema's allowed values come from.

A registry maps names to entries (:data:`REGISTRIES` lists them, each as the view its
config keys accept: ``frameworks`` are the frameworks that deploy SNNs, not the whole
framework registry). The schema marks a value that must name an entry with
``x-registry: <registry>``; :func:`spikemark.config.load_schema` adds the ``enum`` of the
entries registered at that moment, so a newly registered entry is allowed without editing
the schema, and ``config/README.md`` lists each entry with its one-line
:func:`description`. Entries may also declare ``packages``, the PyPI distributions whose
versions provenance records (:func:`packages`).

Reading a registry imports no heavy library (torch, SpikingJelly, NEST, matplotlib,
pandas): the Snakefile does it while it builds the DAG.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Registry:
    """One ``x-registry`` value: a title for the docs and the entries, read when asked."""

    name: str
    title: str
    entries: Callable[[], Mapping[str, Any]]


def _datasets() -> Mapping[str, Any]:
    from spikemark.datasets import REGISTRY

    return REGISTRY


def _snn_frameworks() -> Mapping[str, Any]:
    from spikemark.frameworks import snn_frameworks

    return snn_frameworks()


def _latency_frameworks() -> Mapping[str, Any]:
    from spikemark.frameworks import latency_frameworks

    return latency_frameworks()


def _hardware() -> Mapping[str, Any]:
    from spikemark.hardware import HARDWARE

    return HARDWARE


def _architectures() -> Mapping[str, Any]:
    from spikemark.architectures import ARCHITECTURES

    return ARCHITECTURES


def _energy_meters() -> Mapping[str, Any]:
    from spikemark.measure.energy import counters

    return counters()


def _energy_estimates() -> Mapping[str, Any]:
    from spikemark.measure.energy import estimates

    return estimates()


def _simulators() -> Mapping[str, Any]:
    from spikemark.simulation.simulators import SIMULATORS

    return SIMULATORS


def _pruning_methods() -> Mapping[str, Any]:
    from spikemark.matrix import PRUNING_METHODS

    # A plain tuple of names today; a mapping name → entry is read as it is.
    return PRUNING_METHODS if isinstance(PRUNING_METHODS, Mapping) else dict.fromkeys(PRUNING_METHODS)


REGISTRIES = {
    r.name: r
    for r in (
        Registry("datasets", "Datasets", _datasets),
        Registry("frameworks", "SNN frameworks", _snn_frameworks),
        Registry("latency_frameworks", "Frameworks with a latency workload", _latency_frameworks),
        Registry("hardware", "Hardware", _hardware),
        Registry("architectures", "Architectures", _architectures),
        Registry("energy_meters", "Energy meters (measured)", _energy_meters),
        Registry("energy_estimates", "Energy estimates", _energy_estimates),
        Registry("simulators", "Simulators", _simulators),
        Registry("pruning_methods", "Pruning methods", _pruning_methods),
    )
}


def entries(registry: str) -> Mapping[str, Any]:
    """name → entry of ``registry``, in registration order."""
    try:
        return REGISTRIES[registry].entries()
    except KeyError:
        raise KeyError(f"unknown registry {registry!r}; known: {sorted(REGISTRIES)}") from None


def names(registry: str) -> list[str]:
    return list(entries(registry))


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def description(entry: Any) -> str:
    """One line saying what ``entry`` is: its ``description``, else the description of its
    ``options_schema`` (datasets), else its module's docstring (one module per meter or
    dataset), else its class's (the first paragraph of either); empty for a bare name."""
    if entry is None or isinstance(entry, str):
        return ""
    text = getattr(entry, "description", None)
    schema = getattr(entry, "options_schema", None)
    if not text and isinstance(schema, Mapping):
        text = schema.get("description")
    cls = entry if isinstance(entry, type) else type(entry)
    if not text:
        text = getattr(sys.modules.get(cls.__module__), "__doc__", None)
    if not text:
        text = cls.__doc__  # not inherited: a class without its own docstring has None
    return _first_paragraph(text)


def packages() -> tuple[str, ...]:
    """PyPI distributions declared by any registered entry (every framework, the ANN
    runtime included, and every entry of :data:`REGISTRIES`), each once."""
    from spikemark.frameworks import FRAMEWORKS

    found: dict[str, None] = {}
    sources = [FRAMEWORKS, *(entries(name) for name in REGISTRIES)]
    for registry in sources:
        for entry in registry.values():
            found.update(dict.fromkeys(getattr(entry, "packages", None) or ()))
    return tuple(found)
