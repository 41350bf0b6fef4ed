"""Benchmarks for minigrad: ``python -m bench`` (speed and memory figures live here, not in unit tests)."""
