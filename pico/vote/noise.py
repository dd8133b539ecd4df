"""The noise matrix, kept in a size that grows with what the data shows, not with K^2.

``T[c, l]`` is the probability that a row whose true class is c was given label l. A
:class:`NoiseMatrix` holds:

- the diagonal ``T[c, c]``, each class's label reliability;
- the off-diagonal cells the data reaches, on their own: a cell (c, l) is *observed*
  when c is a candidate class (:mod:`pico.vote.candidates`) of some row given label l;
- one shared value per row, ``floor[c]``, for every other off-diagonal cell of row c,

so every row still sums to 1 and memory is O(K + observed cells).

This is what the EM's M-step produces. With a Dirichlet prior spread evenly over a
row's off-diagonal cells (:func:`noise_from_counts`), a cell's new value is
``(counts[c, l] + s / (K - 1)) * scale[c]``; a cell no row's candidates reach gets its
expected count only from the rows' lumped "rest" column, in proportion to
``P(c) T[c, l]``. :func:`noise_step` ties those cells of a row to one value (their
mean count): the exact M-step of the matrix restricted to this form (a constrained
EM, so the likelihood still rises at every step). Up to ``dense_classes`` classes it
keeps every cell on its own instead, and then it is the dense M-step, number for
number (:func:`noise_from_counts`), only stored in this form.

Every function here costs O(K + observed cells).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError

__all__ = ["NoiseMatrix", "noise_from_counts", "noise_step"]


@dataclass(frozen=True)
class NoiseMatrix:
    """A K x K row-stochastic matrix: diagonal, observed off-diagonal cells, row floors.

    Attributes
    ----------
    diagonal : ndarray of shape (K,)
        ``T[c, c]``.
    keys : ndarray of shape (P,), int64
        Off-diagonal cells held on their own, as ``c * K + l``, ascending.
    values : ndarray of shape (P,)
        Their values.
    floor : ndarray of shape (K,)
        The value of every other off-diagonal cell of row c.

    Examples
    --------
    >>> T = NoiseMatrix.uniform(3, reliability=0.8)
    >>> T.toarray().round(2).tolist()
    [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    >>> T = NoiseMatrix(np.array([0.8, 0.9, 1.0]), np.array([1]), np.array([0.15]),
    ...                 np.array([0.05, 0.05, 0.0]))
    >>> T.at(np.array([0, 0, 1]), np.array([1, 2, 0])).tolist()
    [0.15, 0.05, 0.05]
    >>> T.row_sums().round(6).tolist()
    [1.0, 1.0, 1.0]
    """

    diagonal: np.ndarray
    keys: np.ndarray
    values: np.ndarray
    floor: np.ndarray

    @classmethod
    def uniform(cls, n_classes: int, *, reliability: float = 0.9) -> NoiseMatrix:
        """``reliability`` on the diagonal, the rest of each row spread evenly."""
        k = int(n_classes)
        return cls(
            np.full(k, float(reliability)),
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.full(k, (1.0 - reliability) / max(k - 1, 1)),
        )

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> NoiseMatrix:
        """Every off-diagonal cell of a dense (K, K) matrix on its own (exact)."""
        dense = np.asarray(dense, dtype=np.float64)
        k = dense.shape[0]
        if dense.shape != (k, k):
            raise InvalidInputError(f"a noise matrix must be square (K, K); got {dense.shape}")
        keys = np.arange(k * k, dtype=np.int64)
        keys = keys[keys // k != keys % k]
        return cls(np.diag(dense).copy(), keys, dense.ravel()[keys], np.zeros(k))

    @property
    def n_classes(self) -> int:
        """K."""
        return len(self.diagonal)

    @property
    def shape(self) -> tuple[int, int]:
        """(K, K)."""
        return (self.n_classes, self.n_classes)

    @property
    def full(self) -> bool:
        """True when every off-diagonal cell is held on its own (no shared floor in use)."""
        k = self.n_classes
        return len(self.keys) == k * (k - 1)

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes."""
        return int(self.diagonal.nbytes + self.keys.nbytes + self.values.nbytes + self.floor.nbytes)

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``T[rows, cols]``, elementwise (broadcast), as float64."""
        rows, cols = np.broadcast_arrays(
            np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        )
        return self.at_keys(rows * np.int64(self.n_classes) + cols)

    def at_keys(self, keys: np.ndarray) -> np.ndarray:
        """``T`` at cells ``c * K + l`` (any shape), read-only.

        The EM asks for the same cells (its rows' candidate cells) several times per
        step: the last answer is kept for the same ``keys`` array.
        """
        memo = self.__dict__.get("_memo")
        if memo is not None and memo[0] is keys:
            return memo[1]  # type: ignore[no-any-return]
        out = self._lookup(np.asarray(keys, dtype=np.int64))
        self._remember(keys, out)
        return out

    def _remember(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Keep ``values``, this matrix at ``keys``, for the next :meth:`at_keys` of them."""
        values.flags.writeable = False
        object.__setattr__(self, "_memo", (keys, values))

    def __getstate__(self) -> dict[str, Any]:
        return {
            key: value for key, value in self.__dict__.items()
            if key not in ("_memo", "_mass_memo")
        }

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        k = np.int64(self.n_classes)
        rows, cols = keys // k, keys % k
        out = np.where(rows == cols, self.diagonal[rows], self.floor[rows])
        if len(self.keys):
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            held = self.keys[pos] == keys
            out[held] = self.values[pos[held]]
        return out

    def dot(self, vector: np.ndarray) -> np.ndarray:
        """``T @ vector``, shape (K,)."""
        v = np.asarray(vector, dtype=np.float64)
        k = self.n_classes
        if self.full:
            return self.toarray() @ v
        rows, cols = self.keys // k, self.keys % k
        out = self.floor * (v.sum() - v) + self.diagonal * v
        out += np.bincount(rows, weights=(self.values - self.floor[rows]) * v[cols], minlength=k)
        return out  # type: ignore[no-any-return]

    def column_mass(self, prior: np.ndarray) -> np.ndarray:
        """``sum_c prior[c] T[c, l]`` for every l (``prior @ T``), shape (K,), read-only
        (the last answer is kept for the same ``prior`` array)."""
        memo = self.__dict__.get("_mass_memo")
        if memo is not None and memo[0] is prior:
            return memo[1]  # type: ignore[no-any-return]
        out = self._column_mass(np.asarray(prior, dtype=np.float64))
        out.flags.writeable = False
        object.__setattr__(self, "_mass_memo", (prior, out))
        return out

    def _column_mass(self, p: np.ndarray) -> np.ndarray:
        k = self.n_classes
        if self.full:
            return p @ self.toarray()  # type: ignore[no-any-return]
        rows, cols = self.keys // k, self.keys % k
        spread = p * self.floor
        out = spread.sum() - spread + p * self.diagonal
        out += np.bincount(cols, weights=p[rows] * (self.values - self.floor[rows]), minlength=k)
        return out  # type: ignore[no-any-return]

    def row_sums(self) -> np.ndarray:
        """Each row's sum, shape (K,) (1 up to rounding)."""
        return self.dot(np.ones(self.n_classes))

    def toarray(self) -> np.ndarray:
        """The dense (K, K) matrix (K * K floats)."""
        k = self.n_classes
        dense = np.repeat(self.floor[:, None], k, axis=1)
        dense.ravel()[self.keys] = self.values
        dense[np.diag_indices(k)] = self.diagonal
        return dense

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = self.toarray()
        return dense if dtype is None else dense.astype(dtype)

    def off_diagonal(self, min_value: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Off-diagonal cells with value >= ``min_value``, row-major: rows, cols, values.

        Cells on the shared floor are listed too where a row's floor reaches
        ``min_value`` (then every such cell of that row is).
        """
        k = self.n_classes
        keep = self.values >= min_value
        keys, values = self.keys[keep], self.values[keep]
        wide = np.flatnonzero(self.floor >= min_value) if min_value > 0 else np.arange(k)
        if len(wide) and not self.full:
            cand = (wide[:, None] * np.int64(k) + np.arange(k)).ravel()
            cand = cand[cand // k != cand % k]
            cand = cand[~np.isin(cand, self.keys)]
            keys = np.concatenate([keys, cand])
            values = np.concatenate([values, self.floor[cand // k]])
            order = np.argsort(keys, kind="stable")
            keys, values = keys[order], values[order]
        return keys // k, keys % k, values


def noise_from_counts(
    counts: np.ndarray, *, diag_strength: float = 2.0, off_strength: float = 20.0
) -> np.ndarray:
    """The M-step from expected (true, given) counts (K, K), dense.

    ``T[c, c] = rho_c = (counts[c, c] + diag_strength) / (n_c + diag_strength + 1)``
    (``n_c`` the row's total) and ``T[c, l] = (1 - rho_c) Q[c, l]`` off the diagonal,
    the confusion profile ``Q`` getting ``off_strength`` pseudo-counts spread evenly.

    Examples
    --------
    >>> noise_from_counts(np.array([[8.0, 2.0], [0.0, 10.0]])).round(3).tolist()
    [[0.769, 0.231], [0.077, 0.923]]
    """
    k = counts.shape[0]
    diag = np.diag(counts).copy()
    rows = counts.sum(axis=1)
    rho = (diag + diag_strength) / (rows + diag_strength + 1.0)
    off = counts.copy()
    off[np.diag_indices(k)] = 0.0
    off += off_strength / max(k - 1, 1)
    off[np.diag_indices(k)] = 0.0
    noise = off / off.sum(axis=1, keepdims=True) * (1.0 - rho)[:, None]
    noise[np.diag_indices(k)] = rho
    out: np.ndarray = noise
    return out


def noise_step(
    keys: np.ndarray,
    direct: np.ndarray,
    taken: np.ndarray,
    per_label: np.ndarray,
    noise: NoiseMatrix,
    prior: np.ndarray,
    *,
    diag_strength: float = 2.0,
    off_strength: float = 20.0,
    dense_classes: int = 0,
) -> tuple[NoiseMatrix, np.ndarray]:
    """The M-step of the noise matrix from the E-step's sums over the rows.

    The expected count of cell (c, l) is ``direct + P(c) T[c, l] * max(per_label[l] -
    taken, 0)``: the rows' candidate posteriors, plus their rest columns spread in
    proportion to ``P(c) T[c, l]`` (:func:`~pico.vote.candidates.count_statistics`).

    Parameters
    ----------
    keys : ndarray of shape (P,)
        Observed cells ``c * K + l`` (candidate c of a row given label l), ascending.
    direct, taken : ndarray of shape (P,)
        Their sums (:func:`~pico.vote.candidates.count_statistics`).
    per_label : ndarray of shape (K,)
    noise : NoiseMatrix
        The matrix the sums were computed with.
    prior : ndarray of shape (K,)
        The class prior they were computed with.
    diag_strength, off_strength : float
        As in :func:`noise_from_counts`.
    dense_classes : int, default=0
        Up to this many classes every cell is fitted on its own (the dense M-step,
        O(K^2)); above, the unobserved cells of a row share one value.

    Returns
    -------
    noise : NoiseMatrix
    class_counts : ndarray of shape (K,)
        The expected rows of each true class (the counts' row sums).
    """
    k = len(prior)
    given_keys = keys
    keys = np.asarray(keys, dtype=np.int64)
    prior = np.asarray(prior, dtype=np.float64)
    if k <= dense_classes:
        flat_direct = np.zeros(k * k)
        flat_direct[keys] = direct
        flat_taken = np.zeros(k * k)
        flat_taken[keys] = taken
        spread = np.clip(per_label[None, :] - flat_taken.reshape(k, k), 0.0, None)
        counts = flat_direct.reshape(k, k) + prior[:, None] * noise.toarray() * spread
        dense = noise_from_counts(counts, diag_strength=diag_strength, off_strength=off_strength)
        out = NoiseMatrix.from_dense(dense)
        out._remember(given_keys, dense.ravel()[keys])
        return out, counts.sum(axis=1)
    rows, cols = keys // k, keys % k
    old = noise.at_keys(keys)
    counts = direct + prior[rows] * old * np.clip(per_label[cols] - taken, 0.0, None)
    on_diag = rows == cols
    # Diagonal cells no row reaches (a class no row is given) count their rest share.
    diag = prior * noise.diagonal * per_label
    diag[rows[on_diag]] = counts[on_diag]
    off_rows, off_keys, off_counts = rows[~on_diag], keys[~on_diag], counts[~on_diag]
    # Every off-diagonal cell's count summed per row: the observed ones, plus the rest's
    # share of the unobserved ones, P(c) sum_l T[c, l] per_label[l] over them.
    reached = np.bincount(
        off_rows, weights=old[~on_diag] * per_label[off_keys % k], minlength=k
    )
    unobserved = np.clip(noise.dot(per_label) - noise.diagonal * per_label - reached, 0.0, None)
    off_total = np.bincount(off_rows, weights=off_counts, minlength=k) + prior * unobserved
    total = diag + off_total
    rho = (diag + diag_strength) / (total + diag_strength + 1.0)
    even = off_strength / max(k - 1, 1)
    scale = (1.0 - rho) / np.maximum(off_total + even * (k - 1), 1e-300)
    tied = (k - 1) - np.bincount(off_rows, minlength=k)
    tied_mean = np.where(tied > 0, prior * unobserved / np.maximum(tied, 1), 0.0)
    values = (off_counts + even) * scale[off_rows]
    new = NoiseMatrix(rho, off_keys, values, (tied_mean + even) * scale)
    at_keys = np.empty(len(keys))
    at_keys[on_diag] = rho[rows[on_diag]]
    at_keys[~on_diag] = values
    new._remember(given_keys, at_keys)  # the E-step asks for these cells next
    return new, total
