"""IterativeCorrector: splits -> store -> vote -> relabel, iterated, with the label history."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ._validation import check_fraction, check_int
from .checkers.linear import SoftmaxRegression
from .checkpoint import Checkpoint, damaged_checkpoint, load_checkpoint, save_checkpoint
from .config import CATCH_ALL_NAMES, DEFAULTS
from .data.inputs import label_codes
from .exceptions import InvalidInputError
from .executors.base import Executor
from .executors.local import LocalExecutor
from .history.model import LabelHistoryModel
from .splits.engine import MultiSplit
from .store.base import PredictionStore, SparsePredictions
from .store.memory import MemoryStore

__all__ = [
    "REVIEW_REASONS",
    "STATUSES",
    "IterativeCorrector",
    "catch_all_mask",
    "class_recall",
    "limit_class_loss",
    "relabel_mask",
    "split_shape",
]

_log = logging.getLogger(__name__)

#: Row statuses, in the order reports list them.
STATUSES = ("kept", "relabeled", "review", "skipped")

#: Why a move the vote proposed was left to review instead (``review_reasons_``).
REVIEW_REASONS = ("protected", "catch_all", "weak_class", "low_confidence")


#: Rows from which the default split shape is R=2 x F=10 instead of R=4 x F=5.
WIDE_FOLDS_MIN_ROWS = 1000
#: Checkers per iteration the default split shape aims at (R x F).
CHECKERS_PER_ITERATION = 20


def split_shape(
    n_rows: int, n_branches: int | None = None, n_folds: int | None = None
) -> tuple[int, int]:
    """The R x F of a run: the options given, the defaults for those left ``None``.

    The default folds are 10 from :data:`WIDE_FOLDS_MIN_ROWS` rows up (each checker
    learns from 90% of the rows) and 5 below, where each row needs more held-out votes
    per iteration; the default branches bring R x F to about
    :data:`CHECKERS_PER_ITERATION` (2 x 10 and 4 x 5 are the same 20 fits).

    Parameters
    ----------
    n_rows : int
    n_branches, n_folds : int or None

    Returns
    -------
    (n_branches, n_folds) : tuple of int

    Examples
    --------
    >>> split_shape(15000), split_shape(300), split_shape(300, n_folds=3)
    ((2, 10), (4, 5), (6, 3))
    """
    if n_folds is None:
        n_folds = 10 if n_rows >= WIDE_FOLDS_MIN_ROWS else 5
    if n_branches is None:
        n_branches = max(1, CHECKERS_PER_ITERATION // n_folds)
    return int(n_branches), int(n_folds)


def relabel_mask(
    best_p: np.ndarray, given_p: np.ndarray, threshold: float, odds: float
) -> np.ndarray:
    """Rows whose most probable class may replace the given label.

    The class's posterior ``best_p`` must reach ``threshold`` and be at least ``odds``
    times the given label's posterior ``given_p`` (``odds`` = 1: the threshold alone).

    Examples
    --------
    >>> relabel_mask(np.array([0.9, 0.7, 0.7]), np.array([0.05, 0.2, 0.05]), 0.6, 10.0)
    array([ True, False,  True])
    """
    return (best_p >= threshold) & (best_p >= odds * given_p)  # type: ignore[no-any-return]


def limit_class_loss(
    given: np.ndarray,
    proposed: np.ndarray,
    strength: np.ndarray,
    max_loss: float,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Let at most ``max_loss`` of each class's given rows leave it, strongest moves first.

    Parameters
    ----------
    given, proposed : ndarray of shape (N,)
        Given labels and the labels proposed for this iteration (codes).
    strength : ndarray of shape (N,)
        How sure each proposed move is (the posterior of the proposed class).
    max_loss : float
        Largest fraction of a class's given rows that may move to other classes.
    n_classes : int

    Returns
    -------
    labels : ndarray of shape (N,)
        ``proposed`` with the weakest moves out of over-limit classes undone.
    held : ndarray of shape (N,)
        Rows whose move was undone.

    Examples
    --------
    >>> given = np.array([0, 0, 0, 0, 1, 1])
    >>> labels, held = limit_class_loss(given, np.array([1, 1, 1, 0, 1, 1]),
    ...                                 np.array([.9, .7, .8, 1., 1., 1.]), 0.5, 2)
    >>> labels.tolist(), held.tolist()
    ([1, 0, 1, 0, 1, 1], [False, True, False, False, False, False])
    """
    labels = proposed.copy()
    held = np.zeros(len(given), dtype=bool)
    moved = proposed != given
    allowed = np.floor(max_loss * np.bincount(given, minlength=n_classes)).astype(np.int64)
    leaving = np.bincount(given[moved], minlength=n_classes)
    for c in np.flatnonzero(leaving > allowed):
        rows = np.flatnonzero(moved & (given == c))
        weakest = rows[np.argsort(-strength[rows], kind="stable")][allowed[c] :]
        labels[weakest] = given[weakest]
        held[weakest] = True
    return labels, held


def class_recall(
    branches: Iterable[SparsePredictions], labels: np.ndarray, n_classes: int
) -> np.ndarray:
    """Share of each class's rows whose held-out top class is their label.

    The checkers' recall of each class, averaged over branches: how often a checker
    that did not see a row ranks the row's (training) label first. Low for classes the
    checkers cannot learn: a handful of rows, or a heterogeneous catch-all.

    Parameters
    ----------
    branches : iterable of SparsePredictions
        One iteration's held-out predictions, (N, K) each.
    labels : ndarray of shape (N,)
        The label codes those checkers trained on.
    n_classes : int

    Returns
    -------
    ndarray of shape (K,)
        NaN for a class without rows.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> p = SparsePredictions(sp.csr_matrix(np.array([[.9, .1], [.6, .4], [.7, .3]])),
    ...                       np.zeros(3))
    >>> class_recall([p], np.array([0, 1, 1]), 2).tolist()
    [1.0, 0.0]
    """
    labels = np.asarray(labels, dtype=np.int64)
    hits = np.zeros(n_classes)
    seen = np.zeros(n_classes)
    size = np.bincount(labels, minlength=n_classes).astype(np.float64)
    for pred in branches:
        top = np.asarray(pred.probs.argmax(axis=1)).ravel()
        hits += np.bincount(labels[top == labels], minlength=n_classes)
        seen += size
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / seen  # type: ignore[no-any-return]


def catch_all_mask(classes: np.ndarray, catch_all: Any) -> np.ndarray:
    """Which classes are catch-all (out-of-scope) labels.

    Parameters
    ----------
    classes : ndarray of shape (K,)
    catch_all : "auto", None or sequence of labels
        ``"auto"``: the labels named like one (:data:`pico.config.CATCH_ALL_NAMES`);
        None: none; a sequence: those labels (each must be one of ``classes``).

    Examples
    --------
    >>> catch_all_mask(np.array(["NO_NODES_DETECTED", "greet", "oos"]), "auto").tolist()
    [True, False, True]
    >>> catch_all_mask(np.array(["a", "misc"]), ["misc"]).tolist()
    [False, True]
    """
    names = [str(c) for c in np.asarray(classes, dtype=object).tolist()]
    if catch_all is None:
        return np.zeros(len(names), dtype=bool)
    if isinstance(catch_all, str) and catch_all == "auto":
        def key(name: str) -> str:
            return "".join(ch for ch in name.casefold() if ch.isalnum())

        return np.array([key(n) in CATCH_ALL_NAMES for n in names], dtype=bool)
    return _named_classes(names, catch_all, "catch_all")


def _named_classes(names: list[str], wanted: Any, parameter: str) -> np.ndarray:
    """Mask of ``names`` listed in ``wanted``; an unknown name is an error."""
    if isinstance(wanted, str):
        wanted = [wanted]
    wanted = [str(w) for w in wanted]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5])
        raise InvalidInputError(
            f"{parameter} names {shown}, which {'is' if len(unknown) == 1 else 'are'} not a "
            f"label of the data; labels are {', '.join(names[:10])}"
            f"{' ...' if len(names) > 10 else ''}"
        )
    return np.isin(np.array(names, dtype=object), np.array(wanted, dtype=object))


class IterativeCorrector(BaseEstimator):  # type: ignore[misc]
    """Find and correct wrong labels by iterated MultiSplit-Train-Check and Bayesian vote.

    Each iteration trains ``n_branches x n_folds`` checkers on the current labels, each
    predicting the rows it did not see; the Bayesian vote
    (:class:`~pico.history.LabelHistoryModel` on the last iteration, or on every
    iteration so far with ``history=True``) combines those predictions with the given
    label (whose reliability per class it estimates) into a posterior; rows whose
    posterior for another class reaches
    ``relabel_threshold``, and is at least ``relabel_odds`` times the posterior of the
    row's given label, take that class. The next iteration's checkers train on the
    likeliest labels (``training_odds``). It stops after ``n_iterations`` or when fewer
    than ``tol`` of the rows change, in the returned labels and in the training labels.

    Parameters
    ----------
    checker : estimator with fit/predict_proba, optional
        Cloned for every split. Default: :class:`~pico.checkers.SoftmaxRegression`.
    n_branches : int, optional
        R, independent random splits per iteration. Default: 20 / ``n_folds``
        (:func:`split_shape`): 2 with the default folds from 1,000 rows, 4 below.
    n_folds : int, optional
        F, folds per split. Default: 10 from 1,000 rows (each checker learns from 90%
        of the rows), 5 below (more held-out votes per row and iteration).
    n_iterations : int, default=3
        T, the most iterations run. Each later iteration retrains the checkers on the
        likeliest labels of the previous one; with ``history`` the label-history model
        weighs every iteration's evidence, so the wrong corrections a retrained checker
        learns do not simply confirm themselves (docs/benchmarks-key.md has the
        ablation).
    relabel_threshold : float, default=0.6
        Posterior a new class needs before a row is relabeled.
    relabel_odds : float, default=7.0
        How many times as probable as the given label a new class must be before a
        row is relabeled: the cost of a wrong change (a correct label damaged) counted
        against the gain of a right one. 1 turns the rule off (a class with posterior
        above 0.5 is always likelier than the given label). Rows it holds back keep
        their label with status ``review``.
    training_odds : float, default=1.0
        The same odds for the labels the next iteration's checkers train on. The
        returned labels follow ``relabel_odds``; the checkers learn from the likeliest
        labels (a class above ``relabel_threshold`` is enough at 1), because a
        checker trained on fewer wrong labels gives better evidence, and a wrong
        training label costs no returned label.
    review_threshold : float, default=0.5
        A kept row whose own label's posterior is below this is marked ``review``.
    tol : float, default=0.002
        Stop when fewer than this fraction of rows change in an iteration, both in the
        returned labels and in the labels the next iteration's checkers would train on.
    top_k : int, default=20
        Probabilities kept per row and checker in the prediction store.
    max_class_loss : float, default=0.5
        Guard against a class being absorbed by its neighbours: in one iteration at most
        this fraction of the rows given a class may leave it; beyond that only the
        most confident moves happen, the others keep their label with status
        ``review``, and the class is reported in ``guarded_classes_``.
    history : bool, default=True
        Combine the evidence of every iteration so far with the label-history model
        (:class:`~pico.history.LabelHistoryModel`) instead of voting on the last
        iteration alone; rows whose history is expected to change label more than
        once are marked ``review``.
    confidence_scale : float, default=0.7
        Factor on the vote's fitted evidence weights for the reported confidences
        (``confidence_``): the fitted posterior is sharper than its accuracy, so the
        confidence a person reads comes from flatter weights, while every decision
        (relabel, review) uses the fitted posterior. 0.7 calibrates the moved rows'
        confidence on the evaluation suite (docs/algorithm.md, section 7); 1 reports
        the fitted posterior.
    protect : sequence of labels, optional
        Classes whose rows are never moved automatically: a move the vote proposes
        out of one of them is left to review (status ``review``) instead.
    catch_all : "auto", None or sequence of labels, default="auto"
        The catch-all (out-of-scope) classes: heterogeneous rows that no checker models
        as one class, so a move out of one or into one is made only when its
        ``confidence_`` reaches the break-even of the relabel odds,
        ``relabel_odds / (1 + relabel_odds)`` (7/8 at the default odds: a damaged label
        counts seven fixed ones); others go to review. ``"auto"``: the labels named like one
        (``oos``, ``out_of_scope``, ``nlu_fallback``, ``None``, ``NO_NODES_DETECTED``...:
        :data:`pico.config.CATCH_ALL_NAMES`); None: no catch-all.
    min_class_recall : float, default=0.5
        A move out of a class whose rows the last checkers recognised less often than
        this (held-out top-1 recall, ``class_recall_``) goes to review: their evidence
        against a class they cannot learn (a few rows, a heterogeneous one) is weak.
        0 turns this off.
    executor : Executor, optional
        Where checkers train. Default: :class:`~pico.executors.LocalExecutor` with
        ``n_jobs`` workers.
    n_jobs : int, default=1
        Workers of the default executor (-1: every core).
    store_factory : callable, optional
        ``store_factory(n_rows, n_classes) -> PredictionStore``; default in memory.
    random_state : int or None, default=None
        Seeds every split; the same seed gives the same result.
    progress : callable, optional
        ``progress(event: str, info: dict)`` called when an iteration starts
        (``"start"``), on each finished checker (``"checker"``: iteration, done,
        total) and iteration (``"iteration"``: its record in ``iterations_``).
    checkpoint_dir : str or Path, optional
        Folder where the state after each finished iteration is saved, without pickle
        (:mod:`pico.checkpoint`): ``arrays.npz`` holds the current labels, the label
        and training-label histories, the last vote's best class and posteriors, the
        rows held back and the stored predictions (the memory store's top-k arrays;
        the Spark store's Parquet files stay where they are and only their names are
        saved); ``state.json`` the iteration records, the store's metadata, a
        fingerprint of the data and options and the SHA-256 of ``arrays.npz``. Both
        are written atomically. The fitted checkers (warm starts) and the fitted vote
        are not saved: a checkpoint is about the size of the stored predictions. The
        store must have ``state()`` and ``restore()`` (both built-in stores do).
        :func:`pico.checkpoint.remove_checkpoint` deletes it.
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` (after its last finished
        iteration; from the start when there is none; an old ``checkpoint.pkl`` is
        never read). Every check comes first: a checkpoint made with other data,
        options or store, or one that is damaged, is refused with
        :class:`~pico.exceptions.InvalidInputError`. What a resumed run guarantees:
        the finished iterations are not rerun and their stored predictions, labels
        and history are used as they were; a checkpoint of a run that had already
        stopped gives the uninterrupted run's labels, confidences and statuses
        exactly (the vote is refitted from the stored predictions, deterministically).
        Otherwise the next iteration's checkers start from fresh clones rather than
        warm from the previous fits, so their predictions, and the final labels of a
        few rows, can differ from an uninterrupted run's, and that iteration takes
        longer; the iterations after it warm-start again.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    labels_ : ndarray of shape (N,)
        Corrected labels (values of ``classes_``).
    confidence_ : ndarray of shape (N,)
        Probability that ``labels_`` is right (the posterior with the evidence weights
        scaled by ``confidence_scale``).
    status_ : ndarray of shape (N,)
        ``kept``, ``relabeled`` or ``review``. A move is made only when its
        ``confidence_`` reaches ``relabel_threshold`` and no rule below holds it back;
        otherwise the row keeps its label and goes to review.
    review_reasons_ : dict
        Moves left to review, by reason (:data:`REVIEW_REASONS`): ``protected``,
        ``catch_all``, ``weak_class`` (``min_class_recall``), ``low_confidence``
        (``confidence_`` of the new label below ``relabel_threshold``).
    class_recall_ : ndarray of shape (K,)
        The last iteration's checkers' held-out recall of each class
        (:func:`class_recall`).
    suggested_ : ndarray of shape (N,)
        Most probable class under the final posterior among the row's candidates (the
        classes a checker ranked in its top ``top_k``, and the given label), also for
        rows not relabeled.
    suggested_confidence_ : ndarray of shape (N,)
        Its posterior probability (the fitted posterior, which the relabel rule reads).
    given_confidence_ : ndarray of shape (N,)
        Posterior probability of the given label (the fitted posterior).
    history_ : ndarray of shape (N, n_iter_ + 1)
        Label codes: column 0 the given labels, column t the labels after iteration t.
    training_labels_ : ndarray of shape (N, n_iter_)
        Label codes the checkers of iteration t trained on (column t - 1): the given
        labels first, then each iteration's likeliest labels (``training_odds``).
    model_ : LabelHistoryModel
        The fitted vote / label-history model of the last iteration.
    noise_matrix_ : NoiseMatrix
        Its noise matrix, kept sparse (:class:`~pico.vote.noise.NoiseMatrix`).
    noise_ : ndarray of shape (K, K)
        The noise matrix, dense (computed on access: K * K floats).
    posterior_ : ndarray of shape (N, K)
        Final posterior over every class (computed on access from ``model_``, which
        keeps each row's candidate classes only: N * K floats).
    iterations_ : list of dict
        Per iteration: rows changed, tempering, estimated noise rate, seconds.
    held_back_ : ndarray of shape (N,)
        Rows whose confident move the ``max_class_loss`` guard stopped in the last
        iteration (status ``review``).
    guarded_classes_ : dict
        Class -> rows the guard held back in the last iteration.
    expected_changes_ : ndarray of shape (N,)
        With ``history``: expected number of label changes along each row's history
        (zeros otherwise).
    n_branches_, n_folds_ : int
        The R x F the run used (:func:`split_shape`).
    n_iter_ : int
    n_fits_ : int
        Checker fits run.

    Examples
    --------
    >>> from pico.benchmarking import make_blobs_with_noise
    >>> X, y_true, y_noisy = make_blobs_with_noise(n_samples=300, n_classes=3, rate=0.1,
    ...                                            random_state=0)
    >>> corr = IterativeCorrector(n_branches=2, n_iterations=2, random_state=0)
    >>> corr = corr.fit(X, y_noisy)
    >>> bool((corr.labels_ == y_true).mean() > (y_noisy == y_true).mean())
    True
    """

    def __init__(
        self,
        checker: Any = None,
        *,
        n_branches: int | None = DEFAULTS.n_branches,
        n_folds: int | None = DEFAULTS.n_folds,
        n_iterations: int = DEFAULTS.n_iterations,
        relabel_threshold: float = DEFAULTS.relabel_threshold,
        relabel_odds: float = DEFAULTS.relabel_odds,
        training_odds: float = DEFAULTS.training_odds,
        review_threshold: float = DEFAULTS.review_threshold,
        tol: float = 0.002,
        top_k: int = DEFAULTS.top_k,
        max_class_loss: float = DEFAULTS.max_class_loss,
        history: bool = DEFAULTS.history,
        confidence_scale: float = DEFAULTS.confidence_scale,
        protect: Any = DEFAULTS.protect,
        catch_all: Any = DEFAULTS.catch_all,
        min_class_recall: float = DEFAULTS.min_class_recall,
        executor: Executor | None = None,
        n_jobs: int = 1,
        store_factory: Callable[[int, int], PredictionStore] | None = None,
        random_state: int | None = None,
        progress: Callable[[str, dict[str, Any]], None] | None = None,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
    ) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.checker = checker
        self.n_branches = n_branches
        self.n_folds = n_folds
        self.n_iterations = n_iterations
        self.relabel_threshold = relabel_threshold
        self.relabel_odds = relabel_odds
        self.training_odds = training_odds
        self.review_threshold = review_threshold
        self.tol = tol
        self.top_k = top_k
        self.max_class_loss = max_class_loss
        self.history = history
        self.confidence_scale = confidence_scale
        self.protect = protect
        self.catch_all = catch_all
        self.min_class_recall = min_class_recall
        self.executor = executor
        self.n_jobs = n_jobs
        self.store_factory = store_factory
        self.random_state = random_state
        self.progress = progress

    def _validate(self) -> None:
        if self.n_branches is not None:
            check_int("n_branches", self.n_branches, 1)
        if self.n_folds is not None:
            check_int("n_folds", self.n_folds, 2)
        check_int("n_iterations", self.n_iterations, 1)
        check_int("top_k", self.top_k, 1)
        check_fraction("relabel_threshold", self.relabel_threshold, 0.5, 1.0)
        check_fraction("relabel_odds", self.relabel_odds, 1.0, np.inf)
        check_fraction("training_odds", self.training_odds, 1.0, np.inf)
        check_fraction("review_threshold", self.review_threshold)
        check_fraction("tol", self.tol)
        check_fraction("max_class_loss", self.max_class_loss)
        check_fraction("confidence_scale", self.confidence_scale)
        check_fraction("min_class_recall", self.min_class_recall)
        if self.checker is not None and not (
            hasattr(self.checker, "fit") and hasattr(self.checker, "predict_proba")
        ):
            raise InvalidInputError(
                "The 'checker' parameter must be an estimator with fit and predict_proba "
                f"methods. Got {type(self.checker).__name__} instead."
            )

    def fit(self, X: Any, labels: Any, *, groups: np.ndarray | None = None) -> IterativeCorrector:
        """Correct ``labels`` of the rows of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (N, D)
            Features, computed once and shared by every checker.
        labels : array-like of shape (N,)
            Given (possibly wrong) labels; at least two distinct values.
        groups : ndarray of shape (N,), optional
            Rows with the same id (identical texts) share folds and one posterior.

        Returns
        -------
        self : IterativeCorrector
        """
        return self._fit(X, labels, groups, None)

    def fit_predictions(
        self,
        pred_probs: Any,
        labels: Any,
        *,
        groups: np.ndarray | None = None,
    ) -> IterativeCorrector:
        """Correct ``labels`` from held-out predictions made elsewhere, training nothing.

        Iteration t takes ``pred_probs[t - 1]`` as its checkers' predictions instead of
        training any; the vote (with ``history``, the label-history model over every
        iteration given), the relabel rule and the review rules run as in :meth:`fit`.
        Every iteration given is used (``n_iterations`` and ``tol`` do not apply).
        :func:`pico.clean` with ``pred_probs`` builds the arguments from matrices.

        Parameters
        ----------
        pred_probs : sequence of sequences of SparsePredictions
            Per iteration, each checker's out-of-sample predictions of every row, shape
            (N, K), columns in the order of ``np.unique(labels)``.
        labels : array-like of shape (N,)
            Given labels; at least two distinct values.
        groups : ndarray of shape (N,), optional
            Rows with the same id share one posterior.

        Returns
        -------
        self : IterativeCorrector

        Notes
        -----
        The vote divides out the class frequencies each iteration's checkers learned
        from. The first iteration's are taken to be the given labels' and a later
        iteration's those of the labels pico's own checkers would train on then (the
        likeliest labels under ``training_odds``).
        """
        iterations = [list(block) for block in pred_probs]
        if not iterations or not all(iterations):
            raise InvalidInputError(
                "pred_probs needs at least one matrix of predictions in every iteration"
            )
        return self._fit(None, labels, groups, iterations)

    def _fit(
        self,
        X: Any,
        labels: Any,
        groups: np.ndarray | None,
        predictions: list[list[SparsePredictions]] | None,
    ) -> IterativeCorrector:
        """:meth:`fit`, or with ``predictions`` :meth:`fit_predictions`."""
        self._validate()
        labels = np.asarray(labels)
        if predictions is not None:  # nothing is trained: only the row count is read
            X = np.empty((len(labels), 0))
        if X.shape[0] != len(labels):
            raise InvalidInputError(
                f"X has {X.shape[0]} rows but labels has {len(labels)}; they must match"
            )
        classes, given = label_codes(labels)
        if len(classes) < 2:
            raise InvalidInputError(
                f"need at least 2 classes to check labels; got {len(classes)} "
                f"({', '.join(map(str, classes[:3]))})"
            )
        n, k = len(given), len(classes)
        for t, block in enumerate(predictions or [], 1):
            for b, pred in enumerate(block, 1):
                if pred.shape != (n, k):
                    raise InvalidInputError(
                        f"the predictions of checker {b} in iteration {t} have shape "
                        f"{pred.shape}; the labels need ({n}, {k}): a row per label and a "
                        "column per class"
                    )
        self.classes_ = classes
        self._review_classes()  # unknown protect / catch_all names fail before any work
        checker = self.checker if self.checker is not None else SoftmaxRegression()
        executor = self.executor or LocalExecutor(n_jobs=self.n_jobs)
        store = (
            self.store_factory(n, k)
            if self.store_factory is not None
            else MemoryStore(n, k, top_k=self.top_k, keep_iterations=None if self.history else 1)
        )
        if predictions is not None and not hasattr(store, "add_sparse"):
            raise InvalidInputError(
                f"given predictions need a store with add_sparse(); {type(store).__name__} "
                "has none. Use the memory store"
            )
        if self.resume and self.checkpoint_dir is None:
            raise InvalidInputError("resume=True needs checkpoint_dir (the run's checkpoints)")
        if self.checkpoint_dir is not None and not (
            hasattr(store, "state") and hasattr(store, "restore")
        ):
            raise InvalidInputError(
                f"checkpoint_dir needs a prediction store with state() and restore(); "
                f"{type(store).__name__} has none. Use the memory or Spark store, or leave "
                "checkpoint_dir out"
            )
        self.n_branches_, self.n_folds_ = split_shape(n, self.n_branches, self.n_folds)
        splitter = MultiSplit(
            checker,
            n_branches=self.n_branches_,
            n_folds=self.n_folds_,
            random_state=self.random_state,
            executor=executor,
        )
        splitter.prepare(given, groups)
        current = given.copy()
        history = [given.copy()]
        trained = given.copy()  # the labels the next iteration's checkers train on
        trained_history = [given.copy()]
        self.iterations_: list[dict[str, Any]] = []
        model = LabelHistoryModel(
            confidence_scale=self.confidence_scale, random_state=self.random_state
        )
        self.expected_changes_ = np.zeros(n)
        fingerprint = self._fingerprint(X, given, classes, groups)
        first_t, finished = 1, False
        voted = 0  # the iteration whose evidence ``model`` was last fitted on (0: none)
        saved = self._load_checkpoint(fingerprint, given, k, store) if self.resume else None
        if saved is not None:
            current = saved.current
            history = [np.ascontiguousarray(c) for c in saved.history.T]
            trained_history = [np.ascontiguousarray(c) for c in saved.trained_history.T]
            trained = trained_history[-1]
            self.iterations_ = saved.iterations
            self.expected_changes_ = saved.expected_changes
            splitter.resume(saved.n_fits)  # no warm starts saved: the next fits are cold
            best, best_p, held = saved.best, saved.best_p, saved.held
            given_p = saved.given_p
            first_t, finished = saved.iteration + 1, saved.finished
            _log.info("resuming after iteration %d", saved.iteration)
        last_t = self.n_iterations if predictions is None else len(predictions)
        for t in range(first_t, last_t + 1):
            if finished:
                break
            start = time.perf_counter()

            if self.progress is not None:
                self.progress("start", {"iteration": t})

            def tick(done: int, total: int, t: int = t) -> None:
                if self.progress is not None:
                    self.progress("checker", {"iteration": t, "done": done, "total": total})

            if predictions is None:
                splitter.run(X, trained, k, store, t, progress=tick)
            else:
                for b, pred in enumerate(predictions[t - 1]):
                    store.add_sparse(t, b, pred)  # type: ignore[attr-defined]
            fit_seconds = time.perf_counter() - start
            self._fit_vote(model, store, t, given, groups, trained_history, k)
            voted = t
            if self.history:
                self.expected_changes_ = model.expected_changes_
            best, best_p = model.best()
            given_p = model.probability(given)
            proposed, held = self._relabel(given, best, best_p, given_p, self.relabel_odds, k)
            changed = int(np.sum(proposed != current))
            current = proposed
            history.append(current.copy())
            trained, _ = self._relabel(given, best, best_p, given_p, self.training_odds, k)
            retrained = int(np.sum(trained != trained_history[-1]))
            trained_history.append(trained)
            info = {
                "iteration": t,
                "changed": changed,
                "training_changed": retrained,
                "differ_from_given": int(np.sum(current != given)),
                "weights": np.round(model.weights_, 4).tolist(),
                "stay": model.stay_,
                "estimated_noise_rate": float(1.0 - given_p.mean()),
                "held_back": {
                    str(classes[c]): int(n_held)
                    for c, n_held in enumerate(np.bincount(given[held], minlength=k))
                    if n_held
                },
                "fit_seconds": round(fit_seconds, 3),
                "seconds": round(time.perf_counter() - start, 3),
            }
            self.iterations_.append(info)
            _log.info(
                "iteration %d: %d %s changed, %d differ from the given labels (%.1f s)",
                t,
                changed,
                "label" if changed == 1 else "labels",
                info["differ_from_given"],
                info["seconds"],
            )
            if self.progress is not None:
                self.progress("iteration", info)
            # Converged when neither the returned labels nor the labels the next
            # checkers would learn move: another iteration would retrain on the same.
            finished = predictions is None and max(changed, retrained) < self.tol * n
            if self.checkpoint_dir is not None:
                begin = time.perf_counter()
                meta, arrays = store.state()  # type: ignore[attr-defined]
                size = save_checkpoint(self.checkpoint_dir, Checkpoint(
                    fingerprint=fingerprint, iteration=t, finished=finished,
                    iterations=self.iterations_, n_fits=splitter.n_fits_,
                    store_kind=type(store).__name__, store_meta=meta, store_arrays=arrays,
                    current=current, history=np.stack(history, axis=1),
                    trained_history=np.stack(trained_history, axis=1),
                    expected_changes=self.expected_changes_,
                    best=best, best_p=best_p, given_p=given_p, held=held,
                ))
                _log.debug(
                    "checkpoint after iteration %d: %d bytes in %.2f s",
                    t, size, time.perf_counter() - begin,
                )
            if finished:
                break
        if voted == 0:
            # Resumed after the last iteration: the vote is not checkpointed; refit it on
            # the restored predictions, as the iteration did (the same fit, the same result).
            voted = len(history) - 1
            self._fit_vote(model, store, voted, given, groups, trained_history[:voted], k)
        self.classes_ = classes
        self.held_back_ = held
        self.guarded_classes_ = dict(self.iterations_[-1]["held_back"])
        self.history_ = np.stack(history, axis=1)
        self.training_labels_ = np.stack(trained_history[: len(history) - 1], axis=1)
        self.model_ = model
        self.noise_matrix_ = model.noise_matrix_
        self.beta_ = model.betas_[-1]
        self.n_iter_ = len(history) - 1
        self.n_fits_ = splitter.n_fits_
        last = len(history) - 1
        self.class_recall_ = class_recall(store.branches(last), trained_history[last - 1], k)
        self._finish(given, current, model, best, best_p, given_p)
        return self

    def _fit_vote(
        self,
        model: LabelHistoryModel,
        store: PredictionStore,
        t: int,
        given: np.ndarray,
        groups: np.ndarray | None,
        trained_history: list[np.ndarray],
        k: int,
    ) -> None:
        """Fit the vote on iteration ``t``'s evidence (and the earlier ones', with history).

        ``trained_history[s - 1]`` holds the labels iteration s's checkers trained on.
        """
        # Without history the model sees the last iteration only: the Bayesian vote.
        first = 1 if self.history else t
        trained_on = trained_history[first - 1 : t]
        if hasattr(store, "candidate_rows"):  # the EM runs where the predictions live
            rows = store.candidate_rows(
                list(range(first, t + 1)),
                trained_on=trained_on,
                labels=given,
                groups=groups,
                max_candidates=model.max_candidates,
            )
            try:
                model.fit_rows(rows)
            finally:
                rows.close()
        else:
            model.fit(
                [store.branches(s) for s in range(first, t + 1)],
                given,
                trained_on=trained_on,
                groups=groups,
                n_classes=k,
            )

    def _relabel(
        self,
        given: np.ndarray,
        best: np.ndarray,
        best_p: np.ndarray,
        given_p: np.ndarray,
        odds: float,
        n_classes: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Labels after the relabel rule at ``odds`` and the class-loss guard; held rows."""
        sure = relabel_mask(best_p, given_p, self.relabel_threshold, odds)
        return limit_class_loss(
            given, np.where(sure, best, given), best_p, self.max_class_loss, n_classes
        )

    # ------------------------------------------------------------------ checkpoints

    def _fingerprint(
        self, X: Any, given: np.ndarray, classes: np.ndarray, groups: np.ndarray | None
    ) -> str:
        """What a checkpoint must match: the labels, the features' shape and the options."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(given).tobytes())
        h.update(repr([str(c) for c in classes.tolist()]).encode())
        h.update(repr(tuple(X.shape)).encode())
        if groups is not None:
            h.update(np.ascontiguousarray(groups).tobytes())
        options = {key: value for key, value in vars(self).items()
                   if not key.endswith("_") and key not in ("executor", "progress", "store_factory", "checkpoint_dir",
                                  "resume", "n_jobs")}
        options["checker"] = repr(self.checker)
        h.update(repr(sorted(options.items())).encode())
        return h.hexdigest()

    def _load_checkpoint(
        self, fingerprint: str, given: np.ndarray, k: int, store: Any
    ) -> Checkpoint | None:
        """The checked checkpoint in ``checkpoint_dir``, its predictions put in ``store``."""
        assert self.checkpoint_dir is not None
        saved = load_checkpoint(
            self.checkpoint_dir, fingerprint=fingerprint, given=given, n_classes=k,
            store_kind=type(store).__name__,
        )
        if saved is None:
            return None
        try:
            store.restore(saved.store_meta, saved.store_arrays)
        except InvalidInputError as e:
            raise damaged_checkpoint(self.checkpoint_dir, f"stored predictions: {e}") from e
        return saved

    def _review_classes(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks over ``classes_``: the protected classes and the catch-all ones."""
        names = [str(c) for c in self.classes_.tolist()]
        protected = (
            _named_classes(names, self.protect, "protect")
            if self.protect is not None and len(self.protect)
            else np.zeros(len(names), dtype=bool)
        )
        return protected, catch_all_mask(self.classes_, self.catch_all)

    def _gate(self, given: np.ndarray, final: np.ndarray, model: LabelHistoryModel) -> np.ndarray:
        """Moves the evidence cannot carry, left to review; counts in ``review_reasons_``.

        A proposed move is held back when it leaves a protected class, enters or leaves
        a catch-all class with a confidence below the break-even of the relabel odds
        (``relabel_odds / (1 + relabel_odds)``), leaves a class the checkers recognise
        less often than ``min_class_recall``, or when the new label's reported
        confidence is below ``relabel_threshold``.
        """
        moved = final != given
        protected, catch_all = self._review_classes()
        weak = np.nan_to_num(self.class_recall_, nan=0.0) < self.min_class_recall
        confidence = model.confidence(final)
        # Into or out of a catch-all the posterior is least trusted: the move must be
        # right often enough to pay for itself at the relabel odds (a damaged label
        # counts ``relabel_odds`` fixed ones): confidence >= odds / (1 + odds), 7/8.
        break_even = max(self.relabel_threshold, self.relabel_odds / (1.0 + self.relabel_odds))
        reasons = {
            "protected": moved & protected[given],
            "catch_all": moved & (catch_all[given] | catch_all[final])
            & (confidence < break_even),
            "weak_class": moved & weak[given],
            "low_confidence": moved & (confidence < self.relabel_threshold),
        }
        gated = np.zeros(len(given), dtype=bool)
        self.review_reasons_: dict[str, int] = {}
        for reason in REVIEW_REASONS:  # each row counted under its first reason
            new = reasons[reason] & ~gated
            self.review_reasons_[reason] = int(new.sum())
            gated |= new
        return gated

    @property
    def noise_(self) -> np.ndarray:
        """The fitted noise matrix, dense (K, K) (computed on access)."""
        return self.noise_matrix_.toarray()

    @property
    def posterior_(self) -> np.ndarray:
        """Final posterior over every class, shape (N, K) (computed on access)."""
        return self.model_.posterior_

    def _finish(
        self,
        given: np.ndarray,
        current: np.ndarray,
        model: LabelHistoryModel,
        best: np.ndarray,
        best_p: np.ndarray,
        given_p: np.ndarray,
    ) -> None:
        # A row whose label moved more than once (A -> B -> A, A -> B -> C) is unstable.
        moves = np.sum(self.history_[:, 1:] != self.history_[:, :-1], axis=1)
        unstable = (moves >= 2) | (self.expected_changes_ > 1.0)
        final = np.where(unstable, given, current)
        gated = self._gate(given, final, model)
        final = np.where(gated, given, final)
        status = np.full(len(given), "kept", dtype=object)
        status[final != given] = "relabeled"
        doubtful = (final == given) & (given_p < self.review_threshold)
        held = self.held_back_ & (final == given)
        status[doubtful | unstable | held | gated] = "review"
        self.codes_ = final
        self.labels_ = self.classes_[final]
        self.confidence_ = model.confidence(final)
        self.suggested_ = self.classes_[best]
        self.suggested_confidence_ = best_p
        self.given_confidence_ = given_p
        self.status_ = status
