"""Predictions made elsewhere: ``pred_probs`` matrices checked and put in the vote's form.

A ``pred_probs`` matrix holds, for each of N rows, a checker's out-of-fold (held-out)
probability of each of K classes: dense (a numpy array, a pandas DataFrame whose
columns are the classes) or scipy sparse, keeping a few classes per row (top-k), the
missing mass of each row being spread over the other classes as the prediction store
does (:class:`~pico.store.SparsePredictions`). Several matrices are several checkers;
a list of such lists is several iterations, for the label-history model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .exceptions import InvalidInputError
from .store.base import SparsePredictions

__all__ = ["PRED_PROBS_FORMATS", "as_predictions", "read_pred_probs"]

#: File extensions :func:`read_pred_probs` reads.
PRED_PROBS_FORMATS = (".npy", ".npz", ".parquet")

#: How far a row's probabilities may sum above 1 (rounding of the writer).
_SUM_TOLERANCE = 1e-3


def _is_matrix(value: Any) -> bool:
    if sp.issparse(value):
        return True
    if hasattr(value, "columns") and hasattr(value, "to_numpy"):  # a pandas DataFrame
        return True
    return isinstance(value, np.ndarray) and value.ndim in (2, 3)


def _nested(pred_probs: Any) -> list[list[Any]]:
    """``pred_probs`` as iterations of checkers' matrices."""

    def checkers(value: Any, where: str) -> list[Any]:
        if isinstance(value, np.ndarray) and value.ndim == 3:
            return list(value)
        if _is_matrix(value):
            return [value]
        if isinstance(value, (list, tuple)) and value and all(_is_matrix(v) for v in value):
            return [m for v in value for m in checkers(v, where)]
        raise InvalidInputError(
            f"pred_probs{where} must be an (N, K) matrix (numpy, scipy sparse or a pandas "
            f"DataFrame) or a list of them; got {type(value).__name__}"
        )

    if isinstance(pred_probs, (list, tuple)) and pred_probs and all(
        isinstance(v, (list, tuple)) for v in pred_probs
    ):
        return [checkers(v, f"[{t}]") for t, v in enumerate(pred_probs)]
    if isinstance(pred_probs, (list, tuple)) and not pred_probs:
        raise InvalidInputError("pred_probs is an empty list; pass at least one (N, K) matrix")
    return [checkers(pred_probs, "")]


def _column_classes(
    matrix: Any, label_classes: np.ndarray, classes: Sequence[Any] | None
) -> list[Any]:
    """The class of each column of ``matrix``."""
    width = matrix.shape[1]
    if classes is None and hasattr(matrix, "columns"):
        classes = list(matrix.columns)
    if classes is not None:
        classes = list(classes)
        if len(classes) != width:
            raise InvalidInputError(
                f"classes names {len(classes)} classes but pred_probs has {width} columns; "
                "pass the class of every column, in order"
            )
        if len(set(classes)) != len(classes):
            raise InvalidInputError("classes lists a class twice; each column needs its own")
        return classes
    known = label_classes.tolist()
    if width == len(known):
        return list(known)
    integers = all(
        isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in known
    )
    if integers and known and min(known) >= 0 and max(known) < width:
        return list(range(width))  # integer labels index the columns (cleanlab's convention)
    shown = ", ".join(repr(c) for c in known[:5]) + (" ..." if len(known) > 5 else "")
    raise InvalidInputError(
        f"pred_probs has {width} columns but the labels hold {len(known)} classes "
        f"({shown}); pass classes=[...] with the class of each column"
    )


def _to_sparse(matrix: Any, columns: np.ndarray, rows: np.ndarray, top_k: int,
               where: str) -> SparsePredictions:
    """One checker's predictions of ``rows``, columns reordered to ``columns``."""
    if hasattr(matrix, "columns") and hasattr(matrix, "to_numpy"):
        matrix = matrix.to_numpy(dtype=np.float64)
    if sp.issparse(matrix):
        csr = sp.csr_matrix(matrix)[rows][:, columns].tocsr()
        values = np.asarray(csr.data, dtype=np.float32)
        _check_values(values, where)
        csr = sp.csr_matrix((values, csr.indices, csr.indptr), shape=csr.shape)
        row_of = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        total = np.bincount(row_of, weights=values.astype(np.float64), minlength=csr.shape[0])
        _check_sums(total, where, dense=False)
        return SparsePredictions(csr, np.clip(1.0 - total, 0.0, 1.0))
    dense = np.asarray(matrix, dtype=np.float64)[rows]
    _check_values(dense, where)
    _check_sums(dense.sum(axis=1), where, dense=True)
    return SparsePredictions.from_dense(dense[:, columns], top_k)


def _check_values(values: np.ndarray, where: str) -> None:
    if values.size and (
        not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1 + _SUM_TOLERANCE
    ):
        raise InvalidInputError(
            f"pred_probs{where} holds values outside [0, 1] (or NaN): it must hold "
            "probabilities, e.g. predict_proba's output"
        )


def _check_sums(sums: np.ndarray, where: str, *, dense: bool) -> None:
    high = sums > 1 + _SUM_TOLERANCE
    low = dense & (sums < 1 - _SUM_TOLERANCE)
    bad = np.flatnonzero(high | low)
    if len(bad):
        i = int(bad[0])
        need = "sum to 1" if dense else "sum to at most 1"
        raise InvalidInputError(
            f"the rows of pred_probs{where} must {need} (probabilities of every class); "
            f"{len(bad)} rows do not, e.g. row {i} sums to {sums[i]:.4f}"
        )


def as_predictions(
    pred_probs: Any,
    labels: np.ndarray,
    label_classes: np.ndarray,
    *,
    classes: Sequence[Any] | None = None,
    rows: np.ndarray | None = None,
    top_k: int = 20,
) -> list[list[SparsePredictions]]:
    """Check ``pred_probs`` and put them in the vote's form.

    Parameters
    ----------
    pred_probs : matrix, list of matrices, or list of lists of matrices
        (N, K) out-of-fold probabilities, dense (numpy, pandas DataFrame) or scipy
        sparse (the kept classes of each row; the rest of the row's mass is spread
        over the other classes). A list: one matrix per checker; a list of lists:
        one list per iteration, for the label-history model. A 3-D array (M, N, K)
        is M checkers.
    labels : ndarray of shape (N,)
        The given labels of every row (to check the row count).
    label_classes : ndarray of shape (K',)
        The distinct labels of the labeled rows, sorted: the vote's classes.
    classes : sequence, optional
        The class of each column, in order. Default: a DataFrame's column names, else
        the sorted distinct labels (cleanlab's convention; integer labels 0..K-1 index
        the columns even when some class has no row). A column whose class no row
        carries adds its mass to the row's rest.
    rows : ndarray, optional
        The rows to keep (the labeled ones). Default: all.
    top_k : int, default=20
        Classes kept per row of a dense matrix (a sparse one is kept as it is).

    Returns
    -------
    list of list of SparsePredictions
        Per iteration, per checker, (len(rows), K') with columns in ``label_classes``
        order.

    Examples
    --------
    >>> P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> y = np.array(["a", "b", "a"])
    >>> [[p.shape for p in block] for block in as_predictions(P, y, np.unique(y))]
    [[(3, 2)]]
    """
    n = len(labels)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    index = {c: j for j, c in enumerate(label_classes.tolist())}
    out = []
    for t, block in enumerate(_nested(pred_probs)):
        preds = []
        for b, matrix in enumerate(block):
            where = f" (iteration {t + 1}, checker {b + 1})"
            if matrix.ndim != 2 or matrix.shape[0] != n:
                raise InvalidInputError(
                    f"pred_probs{where} has shape {tuple(matrix.shape)}; it needs one row per "
                    f"label ({n}) and one column per class"
                )
            names = _column_classes(matrix, label_classes, classes)
            if any(c not in set(names) for c in index) and {str(c) for c in index} <= {
                str(c) for c in names
            }:  # classes read from a file's column names, labels of another type
                by_name = {str(c): c for c in index}
                names = [by_name.get(str(c), c) for c in names]
            missing = [c for c in index if c not in set(names)]
            if missing:
                shown = ", ".join(repr(c) for c in missing[:5])
                raise InvalidInputError(
                    f"the labels {shown} have no column in pred_probs{where}; its columns are "
                    f"{', '.join(repr(c) for c in names[:10])}{' ...' if len(names) > 10 else ''}"
                )
            position = {c: j for j, c in enumerate(names)}
            columns = np.array([position[c] for c in label_classes.tolist()], dtype=np.int64)
            preds.append(_to_sparse(matrix, columns, rows, top_k, where))
        out.append(preds)
    return out


def read_pred_probs(path: str | Path) -> tuple[list[Any], list[Any] | None]:
    """Read ``pred_probs`` from a file: the matrices and the class of each column.

    ``.npy``: an (N, K) array (or (M, N, K): M checkers). ``.npz``: a scipy sparse
    matrix written by ``scipy.sparse.save_npz``, or arrays written by ``numpy.savez``:
    each an (N, K) matrix of one checker, except ``classes`` (the class of each
    column). ``.parquet``: one column per class, named by the class. Nothing is
    unpickled.

    Returns
    -------
    matrices : list
        One per checker.
    classes : list or None
        The class of each column, where the file says.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        return (list(array) if array.ndim == 3 else [array]), None
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            if {"format", "shape", "data", "indices", "indptr"} <= set(keys):
                return [sp.load_npz(path)], None
            classes = archive["classes"].tolist() if "classes" in keys else None
            return [archive[k] for k in keys if k != "classes"], classes
    if suffix == ".parquet":
        import pandas as pd

        frame = pd.read_parquet(path)
        return [frame], [str(c) for c in frame.columns]
    raise InvalidInputError(
        f"cannot read pred_probs from {path.name}: the extension must be one of "
        f"{', '.join(PRED_PROBS_FORMATS)}"
    )
