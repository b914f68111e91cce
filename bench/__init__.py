"""Benchmarks of the Tradia stack: `make bench` (python -m bench) writes bench/RESULTS.md."""
