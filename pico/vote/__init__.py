"""Combining the checkers' soft predictions and the given labels into a posterior."""

from __future__ import annotations

from .baselines import majority_vote, mean_probability_vote
from .bayes import BayesianVote, bayes_posterior, checker_evidence
from .noise import NoiseMatrix

__all__ = [
    "BayesianVote",
    "NoiseMatrix",
    "bayes_posterior",
    "checker_evidence",
    "majority_vote",
    "mean_probability_vote",
]
