"""Seeded random splits -> checker tasks -> executor -> prediction store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..executors.base import Executor
from ..store.base import PredictionStore
from ._tasks import SplitTask, fit_predict_branch, fit_predict_split

__all__ = ["MultiSplit", "assign_folds"]

_log = logging.getLogger(__name__)


def assign_folds(
    labels: np.ndarray,
    n_folds: int,
    *,
    groups: np.ndarray | None = None,
    random_state: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Stratified random fold of every row, keeping each group in one fold.

    Within each class the units (groups, or rows) are shuffled and dealt to the folds
    in turn from a random starting fold, so classes smaller than ``n_folds`` work:
    they simply leave some folds without members.

    Parameters
    ----------
    labels : ndarray of shape (N,)
        Integer class codes used for stratification.
    n_folds : int
        F, at least 2.
    groups : ndarray of shape (N,), optional
        Group id per row (e.g. identical texts); a group never spans two folds.
        Its stratum is the label of its first row.
    random_state : Generator, int or None

    Returns
    -------
    ndarray of shape (N,)
        Fold index 0..F-1 of each row.

    Examples
    --------
    >>> f = assign_folds(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 2, random_state=0)
    >>> [int(np.sum(f[:4] == 0)), int(np.sum(f[4:] == 0))]
    [2, 2]
    """
    rng = np.random.default_rng(random_state)
    labels = np.asarray(labels)
    n = len(labels)
    if groups is None:
        groups = np.arange(n)
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    unit_label = labels[first]
    unit_fold = np.empty(len(first), dtype=np.int64)
    offset = int(rng.integers(n_folds))
    for c in np.unique(unit_label):
        units = np.flatnonzero(unit_label == c)
        rng.shuffle(units)
        unit_fold[units] = (offset + np.arange(len(units))) % n_folds
        offset = (offset + len(units)) % n_folds
    return unit_fold[inverse.ravel()]


class MultiSplit:
    """Train R x F checkers on seeded random splits and store their held-out predictions.

    The fold assignment of each branch is drawn once (from the branch's own seed) and
    kept across iterations, so a checker can warm-start from its own split's previous
    fit without ever having seen its held-out rows.

    Parameters
    ----------
    checker : estimator with ``fit`` and ``predict_proba``
        Cloned for every split.
    n_branches : int
        R, the number of independent random splits.
    n_folds : int
        F, folds per branch.
    random_state : int or None
        Seed of everything random here.
    executor : Executor
        Runs the tasks.
    warm_start : bool, default=True
        Reuse the previous iteration's fitted checker of each split when the checker
        has a ``warm_start`` parameter.
    """

    def __init__(
        self,
        checker: Any,
        *,
        n_branches: int,
        n_folds: int,
        random_state: int | None,
        executor: Executor,
        warm_start: bool = True,
    ) -> None:
        self.checker = checker
        self.n_branches = n_branches
        self.n_folds = n_folds
        self.random_state = random_state
        self.executor = executor
        self.warm_start = warm_start
        self._folds: list[np.ndarray] | None = None
        self._seeds: list[np.random.SeedSequence] = []
        self._models: dict[tuple[int, int], Any] = {}
        self.n_fits_ = 0

    def prepare(self, labels: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Draw the folds of every branch, stratified by ``labels``."""
        root = np.random.SeedSequence(self.random_state)
        self._seeds = root.spawn(self.n_branches)
        self._folds = [
            assign_folds(labels, self.n_folds, groups=groups, random_state=np.random.default_rng(s))
            for s in self._seeds
        ]
        self._models = {}

    def resume(self, n_fits: int) -> None:
        """Continue a run from a checkpoint: ``n_fits`` fits were made before it.

        The fitted checkers of the earlier iterations are not checkpointed, so the next
        :meth:`run` trains every checker from a fresh clone (cold) instead of
        warm-starting it; the iterations after it warm-start again. Call after
        :meth:`prepare`, which draws the same folds from the same seed.

        Parameters
        ----------
        n_fits : int
            Checker fits already made (what ``n_fits_`` counts from).
        """
        self._models = {}
        self.n_fits_ = int(n_fits)

    def run(
        self,
        X: Any,
        codes: np.ndarray,
        n_classes: int,
        store: PredictionStore,
        iteration: int,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Train every checker on ``codes`` and add its held-out predictions to ``store``."""
        if self._folds is None:
            raise RuntimeError("call prepare() before run()")
        keep = self.warm_start and "warm_start" in self.checker.get_params()
        batched = hasattr(self.checker, "fit_predict_folds")
        tasks = []
        for b, (folds, seq) in enumerate(zip(self._folds, self._seeds)):
            fold_seeds = seq.generate_state(self.n_folds)
            if batched:  # one task trains the branch's F folds as one model
                tasks.append(
                    SplitTask(
                        branch=b,
                        fold=-1,
                        train=np.array([], dtype=np.int64),
                        test=np.flatnonzero(folds >= 0),
                        seed=int(fold_seeds[0]),
                        checker=self.checker,
                        warm=self._models.pop((b, -1), None) if keep else None,
                        folds=folds,
                    )
                )
                continue
            for f in range(self.n_folds):
                test = np.flatnonzero(folds == f)
                if len(test) == 0:
                    continue
                tasks.append(
                    SplitTask(
                        branch=b,
                        fold=f,
                        train=np.flatnonzero(folds != f),
                        test=test,
                        seed=int(fold_seeds[f]),
                        checker=self.checker,
                        warm=self._models.pop((b, f), None) if keep else None,
                    )
                )
        done = 0
        shared = (X, codes, n_classes, keep)
        work = fit_predict_branch if batched else fit_predict_split
        for result in self.executor.map_unordered(work, shared, tasks):
            store.add(iteration, result.branch, result.test, result.probs)
            if result.model is not None:
                self._models[(result.branch, result.fold)] = result.model
            done += 1
            self.n_fits_ += self.n_folds if batched else 1
            if progress is not None:
                progress(done, len(tasks))
        _log.debug("iteration %d: %d checker fits", iteration, done)
