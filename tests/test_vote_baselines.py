"""The simple MultiSplit votes used as baselines."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from pico.exceptions import InvalidInputError
from pico.store.base import SparsePredictions
from pico.vote import majority_vote, mean_probability_vote


def _pred(probs: np.ndarray) -> SparsePredictions:
    return SparsePredictions(sp.csr_matrix(probs), np.zeros(len(probs)))


def test_majority_needs_a_strict_majority() -> None:
    a = _pred(np.array([[0.1, 0.8, 0.1]]))
    b = _pred(np.array([[0.1, 0.1, 0.8]]))
    # one vote each for classes 1 and 2 (and none for the given 0): no majority
    assert majority_vote([a, b], np.array([0])).tolist() == [0]
    assert majority_vote([a, a, b], np.array([0])).tolist() == [1]


def test_mean_vote_threshold() -> None:
    p = _pred(np.array([[0.45, 0.55], [0.2, 0.8]]))
    assert mean_probability_vote([p], np.array([0, 0]), threshold=0.6).tolist() == [0, 1]
    assert mean_probability_vote([p], np.array([0, 0]), threshold=0.0).tolist() == [1, 1]


def test_empty_branches() -> None:
    with pytest.raises(InvalidInputError):
        majority_vote([], np.array([0]))
    with pytest.raises(InvalidInputError):
        mean_probability_vote([], np.array([0]))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 5))
def test_votes_ignore_branch_order(seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    branches = [_pred(rng.dirichlet(np.ones(4), size=20)) for _ in range(m)]
    labels = rng.integers(0, 4, size=20)
    for vote in (majority_vote, mean_probability_vote):
        assert np.array_equal(vote(branches, labels), vote(branches[::-1], labels))
