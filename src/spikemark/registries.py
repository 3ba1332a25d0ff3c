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

import importlib
import inspect
import sys
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Registry:
    """One ``x-registry`` value: a title for the docs and where its entries are.

    ``source`` is ``module:attribute``, imported when the entries are asked for: a mapping
    name → entry, a function returning one, or a sequence of bare names.
    """

    name: str
    title: str
    source: str

    def entries(self) -> Mapping[str, Any]:
        module, _, attribute = self.source.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        found = found() if callable(found) else found
        return found if isinstance(found, Mapping) else dict.fromkeys(found)


REGISTRIES = {
    r.name: r
    for r in (
        Registry("datasets", "Datasets", "spikemark.datasets:REGISTRY"),
        Registry("frameworks", "SNN frameworks", "spikemark.frameworks:snn_frameworks"),
        Registry(
            "latency_frameworks",
            "Frameworks with a latency workload",
            "spikemark.frameworks:latency_frameworks",
        ),
        Registry("hardware", "Hardware", "spikemark.hardware:HARDWARE"),
        Registry("architectures", "Architectures", "spikemark.architectures:ARCHITECTURES"),
        Registry("energy_meters", "Energy meters (measured)", "spikemark.measure.energy:counters"),
        Registry("energy_estimates", "Energy estimates", "spikemark.measure.energy:estimates"),
        Registry("simulators", "Simulators", "spikemark.simulation.simulators:SIMULATORS"),
        # A tuple of names today (no descriptions): its docs rows are names only.
        Registry("pruning_methods", "Pruning methods", "spikemark.matrix:PRUNING_METHODS"),
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
