"""In-memory prediction store: scipy.sparse top-k matrices, the default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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

    Its predictions go into a checkpoint as plain arrays and come back unchanged:

    >>> meta, arrays = store.state()
    >>> sorted(arrays)
    ['i0.b0.indices', 'i0.b0.indptr', 'i0.b0.residual', 'i0.b0.values']
    >>> again = MemoryStore(n_rows=2, n_classes=3, top_k=2)
    >>> again.restore(meta, arrays)
    >>> [p.residual.round(2).tolist() for p in again.branches(0)]
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

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Everything this store holds, as JSON metadata and plain numpy arrays.

        Per (iteration, branch) the CSR parts of its top-k predictions, exactly as
        stored: ``i{T}.b{B}.indptr`` and ``.indices`` (in the smallest integer dtypes
        that hold them), ``.values`` (the stored probabilities, their dtype kept) and
        ``.residual`` (float64). :meth:`restore` reads them back.

        Returns
        -------
        meta : dict
            ``n_rows``, ``n_classes``, ``top_k`` and ``keys`` (the [iteration, branch]
            pairs held).
        arrays : dict of str to ndarray

        Raises
        ------
        ValueError
            If a branch does not yet cover every row (a checkpoint is taken between
            iterations, when every branch is complete).
        """
        from ..checkpoint import code_dtype

        keys = sorted(self._parts)
        arrays: dict[str, np.ndarray] = {}
        for key in keys:
            pred = self._assemble(key)
            csr = pred.probs
            prefix = f"i{key[0]}.b{key[1]}."
            arrays[prefix + "indptr"] = csr.indptr.astype(code_dtype(csr.nnz + 1))
            arrays[prefix + "indices"] = csr.indices.astype(code_dtype(self.n_classes))
            arrays[prefix + "values"] = np.asarray(csr.data)
            arrays[prefix + "residual"] = np.asarray(pred.residual, dtype=np.float64)
        meta = {
            "n_rows": int(self.n_rows),
            "n_classes": int(self.n_classes),
            "top_k": int(self.top_k),
            "keys": [[int(t), int(b)] for t, b in keys],
        }
        return meta, arrays

    def restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Hold again the predictions of :meth:`state`, after checking every array.

        Parameters
        ----------
        meta : dict
        arrays : dict of str to ndarray

        Raises
        ------
        InvalidInputError
            If they were made for another shape, or an array is missing, of another
            dtype or shape, or holds class indices outside 0..K-1 or probabilities
            outside [0, 1].
        """
        n, k = self.n_rows, self.n_classes
        if meta.get("n_rows") != n or meta.get("n_classes") != k:
            raise InvalidInputError(
                f"the stored predictions are of {meta.get('n_rows')!r} rows and "
                f"{meta.get('n_classes')!r} classes; this store holds {n} and {k}"
            )
        keys = meta.get("keys")
        if not isinstance(keys, list) or not all(
            isinstance(key, list) and len(key) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in key)
            for key in keys
        ):
            raise InvalidInputError(
                "the stored predictions' keys are not [iteration, branch] pairs"
            )
        pairs = [(int(t), int(b)) for t, b in keys]
        if len(set(pairs)) != len(pairs):
            raise InvalidInputError("the stored predictions list a branch twice")
        parts = ("indptr", "indices", "values", "residual")
        wanted = {f"i{t}.b{b}.{part}" for t, b in pairs for part in parts}
        extra = sorted(set(arrays) - wanted)
        if extra:
            raise InvalidInputError(f"unexpected stored array {extra[0]!r}")
        restored: dict[tuple[int, int], SparsePredictions] = {}
        for t, b in pairs:
            restored[(t, b)] = _checked_predictions(arrays, f"i{t}.b{b}.", n, k)
        self._parts = {key: [] for key in restored}
        self._done = restored


def _checked_predictions(
    arrays: dict[str, np.ndarray], prefix: str, n: int, k: int
) -> SparsePredictions:
    """One branch's CSR arrays (``prefix`` + indptr/indices/values/residual), checked."""

    def get(part: str, kinds: str) -> np.ndarray:
        name = prefix + part
        if name not in arrays:
            raise InvalidInputError(f"stored array {name!r} is missing")
        value = np.asarray(arrays[name])
        if value.dtype.kind not in kinds or value.ndim != 1:
            raise InvalidInputError(
                f"stored array {name!r} has dtype {value.dtype} and shape {value.shape}; a "
                f"1-D array of {'integers' if kinds == 'iu' else 'floats'} expected"
            )
        return value

    indptr, indices = get("indptr", "iu"), get("indices", "iu")
    values, residual = get("values", "f"), get("residual", "f")
    if len(indptr) != n + 1 or len(residual) != n:
        raise InvalidInputError(
            f"stored arrays {prefix}indptr / {prefix}residual cover {len(indptr) - 1} / "
            f"{len(residual)} rows; {n} expected"
        )
    counts = np.diff(indptr.astype(np.int64))
    if (
        int(indptr[0]) != 0 or np.any(counts < 0) or np.any(counts > k)
        or int(indptr[-1]) != len(indices) or len(values) != len(indices)
    ):
        raise InvalidInputError(f"stored array {prefix}indptr does not index its rows' entries")
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= k):
        raise InvalidInputError(f"stored array {prefix}indices holds classes outside 0..{k - 1}")
    for name, value in (("values", values), ("residual", residual)):
        if not np.all(np.isfinite(value)) or (value.size and (value.min() < 0 or value.max() > 1)):
            raise InvalidInputError(
                f"stored array {prefix}{name} holds probabilities outside [0, 1]"
            )
    mat = sp.csr_matrix(
        (values, indices.astype(np.int32), indptr.astype(np.int64)), shape=(n, k)
    )
    return SparsePredictions(mat, residual.astype(np.float64))
