"""Benchmarks that print figures. Run from the repository root, e.g. `python -m bench.interviews`."""
