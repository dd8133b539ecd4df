"""Metrics of the extra cells (real noise, few-shot intents, the catch-all): pure functions.

Every function takes integer label codes: ``clean`` (the truth), ``given`` (the labels
a method received) and ``new`` (the labels it returned). The suite's other metrics
are in :mod:`pico.benchmarking.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score

__all__ = [
    "catch_all_flows",
    "class_subset_metrics",
    "review_average_precision",
    "review_counts",
]


def review_average_precision(
    given: npt.ArrayLike, clean: npt.ArrayLike, score: npt.ArrayLike
) -> float | None:
    """How well ``score`` ranks the rows whose given label is wrong first.

    Average precision (scikit-learn's ``average_precision_score``) with the rows
    where ``given != clean`` as positives and ``score`` (higher: more likely wrong,
    e.g. ``1 - given_confidence``) as the ranking. A random order scores the error
    rate; 1.0 puts every wrong row first. NaN scores rank last.

    Returns None when no given label is wrong (average precision is undefined).

    Examples
    --------
    >>> review_average_precision([0, 1, 1, 2], [0, 1, 2, 2], [0.1, 0.2, 0.9, 0.3])
    1.0
    >>> review_average_precision([0, 1, 1, 2], [0, 1, 2, 2], [0.1, 0.9, 0.5, 0.3])
    0.5
    """
    wrong = np.asarray(given) != np.asarray(clean)
    s = np.asarray(score, dtype=np.float64)
    if wrong.shape != s.shape:
        raise ValueError(f"score has shape {s.shape}; the labels {wrong.shape}")
    if not wrong.any():
        return None
    if np.isnan(s).any():
        s = np.where(np.isnan(s), np.nanmin(s) - 1.0 if (~np.isnan(s)).any() else 0.0, s)
    return float(average_precision_score(wrong, s))


def review_counts(
    given: npt.ArrayLike, clean: npt.ArrayLike, review: npt.ArrayLike
) -> dict[str, int]:
    """Rows sent to review, and how many of them carry a wrong given label.

    Examples
    --------
    >>> review_counts([0, 1, 1], [0, 1, 2], [True, False, True])
    {'review': 2, 'review_wrong': 1}
    """
    mask = np.asarray(review, dtype=bool)
    wrong = np.asarray(given) != np.asarray(clean)
    return {"review": int(mask.sum()), "review_wrong": int(np.sum(mask & wrong))}


def class_subset_metrics(
    clean: npt.ArrayLike, given: npt.ArrayLike, new: npt.ArrayLike, classes: npt.ArrayLike
) -> dict[str, int]:
    """What a method did to the rows of a few classes (the small intents).

    Returns
    -------
    dict
        ``rows``: rows whose clean label is in ``classes``; ``right_before``: those
        whose given label is right; ``damage``: those right before and wrong after
        (correct rows moved out); ``fixed``: those wrong before and right after;
        ``wrongly_moved_in``: rows of other classes that the method moved into
        ``classes`` (wrong after, a label in ``classes`` that was not given).

    Examples
    --------
    >>> class_subset_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 2], [1, 0, 1, 0, 0], [0])
    {'rows': 2, 'right_before': 1, 'damage': 1, 'fixed': 1, 'wrongly_moved_in': 2}
    """
    c, g, n = np.asarray(clean), np.asarray(given), np.asarray(new)
    inside = np.isin(c, np.asarray(classes))
    right_before, right_after = g == c, n == c
    return {
        "rows": int(inside.sum()),
        "right_before": int(np.sum(inside & right_before)),
        "damage": int(np.sum(inside & right_before & ~right_after)),
        "fixed": int(np.sum(inside & ~right_before & right_after)),
        "wrongly_moved_in": int(
            np.sum(~inside & (n != g) & np.isin(n, np.asarray(classes)))
        ),
    }


def catch_all_flows(
    clean: npt.ArrayLike, given: npt.ArrayLike, new: npt.ArrayLike, catch_all: int
) -> dict[str, Any]:
    """The changes a method made into and out of the catch-all class, and how many are right.

    Returns
    -------
    dict
        ``into``: rows moved into the catch-all (given another label), ``into_right``:
        of those, the ones whose clean label is the catch-all; ``out``: rows moved out
        of it (given the catch-all), ``out_right``: of those, now right; ``other``:
        changes that neither enter nor leave it; ``catch_all_damage``: rows whose clean
        and given label is the catch-all, moved out.

    Examples
    --------
    >>> catch_all_flows([9, 9, 1, 2, 1], [9, 1, 9, 2, 2], [1, 9, 1, 9, 1], 9)
    {'into': 2, 'into_right': 1, 'out': 2, 'out_right': 1, 'other': 1, 'catch_all_damage': 1}
    """
    c, g, n = np.asarray(clean), np.asarray(given), np.asarray(new)
    moved = n != g
    into = moved & (n == catch_all)
    out = moved & (g == catch_all)
    return {
        "into": int(into.sum()),
        "into_right": int(np.sum(into & (c == catch_all))),
        "out": int(out.sum()),
        "out_right": int(np.sum(out & (n == c))),
        "other": int(np.sum(moved & ~into & ~out)),
        "catch_all_damage": int(np.sum(out & (c == catch_all))),
    }
