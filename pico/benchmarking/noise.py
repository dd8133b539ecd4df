"""Seeded label-noise injection for benchmarks.

Every function takes integer-coded labels, an array ``(N,)`` of class indices
``0..K-1``, and returns a *new* ``int64`` array; the input is never modified.
Randomness comes only from the ``random_state`` argument (``None``, an ``int``,
a :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`), which
goes through :func:`numpy.random.default_rng`. No global seed is ever touched.

Noise models
------------
- :func:`uniform_noise`: a flipped row moves to any other class.
- :func:`within_group_noise`: a flipped row moves to another class of the same
  group (for example a CLINC150 domain).
- :func:`confusable_noise`: a flipped row moves to one of the classes a checker
  confuses it with most.
- :func:`generic_specific_noise`: part of a specific class is relabeled as a
  generic class (labelers picking ``account_help`` over ``reset_password``).

Helpers: :func:`sibling_pairs` picks (specific, generic) pairs inside groups,
:func:`imbalanced_subsample` makes a class-imbalanced subsample and
:func:`noise_rate` measures the fraction of changed labels.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from pico.exceptions import InvalidInputError
from pico.typing import IntArray

__all__ = [
    "confusable_noise",
    "generic_specific_noise",
    "imbalanced_subsample",
    "noise_rate",
    "sibling_pairs",
    "uniform_noise",
    "within_group_noise",
]

#: What ``random_state`` accepts.
RandomState = Union[None, int, np.integer[Any], np.random.SeedSequence, np.random.Generator]


# --------------------------------------------------------------------------- validation


def _rng(random_state: RandomState, caller: str) -> np.random.Generator:
    """Return a Generator for ``random_state`` (a Generator is used as is)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool)
        and int(random_state) >= 0
    ):
        return np.random.default_rng(int(random_state))
    raise InvalidInputError(
        f"The 'random_state' parameter of {caller} must be None, a non-negative int, "
        f"a numpy SeedSequence or a numpy Generator. Got {random_state!r} instead."
    )


def _check_labels(labels: npt.ArrayLike, caller: str, name: str = "labels") -> IntArray:
    """Return ``labels`` as a fresh 1-D int64 array of non-negative class indices."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InvalidInputError(
            f"The {name!r} parameter of {caller} must be a 1-D array (N,) of integer class "
            f"indices. Got an array of shape {arr.shape} instead."
        )
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise InvalidInputError(
            f"The {name!r} parameter of {caller} must hold integer class indices 0..K-1 "
            f"(encode string labels first, e.g. with np.unique(..., return_inverse=True)). "
            f"Got dtype {arr.dtype} instead."
        )
    if arr.min() < 0:
        raise InvalidInputError(
            f"The {name!r} parameter of {caller} must hold class indices >= 0. "
            f"Got the value {int(arr.min())} instead."
        )
    return arr.astype(np.int64, copy=True)


def _check_fraction(value: Any, name: str, caller: str, *, low_open: bool = False) -> float:
    """Return ``value`` as a float in [0, 1] (or (0, 1] when ``low_open``)."""
    interval = "(0, 1]" if low_open else "[0, 1]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(
            f"The {name!r} parameter of {caller} must be a float in {interval}. "
            f"Got {value!r} instead."
        )
    val = float(value)
    if not np.isfinite(val) or val > 1 or val < 0 or (low_open and val == 0):
        raise InvalidInputError(
            f"The {name!r} parameter of {caller} must be a float in {interval}. "
            f"Got {value!r} instead."
        )
    return val


def _check_int(value: Any, name: str, caller: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidInputError(
            f"The {name!r} parameter of {caller} must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


def _check_groups(groups: npt.ArrayLike, caller: str) -> npt.NDArray[Any]:
    arr = np.asarray(groups)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(
            f"The 'groups' parameter of {caller} must be a non-empty 1-D array (K,) giving "
            f"the group of each class. Got an array of shape {arr.shape} instead."
        )
    return arr


def _check_max_label(labels: IntArray, n_classes: int, caller: str, source: str) -> None:
    if labels.size and int(labels.max()) >= n_classes:
        raise InvalidInputError(
            f"The 'labels' parameter of {caller} must hold class indices below K={n_classes} "
            f"(K comes from {source}). Got the label {int(labels.max())} instead."
        )


def _pick_rows(n: int, rate: float, rng: np.random.Generator) -> IntArray:
    """Choose exactly ``round(rate * n)`` distinct rows at random."""
    n_flip = int(round(rate * n))
    return rng.choice(n, size=n_flip, replace=False).astype(np.int64)


def _need_two_classes(n_classes: int, n_flip: int, caller: str) -> None:
    if n_flip > 0 and n_classes < 2:
        raise InvalidInputError(
            f"{caller} needs at least 2 classes to flip a label. Got K={n_classes}; "
            f"pass n_classes (or groups/confusion) covering every class."
        )


# --------------------------------------------------------------------------- noise models


def uniform_noise(
    labels: npt.ArrayLike,
    *,
    rate: float,
    n_classes: int | None = None,
    random_state: RandomState = None,
) -> IntArray:
    """Flip a fixed fraction of labels to a different class chosen uniformly.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Clean class indices ``0..K-1``.
    rate : float in [0, 1]
        Fraction of rows to flip; exactly ``round(rate * N)`` rows, chosen at
        random, receive a new label.
    n_classes : int, optional
        Number of classes ``K``. Defaults to ``labels.max() + 1``; pass it when
        some classes do not occur in ``labels``.
    random_state : None, int, SeedSequence or Generator, optional
        Seed of the noise.

    Returns
    -------
    noisy : ndarray of int64, shape (N,)
        A new array; every flipped row differs from its clean label and the
        new class is uniform over the ``K - 1`` other classes.

    Examples
    --------
    >>> import numpy as np
    >>> clean = np.repeat(np.arange(4), 25)
    >>> noisy = uniform_noise(clean, rate=0.1, random_state=0)
    >>> int((noisy != clean).sum())
    10
    """
    caller = "uniform_noise"
    y = _check_labels(labels, caller)
    rate = _check_fraction(rate, "rate", caller)
    if n_classes is None:
        k = int(y.max()) + 1 if y.size else 0
        source = "labels.max() + 1"
    else:
        k = _check_int(n_classes, "n_classes", caller, minimum=1)
        source = "n_classes"
        _check_max_label(y, k, caller, source)
    rng = _rng(random_state, caller)
    rows = _pick_rows(y.size, rate, rng)
    _need_two_classes(k, rows.size, caller)
    noisy = y.copy()
    noisy[rows] = (y[rows] + rng.integers(1, k, size=rows.size)) % k if rows.size else y[rows]
    return noisy


def within_group_noise(
    labels: npt.ArrayLike,
    *,
    rate: float,
    groups: npt.ArrayLike,
    random_state: RandomState = None,
) -> IntArray:
    """Flip a fixed fraction of labels to another class of the same group.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Clean class indices ``0..K-1``.
    rate : float in [0, 1]
        Fraction of rows to flip; exactly ``round(rate * N)`` rows, chosen at
        random, receive a new label.
    groups : array-like, shape (K,)
        Group of each class (any comparable values, e.g. CLINC150 domain
        names). ``K = len(groups)``.
    random_state : None, int, SeedSequence or Generator, optional
        Seed of the noise.

    Returns
    -------
    noisy : ndarray of int64, shape (N,)
        A new array. A flipped row moves to a class chosen uniformly among the
        other classes of its group; a class alone in its group falls back to
        any other class.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.array(["bank", "bank", "travel", "travel"])
    >>> clean = np.repeat(np.arange(4), 10)
    >>> noisy = within_group_noise(clean, rate=0.5, groups=groups, random_state=0)
    >>> bool(np.all(groups[noisy] == groups[clean]))
    True
    """
    caller = "within_group_noise"
    y = _check_labels(labels, caller)
    rate = _check_fraction(rate, "rate", caller)
    grp = _check_groups(groups, caller)
    k = grp.size
    _check_max_label(y, k, caller, "len(groups)")
    rng = _rng(random_state, caller)
    rows = _pick_rows(y.size, rate, rng)
    _need_two_classes(k, rows.size, caller)
    classes = np.arange(k)
    noisy = y.copy()
    for c in np.unique(y[rows]):
        at = rows[y[rows] == c]
        options = classes[(grp == grp[c]) & (classes != c)]
        if options.size == 0:
            options = classes[classes != c]
        noisy[at] = options[rng.integers(0, options.size, size=at.size)]
    return noisy


def confusable_noise(
    labels: npt.ArrayLike,
    *,
    rate: float,
    confusion: npt.ArrayLike,
    top: int = 3,
    random_state: RandomState = None,
) -> IntArray:
    """Flip a fixed fraction of labels to the classes they are most confused with.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Clean class indices ``0..K-1``.
    rate : float in [0, 1]
        Fraction of rows to flip; exactly ``round(rate * N)`` rows, chosen at
        random, receive a new label.
    confusion : array-like of float, shape (K, K)
        Non-negative scores; ``confusion[i, j]`` says how easily class ``i`` is
        taken for class ``j`` (e.g. out-of-fold predicted probability mass, or a
        confusion matrix of a checker trained on clean labels). The diagonal is
        ignored.
    top : int, default 3
        A flipped row of class ``i`` moves to one of the ``top`` classes with the
        highest off-diagonal score in row ``i`` (ties go to the lower index),
        with probability proportional to the score. A row whose candidate
        scores are all zero falls back to a uniform choice among them.
    random_state : None, int, SeedSequence or Generator, optional
        Seed of the noise.

    Returns
    -------
    noisy : ndarray of int64, shape (N,)
        A new array; every flipped row differs from its clean label.

    Examples
    --------
    >>> import numpy as np
    >>> confusion = np.array([[9, 1, 0], [1, 9, 0], [0, 5, 9]])
    >>> clean = np.repeat(np.arange(3), 10)
    >>> noisy = confusable_noise(clean, rate=1.0, confusion=confusion, top=1, random_state=0)
    >>> noisy.reshape(3, 10)[:, 0].tolist()
    [1, 0, 1]
    """
    caller = "confusable_noise"
    y = _check_labels(labels, caller)
    rate = _check_fraction(rate, "rate", caller)
    top = _check_int(top, "top", caller, minimum=1)
    try:
        conf = np.asarray(confusion, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The 'confusion' parameter of {caller} must be a numeric (K, K) matrix. "
            f"Got {type(confusion).__name__} that cannot be read as floats."
        ) from exc
    if conf.ndim != 2 or conf.shape[0] != conf.shape[1] or conf.shape[0] == 0:
        raise InvalidInputError(
            f"The 'confusion' parameter of {caller} must be a square (K, K) matrix. "
            f"Got shape {conf.shape} instead."
        )
    if not np.all(np.isfinite(conf)):
        raise InvalidInputError(
            f"The 'confusion' parameter of {caller} must hold finite scores >= 0. "
            f"Got {int((~np.isfinite(conf)).sum())} NaN or infinite entries instead."
        )
    if np.any(conf < 0):
        raise InvalidInputError(
            f"The 'confusion' parameter of {caller} must hold finite scores >= 0. "
            f"Got the negative score {float(conf.min())!r} instead."
        )
    k = conf.shape[0]
    _check_max_label(y, k, caller, "confusion.shape[0]")
    rng = _rng(random_state, caller)
    rows = _pick_rows(y.size, rate, rng)
    _need_two_classes(k, rows.size, caller)
    noisy = y.copy()
    n_top = min(top, k - 1)
    for c in np.unique(y[rows]):
        at = rows[y[rows] == c]
        others = np.delete(np.arange(k), c)
        scores = conf[c, others]
        order = np.argsort(-scores, kind="stable")[:n_top]
        cand, weight = others[order], scores[order]
        total = weight.sum()
        prob = weight / total if total > 0 else np.full(cand.size, 1.0 / cand.size)
        noisy[at] = rng.choice(cand, size=at.size, p=prob)
    return noisy


def generic_specific_noise(
    labels: npt.ArrayLike,
    *,
    pairs: Sequence[tuple[int, int]],
    fraction: float = 0.5,
    random_state: RandomState = None,
) -> IntArray:
    """Relabel part of each specific class as its generic class.

    This mimics labelers who pick a generic intent (``account_help``) over a
    specific one (``reset_password``).

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Clean class indices ``0..K-1``.
    pairs : sequence of (int, int)
        ``(specific_class, generic_class)`` pairs. Each specific class may
        appear in one pair only; rows are chosen from the clean labels, so
        the pairs do not interact.
    fraction : float in [0, 1], default 0.5
        Exactly ``round(fraction * n_specific)`` rows of each specific class,
        chosen at random, are relabeled as the generic class.
    random_state : None, int, SeedSequence or Generator, optional
        Seed of the noise.

    Returns
    -------
    noisy : ndarray of int64, shape (N,)
        A new array.

    Examples
    --------
    >>> import numpy as np
    >>> clean = np.repeat(np.arange(3), 10)
    >>> noisy = generic_specific_noise(clean, pairs=[(1, 0)], fraction=0.5, random_state=0)
    >>> np.bincount(noisy).tolist()
    [15, 5, 10]
    """
    caller = "generic_specific_noise"
    y = _check_labels(labels, caller)
    fraction = _check_fraction(fraction, "fraction", caller)
    checked = _check_pairs(pairs, caller)
    rng = _rng(random_state, caller)
    noisy = y.copy()
    for specific, generic in checked:
        at = np.flatnonzero(y == specific)
        chosen = rng.choice(at, size=int(round(fraction * at.size)), replace=False)
        noisy[chosen] = generic
    return noisy


def _check_pairs(pairs: Any, caller: str) -> list[tuple[int, int]]:
    msg = (
        f"The 'pairs' parameter of {caller} must be a sequence of (specific_class, "
        f"generic_class) pairs of distinct class indices >= 0, each specific class at most "
        f"once."
    )
    try:
        arr = np.asarray(pairs)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{msg} Got {pairs!r} instead.") from exc
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise InvalidInputError(f"{msg} Got {pairs!r} instead.")
    out = [(int(s), int(g)) for s, g in arr]
    specifics = [s for s, _ in out]
    bad = [p for p in out if p[0] < 0 or p[1] < 0 or p[0] == p[1]]
    if bad:
        raise InvalidInputError(f"{msg} Got the invalid pair {bad[0]!r}.")
    if len(set(specifics)) != len(specifics):
        dup = next(s for s in specifics if specifics.count(s) > 1)
        raise InvalidInputError(f"{msg} Got the specific class {dup} in several pairs.")
    return out


def sibling_pairs(
    groups: npt.ArrayLike,
    *,
    n_pairs: int,
    random_state: RandomState = None,
) -> list[tuple[int, int]]:
    """Pick disjoint (specific, generic) class pairs inside the same group.

    Parameters
    ----------
    groups : array-like, shape (K,)
        Group of each class.
    n_pairs : int
        Number of pairs. At most ``sum(size_g // 2)`` over groups, since no
        class is used twice.
    random_state : None, int, SeedSequence or Generator, optional
        Seed of the choice.

    Returns
    -------
    pairs : list of (int, int)
        ``n_pairs`` pairs of class indices, ready for
        :func:`generic_specific_noise`; both classes of a pair share a group
        and no class appears in two pairs.

    Examples
    --------
    >>> pairs = sibling_pairs(["a", "a", "b", "b", "b"], n_pairs=2, random_state=0)
    >>> len(pairs), len({c for pair in pairs for c in pair})
    (2, 4)
    """
    caller = "sibling_pairs"
    grp = _check_groups(groups, caller)
    n_pairs = _check_int(n_pairs, "n_pairs", caller, minimum=0)
    rng = _rng(random_state, caller)
    candidates: list[tuple[int, int]] = []
    for g in np.unique(grp):
        members = rng.permutation(np.flatnonzero(grp == g))
        candidates += [
            (int(members[i]), int(members[i + 1])) for i in range(0, members.size - 1, 2)
        ]
    if n_pairs > len(candidates):
        raise InvalidInputError(
            f"The 'n_pairs' parameter of {caller} must be at most {len(candidates)} (the number "
            f"of disjoint same-group pairs these groups allow). Got {n_pairs} instead."
        )
    chosen = rng.choice(len(candidates), size=n_pairs, replace=False)
    return [candidates[i] for i in sorted(chosen.tolist())]


def imbalanced_subsample(
    labels: npt.ArrayLike,
    *,
    min_fraction: float = 0.1,
    random_state: RandomState = None,
) -> IntArray:
    """Indices of a class-imbalanced subsample.

    Classes present in ``labels`` are put in a random order; the class of rank
    ``r`` (``0..C-1``) keeps a fraction ``min_fraction ** (r / (C - 1))`` of its
    rows, a geometric (Zipf-like) spacing from 1 down to ``min_fraction``. Every
    class keeps at least 2 rows (or all of them when it has fewer).

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Class indices ``0..K-1``.
    min_fraction : float in (0, 1], default 0.1
        Fraction kept by the rarest class.
    random_state : None, int, SeedSequence or Generator, optional
        Seed of the class order and of the rows kept.

    Returns
    -------
    indices : ndarray of int64
        Sorted row indices into ``labels``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat(np.arange(3), 100)
    >>> keep = imbalanced_subsample(labels, min_fraction=0.1, random_state=0)
    >>> sorted(np.bincount(labels[keep]).tolist())
    [10, 32, 100]
    """
    caller = "imbalanced_subsample"
    y = _check_labels(labels, caller)
    min_fraction = _check_fraction(min_fraction, "min_fraction", caller, low_open=True)
    rng = _rng(random_state, caller)
    present = rng.permutation(np.unique(y))
    n_present = present.size
    kept: list[IntArray] = []
    for rank, c in enumerate(present):
        rows = np.flatnonzero(y == c)
        frac = min_fraction ** (rank / (n_present - 1)) if n_present > 1 else 1.0
        size = min(rows.size, max(2, int(round(frac * rows.size))))
        kept.append(rng.choice(rows, size=size, replace=False))
    if not kept:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(kept)).astype(np.int64)


def noise_rate(clean: npt.ArrayLike, noisy: npt.ArrayLike) -> float:
    """Fraction of rows whose label differs.

    Parameters
    ----------
    clean, noisy : array-like, shape (N,)
        Two label arrays of the same length (any comparable values).

    Returns
    -------
    rate : float
        ``mean(clean != noisy)``; 0.0 when ``N == 0``.

    Examples
    --------
    >>> noise_rate([0, 1, 2, 3], [0, 1, 2, 0])
    0.25
    """
    a, b = np.asarray(clean), np.asarray(noisy)
    if a.ndim != 1 or a.shape != b.shape:
        raise InvalidInputError(
            "The 'clean' and 'noisy' parameters of noise_rate must be 1-D arrays of the same "
            f"length. Got shapes {a.shape} and {b.shape} instead."
        )
    if a.size == 0:
        return 0.0
    return float(np.mean(a != b))
