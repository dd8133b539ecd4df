"""``check``: the quick pre-check of a labeled dataset (the trigger).

Light text features (:data:`TEXT_FEATURES`), one random split into ``n_folds`` folds
(two by default) and two cheap checkers per fold (the softmax checker and a
nearest-centroid one) give every row two out-of-sample predictions; the Bayesian vote
of the full pipeline then fits the label noise on them. The posterior probability
that a row's given label is wrong, averaged, is the estimated noise rate. Big datasets
are checked on a random sample of ``max_rows`` rows.

With ``reference`` (an already-cleaned dataset) one checker is trained on the
reference and judges the new rows only: a weekly batch is checked without checking the
whole dataset again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_fraction, check_int
from ..config import CHECK_DEFAULTS
from ..data.inputs import (
    check_finite,
    check_max_text_chars,
    is_texts,
    label_codes,
    missing_labels,
    take_rows,
    text_groups,
    truncate_texts,
)
from ..exceptions import InvalidInputError
from ..results import CheckEstimate, runner_up_labels

__all__ = ["CheckResult", "CheckSettings", "check", "text_featurizer"]

#: The vote's cost settings for the check: a smaller profile-likelihood search than a
#: clean's (the check needs the noise rate, not every row's decision). The EM keeps a
#: clean's 20 steps: stopped at 10, it had not reached its fixed point on systematic
#: noise (confusable 40% on CLINC150: 36.7% found instead of 38.5%), for 7% more check
#: time over the evaluation suite's cells (see docs/benchmarks-trigger.md, "The vote's EM
#: steps").
VOTE: dict[str, Any] = {"profile_rows": 2000, "profile_steps": 10, "max_iter": 20}

#: A look-alike pair is listed when it counts more than this share of its given class
#: (or more than the noise threshold, when that is higher). Close intents of clean
#: data count up to about a tenth of their class; a collapse moves more (see
#: docs/trigger.md).
LOOKALIKE_SHARE = 0.1

#: Temperature of the check's nearest-centroid checker (how sharply its probabilities
#: follow the cosine similarities; :class:`~pico.checkers.NearestCentroid`'s own default
#: is 20). Chosen on the evaluation suite, two noise seeds, by the mean absolute error of
#: the estimate (a sweep from 5 to 20 whose results were not kept; see docs/trigger.md).
CENTROID_TEMPERATURE = 8.0

#: A look-alike pair read off the centroid checker is a collapse when more than this many
#: times as many rows given ``a`` look like ``b`` as carry ``b``: most of ``b``'s rows
#: moved to ``a``. The given labels then fit the wrong reading as well as the true one, so
#: the vote cannot count those rows; the estimate adds them (see docs/trigger.md).
COLLAPSE_RATIO = 3.0

#: How a collapse's rows are counted (:func:`~pico.trigger.estimate.lookalike_pairs`
#: options): the rows of ``a`` that prefer ``b`` over ``a`` (``p_b / (p_a + p_b)`` of
#: 1/2 or more), over the share of the rows still given ``b`` that do. The collapsed
#: class keeps few rows (a dozen of CLINC150's 100), too few for the best-bin threshold
#: of a look-alike pair, whose minimum over many short tails undercounts; preferring
#: ``b`` over ``a`` rather than scoring ``b`` alone keeps the rows of a class that
#: merely resembles a small one out of the count (see docs/trigger.md, "Collapsed
#: pairs").
COLLAPSE_COUNT: dict[str, Any] = {"count": "boundary", "pairwise": True}

#: Text features of the check (:class:`~pico.featurizers.TfidfFeaturizer` parameters):
#: word (1-2)-grams and character 4-grams within word boundaries found in at least 3
#: rows. A clean's default (character 2-4-grams, 2 rows) stores 2.6-2.8 times as many
#: entries per row on BANKING77 and CLINC150, which the softmax fits read at every
#: step: with it the check took half as long again over the evaluation suite's cells,
#: for an estimate as close (see docs/benchmarks-trigger.md, "Text features").
TEXT_FEATURES: dict[str, Any] = {"char_ngrams": (4, 4), "min_df": 3}

#: Texts of at least this many characters count towards the script test of
#: :func:`text_featurizer` (shorter ones, "hi" or "ok", say nothing about spacing).
_SCRIPT_MIN_CHARS = 6


@dataclass(frozen=True)
class CheckSettings:
    """The check's tuned settings as one object: ``check(..., settings=CheckSettings(...))``.

    Each default is the module constant named below, the value the evaluation suite
    chose; :func:`check` without ``settings`` uses them. Other values are for measuring
    variants of the check (``experiments/trigger_variants.py``, compared on
    docs/benchmarks-trigger.md), not for everyday use.

    Attributes
    ----------
    vote : dict
        Keyword arguments of the check's :class:`~pico.vote.BayesianVote` (:data:`VOTE`).
    centroid_temperature : float
        Temperature of the nearest-centroid checker (:data:`CENTROID_TEMPERATURE`).
    lookalike_share : float
        Share of its class above which a look-alike pair is listed
        (:data:`LOOKALIKE_SHARE`).
    collapse_ratio : float
        A centroid look-alike pair is a collapse above this many times the rows still
        labeled like it (:data:`COLLAPSE_RATIO`; ``float("inf")``: no collapsed pairs).
    collapse_count : dict
        :func:`~pico.trigger.estimate.lookalike_pairs` options of the collapse count
        (:data:`COLLAPSE_COUNT`).

    Examples
    --------
    >>> CheckSettings().collapse_ratio == COLLAPSE_RATIO
    True
    >>> CheckSettings(vote={**VOTE, "max_iter": 10}).vote["max_iter"]
    10
    """

    vote: dict[str, Any] = field(default_factory=lambda: dict(VOTE))
    centroid_temperature: float = CENTROID_TEMPERATURE
    lookalike_share: float = LOOKALIKE_SHARE
    collapse_ratio: float = COLLAPSE_RATIO
    collapse_count: dict[str, Any] = field(default_factory=lambda: dict(COLLAPSE_COUNT))


@dataclass
class CheckResult:
    """What :func:`check` returns.

    Attributes
    ----------
    noise_rate : float
        Estimated fraction of the checked rows whose given label is wrong: the mean of
        ``wrong`` over the checked rows, plus the rows of ``collapsed_pairs`` the vote
        does not count.
    interval : tuple of float
        95% interval of ``noise_rate`` (see :func:`~pico.trigger.estimate.noise_interval`).
    wrong : ndarray of shape (N,)
        Per input row, the probability that its given label is wrong (NaN for rows not
        checked: no label, outside the sample, or a label the reference does not know).
    classes : list of dict
        Per given class: ``label``, ``rows`` (checked), ``expected_wrong``,
        ``noise_rate``; noisiest first.
    pairs : list of dict
        ``given``, ``probable`` (the class those rows probably belong to),
        ``expected_rows``; most first.
    conflicting_duplicates : list of dict
        Identical texts with different labels: ``rows`` (positions) and ``labels``.
    recommendation : dict
        ``clean`` (bool), ``focus`` (classes to clean; empty: none or all),
        ``everything`` (the noise is spread over most classes) and ``reason``.
    summary : dict
        Everything above in JSON-ready form, with counts, options and seconds, and
        ``suspicious_rows``: the rows likeliest mislabeled (:func:`suspicious_rows`).
    noise_rate_upper : float
        The estimate if every look-alike pair is mislabeling: ``noise_rate`` plus the
        rows the pairs count beyond the vote's own expected rows for them.
    lookalike_pairs : list of dict
        Classes whose rows the checkers cannot tell apart: ``given``, ``like`` (the
        class those rows look like), ``rows`` (how many look like it, see
        :func:`~pico.trigger.estimate.lookalike_pairs`) and ``vote_rows`` (how many of
        them the vote counts as wrong); most first.
    collapsed_pairs : list of dict
        Look-alike pairs of the centroid checker (counted as :data:`COLLAPSE_COUNT`
        says) where most of a class's rows carry another label (``rows`` >
        :data:`COLLAPSE_RATIO` times ``like_rows``, the rows still labeled ``like``):
        ``given``, ``like``, ``rows``, ``like_rows``, ``vote_rows``. Their rows beyond
        ``vote_rows`` are in ``noise_rate`` (and in their given class's
        ``expected_wrong``), not in ``wrong``.
    """

    noise_rate: float
    interval: tuple[float, float]
    wrong: np.ndarray
    classes: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    conflicting_duplicates: list[dict[str, Any]]
    recommendation: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    noise_rate_upper: float = float("nan")
    lookalike_pairs: list[dict[str, Any]] = field(default_factory=list)
    collapsed_pairs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def focus(self) -> list[Any]:
        """Classes a cleaning run should work on (all of them when ``everything``)."""
        return list(self.recommendation["focus"])


def text_featurizer(texts: Sequence[str]) -> Any:
    """The check's default featurizer for ``texts``.

    ``TfidfFeaturizer(**TEXT_FEATURES)``, unless most texts of at least 6 characters
    hold no whitespace (Chinese, Japanese, Thai: scripts written without spaces, where
    a word is often one or two characters and 4-grams would span several words); those
    keep a clean's default character 2-4-grams.

    Examples
    --------
    >>> text_featurizer(["book a flight", "play some jazz"]).char_ngrams
    (4, 4)
    >>> text_featurizer(["我想订一张机票", "播放一些爵士乐"]).char_ngrams
    (2, 4)
    """
    from ..featurizers.tfidf import TfidfFeaturizer

    long = [t.strip() for t in texts if len(t.strip()) >= _SCRIPT_MIN_CHARS]
    unspaced = sum(1 for t in long if not any(ch.isspace() for ch in t))
    if long and unspaced > 0.5 * len(long):
        return TfidfFeaturizer()
    return TfidfFeaturizer(**TEXT_FEATURES)


def _json_params(estimator: Any) -> dict[str, Any] | None:
    """``estimator``'s own parameters for the JSON summary (those JSON cannot hold: repr)."""
    import json

    if not hasattr(estimator, "get_params"):
        return None
    out: dict[str, Any] = {}
    for name, value in estimator.get_params(deep=False).items():
        try:
            json.dumps(value)
            out[name] = value
        except (TypeError, ValueError):
            out[name] = repr(value)
    return out


def _spread(n: int, most: int) -> np.ndarray:
    """At most ``most`` positions spread evenly over ``range(n)``."""
    return np.unique(np.linspace(0, n - 1, min(n, most)).astype(np.int64))


def _labeled(labels: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(labels, dtype=object) if not isinstance(labels, np.ndarray) else labels
    if len(arr) == 0:
        raise InvalidInputError(f"no rows to check: {name} is empty")
    return arr, np.flatnonzero(~missing_labels(arr))


def check(
    data: Any,
    labels: Sequence[Any] | np.ndarray,
    *,
    reference: Any = None,
    reference_labels: Sequence[Any] | np.ndarray | None = None,
    n_folds: int = CHECK_DEFAULTS.n_folds,
    max_rows: int | None = CHECK_DEFAULTS.max_rows,
    noise_threshold: float = CHECK_DEFAULTS.noise_threshold,
    top_k: int = CHECK_DEFAULTS.top_k,
    checker: Any = None,
    featurizer: Any = None,
    merge_duplicates: bool = CHECK_DEFAULTS.merge_duplicates,
    centroid: bool = CHECK_DEFAULTS.centroid,
    n_jobs: int = CHECK_DEFAULTS.n_jobs,
    random_state: int | None = CHECK_DEFAULTS.random_state,
    max_text_chars: int | None = CHECK_DEFAULTS.max_text_chars,
    catch_all: Any = CHECK_DEFAULTS.catch_all,
    settings: CheckSettings | None = None,
) -> CheckResult:
    """Estimate how many labels are wrong, where, and whether cleaning is worth it.

    Parameters
    ----------
    data : sequence of str, or array-like / sparse matrix of shape (N, D)
        Texts or numeric features, as for :func:`pico.clean`.
    labels : sequence of shape (N,)
        Given labels; missing ones are not checked.
    reference, reference_labels : optional
        An already-cleaned dataset (same kind of inputs) and its labels. When given,
        one checker trained on it judges the rows of ``data`` only.
    n_folds : int, default=2
        Folds of the one random split (ignored with ``reference``).
    max_rows : int or None, default=20000
        Rows checked at most (of ``data``, and of ``reference`` used for training): a
        larger dataset is checked on a random sample. None: every row.
    noise_threshold : float, default=0.03
        Estimated noise rate above which cleaning is recommended; a class is
        suspicious above it too.
    top_k : int, default=20
        Probabilities kept per row.
    checker : optional
        As for :func:`pico.clean`.
    featurizer : optional
        As for :func:`pico.clean`; the default for texts is lighter than a clean's:
        ``TfidfFeaturizer(**TEXT_FEATURES)`` (:data:`TEXT_FEATURES`), or a clean's own
        for texts written without spaces (see :func:`text_featurizer`).
    merge_duplicates : bool, default=True
        Identical texts share a fold and one decision.
    centroid : bool, default=True
        Also fit a nearest-centroid checker (:class:`~pico.checkers.NearestCentroid`,
        temperature :data:`CENTROID_TEMPERATURE`) on each fold; the vote weighs its
        evidence equally with ``checker``'s. A discriminative checker learns a
        systematic relabeling (most of one intent labeled as another) and then confirms
        it; class centroids are diluted by it instead, so the two together see that
        noise (see docs/trigger.md). Ignored with ``reference``, whose checker never
        sees the checked labels.
    n_jobs : int, default=-1
        Worker threads for the fold fits (-1: all cores; 1: this thread only).
    random_state : int or None, default=0
    max_text_chars : int or None, default=10000
        Texts longer than this are cut to it before featurizing, with a warning that
        counts them (as for :func:`pico.clean`).
    catch_all : "auto", None or sequence of labels, default="auto"
        Catch-all (out-of-scope) classes, as for :func:`pico.clean`. Their rows look
        wrong to the checkers whatever their labels (no checker models them as one
        class), so they are counted at the estimated rate of the other rows, and they
        form no collapsed pair.
    settings : CheckSettings, optional
        The check's tuned settings (default: ``CheckSettings()``, the module
        constants); other values are for experiments that compare variants.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> texts = ["book a flight to paris", "book a flight to rome", "flight to berlin please",
    ...          "play some jazz", "play rock music", "put on some jazz music"] * 10
    >>> labels = ["travel", "travel", "travel", "music", "music", "music"] * 10
    >>> result = check(texts, labels, merge_duplicates=False)
    >>> result.noise_rate < 0.03, result.recommendation["clean"]
    (True, False)
    """
    from ..corrector import catch_all_mask
    from ..featurizers.tfidf import NumericFeaturizer

    t0 = time.perf_counter()
    if settings is None:
        settings = CheckSettings()
    elif not isinstance(settings, CheckSettings):
        raise InvalidInputError(
            f"settings must be a CheckSettings, not {type(settings).__name__}; "
            "build one with pico.trigger.check.CheckSettings(...)"
        )
    check_int("n_folds", n_folds, 2)
    check_int("top_k", top_k, 1)
    if max_rows is not None:
        check_int("max_rows", max_rows, 10)
    check_fraction("noise_threshold", noise_threshold)
    labels_arr, keep = _labeled(labels, "labels")
    n = len(labels_arr)
    n_data = data.shape[0] if hasattr(data, "shape") else len(data)
    if n_data != n:
        raise InvalidInputError(f"data has {n_data} rows but labels has {n}; they must match")
    if len(keep) == 0:
        raise InvalidInputError("no labels to check: every label is empty")
    rng = np.random.default_rng(random_state)
    checked = keep
    if max_rows is not None and len(keep) > max_rows:
        checked = np.sort(rng.choice(keep, size=max_rows, replace=False))
    texts = is_texts(data)
    max_text_chars = check_max_text_chars(max_text_chars)
    if texts:  # cut once, here; the warning counts the rows cut
        data, _ = truncate_texts(data.tolist() if hasattr(data, "tolist") else data,
                                 max_text_chars)
        if reference is not None:
            reference, _ = truncate_texts(
                reference.tolist() if hasattr(reference, "tolist") else reference,
                max_text_chars,
            )

    def as_list(rows: Any) -> list[str]:
        return [str(t) for t in (rows.tolist() if hasattr(rows, "tolist") else rows)]

    if featurizer is None:
        featurizer = (
            text_featurizer(as_list(take_rows(data, checked[_spread(len(checked), 2000)])))
            if texts
            else NumericFeaturizer()
        )

    wrong = np.full(n, np.nan)
    if reference is None:
        if reference_labels is not None:
            raise InvalidInputError("reference_labels needs reference: pass both or neither")
        model, codes, classes, rows, n_fits, groups, probs = _check_self(
            data, labels_arr, checked, texts, featurizer, as_list,
            n_folds=n_folds, top_k=top_k, checker=checker, merge=merge_duplicates,
            centroid=centroid, n_jobs=n_jobs, random_state=random_state, settings=settings,
        )
        unknown = np.array([], dtype=np.int64)
    else:
        if reference_labels is None:
            raise InvalidInputError("reference needs reference_labels: pass the cleaned labels")
        model, codes, classes, rows, n_fits, groups, unknown, probs = _check_reference(
            data, labels_arr, checked, reference, reference_labels, texts, featurizer,
            as_list, max_rows=max_rows, top_k=top_k, checker=checker,
            merge=merge_duplicates, rng=rng, random_state=random_state, settings=settings,
        )
    q = 1.0 - model.probability(codes)
    if reference is None:
        q = _impute_catch_all(q, codes, catch_all_mask(classes, catch_all))
    wrong[rows] = q
    uses_centroid = bool(centroid) and reference is None
    found = _result(
        labels_arr, rows, codes, classes, q, model, probs, groups, unknown,
        catch_all=catch_all_mask(classes, catch_all),
        n_total=len(keep) - len(unknown),
        noise_threshold=noise_threshold,
        options={
            "n_folds": None if reference is not None else n_folds,
            "max_rows": max_rows,
            "noise_threshold": noise_threshold,
            "top_k": top_k,
            "checker": type(checker).__name__ if checker is not None else "SoftmaxRegression",
            "centroid": uses_centroid,
            "centroid_temperature": settings.centroid_temperature if uses_centroid else None,
            "featurizer": type(featurizer).__name__,
            "featurizer_params": _json_params(featurizer),
            "reference": reference is not None,
            "random_state": random_state,
        },
        n_fits=n_fits,
        seconds=time.perf_counter() - t0,
        wrong_all=wrong,
        settings=settings,
    )
    found.summary["suspicious_rows"] = suspicious_rows(
        data if texts else None, labels_arr, rows, codes, classes, q, model
    )
    return found


def _impute_catch_all(q: np.ndarray, codes: np.ndarray, catch_all: np.ndarray) -> np.ndarray:
    """Rows of catch-all classes counted at the mean wrong-label rate of the others.

    The checkers cannot read a heterogeneous class: its rows look wrong to them whether
    their labels are right or not, so they are evidence neither way.

    Examples
    --------
    >>> _impute_catch_all(np.array([0.1, 0.3, 0.9]), np.array([0, 0, 1]),
    ...                   np.array([False, True])).round(2).tolist()
    [0.1, 0.3, 0.2]
    """
    rows = catch_all[codes]
    if not rows.any() or rows.all():
        return q
    out = q.copy()
    out[rows] = float(q[~rows].mean())
    return out


def _check_self(
    data: Any, labels: np.ndarray, checked: np.ndarray, texts: bool, featurizer: Any,
    as_list: Any, *, n_folds: int, top_k: int, checker: Any, merge: bool, centroid: bool,
    n_jobs: int, random_state: int | None, settings: CheckSettings,
) -> tuple[
    Any, np.ndarray, np.ndarray, np.ndarray, int, np.ndarray | None, tuple[Any, Any]
]:
    from ..checkers.linear import NearestCentroid, SoftmaxRegression
    from ..executors.local import LocalExecutor
    from ..splits.engine import MultiSplit
    from ..store.memory import MemoryStore
    from ..vote.bayes import BayesianVote

    sample = take_rows(data, checked)
    if texts:
        sample = as_list(sample)
        groups = text_groups(sample) if merge else None
    else:
        check_finite(sample)
        groups = None
    X = featurizer.fit_transform(sample)
    if hasattr(X, "tocsr"):
        X = X.tocsr()
    given = labels[checked]
    if len(set(given.tolist())) < 2:
        raise InvalidInputError(
            "need at least 2 classes among the labeled rows to check them; check the label column"
        )
    classes, codes = label_codes(given)
    k = len(classes)
    checkers = [checker if checker is not None else SoftmaxRegression()]
    if centroid:
        checkers.append(NearestCentroid(temperature=settings.centroid_temperature))
    splitter = MultiSplit(
        checkers[0], n_branches=1, n_folds=n_folds, random_state=random_state,
        executor=LocalExecutor(n_jobs=n_jobs, prefer="threads"),
    )
    splitter.prepare(codes, groups)
    branches = []
    for model in checkers:  # every checker on the same folds
        splitter.checker = model
        store = MemoryStore(len(codes), k, top_k=top_k, keep_iterations=1)
        splitter.run(X, codes, k, store, 1)
        branches += list(store.branches(1))
    vote = BayesianVote(random_state=random_state, **settings.vote).fit(
        branches, codes, groups=groups, n_classes=k
    )
    centroid_probs = branches[1].probs if centroid else None
    return vote, codes, classes, checked, splitter.n_fits_, groups, (
        branches[0].probs, centroid_probs
    )


def _check_reference(
    data: Any, labels: np.ndarray, checked: np.ndarray, reference: Any,
    reference_labels: Any, texts: bool, featurizer: Any, as_list: Any, *,
    max_rows: int | None, top_k: int, checker: Any, merge: bool,
    rng: np.random.Generator, random_state: int | None, settings: CheckSettings,
) -> tuple[
    Any, np.ndarray, np.ndarray, np.ndarray, int, np.ndarray | None, np.ndarray,
    tuple[Any, Any],
]:
    import scipy.sparse as sp
    from sklearn.base import clone

    from ..checkers.linear import SoftmaxRegression
    from ..store.base import SparsePredictions
    from ..vote.bayes import BayesianVote

    ref_labels, ref_keep = _labeled(reference_labels, "reference_labels")
    n_ref = reference.shape[0] if hasattr(reference, "shape") else len(reference)
    if n_ref != len(ref_labels):
        raise InvalidInputError(
            f"reference has {n_ref} rows but reference_labels has {len(ref_labels)}; "
            "they must match"
        )
    if is_texts(reference) != texts:
        raise InvalidInputError(
            "data and reference must be the same kind of input (both texts or both features)"
        )
    if max_rows is not None and len(ref_keep) > max_rows:
        ref_keep = np.sort(rng.choice(ref_keep, size=max_rows, replace=False))
    ref_given = ref_labels[ref_keep].astype(str)
    classes, ref_codes = np.unique(ref_given, return_inverse=True)
    if len(classes) < 2:
        raise InvalidInputError("the reference needs at least 2 labeled classes")
    new_given = labels[checked].astype(str)
    index = {c: i for i, c in enumerate(classes.tolist())}
    known = np.array([g in index for g in new_given.tolist()], dtype=bool)
    unknown = checked[~known]
    rows = checked[known]
    if len(rows) == 0:
        raise InvalidInputError(
            "no new row carries a label the reference knows; nothing can be checked"
        )
    codes = np.array([index[g] for g in new_given[known].tolist()], dtype=np.int64)
    ref_part, new_part = take_rows(reference, ref_keep), take_rows(data, rows)
    if texts:
        ref_part, new_part = as_list(ref_part), as_list(new_part)
        X = featurizer.fit_transform(ref_part + new_part)
        groups = text_groups(new_part) if merge else None
    else:
        stack = sp.vstack if sp.issparse(ref_part) else np.vstack
        X = featurizer.fit_transform(stack([ref_part, new_part]))
        groups = None
    if hasattr(X, "tocsr"):
        X = X.tocsr()
    n_r = len(ref_keep)
    model = clone(checker) if checker is not None else SoftmaxRegression()
    if "random_state" in model.get_params():
        model.set_params(random_state=random_state)
    model.fit(X[:n_r], ref_codes)
    probs = np.zeros((len(rows), len(classes)))
    probs[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(X[n_r:])
    pred = SparsePredictions.from_dense(probs, top_k)
    vote = BayesianVote(random_state=random_state, **settings.vote).fit(
        [pred], codes, groups=groups, n_classes=len(classes), trained_on=ref_codes
    )
    return vote, codes, classes, rows, 1, groups, unknown, (pred.probs, None)


def _result(
    labels: np.ndarray, rows: np.ndarray, codes: np.ndarray, classes: np.ndarray,
    q: np.ndarray, model: Any, probs: Any, groups: np.ndarray | None, unknown: np.ndarray, *,
    catch_all: np.ndarray, n_total: int, noise_threshold: float, options: dict[str, Any],
    n_fits: int, seconds: float, wrong_all: np.ndarray, settings: CheckSettings,
) -> CheckResult:
    """The :class:`CheckResult`: the estimate, its recommendation in words, the summary."""
    from ..report import check_reason

    estimate = _estimate(
        labels, rows, codes, classes, q, model, probs, groups, catch_all=catch_all,
        n_total=n_total, noise_threshold=noise_threshold, settings=settings,
    )
    recommendation = {
        "clean": estimate.clean,
        "everything": estimate.everything,
        "focus": estimate.focus,
        "reason": check_reason(estimate),
    }
    shown = estimate.shown
    summary = {
        "rows": len(labels),
        "checked_rows": len(rows),
        "unknown_label_rows": len(unknown),
        "noise_rate": shown["noise_rate"],
        "interval": shown["interval"],
        "expected_wrong_rows": estimate.expected_wrong_rows,
        "noise_rate_upper": shown["noise_rate_upper"],
        "vote_noise_rate": estimate.vote_noise_rate,
        "recommendation": recommendation,
        "classes": estimate.classes,
        "pairs": estimate.pairs,
        "lookalike_pairs": estimate.lookalike_pairs,
        "collapsed_pairs": estimate.collapsed_pairs,
        "conflicting_duplicates": estimate.conflicting_duplicates,
        "checker_fits": n_fits,
        "seconds": round(seconds, 3),
        "options": options,
    }
    return CheckResult(
        estimate.noise_rate, estimate.interval, wrong_all, estimate.classes, estimate.pairs,
        estimate.conflicting_duplicates, recommendation, summary, estimate.noise_rate_upper,
        estimate.lookalike_pairs, estimate.collapsed_pairs,
    )


def _estimate(
    labels: np.ndarray, rows: np.ndarray, codes: np.ndarray, classes: np.ndarray,
    q: np.ndarray, model: Any, probs: Any, groups: np.ndarray | None, *,
    catch_all: np.ndarray, n_total: int, noise_threshold: float, settings: CheckSettings,
) -> CheckEstimate:
    """The noise of the checked rows, where it sits, and what to clean, from the vote."""
    from .estimate import (
        class_noise,
        collapsed_pairs,
        conflicting_duplicates,
        confused_pairs,
        focus_classes,
        lookalike_pairs,
        noise_interval,
        pair_matrix,
    )

    k = len(classes)
    names = [c.item() if hasattr(c, "item") else c for c in classes.tolist()]
    probs, centroid_probs = probs
    vote_rate, low, high = noise_interval(q, n_total=n_total)
    n_rows, bad = class_noise(codes, q, k)
    voted = pair_matrix(codes, model.candidates_, model.candidate_posterior_, k)
    purity = 1.0 - bad / np.maximum(n_rows, 1)
    lookalike_share = max(noise_threshold, settings.lookalike_share)
    # Collapses: most of class b's rows labeled a. The vote cannot count them (the given
    # labels fit that reading as well); the centroid's look-alike count can.
    collapsed = []
    collapse_rows = np.zeros(k)
    if centroid_probs is not None:
        # No collapse into or out of a catch-all: its rows look like other classes
        # whatever their labels (a small class beside a big one can be a real collapse).
        readable = [
            (a, b, found)
            for a, b, found in lookalike_pairs(
                centroid_probs, codes, k, purity=purity, **settings.collapse_count
            )
            if not (catch_all[a] or catch_all[b])
        ]
        found_pairs, collapse_rows = collapsed_pairs(
            readable, n_rows, voted, min_share=lookalike_share, ratio=settings.collapse_ratio,
        )
        collapsed = [
            {"given": names[a], "like": names[b], "rows": found, "like_rows": int(n_rows[b]),
             "vote_rows": round(vote_rows, 2)}
            for a, b, found, vote_rows in found_pairs
        ]
    shift = float(collapse_rows.sum()) / len(q)
    rate = min(1.0, vote_rate + shift)
    low, high = min(1.0, low + shift), min(1.0, high + shift)
    bad = np.minimum(bad + collapse_rows, n_rows)  # no class is more than all wrong
    per_class = [
        {
            "label": names[c],
            "rows": int(n_rows[c]),
            "expected_wrong": round(float(bad[c]), 2),
            "noise_rate": round(float(bad[c] / n_rows[c]), 4),
        }
        for c in np.argsort(-bad, kind="stable").tolist()
        if n_rows[c] > 0
    ]
    pairs_codes = confused_pairs(codes, model.candidates_, model.candidate_posterior_, k)
    pairs = [
        {"given": names[g], "probable": names[t], "expected_rows": e} for g, t, e in pairs_codes
    ]
    # Look-alike pairs: rows the checkers cannot tell from another class's rows. Listed
    # when they are more than LOOKALIKE_SHARE (or the threshold) of their class; what
    # they count beyond the vote's own expected rows of that pair raises the upper
    # estimate.
    lookalike = []
    excess = 0.0
    counted = {(p["given"], p["like"]) for p in collapsed}
    for a, b, found in lookalike_pairs(probs, codes, k, purity=purity):
        if found < 1.0 or found <= lookalike_share * n_rows[a]:
            continue
        vote_rows = float(voted[a, b])
        if (names[a], names[b]) not in counted:  # a collapse is in the estimate already
            excess += max(0.0, found - vote_rows)
        lookalike.append(
            {"given": names[a], "like": names[b], "rows": found,
             "vote_rows": round(vote_rows, 2)}
        )
    upper = min(1.0, rate + excess / len(q))
    dups = []
    if groups is not None:
        for members in conflicting_duplicates(groups, labels[rows]):
            pos = rows[members]
            dups.append(
                {"rows": pos.tolist(), "labels": sorted({str(labels[i]) for i in pos.tolist()})}
            )
    focus_codes, everything = focus_classes(n_rows, bad, pairs_codes, noise_threshold)
    do_clean = rate > noise_threshold
    focus = [names[c] for c in focus_codes] if do_clean else []
    if do_clean and not everything:
        # A look-alike pair is cleaned as a pair: the moved rows' fix is the other class.
        focus = list(dict.fromkeys(
            focus + [c for p in collapsed + lookalike for c in (p["given"], p["like"])]
        ))
        everything = len(focus) > 0.5 * k
    return CheckEstimate(
        noise_rate=rate,
        interval=(low, high),
        noise_rate_upper=upper,
        vote_noise_rate=round(vote_rate, 4),
        expected_wrong_rows=round(rate * n_total, 1),
        n_classes=k,
        noise_threshold=noise_threshold,
        classes=per_class,
        pairs=pairs,
        lookalike_pairs=lookalike,
        collapsed_pairs=collapsed,
        lookalike_excess=excess,
        conflicting_duplicates=dups,
        clean=bool(do_clean),
        everything=bool(do_clean and (everything or not focus)),
        focus=[] if (not do_clean or everything) else focus,
    )


#: Rows listed in the summary's ``suspicious_rows`` (``pico check --json``).
SUSPICIOUS_ROWS = 20


def suspicious_rows(
    texts: Sequence[str] | None,
    labels: np.ndarray,
    rows: np.ndarray,
    codes: np.ndarray,
    classes: np.ndarray,
    wrong: np.ndarray,
    model: Any,
    most: int = SUSPICIOUS_ROWS,
) -> list[dict[str, Any]]:
    """The checked rows likeliest to be mislabeled, likeliest first (JSON-ready).

    Parameters
    ----------
    texts : sequence of str or None
        The input texts (None for numeric features).
    labels : ndarray of shape (N,)
        The given labels of every input row.
    rows : ndarray of shape (n,)
        The input rows checked; ``codes``, ``wrong`` and the vote ``model`` are theirs.
    codes : ndarray of shape (n,)
    classes : ndarray of shape (K,)
    wrong : ndarray of shape (n,)
        Probability that each checked row's given label is wrong (the score).
    model : BayesianVote
        The fitted vote; ``suggested`` is the row's most probable other class.
    most : int, default=20

    Returns
    -------
    list of dict
        ``index`` (the input row, from 0), ``text``, ``given``, ``suggested``, ``score``.
    """

    def plain(value: Any) -> Any:
        return value.item() if hasattr(value, "item") else value

    order = np.argsort(-wrong, kind="stable")[:most]
    other, _ = runner_up_labels(model, codes, classes)
    return [
        {
            "index": int(rows[j]),
            "text": None if texts is None else str(texts[int(rows[j])]),
            "given": plain(labels[int(rows[j])]),
            "suggested": plain(other[j]),
            "score": round(float(wrong[j]), 4),
        }
        for j in order.tolist()
    ]

