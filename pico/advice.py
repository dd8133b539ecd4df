"""Intent-level advice: intents to merge, intents to split, near-duplicates across intents.

Row-level cleaning fixes rows whose label is wrong. Some problems sit one level up, in
the set of intents itself; this module lists three kinds of them, each from data a run
already has (the rows' features or texts, their labels and the checkers' held-out
class probabilities), at a cost linear in the rows times the candidates:

- **merge candidates** (:func:`merge_candidates`): pairs of intents the checkers cannot
  tell apart. For rows given ``a`` or ``b``, the held-out score ``p_b - p_a`` should
  rank ``b``'s rows above ``a``'s; its AUC is 1 for intents the data separates and
  0.5 when the labels are a coin flip between the two. A pair is listed when the AUC
  is below :data:`MERGE_AUC` and each intent has rows predicted as the other.
- **split candidates** (:func:`split_candidates`): intents whose rows form two groups
  (2-means on the intent's rows) further apart than the intent is from its nearest
  other intent: by the data's own yardstick, two intents under one label.
- **near-duplicates** (:func:`near_duplicates`): pairs of rows with different labels
  whose texts are nearly the same (cosine of their vectors at least a bar), exact
  duplicates left out (those are a clean's text groups already).

:func:`intent_advice` computes all three and :func:`format_advice` writes them as text.
Every list is bounded (:data:`TOP`), and each entry carries a few example rows.
"""

from __future__ import annotations

import heapq
import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from .exceptions import InvalidInputError

__all__ = [
    "MERGE_AUC",
    "MERGE_MIN_ROWS",
    "NEAR_COSINE",
    "SPLIT_MIN_ROWS",
    "SPLIT_MIN_SHARE",
    "SPLIT_RATIO",
    "SPLIT_STABILITY",
    "TOP",
    "format_advice",
    "intent_advice",
    "mean_pred_probs",
    "merge_candidates",
    "near_duplicates",
    "pair_auc",
    "split_candidates",
    "split_stability",
]

#: A pair of intents is a merge candidate when the held-out AUC of ``p_b - p_a``
#: between their rows is below this. 0.5 is chance (the checkers rank the two intents'
#: rows at random), 1.0 a perfect separation; 0.75 is halfway. Two intents whose rows
#: are swapped at a rate ``r`` both ways score ``1 - r`` with checkers that separate the
#: true intents, so 0.75 is a quarter of each intent's rows on the wrong side: far more
#: than row-level noise between two intents that mean different things.
MERGE_AUC = 0.75

#: Rows each intent needs for its pair's AUC (5 x 5 = 25 row pairs at least).
MERGE_MIN_ROWS = 5

#: Rows an intent needs before its two halves are compared: below it, 2-means finds
#: a split in any handful of rows.
SPLIT_MIN_ROWS = 20

#: The smaller half of a split candidate holds at least this share of the intent's rows;
#: a smaller group is a few odd rows (which the row-level search lists), not a second
#: intent.
SPLIT_MIN_SHARE = 0.2

#: A split candidate's halves have a centroid cosine at most this share of the cosine
#: between the intent and its nearest other intent: two unrelated requests under one
#: label give halves about as similar as two unrelated intents, far below the nearest
#: one; one request's phrasings give halves about as similar as its nearest intent.
SPLIT_RATIO = 0.5

#: ...and the split is found again on held-out rows (:func:`split_stability`, an
#: adjusted Rand index): 0.8 is two splits of balanced halves agreeing on about 19 rows
#: of 20.
SPLIT_STABILITY = 0.8

#: Near-duplicates: the cosine two rows' vectors reach at least. Character n-gram
#: TF-IDF (3-5-grams within words): a changed punctuation mark, a typo, or an added or
#: dropped filler word keeps the cosine of two utterances of a few words above 0.85,
#: while changing a content word ("cancel my order" / "track my order") brings it
#: below 0.75 (the pairs in ``tests/test_advice.py``). Sentence embeddings: see
#: :data:`NEAR_COSINE_EMBEDDINGS`.
NEAR_COSINE = 0.9

#: Near-duplicates on sentence embeddings (all-MiniLM-L6-v2): paraphrases of one
#: request score above 0.9 there, and two requests sharing all but the verb ("cancel
#: my order" / "track my order") score up to about 0.85.
NEAR_COSINE_EMBEDDINGS = 0.9

#: :func:`near_duplicates` on sparse vectors probes with each row's rarer features, the
#: common ones dropped up to this share of the bar in norm: a smaller share keeps more
#: features (a denser product), a larger one lets more candidate pairs through the
#: bound (more exact cosines to compute). Either way every pair at the bar is found.
PREFIX_BUDGET = 0.75

#: Candidates listed of each kind.
TOP = 10

#: Example utterances shown per intent (or per half, per side).
EXAMPLES = 3


def mean_pred_probs(
    branches: Iterable[Any], *, top_k: int | None = None
) -> sp.csr_matrix:
    """Average held-out probabilities over branches, sparse.

    Parameters
    ----------
    branches : iterable of SparsePredictions or (N, K) arrays / sparse matrices
        One iteration's held-out predictions (each a checker that did not see the row).
    top_k : int, optional
        Keep only the ``top_k`` largest averaged probabilities of each row (memory as
        one branch's); None keeps every stored one.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (N, K)
        The mean of the stored probabilities (unstored ones count as 0).

    Examples
    --------
    >>> a = np.array([[0.8, 0.2, 0.0], [0.1, 0.3, 0.6]])
    >>> b = np.array([[0.6, 0.0, 0.4], [0.0, 0.5, 0.5]])
    >>> mean_pred_probs([a, b]).toarray().round(2).tolist()
    [[0.7, 0.1, 0.2], [0.05, 0.4, 0.55]]
    >>> mean_pred_probs([a, b], top_k=1).toarray().round(2).tolist()
    [[0.7, 0.0, 0.0], [0.0, 0.0, 0.55]]
    """
    total: sp.csr_matrix | None = None
    n = 0
    for branch in branches:
        probs = getattr(branch, "probs", branch)
        block = sp.csr_matrix(probs, dtype=np.float64)
        total = block if total is None else total + block
        n += 1
    if total is None:
        raise InvalidInputError("mean_pred_probs needs at least one branch; got none")
    out = sp.csr_matrix(total / n)
    out.eliminate_zeros()
    if top_k is not None:
        out = _row_top_k(out, int(top_k))
    return out


def _row_top_k(matrix: sp.csr_matrix, top_k: int) -> sp.csr_matrix:
    """The ``top_k`` largest stored entries of each row of ``matrix``."""
    counts = np.diff(matrix.indptr)
    if counts.max(initial=0) <= top_k:
        return matrix
    keep = np.zeros(matrix.nnz, dtype=bool)
    for i in np.flatnonzero(counts > 0).tolist():
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        if hi - lo <= top_k:
            keep[lo:hi] = True
        else:
            part = np.argpartition(-matrix.data[lo:hi], top_k - 1)[:top_k]
            keep[lo + part] = True
    rows = np.repeat(np.arange(matrix.shape[0]), counts)[keep]
    return sp.csr_matrix(
        (matrix.data[keep], (rows, matrix.indices[keep])), shape=matrix.shape
    )


def _as_probs(pred_probs: Any, n: int) -> sp.csr_matrix:
    probs = sp.csr_matrix(pred_probs, dtype=np.float64)
    if probs.shape[0] != n:
        raise InvalidInputError(
            f"pred_probs has {probs.shape[0]} rows but labels has {n}; they must match"
        )
    return probs


def _top_class(probs: sp.csr_matrix) -> np.ndarray:
    """Argmax of each row's stored probabilities; -1 for a row with none stored."""
    top = np.asarray(probs.argmax(axis=1)).ravel().astype(np.int64)
    top[np.diff(probs.indptr) == 0] = -1
    return top


def pair_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC: the chance that a positive row scores above a negative one.

    Ties count one half. NaN when either side has no rows.

    Examples
    --------
    >>> pair_auc(np.array([0.9, 0.8, 0.1, 0.2]), np.array([True, True, False, False]))
    1.0
    >>> pair_auc(np.array([0.5, 0.5, 0.5]), np.array([True, False, False]))
    0.5
    """
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def merge_candidates(
    pred_probs: Any,
    labels: np.ndarray,
    *,
    max_auc: float = MERGE_AUC,
    min_rows: int = MERGE_MIN_ROWS,
    top: int = TOP,
    examples: int = EXAMPLES,
) -> list[dict[str, Any]]:
    """Pairs of intents the held-out predictions cannot tell apart.

    A pair ``(a, b)`` is a candidate when each intent has rows whose held-out top
    class is the other (confused both ways); it is listed when the AUC of
    ``p_b - p_a`` separating ``b``'s rows from ``a``'s is below ``max_auc``. The cost
    is one pass over the rows plus, per candidate pair, its two intents' rows.

    Parameters
    ----------
    pred_probs : array-like or sparse matrix of shape (N, K)
        Held-out class probabilities of each row (of checkers that did not see it).
    labels : ndarray of shape (N,)
        Label codes in ``0..K-1`` (the labels those checkers learned).
    max_auc : float, default=MERGE_AUC
    min_rows : int, default=MERGE_MIN_ROWS
        Rows each intent of a pair needs.
    top : int, default=TOP
        Pairs returned at most, the least separable first.
    examples : int, default=EXAMPLES
        Example rows per intent: those of ``a`` scored most like ``b`` and vice versa.

    Returns
    -------
    list of dict
        ``classes`` (the codes ``[a, b]``, ``a < b``), ``rows`` (``[n_a, n_b]``),
        ``auc``, ``shares`` (the share of ``a``'s rows predicted ``b`` and of ``b``'s
        predicted ``a``) and ``examples`` (two lists of row positions).

    Examples
    --------
    >>> p = np.array([[.6, .4, 0], [.4, .6, 0], [.55, .45, 0], [.45, .55, 0],
    ...               [0, 0, 1.]] * 3)
    >>> y = np.array([0, 0, 1, 1, 2] * 3)
    >>> [(m["classes"], m["auc"]) for m in merge_candidates(p, y, min_rows=2)]
    [([0, 1], 0.5)]
    """
    labels = np.asarray(labels, dtype=np.int64)
    probs = _as_probs(pred_probs, len(labels))
    k = probs.shape[1]
    top_class = _top_class(probs)
    size = np.bincount(labels, minlength=k)
    off = (top_class >= 0) & (top_class != labels)
    confused: dict[tuple[int, int], int] = {}
    for a, b in zip(labels[off].tolist(), top_class[off].tolist()):
        confused[(a, b)] = confused.get((a, b), 0) + 1
    pairs = sorted(
        {(min(a, b), max(a, b)) for a, b in confused if (b, a) in confused}
    )
    rows_of = _rows_by_class(labels, k)
    found = []
    for a, b in pairs:
        if size[a] < min_rows or size[b] < min_rows:
            continue
        rows = np.concatenate([rows_of[a], rows_of[b]])
        cols = probs[rows][:, [a, b]].toarray()
        score = cols[:, 1] - cols[:, 0]
        is_b = np.arange(len(rows)) >= len(rows_of[a])
        auc = pair_auc(score, is_b)
        if not auc < max_auc:
            continue
        like_b = rows_of[a][np.argsort(-score[~is_b], kind="stable")[:examples]]
        like_a = rows_of[b][np.argsort(score[is_b], kind="stable")[:examples]]
        found.append({
            "classes": [a, b],
            "rows": [int(size[a]), int(size[b])],
            "auc": round(auc, 4),
            "shares": [round(float(confused[(a, b)] / size[a]), 4),
                       round(float(confused[(b, a)] / size[b]), 4)],
            "examples": [like_b.tolist(), like_a.tolist()],
        })
    found.sort(key=lambda m: (m["auc"], -sum(m["rows"])))
    return found[:top]


def _rows_by_class(labels: np.ndarray, k: int) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[c]:bounds[c + 1]] for c in range(k)]


def _unit_rows(X: Any) -> Any:
    from sklearn.preprocessing import normalize

    if sp.issparse(X):
        return normalize(sp.csr_matrix(X, dtype=np.float64))
    return normalize(np.asarray(X, dtype=np.float64))


def _centroid(X: Any, rows: np.ndarray) -> np.ndarray:
    return np.asarray(X[rows].mean(axis=0)).ravel()


def _cosine(u: np.ndarray, v: np.ndarray) -> float:
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    return float(u @ v / (nu * nv)) if nu > 0 and nv > 0 else 0.0


def _two_means(X: Any, random_state: int | None) -> Any:
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():  # fewer distinct rows than clusters
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(n_clusters=2, n_init=3, random_state=random_state).fit(X)


def split_stability(
    X: Any, *, repeats: int = 3, random_state: int | None = 0
) -> float:
    """How well a 2-means split of half the rows predicts the split of the other half.

    The rows are cut at random into two halves A and B; 2-means is fitted on each, A's
    centroids assign B's rows, and the adjusted Rand index compares that with B's own
    split (1: the same split, 0: chance). Two groups that are really there are found
    again on rows the split did not see; a cut through one group moves with the sample.
    The mean over ``repeats`` random cuts.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n, D)
        One intent's rows (unit length).
    repeats : int, default=3
    random_state : int or None, default=0

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> two = np.vstack([rng.normal([3, 0], 0.3, (20, 2)), rng.normal([0, 3], 0.3, (20, 2))])
    >>> split_stability(two)
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(random_state)
    n = X.shape[0]
    scores = []
    for _ in range(repeats):
        order = rng.permutation(n)
        a, b = order[: n // 2], order[n // 2:]
        fit_a, fit_b = _two_means(X[a], random_state), _two_means(X[b], random_state)
        scores.append(adjusted_rand_score(fit_a.predict(X[b]), fit_b.labels_))
    return round(float(np.mean(scores)), 4)


def split_candidates(
    X: Any,
    labels: np.ndarray,
    *,
    min_rows: int = SPLIT_MIN_ROWS,
    min_share: float = SPLIT_MIN_SHARE,
    max_ratio: float = SPLIT_RATIO,
    min_stability: float = SPLIT_STABILITY,
    top: int = TOP,
    examples: int = EXAMPLES,
    random_state: int | None = 0,
) -> list[dict[str, Any]]:
    """Intents whose rows form two groups further apart than the intent is from others.

    For each intent with at least ``min_rows`` rows, 2-means (on the rows scaled to
    unit length, so distances are cosines) splits its rows in two halves. The intent is
    listed when

    - the smaller half holds at least ``min_share`` of its rows;
    - the cosine between the halves' centroids is at most ``max_ratio`` times the
      cosine between the intent's centroid and its nearest other intent's: its halves
      differ clearly more than the intent differs from its neighbour (the yardstick is
      the dataset's own, so the rule reads TF-IDF vectors and embeddings alike);
    - the split is found again on held-out rows: :func:`split_stability` at least
      ``min_stability``.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (N, D)
        Features of the rows (TF-IDF or embeddings).
    labels : ndarray of shape (N,)
        Label codes.
    min_rows : int, default=SPLIT_MIN_ROWS
    min_share : float, default=SPLIT_MIN_SHARE
    max_ratio : float, default=SPLIT_RATIO
    min_stability : float, default=SPLIT_STABILITY
    top : int, default=TOP
        Intents returned at most, the widest gap (relative to the nearest intent) first.
    examples : int, default=EXAMPLES
        Example rows per half: those nearest its centroid.
    random_state : int or None, default=0
        Seed of the 2-means and of the held-out cuts.

    Returns
    -------
    list of dict
        ``class`` (code), ``rows``, ``halves`` (``[n_1, n_2]``), ``halves_cosine``,
        ``nearest`` (the nearest other intent's code), ``nearest_cosine``,
        ``stability`` and ``examples`` (two lists of row positions).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal([4, 4, 0], 0.5, (20, 3)),   # intent 0: one topic
    ...                rng.normal([5, 0, 0], 0.5, (10, 3)),   # intent 1: two topics
    ...                rng.normal([0, 5, 0], 0.5, (10, 3)),
    ...                rng.normal([0, 0, 5], 0.5, (20, 3))])  # intent 2
    >>> y = np.repeat([0, 1, 2], 20)
    >>> [(s["class"], s["halves"]) for s in split_candidates(X, y)]
    [(1, [10, 10])]
    """
    labels = np.asarray(labels, dtype=np.int64)
    X = _unit_rows(X)
    if X.shape[0] != len(labels):
        raise InvalidInputError(
            f"X has {X.shape[0]} rows but labels has {len(labels)}; they must match"
        )
    k = int(labels.max(initial=-1)) + 1
    rows_of = _rows_by_class(labels, k)
    present = np.array([len(r) > 0 for r in rows_of], dtype=bool)
    if present.sum() < 2:
        return []
    centroids = np.vstack([
        _centroid(X, r) if len(r) else np.zeros(X.shape[1]) for r in rows_of
    ])
    norms = np.linalg.norm(centroids, axis=1)
    unit = centroids / np.where(norms > 0, norms, 1.0)[:, None]
    similar = unit @ unit.T
    similar[:, ~present] = -np.inf
    np.fill_diagonal(similar, -np.inf)
    found = []
    for c in np.flatnonzero(present).tolist():
        rows = rows_of[c]
        if len(rows) < min_rows:
            continue
        half = _two_means(X[rows], random_state).labels_
        sizes = np.bincount(half, minlength=2)
        if sizes.min() < min_share * len(rows):
            continue
        m = [_centroid(X, rows[half == h]) for h in (0, 1)]
        gap = _cosine(m[0], m[1])
        nearest = int(np.argmax(similar[c]))
        bar = float(similar[c, nearest])
        if not gap <= max_ratio * bar:
            continue
        stability = split_stability(X[rows], random_state=random_state)
        if stability < min_stability:
            continue
        picks = []
        for h in (0, 1):
            mine = rows[half == h]
            closeness = np.asarray(X[mine] @ m[h]).ravel()
            picks.append(mine[np.argsort(-closeness, kind="stable")[:examples]].tolist())
        found.append({
            "class": int(c),
            "rows": len(rows),
            "halves": [int(sizes[0]), int(sizes[1])],
            "halves_cosine": round(gap, 4),
            "nearest": nearest,
            "nearest_cosine": round(bar, 4),
            "stability": stability,
            "examples": picks,
        })
    found.sort(key=lambda s: s["halves_cosine"] / max(s["nearest_cosine"], 1e-12))
    return found[:top]


def _words(text: str) -> str:
    """Lowercased words of ``text``, punctuation dropped (``"What's up?"`` -> ``"whats up"``)."""
    return " ".join(re.findall(r"\w+", str(text).lower().replace("'", "").replace("\u2019", "")))


def char_vectors(texts: Sequence[str]) -> sp.csr_matrix:
    """Character 2-4-gram vectors of the words of ``texts``, rows of unit length.

    The features of :func:`near_duplicates` without sentence embeddings: TF-IDF
    (sublinear counts) of the n-grams of the lowercased words, punctuation and
    apostrophes dropped. The IDF weights make the n-grams every utterance has ("my",
    "the") light, so that two texts are near when they share their rarer words, and
    keep the all-pairs search sparse.

    Examples
    --------
    >>> X = char_vectors(["cancel my order", "Cancel my order!", "track my order"])
    >>> S = (X @ X.T).toarray()
    >>> round(float(S[0, 1]), 3), bool(S[0, 2] < NEAR_COSINE)
    (1.0, True)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                          sublinear_tf=True, preprocessor=_words, dtype=np.float64)
    try:
        return sp.csr_matrix(vec.fit_transform([str(t) for t in texts]))
    except ValueError:  # no text has a word
        return sp.csr_matrix((len(texts), 1))


def _text_key(text: Any) -> str:
    """Texts equal up to case and spaces share a key (as :func:`pico.text_groups`)."""
    return " ".join(str(text).casefold().split())


def _rare_part(X: sp.csr_matrix, budget: float) -> tuple[sp.csr_matrix, np.ndarray]:
    """Each row without its most common features, as long as their norm stays below ``budget``.

    For rows of unit length with no negative entry, ``x . y = P(x) . y + S(x) . y``
    where ``P(x)`` is the kept part and ``S(x)`` the dropped one, and
    ``S(x) . y <= |S(x)| < budget``. So a pair at a cosine ``t > budget`` shares a
    feature of ``P(x)`` with ``y``, and ``P(x) . y + |S(x)| >= t`` (prefix filtering,
    as in Bayardo et al., "Scaling up all pairs similarity search", WWW 2007). Products
    of the kept parts are sparse where those of whole rows are nearly dense.

    Returns
    -------
    kept : scipy.sparse.csr_matrix of shape (N, D)
    dropped_norm : ndarray of shape (N,)
        ``|S(x)|`` of each row.
    """
    n = X.shape[0]
    df = np.bincount(X.indices, minlength=X.shape[1])
    keep = np.ones(X.nnz, dtype=bool)
    dropped_norm = np.zeros(n)
    limit = (budget * (1.0 - 1e-6)) ** 2
    for i in range(n):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        if hi - lo < 2:
            continue
        order = np.argsort(-df[X.indices[lo:hi]], kind="stable")  # most common first
        mass = np.cumsum(X.data[lo:hi][order] ** 2)
        dropped = int(np.searchsorted(mass, limit, side="left"))  # mass[:dropped] < limit
        keep[lo + order[:dropped]] = False
        dropped_norm[i] = np.sqrt(mass[dropped - 1]) if dropped else 0.0
    rows = np.repeat(np.arange(n), np.diff(X.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=n))])
    kept = sp.csr_matrix((X.data[keep], X.indices[keep], indptr), shape=X.shape)
    return kept, dropped_norm


def near_duplicates(
    X: Any,
    labels: np.ndarray,
    *,
    min_cosine: float = NEAR_COSINE,
    groups: np.ndarray | None = None,
    top: int = TOP,
    block: int = 1024,
) -> list[dict[str, Any]]:
    """Pairs of rows with different labels whose vectors are nearly the same.

    Every pair at ``min_cosine`` or more is found. Sparse non-negative vectors (TF-IDF,
    n-gram counts) are compared by prefix filtering: a block of rows, each kept with
    its rarer features only, times all rows gives the candidate pairs (every pair at
    the bar among them, see :func:`_rare_part`), whose exact cosine is then computed.
    Dense vectors (embeddings) are compared by blocks of ``block`` rows against every
    row. Memory stays at one block's products.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (N, D)
        Vectors of the rows (scaled to unit length here).
    labels : ndarray of shape (N,)
        Label codes.
    min_cosine : float, default=NEAR_COSINE
    groups : ndarray of shape (N,), optional
        Exact-duplicate group of each row (:func:`pico.text_groups`): pairs inside a
        group are left out (a clean decides them as one), and each text is compared
        once per label (its first row stands for its repeats).
    top : int, default=TOP
        Pairs returned at most, the closest first.
    block : int, default=1024

    Returns
    -------
    list of dict
        ``rows`` (two positions, the first smaller) and ``cosine``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0], [1.0, 0.0]])
    >>> near_duplicates(X, np.array([0, 1, 1, 0]), groups=np.array([0, 1, 2, 0]))
    [{'rows': [0, 1], 'cosine': 0.96}]
    """
    labels = np.asarray(labels, dtype=np.int64)
    X = _unit_rows(X)
    n = X.shape[0]
    if n != len(labels):
        raise InvalidInputError(
            f"X has {n} rows but labels has {len(labels)}; they must match"
        )
    reps = np.arange(n)
    if groups is not None:  # one row for each text and label: repeats say nothing new
        groups = np.asarray(groups, dtype=np.int64)
        _, first = np.unique(np.stack([groups, labels], axis=1), axis=0, return_index=True)
        reps = np.sort(first)
        X, labels, groups, n = X[reps], labels[reps], groups[reps], len(reps)
    sparse = sp.issparse(X) and (X.nnz == 0 or X.data.min() >= 0)
    if sp.issparse(X) and not sparse:
        X = X.toarray()
    if sparse:
        probe, dropped_norm = _rare_part(X, PREFIX_BUDGET * min_cosine)
    XT = X.T.tocsc() if sparse else X.T
    bar = min_cosine - 1e-9
    best: list[tuple[float, int, int]] = []  # a min-heap of the closest pairs
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        if sparse:
            C = (probe[lo:hi] @ XT).tocoo()
            i, j = C.row + lo, C.col
            may = C.data + dropped_norm[i] >= bar  # the bound of _rare_part
            i, j = i[may], j[may]
        else:
            S = np.asarray(X[lo:hi] @ XT)
            ii, jj = np.nonzero(S >= bar)
            i, j = ii + lo, jj
        keep = (j > i) & (labels[i] != labels[j])
        if groups is not None:
            keep &= groups[i] != groups[j]
        i, j = i[keep], j[keep]
        if sparse:
            v = np.asarray(X[i].multiply(X[j]).sum(axis=1)).ravel() if len(i) else np.zeros(0)
        else:
            v = S[i - lo, j]
        at = v >= bar
        for value, a, b in zip(v[at].tolist(), i[at].tolist(), j[at].tolist()):
            item = (round(min(value, 1.0), 4), -a, -b)
            if len(best) < top:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
    ordered = sorted(best, key=lambda t: (-t[0], -t[1], -t[2]))
    return [{"rows": [int(reps[-a]), int(reps[-b])], "cosine": value}
            for value, a, b in ordered]


def _example(row: int, texts: Sequence[Any] | None, positions: np.ndarray | None) -> dict[str, Any]:
    out: dict[str, Any] = {"row": int(positions[row]) if positions is not None else int(row)}
    if texts is not None:
        out["text"] = str(texts[row])
    return out


def intent_advice(
    labels: Sequence[Any] | np.ndarray,
    pred_probs: Any = None,
    *,
    texts: Sequence[str] | None = None,
    features: Any = None,
    classes: Sequence[Any] | None = None,
    embeddings: Any = None,
    positions: np.ndarray | None = None,
    top: int = TOP,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Merge candidates, split candidates and near-duplicates of a labeled dataset.

    Parameters
    ----------
    labels : sequence of shape (N,)
        The labels (names, or codes into ``classes``).
    pred_probs : array-like or sparse matrix of shape (N, K), optional
        Held-out class probabilities (columns in the order of ``classes``); without
        them no merge candidate is looked for.
    texts : sequence of str, optional
        The rows' texts: shown as examples, and the near-duplicates' character n-grams
        (when ``embeddings`` is None).
    features : array-like or sparse matrix of shape (N, D), optional
        The rows' features for the split candidates (default: the TF-IDF of ``texts``
        is not computed; the character n-grams of ``texts`` are used instead).
    classes : sequence of shape (K,), optional
        Class names; default: the sorted distinct ``labels`` (then ``labels`` are
        names) . With ``classes``, ``labels`` may be names or codes.
    embeddings : array-like of shape (N, E), optional
        Sentence embeddings of the rows: the near-duplicates are read on them (at
        :data:`NEAR_COSINE_EMBEDDINGS`) instead of on character n-grams, and the split
        candidates too when ``features`` is None.
    positions : ndarray of shape (N,), optional
        The position reported for each row (default: its index here).
    top : int, default=TOP
    random_state : int or None, default=0

    Returns
    -------
    dict
        ``merge``, ``split``, ``near_duplicates`` (lists, named intents and example rows
        with their texts) and ``method`` (what each was read on, and the bars).

    Examples
    --------
    >>> texts = ["book a flight to paris", "Book a flight to Paris!", "book a flight",
    ...          "book a flight"]
    >>> labels = ["flight", "travel", "flight", "travel"]
    >>> advice = intent_advice(labels, texts=texts)
    >>> [(d["labels"], d["texts"]) for d in advice["near_duplicates"]]
    [(['flight', 'travel'], ['book a flight to paris', 'Book a flight to Paris!'])]
    """
    labels_arr = np.asarray(labels)
    n = len(labels_arr)
    if classes is None:
        names, codes = np.unique(labels_arr.astype(str), return_inverse=True)
        names_list: list[Any] = names.tolist()
    elif labels_arr.dtype.kind in "iu":
        names_list = list(classes)
        codes = labels_arr.astype(np.int64)
        if n and (codes.min() < 0 or codes.max() >= len(names_list)):
            raise InvalidInputError(
                f"label codes must lie in 0..{len(names_list) - 1} (one per class); got "
                f"{int(codes.min())}..{int(codes.max())}"
            )
    else:
        names_list = list(classes)
        index = {str(c): i for i, c in enumerate(names_list)}
        missing = sorted({str(v) for v in labels_arr.tolist()} - set(index))
        if missing:
            raise InvalidInputError(
                f"labels {missing[:5]} are not among classes; pass the classes of the labels"
            )
        codes = np.array([index[str(v)] for v in labels_arr.tolist()], dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64).ravel()
    if positions is not None:
        positions = np.asarray(positions, dtype=np.int64)
    if texts is not None and len(texts) != n:
        raise InvalidInputError(f"texts has {len(texts)} rows but labels has {n}; they must match")

    def ex(rows: Iterable[int]) -> list[dict[str, Any]]:
        return [_example(r, texts, positions) for r in rows]

    method: dict[str, Any] = {"merge": None, "split": None, "near_duplicates": None}
    merge = []
    if pred_probs is not None:
        method["merge"] = {"held_out_auc_below": MERGE_AUC, "min_rows": MERGE_MIN_ROWS}
        for m in merge_candidates(pred_probs, codes, top=top):
            a, b = m["classes"]
            merge.append({
                "intents": [str(names_list[a]), str(names_list[b])],
                "rows": m["rows"],
                "auc": m["auc"],
                "shares": m["shares"],
                "examples": [ex(m["examples"][0]), ex(m["examples"][1])],
            })
    near_X, near_name, near_bar = None, None, NEAR_COSINE
    if embeddings is not None:
        near_X, near_name, near_bar = embeddings, "sentence embeddings", NEAR_COSINE_EMBEDDINGS
    elif texts is not None:
        near_X, near_name = char_vectors(texts), "character 2-4-gram TF-IDF"
    split_X = features if features is not None else near_X
    split = []
    if split_X is not None:
        method["split"] = {"min_rows": SPLIT_MIN_ROWS, "min_share": SPLIT_MIN_SHARE,
                           "max_ratio": SPLIT_RATIO, "min_stability": SPLIT_STABILITY,
                           "features": "the run's features" if features is not None
                           else near_name}
        for s in split_candidates(split_X, codes, top=top, random_state=random_state):
            split.append({
                "intent": str(names_list[s["class"]]),
                "rows": s["rows"],
                "halves": s["halves"],
                "halves_cosine": s["halves_cosine"],
                "nearest": str(names_list[s["nearest"]]),
                "nearest_cosine": s["nearest_cosine"],
                "stability": s["stability"],
                "examples": [ex(s["examples"][0]), ex(s["examples"][1])],
            })
    near = []
    if near_X is not None:
        method["near_duplicates"] = {"features": near_name, "min_cosine": near_bar}
        groups = None
        if texts is not None:
            keys: dict[str, int] = {}
            groups = np.fromiter((keys.setdefault(_text_key(t), len(keys)) for t in texts),
                                 dtype=np.int64, count=n)
        for d in near_duplicates(near_X, codes, min_cosine=near_bar, groups=groups, top=top):
            i, j = d["rows"]
            entry: dict[str, Any] = {
                "rows": [_example(i, None, positions)["row"], _example(j, None, positions)["row"]],
                "labels": [str(names_list[codes[i]]), str(names_list[codes[j]])],
                "cosine": d["cosine"],
            }
            if texts is not None:
                entry["texts"] = [str(texts[i]), str(texts[j])]
            near.append(entry)
    return {"merge": merge, "split": split, "near_duplicates": near, "method": method}


def format_advice(advice: dict[str, Any] | None, *, indent: str = "  ", top: int = 5) -> list[str]:
    """The "intent advice" lines of a summary (none when there is nothing to say).

    Examples
    --------
    >>> advice = {"merge": [{"intents": ["a", "b"], "rows": [9, 8], "auc": 0.52,
    ...                      "shares": [0.4, 0.5],
    ...                      "examples": [[{"row": 1, "text": "hi"}], [{"row": 4}]]}],
    ...           "split": [], "near_duplicates": []}
    >>> print("\\n".join(format_advice(advice)))
    intent advice:
      merge? a / b: the checkers tell them apart no better than chance would allow (AUC 0.52; 40% of a predicted b, 50% of b predicted a), e.g. "hi" / row 4
    """
    if not advice:
        return []
    lines = []
    for m in advice.get("merge", [])[:top]:
        a, b = m["intents"]
        lines.append(
            f"{indent}merge? {a} / {b}: the checkers tell them apart no better than chance "
            f"would allow (AUC {m['auc']:.2f}; {100 * m['shares'][0]:.0f}% of {a} predicted "
            f"{b}, {100 * m['shares'][1]:.0f}% of {b} predicted {a}), e.g. "
            f"{_quote(m['examples'][0])} / {_quote(m['examples'][1])}"
        )
    for s in advice.get("split", [])[:top]:
        lines.append(
            f"{indent}split? {s['intent']} ({s['rows']} rows) looks like two groups of "
            f"{s['halves'][0]} and {s['halves'][1]}, further apart (cosine "
            f"{s['halves_cosine']:.2f}) than it is from {s['nearest']} "
            f"({s['nearest_cosine']:.2f}), e.g. {_quote(s['examples'][0])} / "
            f"{_quote(s['examples'][1])}"
        )
    for d in advice.get("near_duplicates", [])[:top]:
        shown = d.get("texts") or [f"row {r}" for r in d["rows"]]
        lines.append(
            f"{indent}near-duplicate ({d['cosine']:.2f}): \"{shown[0]}\" ({d['labels'][0]}) / "
            f"\"{shown[1]}\" ({d['labels'][1]})"
            if d.get("texts") else
            f"{indent}near-duplicate ({d['cosine']:.2f}): {shown[0]} ({d['labels'][0]}) / "
            f"{shown[1]} ({d['labels'][1]})"
        )
    return ["intent advice:", *lines] if lines else []


def _quote(examples: list[dict[str, Any]]) -> str:
    if not examples:
        return "-"
    e = examples[0]
    return f"\"{e['text']}\"" if "text" in e else f"row {e['row']}"
