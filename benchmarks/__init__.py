"""Benchmarks that print numbers; run with `make bench` or `python -m benchmarks.<name>`."""
