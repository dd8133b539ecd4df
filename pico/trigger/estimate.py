"""The trigger's arithmetic: noise rate, its interval, per-class noise, confused pairs.

Pure functions on arrays. Every estimate starts from ``q_i = 1 - P(true = given_i |
evidence)``, the posterior probability that row i's given label is wrong (from the
Bayesian vote). Its mean over rows is the expected fraction of wrong labels.

:func:`lookalike_pairs` is the one estimate that does not: it reads the checkers'
probabilities directly, to find classes whose rows the checkers cannot tell apart
(a systematic mislabeling the checkers learned, which the vote cannot see).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "class_noise",
    "collapsed_pairs",
    "conflicting_duplicates",
    "confused_pairs",
    "focus_classes",
    "lookalike_pairs",
    "noise_interval",
    "pair_matrix",
]

#: z-value of a two-sided 95% normal interval.
_Z95 = 1.959964


def noise_interval(
    wrong: np.ndarray, n_total: int | None = None, z: float = _Z95
) -> tuple[float, float, float]:
    """Estimated fraction of wrong labels with a normal interval.

    Parameters
    ----------
    wrong : ndarray of shape (n,)
        ``q_i``, the probability that each checked row's label is wrong.
    n_total : int, optional
        Rows in the whole dataset when ``wrong`` covers a random sample of them.
    z : float, default=1.96
        Width of the interval in standard deviations (1.96: 95%).

    Returns
    -------
    rate, low, high : float
        ``mean(q)`` and the interval. Its variance has two parts: which of the rows
        are wrong given the ``q_i`` (``sum q(1-q) / n^2``), and, for a sample, which
        rows were drawn (``(1 - n/N) var(q) / n``). It does not cover the model's own
        error; the evaluation suite measures that.

    Examples
    --------
    >>> rate, low, high = noise_interval(np.array([0.0, 0.0, 1.0, 0.0]))
    >>> rate, low, high
    (0.25, 0.25, 0.25)
    >>> rate, low, high = noise_interval(np.full(100, 0.1))
    >>> round(low, 3), round(high, 3)
    (0.041, 0.159)
    """
    q = np.clip(np.asarray(wrong, dtype=np.float64), 0.0, 1.0)
    n = len(q)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    rate = float(q.mean())
    var = float(np.sum(q * (1.0 - q))) / n**2
    if n_total is not None and n_total > n > 1:
        var += (1.0 - n / n_total) * float(q.var(ddof=1)) / n
    half = z * np.sqrt(var)
    return rate, float(max(0.0, rate - half)), float(min(1.0, rate + half))


def class_noise(
    labels: np.ndarray, wrong: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and expected wrong rows of each given class.

    Parameters
    ----------
    labels : ndarray of shape (n,)
        Given labels, coded 0..K-1.
    wrong : ndarray of shape (n,)
        ``q_i`` per row.
    n_classes : int

    Returns
    -------
    rows, expected_wrong : ndarray of shape (K,)

    Examples
    --------
    >>> rows, bad = class_noise(np.array([0, 0, 1]), np.array([0.5, 0.1, 0.0]), 2)
    >>> rows.tolist(), bad.round(2).tolist()
    ([2, 1], [0.6, 0.0])
    """
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.bincount(labels, minlength=n_classes)
    bad = np.bincount(labels, weights=np.asarray(wrong, dtype=np.float64), minlength=n_classes)
    return rows, bad


def pair_matrix(
    labels: np.ndarray, candidates: np.ndarray, posterior: np.ndarray, n_classes: int
) -> sp.csr_matrix:
    """Expected rows of each (given label, other true class) pair under the posterior.

    Parameters
    ----------
    labels : ndarray of shape (n,)
        Given labels, coded 0..K-1.
    candidates : ndarray of shape (n, W)
        Each row's candidate classes (-1: unused slot).
    posterior : ndarray of shape (n, W)
        Posterior probability of each candidate.
    n_classes : int

    Returns
    -------
    scipy.sparse.csr_matrix of shape (K, K)
        Entry (a, b): the summed posterior of class b over rows given a (b != a).

    Examples
    --------
    >>> pair_matrix(np.array([0, 0, 1]), np.array([[0, 1], [0, 1], [1, 0]]),
    ...             np.array([[0.2, 0.8], [0.4, 0.6], [1.0, 0.0]]), 2).toarray().tolist()
    [[0.0, 1.4], [0.0, 0.0]]
    """
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.broadcast_to(labels[:, None], candidates.shape)
    keep = (candidates >= 0) & (candidates != rows) & (posterior > 0)
    m = sp.coo_matrix(
        (posterior[keep], (rows[keep], candidates[keep])), shape=(n_classes, n_classes)
    ).tocsr()
    m.sum_duplicates()
    return m


def confused_pairs(
    labels: np.ndarray,
    candidates: np.ndarray,
    posterior: np.ndarray,
    n_classes: int,
    top: int = 10,
    min_rows: float = 0.5,
) -> list[tuple[int, int, float]]:
    """Pairs (given label, probable true class) with the most expected rows.

    Parameters
    ----------
    labels, candidates, posterior, n_classes
        As for :func:`pair_matrix`.
    top : int, default=10
        Pairs returned.
    min_rows : float, default=0.5
        Pairs with fewer expected rows are left out.

    Returns
    -------
    list of (given, true, expected_rows), most expected rows first.

    Examples
    --------
    >>> confused_pairs(np.array([0, 0, 1]), np.array([[0, 1], [0, 1], [1, 0]]),
    ...                np.array([[0.2, 0.8], [0.4, 0.6], [1.0, 0.0]]), 2)
    [(0, 1, 1.4)]
    """
    coo = pair_matrix(labels, candidates, posterior, n_classes).tocoo()
    order = np.argsort(-coo.data, kind="stable")[:top]
    return [
        (int(coo.row[j]), int(coo.col[j]), round(float(coo.data[j]), 2))
        for j in order
        if coo.data[j] >= min_rows
    ]


def _tail_ratio(
    score_given: np.ndarray, score_ref: np.ndarray, min_rows: int, min_share: float,
    margin: float = 0.0,
) -> float:
    """``P(given >= t) / P(ref >= t)`` at the threshold ``t`` picked from the ref scores.

    Only thresholds leaving enough refs above are tried. With ``margin = 0`` the
    smallest ratio is returned; otherwise ``t`` minimises the ratio plus ``margin``
    times the largest standard error of the two tail shares, relative to the ref
    tail (``0.5 / sqrt(n)`` each, over ``P(ref >= t)``), and the plain ratio at that
    ``t`` is returned. The minimum over many noisy ratios is biased low; the margin
    keeps short, noisy tails from setting it (best-bin estimation, Garg et al. 2021).
    """
    given, ref = np.sort(score_given), np.sort(score_ref)
    min_rows = max(min_rows, int(np.ceil(min_share * len(ref))))
    if len(given) == 0 or len(ref) < min_rows:
        return 0.0
    thresholds = np.unique(ref[: len(ref) - min_rows + 1])
    tail_given = 1.0 - np.searchsorted(given, thresholds, side="left") / len(given)
    tail_ref = 1.0 - np.searchsorted(ref, thresholds, side="left") / len(ref)
    ratio = tail_given / tail_ref
    if margin <= 0:
        return float(np.min(ratio))
    error = 0.5 * (len(ref) ** -0.5 + len(given) ** -0.5) / tail_ref
    return float(ratio[int(np.argmin(ratio + margin * error))])


def _ratio_at(score_given: np.ndarray, score_ref: np.ndarray, t: float) -> float:
    """``P(given >= t) / P(ref >= t)`` at one threshold ``t``.

    One threshold, not a minimum over many: unbiased but for the given rows of the
    other kind above ``t``. 0 when either side is empty, ``t <= 0`` or no ref row
    reaches ``t`` (no evidence).
    """
    if len(score_given) == 0 or len(score_ref) == 0 or t <= 0:
        return 0.0
    ref = float(np.mean(score_ref >= t))
    return float(np.mean(score_given >= t)) / ref if ref > 0 else 0.0


def _pair_share(p_b: np.ndarray, p_a: np.ndarray) -> np.ndarray:
    """``p_b / (p_a + p_b)`` (0 where both are 0): how much a row prefers b over a."""
    total = p_a + p_b
    return np.divide(p_b, total, out=np.zeros_like(total), where=total > 0)


def lookalike_pairs(
    probs: Any,
    labels: np.ndarray,
    n_classes: int,
    *,
    partners: int = 3,
    min_rows: int = 5,
    min_share: float = 0.1,
    purity: np.ndarray | None = None,
    one_way: float = 0.25,
    margin: float = 0.5,
    count: str = "best-bin",
    pairwise: bool = False,
) -> list[tuple[int, int, float]]:
    """Rows of each given class that look like the rows of another class.

    For a class ``a`` and each of its ``partners`` most probable other classes ``b``
    (by mean predicted probability over the rows given ``a``), the score of a row is
    its out-of-sample probability of ``b``. The rows given ``a`` are treated as a
    mixture of a-like and b-like rows, with the rows given ``b`` as the sample of b-like
    ones; the b-like share is bounded above by the ratio of tails, and the bound is
    tightest at the threshold where the rows given ``a`` thin out (mixture proportion
    estimation)::

        kappa(a, b) = min_t  P(score >= t | given a) / P(score >= t | given b)

    over thresholds ``t`` that leave at least ``min_rows`` rows given ``b``, and
    ``min_share`` of them, above. Rows
    given ``a`` that truly are ``a`` score low, so clean data gives about 0; when part
    of a class was labeled as its sibling and the checkers learned that mapping, the
    moved rows score like the rows left behind, and ``kappa * n_a`` counts them.

    On samples the minimum over many noisy ratios undercounts, so ``t`` is picked by
    the ratio plus ``margin`` standard errors of the tails (shorter tails weigh more),
    and the ratio at that ``t`` is ``kappa`` (best-bin estimation, Garg et al., 2021,
    "Mixture proportion estimation and PU learning: a modern approach").

    A collapse moves rows one way; two classes whose rows overlap (or swap labels both
    ways) look alike in both directions. A pair is kept only when the reverse count,
    ``kappa(b, a) * n_b``, is at most ``one_way`` times its own.

    Parameters
    ----------
    probs : scipy.sparse matrix or ndarray of shape (n, K)
        Out-of-sample probabilities (unstored entries: 0).
    labels : ndarray of shape (n,)
        Given labels, coded 0..K-1.
    n_classes : int
    partners : int, default=3
        Other classes tried per class.
    min_rows : int, default=5
        Rows given ``b`` the tightest threshold must leave (a pair whose class ``b``
        has fewer rows is skipped).
    min_share : float, default=0.1
        The same as a share of the rows given ``b`` (the larger of the two applies).
    purity : ndarray of shape (K,), optional
        Estimated share of each class's rows whose given label is right (default 1).
        The rows given ``b`` then hold ``purity[b] * n_b`` b-like rows, and the tail
        ratio is scaled by ``purity[b]``: rows moved into ``b`` from elsewhere would
        otherwise thin its tail and inflate ``kappa``.
    one_way : float, default=0.25
        Largest reverse count, as a share of the pair's own, of a pair that is kept.
        1 or more keeps every pair.
    margin : float, default=0.5
        Standard errors of the tail shares (at most ``0.5 / sqrt(n)`` each, relative
        to the tail given ``b``) added to the ratio when picking the threshold. 0 takes
        the plain minimum, which undercounts more.
    count : {"best-bin", "median", "boundary"}, default="best-bin"
        How ``kappa`` is read: at the best-bin threshold above; at one threshold, the
        median score of the rows given ``b``; or (with ``pairwise`` only) at the a-b
        boundary, a pairwise score of 1/2: the rows given ``a`` that prefer ``b`` over
        the share of the rows given ``b`` that do. One threshold is not a minimum over
        noisy ratios, so it does not undercount when ``b`` keeps only a dozen rows.
        Either counts the rows of ``a`` above it that are not b-like. The median moves
        with which dozen rows were left in ``b``; the boundary is fixed, and a row
        given ``a`` counts only when it prefers ``b`` (used for collapses).
    pairwise : bool, default=False
        Score a row by ``p_b / (p_a + p_b)`` (how much it prefers ``b`` over ``a``)
        instead of ``p_b``. Rows of a class ``a`` that merely resembles ``b`` still
        prefer ``a``; rows moved from ``b`` prefer ``b`` as the rows left in ``b`` do.
        The one-way test reads the plain probabilities either way.

    Returns
    -------
    list of (a, b, rows)
        ``rows`` = ``kappa(a, b) * n_a``, for every kept pair with ``rows > 0``, most
        first.

    Examples
    --------
    Rows 0-3 are given ``0`` but score like the rows given ``1``:

    >>> p = np.array([[0.5, 0.5]] * 8 + [[0.9, 0.1]] * 4)
    >>> lookalike_pairs(p, np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]), 2, min_rows=2)
    [(0, 1, 4.0)]
    """
    if count not in ("best-bin", "median", "boundary"):
        raise ValueError(f"count must be 'best-bin', 'median' or 'boundary'; got {count!r}")
    if count == "boundary" and not pairwise:
        raise ValueError(
            "count='boundary' reads the pairwise score p_b / (p_a + p_b) at 1/2; "
            "pass pairwise=True with it"
        )
    labels = np.asarray(labels, dtype=np.int64)
    csc = sp.csc_matrix(probs)
    counts = np.bincount(labels, minlength=n_classes)
    pure = np.ones(n_classes) if purity is None else np.clip(np.asarray(purity, float), 0, 1)
    members = [np.flatnonzero(labels == c) for c in range(n_classes)]
    columns: dict[int, np.ndarray] = {}

    def column(c: int) -> np.ndarray:
        if c not in columns:
            columns[c] = csc[:, c].toarray().ravel()
        return columns[c]

    out: list[tuple[int, int, float]] = []
    for a in range(n_classes):
        rows_a = members[a]
        if len(rows_a) == 0:
            continue
        mean = np.asarray(csc[rows_a].mean(axis=0)).ravel()
        mean[a] = 0.0
        for b in np.argsort(-mean, kind="stable")[:partners].tolist():
            if mean[b] <= 0 or counts[b] < min_rows:
                continue
            rows_b = members[b]
            given, ref = column(b)[rows_a], column(b)[rows_b]
            if pairwise:
                given, ref = _pair_share(given, column(a)[rows_a]), _pair_share(
                    ref, column(a)[rows_b]
                )
            if count == "median":
                kappa = _ratio_at(given, ref, float(np.median(ref)))
            elif count == "boundary":  # the pairwise score where b is preferred
                kappa = _ratio_at(given, ref, 0.5)
            else:
                kappa = _tail_ratio(given, ref, min_rows, min_share, margin)
            kappa = min(kappa * pure[b], 1)
            if kappa <= 0:
                continue
            found = kappa * len(rows_a)
            if one_way < 1:
                back = _tail_ratio(
                    column(a)[rows_b], column(a)[rows_a], min_rows, min_share, margin
                )
                back = min(back * pure[a], 1)
                if back * len(rows_b) > one_way * found:
                    continue
            out.append((a, b, round(float(found), 2)))
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out


def collapsed_pairs(
    pairs: Sequence[tuple[int, int, float]],
    rows: np.ndarray,
    voted: Any,
    *,
    min_share: float,
    ratio: float,
) -> tuple[list[tuple[int, int, float, float]], np.ndarray]:
    """Look-alike pairs where most of a class's rows carry another label.

    A pair ``(a, b, found)`` of :func:`lookalike_pairs` is a collapse when ``found``
    (rows given ``a`` that look like ``b``) is more than ``ratio`` times the rows still
    given ``b``, at least one row and more than ``min_share`` of ``a``'s rows. A class
    that keeps fewer rows under its own label than under another fits the given labels
    as well read the other way round, so a vote fitted on their likelihood counts only
    part of them; the rows ``found`` beyond the vote's own count of the pair are added.

    Parameters
    ----------
    pairs : sequence of (a, b, found)
    rows : ndarray of shape (K,)
        Rows given each class.
    voted : array-like or sparse matrix of shape (K, K)
        The vote's expected rows of each (given, true) pair (:func:`pair_matrix`).
    min_share : float
        Smallest share of ``a``'s rows a pair must count.
    ratio : float
        How many times the rows given ``b`` a pair must count.

    Returns
    -------
    pairs : list of (a, b, found, vote_rows)
    extra : ndarray of shape (K,)
        Per given class, the rows its collapses add beyond the vote's count.

    Examples
    --------
    >>> voted = np.array([[0.0, 20.0], [0.0, 0.0]])
    >>> found, extra = collapsed_pairs([(0, 1, 80.0)], np.array([180, 20]), voted,
    ...                                min_share=0.1, ratio=3.0)
    >>> found, extra.tolist()
    ([(0, 1, 80.0, 20.0)], [60.0, 0.0])
    >>> collapsed_pairs([(0, 1, 50.0)], np.array([180, 20]), voted, min_share=0.1,
    ...                 ratio=3.0)[0]  # 50 <= 3 x 20: part of b moved, not most
    []
    """
    extra = np.zeros(len(rows))
    out: list[tuple[int, int, float, float]] = []
    for a, b, found in pairs:
        if found < 1.0 or found <= min_share * rows[a] or found <= ratio * rows[b]:
            continue
        vote_rows = float(voted[a, b])
        extra[a] += max(0.0, found - vote_rows)
        out.append((a, b, found, vote_rows))
    return out, extra


def conflicting_duplicates(
    groups: np.ndarray, labels: Sequence[Any] | np.ndarray
) -> list[list[int]]:
    """Groups of duplicate rows whose labels disagree.

    Parameters
    ----------
    groups : ndarray of shape (n,)
        Duplicate-group id of each row (equal ids: the same input).
    labels : sequence of shape (n,)

    Returns
    -------
    list of lists of row positions, one per conflicting group, largest first.

    Examples
    --------
    >>> conflicting_duplicates(np.array([0, 1, 0, 2, 1]), ["a", "b", "c", "d", "b"])
    [[0, 2]]
    """
    members: dict[int, list[int]] = {}
    for i, g in enumerate(np.asarray(groups).tolist()):
        members.setdefault(g, []).append(i)
    labels = list(labels)
    out = [
        rows for rows in members.values()
        if len(rows) > 1 and len({str(labels[i]) for i in rows}) > 1
    ]
    out.sort(key=lambda rows: (-len(rows), rows[0]))
    return out


def focus_classes(
    rows: np.ndarray,
    expected_wrong: np.ndarray,
    pairs: Sequence[tuple[int, int, float]],
    threshold: float,
    max_share: float = 0.5,
) -> tuple[list[int], bool]:
    """Classes a cleaning run should work on.

    A class is suspicious when more than ``threshold`` of its rows, and at least one
    row, are estimated wrong; the probable true classes of its confused pairs join it
    (a wrong label's fix lies there).

    Returns
    -------
    classes : list of int
        Suspicious classes and their partners, most expected wrong rows first.
    everything : bool
        True when they are more than ``max_share`` of the classes: the noise is spread
        over the dataset, and cleaning all of it costs little more.

    Examples
    --------
    >>> focus_classes(np.array([10, 10, 10, 10]), np.array([3.0, 0.0, 0.1, 0.0]),
    ...               [(0, 1, 2.5)], threshold=0.05)
    ([0, 1], False)
    """
    rate = np.where(rows > 0, expected_wrong / np.maximum(rows, 1), 0.0)
    bad = np.flatnonzero((rate > threshold) & (expected_wrong >= 1.0))
    suspicious = set(bad.tolist())
    chosen = set(suspicious)
    for given, true, _ in pairs:
        if given in suspicious:
            chosen.add(true)
    order = sorted(chosen, key=lambda c: (-expected_wrong[c], c))
    return order, len(order) > max_share * len(rows)
