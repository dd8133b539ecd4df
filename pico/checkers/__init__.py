"""Checkers: models trained on each split. Any estimator with fit/predict_proba works."""

from __future__ import annotations

from typing import Any

from .linear import NearestCentroid, SoftmaxRegression

__all__ = ["NearestCentroid", "SoftmaxRegression", "TorchChecker"]


def __getattr__(name: str) -> Any:
    # TorchChecker's module imports nothing heavy at import time, but keep it lazy so
    # ``pico.checkers`` never touches torch-related code unless asked.
    if name == "TorchChecker":
        from .torch import TorchChecker

        return TorchChecker
    raise AttributeError(f"module 'pico.checkers' has no attribute {name!r}")
