"""Measurement core: NeuroBench-compatible metrics, timing, energy meters."""
