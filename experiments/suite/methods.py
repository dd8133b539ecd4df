"""The methods of the evaluation suite, run on one cell with shared features and checker.

Every method gets the same TF-IDF features and the same checker
(:class:`~pico.checkers.SoftmaxRegression` with its defaults) and returns an
:class:`Outcome`: its labels, its confidence in each final label, the wall seconds of
everything it needed and the number of checker fits.

- ``no cleaning``: the noisy labels.
- ``cleanlab prune_by_noise_rate`` / ``cleanlab both``: 5-fold stratified out-of-fold
  probabilities, ``cleanlab.filter.find_label_issues`` with that filter, flagged rows
  relabeled to the argmax. Both reuse one cross-validation.
- ``MultiSplit majority``, ``Dawid-Skene``, ``MultiSplit mean vote x3``: one shared
  MultiSplit round (5 branches x 5 folds, pico's split engine and top-k store) on the
  noisy labels. Majority: a strict majority of branch argmaxes for one other class
  relabels a row. Dawid-Skene (crowd-kit): the given label and each branch's argmax are
  workers; its aggregate is the new label. Mean vote x3: every row takes the most
  probable class under the branches' mean probability, the checkers are retrained on
  the new labels, three rounds in all; the ``(p >= 0.5)`` variant moves only rows whose
  most probable class reaches 0.5. Both variants share round 1. The shared round's seconds are charged to each of the three.
- ``PICO vote only``: ``pico.clean`` with one iteration (Bayesian vote).
- ``PICO vote + history``: ``pico.clean`` with up to 3 iterations combined by the
  label-history model.
- ``PICO defaults``: ``pico.clean`` with its defaults.

Each method also scores every row for review (:attr:`Outcome.review_score`, higher:
the given label is more likely wrong; :data:`REVIEW_SCORES` names it): PICO
``1 - given_confidence`` (``CleanResult``'s posterior of the given label); cleanlab
``1 - self_confidence`` (the 5-fold out-of-fold probability of the given label it
filters on); majority ``1 -`` the share of branches whose argmax is the given label;
Dawid-Skene ``1 -`` its posterior of the given label; the mean votes ``1 -`` the
first round's mean branch probability of the given label. PICO also returns the rows
it sent to review (:attr:`Outcome.review`).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

import pico
from pico.checkers.linear import SoftmaxRegression
from pico.corrector import relabel_mask
from pico.executors.local import LocalExecutor
from pico.splits.engine import MultiSplit
from pico.store.base import SparsePredictions
from pico.store.memory import MemoryStore
from pico.vote.baselines import (
    branch_argmaxes,
    majority_vote,
    mean_probability,
    mean_probability_vote,
)

NONE = "no cleaning"
CLEANLAB_PRUNE = "cleanlab prune_by_noise_rate"
CLEANLAB_BOTH = "cleanlab both"
MAJORITY = "MultiSplit majority"
DAWID_SKENE = "Dawid-Skene (crowd-kit)"
MEAN_VOTE = "MultiSplit mean vote x3"
MEAN_VOTE_HALF = "MultiSplit mean vote x3 (p >= 0.5)"
PICO_VOTE = "PICO vote only"
PICO_HISTORY = "PICO vote + history"
PICO_DEFAULT = "PICO defaults"
METHODS = (
    NONE,
    CLEANLAB_PRUNE,
    CLEANLAB_BOTH,
    MAJORITY,
    DAWID_SKENE,
    MEAN_VOTE,
    MEAN_VOTE_HALF,
    PICO_VOTE,
    PICO_HISTORY,
    PICO_DEFAULT,
)
#: Methods the suite names but cannot run yet, with the reason the report gives.
NOT_RUN: dict[str, str] = {}
#: pico.clean options of the PICO variants (on top of the run's own options).
PICO_VARIANTS = {
    PICO_VOTE: {"n_iterations": 1, "history": False},
    PICO_HISTORY: {"n_iterations": 3, "history": True},
    PICO_DEFAULT: {},
}

CV_FOLDS = 5
SHARED_BRANCHES = 5
SHARED_FOLDS = 5
MEAN_VOTE_ROUNDS = 3
MEAN_VOTE_THRESHOLD = 0.5
TOP_K = 20
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
#: The per-row review score of each method (higher: the given label is more likely wrong).
REVIEW_SCORES = {
    CLEANLAB_PRUNE: "1 - self_confidence (5-fold out-of-fold probability of the given label)",
    CLEANLAB_BOTH: "1 - self_confidence (5-fold out-of-fold probability of the given label)",
    MAJORITY: "1 - share of branch argmaxes equal to the given label",
    DAWID_SKENE: "1 - Dawid-Skene posterior of the given label",
    MEAN_VOTE: "1 - round-1 mean branch probability of the given label",
    MEAN_VOTE_HALF: "1 - round-1 mean branch probability of the given label",
    PICO_VOTE: "1 - given_confidence (PICO posterior of the given label)",
    PICO_HISTORY: "1 - given_confidence (PICO posterior of the given label)",
    PICO_DEFAULT: "1 - given_confidence (PICO posterior of the given label)",
}


@dataclass
class Outcome:
    """One method's result on one cell."""

    labels: np.ndarray
    confidence: np.ndarray | None
    seconds: float
    fits: int
    extra: dict[str, Any] = field(default_factory=dict)
    #: Per-row score for review: higher, the given label is more likely wrong.
    review_score: np.ndarray | None = None
    #: Rows the method left to a person (PICO's ``review`` status); None: no such output.
    review: np.ndarray | None = None

    def same_run(self, name: str) -> Outcome:
        """This outcome, marked as the run of method ``name`` (a shared configuration)."""
        return dataclasses.replace(self, extra={**self.extra, "same_run_as": name})


def _fit_predict(
    X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    with threadpool_limits(limits=1):
        clf = SoftmaxRegression().fit(X[train], y[train])
        probs = np.zeros((len(test), k))
        probs[:, clf.classes_] = clf.predict_proba(X[test])
    return test, probs


def cross_val_probs(X: Any, y: np.ndarray, k: int, *, jobs: int, seed: int) -> np.ndarray:
    """Stratified 5-fold out-of-fold probabilities (N, K), folds in ``jobs`` workers."""
    n_folds = min(CV_FOLDS, int(np.bincount(y).max()))
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    splits = list(folds.split(np.zeros(len(y)), y))
    parts = Parallel(n_jobs=jobs)(delayed(_fit_predict)(X, y, tr, te, k) for tr, te in splits)
    probs = np.zeros((len(y), k))
    for test, p in parts:
        probs[test] = p
    return probs


def run_cleanlab(X: Any, noisy: np.ndarray, k: int, *, jobs: int, seed: int) -> dict[str, Outcome]:
    """Both cleanlab filters on one cross-validation."""
    from cleanlab.filter import find_label_issues

    start = time.perf_counter()
    probs = cross_val_probs(X, noisy, k, jobs=jobs, seed=seed)
    cv_seconds = time.perf_counter() - start
    argmax = probs.argmax(axis=1)
    self_confidence = probs[np.arange(len(noisy)), noisy]
    out = {}
    for name, filter_by in ((CLEANLAB_PRUNE, "prune_by_noise_rate"), (CLEANLAB_BOTH, "both")):
        t0 = time.perf_counter()
        issues = find_label_issues(noisy, probs, filter_by=filter_by, n_jobs=1)
        new = np.where(issues, argmax, noisy)
        seconds = cv_seconds + time.perf_counter() - t0
        out[name] = Outcome(
            new,
            probs[np.arange(len(new)), new],
            seconds,
            CV_FOLDS,
            {"flagged": int(issues.sum()), "cv_seconds": round(cv_seconds, 3)},
            review_score=1.0 - self_confidence,
        )
    return out


class SharedSplits:
    """The MultiSplit rounds the simple votes share (5 x 5, pico's engine and store)."""

    def __init__(
        self,
        X: Any,
        noisy: np.ndarray,
        k: int,
        *,
        jobs: int,
        seed: int,
        n_branches: int = SHARED_BRANCHES,
        n_folds: int = SHARED_FOLDS,
    ) -> None:
        self.X, self.noisy, self.k = X, noisy, k
        self.splitter = MultiSplit(
            SoftmaxRegression(),
            n_branches=n_branches,
            n_folds=n_folds,
            random_state=seed,
            executor=LocalExecutor(n_jobs=jobs),
        )
        self.splitter.prepare(noisy)
        self.store = MemoryStore(len(noisy), k, top_k=TOP_K, keep_iterations=1)
        self.round_seconds: list[float] = []

    def run_round(self, labels: np.ndarray) -> list[SparsePredictions]:
        """Train every checker on ``labels``; return each branch's predictions."""
        t = len(self.round_seconds) + 1
        start = time.perf_counter()
        self.splitter.run(self.X, labels, self.k, self.store, t)
        self.round_seconds.append(time.perf_counter() - start)
        return list(self.store.branches(t))

    def fork(self) -> SharedSplits:
        """A copy that continues from here on its own labels (folds and warm starts kept)."""
        twin = copy.copy(self)
        twin.splitter = copy.deepcopy(self.splitter)
        twin.store = MemoryStore(len(self.noisy), self.k, top_k=TOP_K, keep_iterations=1)
        twin.round_seconds = list(self.round_seconds)
        return twin


def run_multisplit_votes(
    X: Any,
    noisy: np.ndarray,
    k: int,
    *,
    jobs: int,
    seed: int,
    log: Any,
    n_branches: int = SHARED_BRANCHES,
    n_folds: int = SHARED_FOLDS,
) -> dict[str, Outcome]:
    """Majority vote, Dawid-Skene and the iterated mean vote on shared MultiSplit rounds."""
    shared = SharedSplits(
        X, noisy, k, jobs=jobs, seed=seed, n_branches=n_branches, n_folds=n_folds
    )
    branches = shared.run_round(noisy)
    first = shared.round_seconds[0]
    fits_per_round = n_branches * n_folds
    rows = np.arange(len(noisy))
    out = {}

    t0 = time.perf_counter()
    tops = branch_argmaxes(branches)
    new = majority_vote(branches, noisy)
    agree = (tops == new[:, None]).mean(axis=1)
    out[MAJORITY] = Outcome(
        new, agree, first + time.perf_counter() - t0, fits_per_round,
        review_score=1.0 - (tops == noisy[:, None]).mean(axis=1),
    )

    t0 = time.perf_counter()
    posterior = dawid_skene_posterior(noisy, tops, k)
    new = posterior.argmax(axis=1).astype(np.int64)
    out[DAWID_SKENE] = Outcome(
        new, posterior[rows, new], first + time.perf_counter() - t0, fits_per_round,
        review_score=1.0 - posterior[rows, noisy],
    )
    given_mean = 1.0 - mean_probability(branches)[rows, noisy]

    # The iterated mean vote, in two variants that share round 1: every row takes the
    # most probable class ("argmax"), or only rows where it reaches 0.5.
    variants = ((MEAN_VOTE, 0.0, shared.fork()), (MEAN_VOTE_HALF, MEAN_VOTE_THRESHOLD, shared))
    for name, threshold, splits in variants:
        t0 = time.perf_counter()
        labels, probs, per_round, train_seconds = noisy, branches, [], 0.0
        for r in range(1, MEAN_VOTE_ROUNDS + 1):
            if r > 1:
                log(f"      {name} round {r}")
                start = time.perf_counter()
                probs = splits.run_round(labels)
                train_seconds += time.perf_counter() - start
            new = mean_probability_vote(probs, labels, threshold=threshold)
            per_round.append(int(np.sum(new != labels)))
            labels = new
        vote_seconds = time.perf_counter() - t0 - train_seconds
        out[name] = Outcome(
            labels,
            mean_probability(probs)[rows, labels],
            first + train_seconds + vote_seconds,
            fits_per_round * MEAN_VOTE_ROUNDS,
            {"changed_per_round": per_round},
            review_score=given_mean,
        )
    return out


def dawid_skene(noisy: np.ndarray, tops: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Dawid-Skene (crowd-kit) over the given label and each branch's hard vote."""
    dense = dawid_skene_posterior(noisy, tops, k)
    new = dense.argmax(axis=1)
    return new.astype(np.int64), dense[np.arange(len(noisy)), new]


def dawid_skene_posterior(noisy: np.ndarray, tops: np.ndarray, k: int) -> np.ndarray:
    """Dawid-Skene's (N, K) posterior over the given label and each branch's hard vote."""
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    n, m = tops.shape
    votes = np.concatenate([noisy[:, None], tops], axis=1)
    frame = pd.DataFrame(
        {
            "task": np.repeat(np.arange(n), m + 1),
            "worker": np.tile(["given"] + [f"branch{b}" for b in range(m)], n),
            "label": votes.ravel(),
        }
    )
    ds = DawidSkene(n_iter=100)
    ds.fit(frame)
    probas = ds.probas_.reindex(index=np.arange(n), columns=np.arange(k), fill_value=0.0)
    dense: np.ndarray = probas.fillna(0.0).to_numpy()
    return dense


def run_pico(
    texts: list[str],
    noisy_names: np.ndarray,
    class_names: np.ndarray,
    *,
    jobs: int,
    seed: int,
    options: dict[str, Any],
    log: Any,
) -> Outcome:
    """``pico.clean`` on the noisy string labels (it featurizes the texts itself)."""

    def progress(event: str, info: dict[str, Any]) -> None:
        if event == "iteration":
            log(
                f"      pico iteration {info['iteration']}: {info['changed']} changed, "
                f"{info['seconds']:.1f}s"
            )

    start = time.perf_counter()
    result = pico.clean(
        texts, noisy_names, random_state=seed, n_jobs=jobs, progress=progress, **options
    )
    seconds = time.perf_counter() - start
    index = {c: i for i, c in enumerate(class_names.tolist())}
    new = np.array([index[str(v)] for v in result.labels], dtype=np.int64)
    suggested = np.array([index[str(v)] for v in result.suggested], dtype=np.int64)
    summary = result.summary
    extra: dict[str, Any] = {
        "status_counts": dict(summary["status_counts"]),
        "iterations": len(summary["iterations"]),
        "estimated_noise_rate": summary["estimated_noise_rate"],
    }
    if summary.get("review_reasons"):
        extra["review_reasons"] = dict(summary["review_reasons"])
    if len(summary["iterations"]) == 1:
        # With one iteration a row moves exactly when its suggested label's posterior
        # reaches the threshold and the odds rule holds (and keeps its given label
        # otherwise), unless a review rule (catch-all, weak class, class loss) holds the
        # move back; so every threshold can be read off this run. The moves the run held
        # back at its own threshold (status ``review``) are held back at every threshold.
        given = np.array([index[str(v)] for v in noisy_names], dtype=np.int64)
        odds = float(summary["options"]["relabel_odds"])
        own = float(summary["options"]["relabel_threshold"])
        held = relabel_mask(result.suggested_confidence, result.given_confidence, own, odds) & (
            np.asarray(result.status) == "review"
        )
        extra["threshold_labels"] = {
            t: np.where(
                relabel_mask(result.suggested_confidence, result.given_confidence, t, odds)
                & ~held,
                suggested, given,
            )
            for t in THRESHOLDS
        }
    return Outcome(
        new,
        np.asarray(result.confidence, dtype=np.float64),
        seconds,
        int(summary["checker_fits"]),
        extra,
        review_score=1.0 - np.asarray(result.given_confidence, dtype=np.float64),
        review=np.asarray(result.status) == "review",
    )


def _fit_score(X: Any, y: np.ndarray, X_test: Any, test_clean: np.ndarray) -> float:
    with threadpool_limits(limits=1):
        clf = SoftmaxRegression().fit(X, y)
        return float(np.mean(clf.predict(X_test) == test_clean))


def test_accuracy(
    X: Any, X_test: Any, test_clean: np.ndarray, label_sets: dict[str, np.ndarray], *, jobs: int
) -> dict[str, float | None]:
    """Accuracy on the clean test split of a checker trained on each method's labels.

    None for every method when there is no test split (``X_test`` None: HINT3).
    """
    names = list(label_sets)
    if X_test is None:
        return {name: None for name in names}
    unique: dict[bytes, np.ndarray] = {}
    for name in names:
        unique.setdefault(label_sets[name].tobytes(), label_sets[name])
    keys = list(unique)

    scores = Parallel(n_jobs=jobs)(
        delayed(_fit_score)(X, unique[b], X_test, test_clean) for b in keys
    )
    by_key = dict(zip(keys, scores))
    return {name: by_key[label_sets[name].tobytes()] for name in names}
