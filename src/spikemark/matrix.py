"""Which cells a config asks for. Kept free of heavy imports: the Snakefile reads it
while building the DAG, and an up-to-date re-run should return in a few seconds."""

from __future__ import annotations

#: The runtime of the ReLU ANN; SNN methods run on the configured SNN frameworks.
ANN_FRAMEWORK = "torch"


def for_method(method: str, snn_frameworks: list[str]) -> list[str]:
    """Frameworks a method is deployed on: torch for the ANN, the SNN runtimes otherwise."""
    return [ANN_FRAMEWORK] if method == "ann" else list(snn_frameworks)


#: Pruning methods (``spikemark.prune`` holds their code); the dense baseline is ``none``.
PRUNING_METHODS = ("global_magnitude", "lamp")
DENSE = "none"


def pruning_levels(methods: list[str], sparsities: list[float]) -> list[tuple[str, float]]:
    """(pruning method, sparsity) pairs of the matrix.

    Every non-zero sparsity is pruned by every method, so methods are compared at equal
    sparsity; sparsity 0 is one dense baseline cell (method ``none``) shared by all of them
    rather than one identical copy per method.
    """
    levels = [(DENSE, 0.0)] if any(float(s) == 0 for s in sparsities) else []
    for sparsity in sparsities:
        if float(sparsity) > 0:
            levels += [(method, float(sparsity)) for method in methods]
    return levels
