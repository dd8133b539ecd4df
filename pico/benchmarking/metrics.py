"""Correction-quality metrics against known clean labels.

Every function takes integer label codes: ``clean`` (the truth), ``given`` (the noisy
labels a cleaner received) and ``new`` (the labels it returned).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score

from ..exceptions import InvalidInputError

__all__ = [
    "calibration_bins",
    "correction_metrics",
    "expected_calibration_error",
    "ranking_average_precision",
]


def _codes(values: npt.ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


def correction_metrics(
    clean: npt.ArrayLike, given: npt.ArrayLike, new: npt.ArrayLike
) -> dict[str, Any]:
    """What a cleaner's changes did, row by row, against the clean labels.

    Parameters
    ----------
    clean, given, new : array-like of shape (N,)
        True labels, labels the cleaner received, labels it returned.

    Returns
    -------
    dict
        ``rows``; ``accuracy_before`` and ``accuracy_after`` (fraction of rows whose
        label is the clean one); ``changed`` (rows with ``new != given``);
        ``precision`` (fraction of changed rows now right; None when nothing
        changed); ``recall`` (fraction of wrong given labels now right; None when no
        label was wrong); ``f1``; ``damage`` (right labels made wrong); ``fixed``
        (wrong labels made right); ``wrong_to_wrong`` (wrong labels changed to another
        wrong label).

    Examples
    --------
    >>> m = correction_metrics([0, 0, 1, 1], [0, 1, 1, 1], [0, 0, 0, 1])
    >>> m["accuracy_before"], m["accuracy_after"], m["changed"], m["damage"], m["fixed"]
    (0.75, 0.75, 2, 1, 1)
    >>> m["precision"], m["recall"], m["f1"]
    (0.5, 1.0, 0.6666666666666666)
    """
    clean_a, given_a, new_a = (
        _codes(clean, "clean"),
        _codes(given, "given"),
        _codes(new, "new"),
    )
    if not (len(clean_a) == len(given_a) == len(new_a)):
        raise InvalidInputError(
            f"clean, given and new must have the same length; got {len(clean_a)}, "
            f"{len(given_a)} and {len(new_a)}"
        )
    changed = new_a != given_a
    right_before = given_a == clean_a
    right_after = new_a == clean_a
    n_changed = int(changed.sum())
    n_wrong = int((~right_before).sum())
    fixed = int((~right_before & right_after).sum())
    precision = float(right_after[changed].mean()) if n_changed else None
    recall = fixed / n_wrong if n_wrong else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall > 0
        else None
    )
    n = len(clean_a)
    return {
        "rows": n,
        "accuracy_before": float(right_before.mean()) if n else 1.0,
        "accuracy_after": float(right_after.mean()) if n else 1.0,
        "changed": n_changed,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "damage": int((right_before & ~right_after).sum()),
        "fixed": fixed,
        "wrong_to_wrong": int((changed & ~right_before & ~right_after).sum()),
    }


def ranking_average_precision(is_error: npt.ArrayLike, confidence: npt.ArrayLike) -> float | None:
    """Average precision of finding wrong labels by sorting rows on rising confidence.

    Parameters
    ----------
    is_error : array-like of bool, shape (N,)
        True where the label being scored is wrong.
    confidence : array-like of float, shape (N,)
        The cleaner's confidence in that label; low confidence should mean wrong.

    Returns
    -------
    float or None
        Area under the precision-recall curve of the ranking (1.0 is perfect, the
        error rate is what a random order gets); None when no label is wrong.

    Examples
    --------
    >>> ranking_average_precision([False, True, False], [0.9, 0.2, 0.8])
    1.0
    """
    err = np.asarray(is_error, dtype=bool)
    conf = np.asarray(confidence, dtype=np.float64)
    if err.shape != conf.shape:
        raise InvalidInputError(
            f"is_error and confidence must have the same shape; got {err.shape} and {conf.shape}"
        )
    if not err.any():
        return None
    return float(average_precision_score(err, -conf))


def calibration_bins(
    correct: npt.ArrayLike, confidence: npt.ArrayLike, *, n_bins: int = 10
) -> dict[str, Any]:
    """Reliability table: how often labels with confidence near p are right.

    Parameters
    ----------
    correct : array-like of bool, shape (N,)
        True where the label is right.
    confidence : array-like of float in [0, 1], shape (N,)
        Confidence in that label.
    n_bins : int, default=10
        Equal-width bins over [0, 1].

    Returns
    -------
    dict
        ``edges`` (n_bins + 1), and per bin ``count``, ``confidence`` (mean) and
        ``accuracy`` (fraction right; None for an empty bin); ``ece``: the expected
        calibration error, sum over bins of count / N * |accuracy - confidence|.

    Examples
    --------
    >>> t = calibration_bins([True, True, False, True], [0.95, 0.9, 0.15, 0.2], n_bins=2)
    >>> t["count"], t["accuracy"], round(t["ece"], 3)
    ([2, 2], [0.5, 1.0], 0.2)
    """
    ok = np.asarray(correct, dtype=bool)
    conf = np.asarray(confidence, dtype=np.float64)
    if ok.shape != conf.shape:
        raise InvalidInputError(
            f"correct and confidence must have the same shape; got {ok.shape} and {conf.shape}"
        )
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=False), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=conf, minlength=n_bins)
    ok_sum = np.bincount(which, weights=ok.astype(np.float64), minlength=n_bins)
    mean_conf = [float(c / m) if m else None for c, m in zip(conf_sum, count)]
    accuracy = [float(a / m) if m else None for a, m in zip(ok_sum, count)]
    ece = expected_calibration_error(count.tolist(), mean_conf, accuracy)
    return {
        "edges": edges.tolist(),
        "count": count.tolist(),
        "confidence": mean_conf,
        "accuracy": accuracy,
        "ece": ece,
    }


def expected_calibration_error(
    count: list[int], confidence: list[float | None], accuracy: list[float | None]
) -> float:
    """Sum over bins of count / N * |accuracy - confidence| (empty bins add nothing).

    Examples
    --------
    >>> round(expected_calibration_error([2, 2], [0.175, 0.925], [0.5, 1.0]), 3)
    0.2
    """
    total = max(sum(count), 1)
    return float(
        sum(
            m / total * abs(a - c)
            for m, c, a in zip(count, confidence, accuracy)
            if m and a is not None and c is not None
        )
    )
