"""The prediction-store interface and the sparse top-k representation.

One checker's out-of-sample predictions over N rows and K classes are kept as the
``top_k`` largest probabilities of each row plus the residual mass of the other
``K - top_k`` classes, which the vote spreads evenly over them. Rows still sum to 1,
and memory grows as N * top_k instead of N * K.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

__all__ = ["PredictionStore", "ResumableStore", "SparsePredictions", "sparsify_topk"]


@dataclass(frozen=True)
class SparsePredictions:
    """Top-k soft predictions of one checker (one branch) over all N rows.

    Attributes
    ----------
    probs : scipy.sparse.csr_matrix of shape (N, K)
        The kept probabilities; at most ``top_k`` stored entries per row.
    residual : ndarray of shape (N,)
        Probability mass of the classes not stored in each row.
    """

    probs: sp.csr_matrix
    residual: np.ndarray

    @classmethod
    def from_dense(cls, probs: np.ndarray, top_k: int) -> SparsePredictions:
        """Keep the ``top_k`` largest probabilities of each row of ``probs`` (n, K).

        Examples
        --------
        >>> p = SparsePredictions.from_dense(np.array([[0.1, 0.6, 0.3]]), 2)
        >>> p.probs.toarray().astype(float).round(2).tolist(), p.residual.round(2).tolist()
        ([[0.0, 0.6, 0.3]], [0.1])
        """
        idx, vals, residual = sparsify_topk(np.asarray(probs, dtype=np.float64), top_k)
        n, k = idx.shape[0], idx.shape[1]
        matrix = sp.csr_matrix(
            (vals.ravel(), idx.ravel(), np.arange(0, n * k + 1, k)), shape=probs.shape
        )
        return cls(matrix, residual)

    @property
    def shape(self) -> tuple[int, int]:
        """(N, K)."""
        return self.probs.shape  # type: ignore[no-any-return]

    def log_dense(
        self, rows: slice | np.ndarray, *, floor: float = 1e-6, prior: np.ndarray | None = None
    ) -> np.ndarray:
        """Dense log-probabilities for ``rows``, the residual spread over unstored classes.

        Parameters
        ----------
        rows : slice or ndarray
            Rows to expand.
        floor : float, default=1e-6
            Smallest probability; a checker is never allowed to rule a class out.
        prior : ndarray of shape (K,), optional
            Spread the residual in proportion to ``prior`` (the class frequencies the
            checker was trained on), the residual floored at ``floor`` per unstored
            class and stored values at ``floor``: the form the Bayesian vote uses
            (:mod:`pico.vote.candidates`). Default: evenly, every class floored.

        Returns
        -------
        ndarray of shape (n_rows, K)
            Rows sum to 1 (after the floor).
        """
        block = self.probs[rows]
        k = block.shape[1]
        counts = np.diff(block.indptr)
        row_of = np.repeat(np.arange(block.shape[0]), counts)
        if prior is None:
            spread = self.residual[rows] / np.maximum(k - counts, 1)
            dense = np.repeat(spread[:, None], k, axis=1)
            dense[row_of, block.indices] = block.data
            np.maximum(dense, floor, out=dense)
        else:
            prior = np.asarray(prior, dtype=np.float64)
            unstored_mass = 1.0 - np.bincount(
                row_of, weights=prior[block.indices], minlength=block.shape[0]
            )
            residual = np.maximum(self.residual[rows], floor * (k - counts))
            dense = (residual / np.maximum(unstored_mass, 1e-300))[:, None] * prior[None, :]
            dense[row_of, block.indices] = np.maximum(block.data, floor)
        dense /= dense.sum(axis=1, keepdims=True)
        out: np.ndarray = np.log(dense)
        return out


def sparsify_topk(probs: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the ``top_k`` largest entries of each row of a dense probability block.

    Parameters
    ----------
    probs : ndarray of shape (n, K)
        Rows of probabilities.
    top_k : int
        Entries kept per row (all K when ``top_k >= K``).

    Returns
    -------
    indices : ndarray of shape (n, k)
        Column indices kept, ``k = min(top_k, K)``.
    values : ndarray of shape (n, k)
        Their probabilities (float32).
    residual : ndarray of shape (n,)
        ``1 - values.sum(axis=1)``, clipped at 0.

    Examples
    --------
    >>> idx, val, res = sparsify_topk(np.array([[0.1, 0.6, 0.3]]), 2)
    >>> idx.tolist(), val.astype(float).round(2).tolist(), res.round(2).tolist()
    ([[1, 2]], [[0.6, 0.3]], [0.1])
    """
    n, k_all = probs.shape
    k = min(int(top_k), k_all)
    if k == k_all:
        idx = np.broadcast_to(np.arange(k_all), (n, k_all)).copy()
    else:
        idx = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(probs, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1).astype(np.float32)
    residual = np.clip(1.0 - vals.sum(axis=1, dtype=np.float64), 0.0, 1.0)
    return idx.astype(np.int32), vals, residual


class PredictionStore(Protocol):
    """Receives each checker's held-out predictions and serves them to the vote."""

    def add(
        self, iteration: int, branch: int, rows: np.ndarray, probs: np.ndarray
    ) -> None:
        """Record dense predictions ``probs`` (n, K) for ``rows`` of one branch."""

    def branches(self, iteration: int) -> Iterator[SparsePredictions]:
        """Yield one :class:`SparsePredictions` per branch of ``iteration``."""

    def n_branches(self, iteration: int) -> int:
        """Number of branches recorded for ``iteration``."""


class ResumableStore(PredictionStore, Protocol):
    """A prediction store that a checkpoint can save and a resumed run reopen.

    ``state()`` returns JSON-serialisable metadata and plain numpy arrays (no objects);
    ``restore(meta, arrays)`` on a new, empty store of the same shape holds the same
    predictions again, after checking them (:class:`~pico.exceptions.InvalidInputError`
    if they do not fit). :mod:`pico.checkpoint` writes them without pickle.
    """

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Metadata (JSON values) and arrays that :meth:`restore` reads back."""

    def restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Hold the predictions of a :meth:`state` again (checked first)."""
