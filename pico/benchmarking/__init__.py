"""Benchmark helpers: seeded label-noise injection for known-noise experiments.

See :mod:`pico.benchmarking.noise` for the noise models.
"""

from __future__ import annotations

from pico.benchmarking.noise import (
    confusable_noise,
    generic_specific_noise,
    imbalanced_subsample,
    noise_rate,
    sibling_pairs,
    uniform_noise,
    within_group_noise,
)

from .synthetic import make_blobs_with_noise

__all__ = [
    "confusable_noise",
    "generic_specific_noise",
    "imbalanced_subsample",
    "make_blobs_with_noise",
    "noise_rate",
    "sibling_pairs",
    "uniform_noise",
    "within_group_noise",
]
