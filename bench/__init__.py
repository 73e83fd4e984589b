"""Benchmarks that print Markdown tables. Run from the repository root: `python -m bench` for all
of them, or one module, e.g. `python -m bench.interviews`."""
