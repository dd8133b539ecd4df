"""Benchmark helpers: seeded label-noise injection and correction-quality metrics.

See :mod:`pico.benchmarking.noise` for the noise models and
:mod:`pico.benchmarking.metrics` for the metrics.
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

from .metrics import calibration_bins, correction_metrics, ranking_average_precision
from .synthetic import make_blobs_with_noise

__all__ = [
    "calibration_bins",
    "confusable_noise",
    "correction_metrics",
    "generic_specific_noise",
    "imbalanced_subsample",
    "make_blobs_with_noise",
    "noise_rate",
    "ranking_average_precision",
    "sibling_pairs",
    "uniform_noise",
    "within_group_noise",
]
