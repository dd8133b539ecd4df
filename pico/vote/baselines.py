"""Simple MultiSplit votes, the baselines PICO's Bayesian vote is measured against."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..exceptions import InvalidInputError
from ..store.base import SparsePredictions

__all__ = ["branch_argmaxes", "majority_vote", "mean_probability", "mean_probability_vote"]


def branch_argmaxes(branches: Iterable[SparsePredictions]) -> np.ndarray:
    """Most probable class of every row under each branch, shape (N, M).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> b = [SparsePredictions(sp.csr_matrix(np.array([[.9, .1], [.4, .6]])), np.zeros(2))]
    >>> branch_argmaxes(b).tolist()
    [[0], [1]]
    """
    tops = [np.exp(p.log_dense(slice(None))).argmax(axis=1) for p in branches]
    if not tops:
        raise InvalidInputError("the vote needs at least one branch of predictions; got none")
    return np.stack(tops, axis=1)


def mean_probability(branches: Iterable[SparsePredictions]) -> np.ndarray:
    """The branches' mean probability of every class, shape (N, K).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> def p(rows):
    ...     return SparsePredictions(sp.csr_matrix(np.array(rows)), np.zeros(len(rows)))
    >>> mean_probability([p([[.8, .2]]), p([[.4, .6]])]).round(2).tolist()
    [[0.6, 0.4]]
    """
    total: np.ndarray | None = None
    m = 0
    for p in branches:
        dense = np.exp(p.log_dense(slice(None)))
        total = dense if total is None else total + dense
        m += 1
    if total is None:
        raise InvalidInputError("the vote needs at least one branch of predictions; got none")
    return total / m


def majority_vote(branches: Iterable[SparsePredictions], labels: np.ndarray) -> np.ndarray:
    """Relabel a row when a strict majority of branches predicts one other class.

    Parameters
    ----------
    branches : iterable of SparsePredictions
        M out-of-sample prediction matrices of shape (N, K).
    labels : ndarray of shape (N,)
        Given labels coded 0..K-1.

    Returns
    -------
    ndarray of shape (N,)
        New labels.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> def p(rows):
    ...     return SparsePredictions(sp.csr_matrix(np.array(rows)), np.zeros(len(rows)))
    >>> b = [p([[.9, .1], [.4, .6]]), p([[.2, .8], [.3, .7]]), p([[.6, .4], [.1, .9]])]
    >>> majority_vote(b, np.array([1, 0])).tolist()
    [0, 1]
    """
    labels = np.asarray(labels, dtype=np.int64)
    votes = branch_argmaxes(branches)
    m = votes.shape[1]
    out = labels.copy()
    for i, row in enumerate(votes):
        values, counts = np.unique(row, return_counts=True)
        best = int(np.argmax(counts))
        if 2 * counts[best] > m:
            out[i] = values[best]
    return out


def mean_probability_vote(
    branches: Iterable[SparsePredictions], labels: np.ndarray, *, threshold: float = 0.5
) -> np.ndarray:
    """Relabel a row to the argmax of the branches' mean probabilities.

    The row moves when that class differs from the given label and its mean
    probability reaches ``threshold`` (0 moves every row whose argmax differs).

    Parameters
    ----------
    branches : iterable of SparsePredictions
    labels : ndarray of shape (N,)
    threshold : float, default=0.5

    Returns
    -------
    ndarray of shape (N,)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> b = [SparsePredictions(sp.csr_matrix(np.array([[.3, .7], [.6, .4]])), np.zeros(2))]
    >>> mean_probability_vote(b, np.array([0, 0])).tolist()
    [1, 0]
    """
    labels = np.asarray(labels, dtype=np.int64)
    mean = mean_probability(branches)
    best = mean.argmax(axis=1)
    confident = mean[np.arange(len(labels)), best] >= threshold
    return np.where(confident, best, labels)
