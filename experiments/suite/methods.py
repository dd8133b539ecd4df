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
"""

from __future__ import annotations

import copy
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


@dataclass
class Outcome:
    """One method's result on one cell."""

    labels: np.ndarray
    confidence: np.ndarray | None
    seconds: float
    fits: int
    extra: dict[str, Any] = field(default_factory=dict)


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
    out[MAJORITY] = Outcome(new, agree, first + time.perf_counter() - t0, fits_per_round)

    t0 = time.perf_counter()
    new, conf = dawid_skene(noisy, tops, k)
    out[DAWID_SKENE] = Outcome(new, conf, first + time.perf_counter() - t0, fits_per_round)

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
        )
    return out


def dawid_skene(noisy: np.ndarray, tops: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Dawid-Skene (crowd-kit) over the given label and each branch's hard vote."""
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
    dense = probas.fillna(0.0).to_numpy()
    new = dense.argmax(axis=1)
    return new.astype(np.int64), dense[np.arange(n), new]


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
    if len(summary["iterations"]) == 1:
        # With one iteration a row moves exactly when its suggested label's posterior
        # reaches the threshold and the odds rule holds (and keeps its given label
        # otherwise), so every threshold can be read off this run.
        given = np.array([index[str(v)] for v in noisy_names], dtype=np.int64)
        odds = float(summary["options"]["relabel_odds"])
        extra["threshold_labels"] = {
            t: np.where(
                relabel_mask(result.suggested_confidence, result.given_confidence, t, odds),
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
    )


def _fit_score(X: Any, y: np.ndarray, X_test: Any, test_clean: np.ndarray) -> float:
    with threadpool_limits(limits=1):
        clf = SoftmaxRegression().fit(X, y)
        return float(np.mean(clf.predict(X_test) == test_clean))


def test_accuracy(
    X: Any, X_test: Any, test_clean: np.ndarray, label_sets: dict[str, np.ndarray], *, jobs: int
) -> dict[str, float]:
    """Accuracy on the clean test split of a checker trained on each method's labels."""
    names = list(label_sets)
    unique: dict[bytes, np.ndarray] = {}
    for name in names:
        unique.setdefault(label_sets[name].tobytes(), label_sets[name])
    keys = list(unique)

    scores = Parallel(n_jobs=jobs)(
        delayed(_fit_score)(X, unique[b], X_test, test_clean) for b in keys
    )
    by_key = dict(zip(keys, scores))
    return {name: by_key[label_sets[name].tobytes()] for name in names}
