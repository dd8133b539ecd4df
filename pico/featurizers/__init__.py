"""Featurizers turn raw inputs into the matrix every checker shares (computed once)."""

from __future__ import annotations

from .tfidf import NumericFeaturizer, TfidfFeaturizer

__all__ = ["NumericFeaturizer", "TfidfFeaturizer"]
