"""Which cells a config asks for. Kept free of heavy imports: the Snakefile reads it
while building the DAG, and an up-to-date re-run should return in a few seconds."""

from __future__ import annotations

#: The runtime of the ReLU ANN; SNN methods run on the configured SNN frameworks.
ANN_FRAMEWORK = "torch"


def for_method(method: str, snn_frameworks: list[str]) -> list[str]:
    """Frameworks a method is deployed on: torch for the ANN, the SNN runtimes otherwise."""
    return [ANN_FRAMEWORK] if method == "ann" else list(snn_frameworks)
