"""Datasets used by pico's tests, examples and benchmarks (not part of the ``pico`` package)."""
