"""In-memory prediction store: scipy.sparse top-k matrices, the default."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from ..exceptions import InvalidInputError
from .base import SparsePredictions, sparsify_topk

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keep each branch's predictions as a CSR top-k matrix plus residual mass.

    Parameters
    ----------
    n_rows : int
        N, the number of rows predicted.
    n_classes : int
        K, the number of classes.
    top_k : int, default=20
        Probabilities kept per row and branch.
    keep_iterations : int or None, default=None
        Keep only this many most recent iterations (None keeps all).

    Examples
    --------
    >>> store = MemoryStore(n_rows=2, n_classes=3, top_k=2)
    >>> store.add(0, 0, np.array([0, 1]), np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    >>> [p.residual.round(2).tolist() for p in store.branches(0)]
    [[0.1, 0.1]]
    """

    def __init__(
        self, n_rows: int, n_classes: int, *, top_k: int = 20, keep_iterations: int | None = None
    ) -> None:
        self.n_rows = n_rows
        self.n_classes = n_classes
        self.top_k = top_k
        self.keep_iterations = keep_iterations
        self._parts: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._done: dict[tuple[int, int], SparsePredictions] = {}

    def add(self, iteration: int, branch: int, rows: np.ndarray, probs: np.ndarray) -> None:
        """Record dense predictions ``probs`` (n, K) for ``rows`` of one branch."""
        idx, vals, res = sparsify_topk(np.asarray(probs, dtype=np.float64), self.top_k)
        self._parts.setdefault((iteration, branch), []).append((np.asarray(rows), idx, vals, res))
        self._done.pop((iteration, branch), None)
        self._forget_old(iteration)

    def _forget_old(self, iteration: int) -> None:
        if self.keep_iterations is not None:
            old = [key for key in self._parts if key[0] <= iteration - self.keep_iterations]
            for key in old:
                self._parts.pop(key, None)
                self._done.pop(key, None)

    def add_sparse(self, iteration: int, branch: int, pred: SparsePredictions) -> None:
        """Record a branch's predictions of every row, already kept sparse (top-k rows)."""
        if pred.probs.shape != (self.n_rows, self.n_classes):
            raise InvalidInputError(
                f"predictions of shape {pred.probs.shape}; this store holds "
                f"({self.n_rows}, {self.n_classes})"
            )
        self._parts[(iteration, branch)] = []
        self._done[(iteration, branch)] = pred
        self._forget_old(iteration)

    def _assemble(self, key: tuple[int, int]) -> SparsePredictions:
        if key not in self._done:
            parts = self._parts[key]
            rows = np.concatenate([p[0] for p in parts])
            idx = np.concatenate([p[1] for p in parts])
            vals = np.concatenate([p[2] for p in parts])
            res = np.concatenate([p[3] for p in parts])
            order = np.argsort(rows, kind="stable")
            rows, idx, vals, res = rows[order], idx[order], vals[order], res[order]
            if len(rows) != self.n_rows or np.any(rows != np.arange(self.n_rows)):
                raise ValueError(
                    f"branch {key[1]} of iteration {key[0]} covers {len(np.unique(rows))} of "
                    f"{self.n_rows} rows; every row must be predicted exactly once per branch"
                )
            k = idx.shape[1]
            indptr = np.arange(0, self.n_rows * k + 1, k)
            mat = sp.csr_matrix(
                (vals.ravel(), idx.ravel(), indptr), shape=(self.n_rows, self.n_classes)
            )
            self._done[key] = SparsePredictions(mat, res.astype(np.float64))
        return self._done[key]

    def branches(self, iteration: int) -> Iterator[SparsePredictions]:
        """Yield one :class:`SparsePredictions` per branch of ``iteration``."""
        for key in sorted(k for k in self._parts if k[0] == iteration):
            yield self._assemble(key)

    def n_branches(self, iteration: int) -> int:
        """Number of branches recorded for ``iteration``."""
        return sum(1 for k in self._parts if k[0] == iteration)

    @property
    def nbytes(self) -> int:
        """Memory held by the stored predictions, in bytes."""
        return int(sum(
            sum(p[0].nbytes + p[1].nbytes + p[2].nbytes + p[3].nbytes for p in parts)
            for parts in self._parts.values()
        )) + int(sum(
            pred.probs.data.nbytes + pred.probs.indices.nbytes + pred.residual.nbytes
            for key, pred in self._done.items()
            if not self._parts.get(key)  # recorded sparse: nothing else holds it
        ))
