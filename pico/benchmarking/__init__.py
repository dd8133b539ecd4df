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
    "make_blobs_with_noise",
    "uniform_noise",
    "within_group_noise",
    "confusable_noise",
    "generic_specific_noise",
    "sibling_pairs",
    "imbalanced_subsample",
    "noise_rate",
]
