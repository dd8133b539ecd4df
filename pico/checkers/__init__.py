"""Checkers: models trained on each split. Any estimator with fit/predict_proba works."""

from __future__ import annotations

from .linear import NearestCentroid, SoftmaxRegression

__all__ = ["NearestCentroid", "SoftmaxRegression"]
