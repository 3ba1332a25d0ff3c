"""spikemark: reproducible benchmarks for neuronal networks."""

__version__ = "0.1.0"
