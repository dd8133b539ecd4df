"""The pure worker: fit one checker on the training folds, predict the held-out fold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

__all__ = ["SplitResult", "SplitTask", "fit_predict_branch", "fit_predict_split"]


@dataclass
class SplitTask:
    """One (branch, fold) of one iteration."""

    branch: int
    fold: int
    train: np.ndarray
    test: np.ndarray
    seed: int
    checker: Any
    warm: Any = None  # the fitted checker of the same split in the previous iteration
    folds: np.ndarray | None = None  # a whole branch's fold of each row (batched checkers)


@dataclass
class SplitResult:
    """Held-out predictions of one task, with columns for all K classes."""

    branch: int
    fold: int
    test: np.ndarray
    probs: np.ndarray
    model: Any = None


def _model_for(task: SplitTask) -> Any:
    """The previous iteration's model warm-started, or a fresh clone seeded by the task."""
    if task.warm is not None:
        model = task.warm
        model.set_params(warm_start=True)
        return model
    model = clone(task.checker)
    params = model.get_params()
    if "random_state" in params and params["random_state"] is None:
        model.set_params(random_state=task.seed)
    return model


def fit_predict_split(shared: tuple[Any, np.ndarray, int, bool], task: SplitTask) -> SplitResult:
    """Train a fresh (or warm-started) checker on ``task.train``, predict ``task.test``.

    Parameters
    ----------
    shared : tuple
        ``(X, codes, n_classes, keep_model)``: features (N, D), current labels coded
        0..K-1, K, and whether to return the fitted model for the next warm start.
    task : SplitTask

    Returns
    -------
    SplitResult
        ``probs`` has shape (len(test), K); classes absent from the training folds get 0.
    """
    X, codes, n_classes, keep_model = shared
    y_train = codes[task.train]
    probs = np.zeros((len(task.test), n_classes))
    present = np.unique(y_train)
    if len(present) == 1:
        probs[:, present[0]] = 1.0
        return SplitResult(task.branch, task.fold, task.test, probs)
    model = _model_for(task)
    model.fit(X[task.train], y_train)
    columns = np.asarray(model.classes_, dtype=np.int64)
    probs[:, columns] = model.predict_proba(X[task.test])
    return SplitResult(task.branch, task.fold, task.test, probs, model if keep_model else None)


def fit_predict_branch(shared: tuple[Any, np.ndarray, int, bool], task: SplitTask) -> SplitResult:
    """Train every fold of one branch at once (a checker with ``fit_predict_folds``).

    ``task.folds`` gives each row's fold; the result holds the held-out probabilities
    of every row in a fold (``task.test``).
    """
    X, codes, n_classes, keep_model = shared
    assert task.folds is not None
    model = _model_for(task)
    probs = model.fit_predict_folds(X, codes, task.folds, n_classes)
    return SplitResult(
        task.branch, -1, task.test, probs[task.test], model if keep_model else None
    )
