"""What a framework declares: everything its consumers ask of it, in one registry entry.

A framework is one object in :data:`spikemark.frameworks.FRAMEWORKS`. Its consumers:

- ``deploy`` / ``measure`` / ``robustness``: :meth:`Framework.unsupported_reason` (a model
  kind it cannot run), :meth:`Framework.unavailable_reason` (a device it cannot run on) and
  :meth:`Framework.load` (a checkpoint as a :class:`~spikemark.models.Classifier`);
- the latency benchmark (:mod:`spikemark.latency`): :meth:`Framework.latency_workload`, the
  one-layer Linear + LIF workload as an object the benchmark drives
  (:class:`spikemark.frameworks.workload.Workload`); a framework without one sets it to None;
- the activation-sparsity and membrane-update probes (:mod:`spikemark.measure.probes`):
  ``neurons``, its neuron types (:class:`NeuronType`);
- provenance: ``packages``, the PyPI distributions whose versions decide its numbers;
- the config schema and ``config/README.md``: ``name``, ``description`` and ``kinds``
  (frameworks that deploy SNN kinds are the allowed values of ``frameworks``, those with a
  latency workload of ``latency_benchmark.frameworks``).

Nothing here imports a heavy library: the Snakefile reads the registry while it builds the
DAG. Each framework imports its library inside the methods that use it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

if TYPE_CHECKING:
    from spikemark.frameworks.workload import LayerSpec, Workload
    from spikemark.models import Classifier

#: Model kinds that are SNNs (``ann`` is the ReLU network).
SNN_KINDS = ("rate_snn", "spiking_snn")


@dataclass(frozen=True)
class NeuronType:
    """A library's spiking-neuron class as the measurement probes see it.

    ``module`` and ``cls`` name the class; it is looked up only once the library is imported
    (a model that uses it has imported it), so asking costs nothing. ``membrane`` is the
    attribute that holds a layer's membrane potential between steps; where the library keeps
    it elsewhere (Norse returns it as state), :meth:`membrane_before` / :meth:`membrane_after`
    say where it is.
    ``neurobench_reads_membrane``: whether NeuroBench 2.3.0's ``MembraneUpdates`` reads it
    (it reads snnTorch's ``mem`` only); the ``neurobench`` convention counts only those.
    """

    module: str
    cls: str
    membrane: str | None = None
    neurobench_reads_membrane: bool = False

    def loaded(self) -> type | None:
        """The class, if its library is imported; else None."""
        return getattr(sys.modules.get(self.module), self.cls, None)

    def spikes(self, layer: Any, output: Any) -> Any:
        """The spike tensor in a layer's forward output (what activation sparsity counts)."""
        return output

    def membrane_before(self, layer: Any, args: tuple) -> Any:
        """The potential before a call (forward pre-hook); None where there is none yet."""
        return getattr(layer, self.membrane, None) if self.membrane else None

    def membrane_after(self, layer: Any, output: Any) -> Any:
        """The potential after a call (forward hook); None where it cannot be read."""
        return getattr(layer, self.membrane, None) if self.membrane else None

    def step_sequence(self, layer: Any) -> tuple[str, str] | None:
        """For a layer whose one call runs every time step: (flag, attribute), where setting
        ``flag`` makes the layer keep its per-step potentials in ``attribute``; else None."""
        return None


class Framework:
    """Base of every framework entry; subclasses set the class attributes below."""

    name: str
    #: One line for ``config/README.md``.
    description: str = ""
    #: Model kinds it deploys (``ann``, ``rate_snn``, ``spiking_snn``).
    kinds: ClassVar[tuple[str, ...]] = ()
    #: PyPI distributions whose versions provenance records for it.
    packages: tuple[str, ...] = ()
    #: Its neuron types, for the activation-sparsity and membrane-update probes.
    neurons: ClassVar[tuple[NeuronType, ...]] = ()
    #: ``latency_workload(spec) -> Workload``, or None where it has no latency workload.
    latency_workload: Callable[[LayerSpec], Workload] | None = None

    @property
    def deploys_snns(self) -> bool:
        return any(kind in SNN_KINDS for kind in self.kinds)

    def unsupported_reason(self, kind: str) -> str | None:
        """Why it cannot run a model of ``kind`` (None if it can)."""
        if kind in self.kinds:
            return None
        return f"{self.name} deploys {' and '.join(self.kinds)} models, not {kind}"

    def unavailable_reason(self, device: str) -> str | None:
        """Why it cannot run on ``device`` here (None if it can). Asked on the node that runs
        the job, after the hardware itself was found present."""
        return None

    def load(self, checkpoint: str, device: str) -> Classifier:
        raise NotImplementedError(f"{self.name} cannot load models")
