"""MultiSplit-Train-Check: many seeded random splits, a checker per fold."""

from __future__ import annotations

from .engine import MultiSplit, assign_folds

__all__ = ["MultiSplit", "assign_folds"]
