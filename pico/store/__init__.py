"""Where the checkers' soft predictions live between training and the vote."""

from __future__ import annotations

from .base import PredictionStore, SparsePredictions, sparsify_topk
from .memory import MemoryStore

__all__ = ["MemoryStore", "PredictionStore", "SparsePredictions", "sparsify_topk"]
