"""The label-history model: a sticky HMM over each row's label across iterations."""

from __future__ import annotations

from .hmm import ChainPosterior, sticky_forward, sticky_smooth
from .model import LabelHistoryModel

__all__ = ["ChainPosterior", "LabelHistoryModel", "sticky_forward", "sticky_smooth"]
