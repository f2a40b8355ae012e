"""Benchmarks that print numbers: ``python -m bench.bm25``."""
