"""Tests for pico.splits (assign_folds, MultiSplit) and pico.executors.LocalExecutor."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

import pico.executors as executors_pkg
import pico.splits as splits_pkg
from pico.benchmarking import make_blobs_with_noise
from pico.checkers import NearestCentroid, SoftmaxRegression
from pico.executors import LocalExecutor
from pico.splits import MultiSplit, assign_folds
from pico.store import MemoryStore

SETTINGS = settings(max_examples=50, deadline=None, database=None)


@st.composite
def labels_folds_groups(draw: st.DrawFn) -> tuple[np.ndarray, int, np.ndarray | None, int]:
    k = draw(st.integers(1, 5))
    n = draw(st.integers(1, 60))
    labels = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    n_folds = draw(st.integers(2, 7))
    groups = None
    if draw(st.booleans()):
        groups = np.asarray(draw(st.lists(st.integers(0, n // 2 + 1), min_size=n, max_size=n)))
    seed = draw(st.integers(0, 2**32 - 1))
    return labels, n_folds, groups, seed


def test_import_all_consistency() -> None:
    for pkg in (splits_pkg, executors_pkg):
        for name in pkg.__all__:
            assert hasattr(pkg, name), name


# ------------------------------------------------------------------------- assign_folds


@SETTINGS
@given(case=labels_folds_groups())
def test_assign_folds_invariants(case: tuple[np.ndarray, int, np.ndarray | None, int]) -> None:
    labels, n_folds, groups, seed = case
    folds = assign_folds(labels, n_folds, groups=groups, random_state=seed)
    assert folds.shape == labels.shape
    assert np.all((folds >= 0) & (folds < n_folds))
    if groups is None:
        # stratified: within each class the fold sizes differ by at most one
        for c in np.unique(labels):
            sizes = np.bincount(folds[labels == c], minlength=n_folds)
            assert sizes.max() - sizes.min() <= 1, (c, sizes)
        # dealing continues across classes, so the folds are balanced overall too
        totals = np.bincount(folds, minlength=n_folds)
        assert totals.max() - totals.min() <= 1, totals
    else:
        # a group never spans two folds
        for g in np.unique(groups):
            assert len(np.unique(folds[groups == g])) == 1, g
    np.testing.assert_array_equal(
        folds, assign_folds(labels, n_folds, groups=groups, random_state=seed)
    )


def test_assign_folds_stratifies_groups_by_their_first_label() -> None:
    # 12 groups of 2 rows each; per class, group counts per fold differ by at most one
    groups = np.repeat(np.arange(12), 2)
    labels = np.repeat(np.arange(12) % 3, 2)
    folds = assign_folds(labels, 4, groups=groups, random_state=1)
    group_fold = folds[::2]
    group_label = labels[::2]
    for c in range(3):
        sizes = np.bincount(group_fold[group_label == c], minlength=4)
        assert sizes.max() - sizes.min() <= 1
    assert np.all(folds[::2] == folds[1::2])


def test_assign_folds_small_classes(seed: int) -> None:
    labels = np.array([0] * 20 + [1] * 2 + [2])
    folds = assign_folds(labels, 5, random_state=seed)
    # the 2-row class lands in two different folds; the 1-row class in one
    assert len(np.unique(folds[labels == 1])) == 2
    assert len(np.unique(folds[labels == 2])) == 1
    assert np.all(np.bincount(folds[labels == 0], minlength=5) == 4)
    # small classes are spread over the folds, not all dealt to fold 0
    small = np.array([0, 1] * 3)
    starts = {int(assign_folds(small, 5, random_state=s)[0]) for s in range(20)}
    assert len(starts) > 1


def test_assign_folds_seeds(seed: int) -> None:
    labels = np.arange(200) % 4
    a = assign_folds(labels, 5, random_state=seed)
    np.testing.assert_array_equal(a, assign_folds(labels, 5, random_state=seed))
    np.testing.assert_array_equal(
        a, assign_folds(labels, 5, random_state=np.random.default_rng(seed))
    )
    b = assign_folds(labels, 5, random_state=seed + 1)
    assert np.mean(a != b) > 0.5


# --------------------------------------------------------------------------- MultiSplit


@pytest.fixture
def data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, y, _ = make_blobs_with_noise(60, 3, rate=0.0, random_state=seed)
    return X, y


def _run(
    X: np.ndarray,
    codes: np.ndarray,
    *,
    checker: Any,
    n_branches: int = 3,
    n_folds: int = 4,
    random_state: int = 0,
    n_jobs: int = 1,
    iterations: int = 1,
    warm_start: bool = True,
) -> tuple[MultiSplit, MemoryStore]:
    k = int(codes.max()) + 1
    store = MemoryStore(len(codes), k, top_k=k)
    splitter = MultiSplit(
        checker,
        n_branches=n_branches,
        n_folds=n_folds,
        random_state=random_state,
        executor=LocalExecutor(n_jobs=n_jobs),
        warm_start=warm_start,
    )
    splitter.prepare(codes)
    for t in range(1, iterations + 1):
        splitter.run(X, codes, k, store, t)
    return splitter, store


def test_multisplit_fills_every_row_once_per_branch(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    events: list[tuple[int, int]] = []
    k = 3
    store = MemoryStore(len(y), k, top_k=k)
    splitter = MultiSplit(
        SoftmaxRegression(), n_branches=3, n_folds=4, random_state=0, executor=LocalExecutor()
    )
    with pytest.raises(RuntimeError, match="prepare"):
        splitter.run(X, y, k, store, 1)
    splitter.prepare(y)
    splitter.run(X, y, k, store, 1, progress=lambda done, total: events.append((done, total)))
    assert store.n_branches(1) == 3
    assert splitter.n_fits_ == 12
    assert events == [(i, 12) for i in range(1, 13)]
    preds = list(store.branches(1))  # raises unless every row is there exactly once
    for pred in preds:
        dense = np.exp(pred.log_dense(slice(None)))
        np.testing.assert_allclose(dense.sum(axis=1), 1.0)
        assert np.mean(dense.argmax(axis=1) == y) >= 0.9  # out-of-fold, easy blobs
    # branches are different random splits, so their predictions differ somewhat
    assert not np.allclose(preds[0].probs.toarray(), preds[1].probs.toarray())


def test_multisplit_same_seed_same_predictions(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    _, a = _run(X, y, checker=SoftmaxRegression(), random_state=7)
    _, b = _run(X, y, checker=SoftmaxRegression(), random_state=7)
    _, c = _run(X, y, checker=SoftmaxRegression(), random_state=8)
    pa, pb, pc = (list(s.branches(1)) for s in (a, b, c))
    for x, z in zip(pa, pb):
        np.testing.assert_array_equal(x.probs.toarray(), z.probs.toarray())
        np.testing.assert_array_equal(x.residual, z.residual)
    assert not all(np.array_equal(x.probs.toarray(), z.probs.toarray()) for x, z in zip(pa, pc))


def test_multisplit_seeds_random_state_of_checker(data: tuple[np.ndarray, np.ndarray]) -> None:
    """A checker with random_state=None gets the task's seed: runs are reproducible."""
    from sklearn.linear_model import SGDClassifier

    X, y = data
    checker = SGDClassifier(loss="log_loss", max_iter=50, tol=None, random_state=None)
    _, a = _run(X, y, checker=checker, n_branches=1, n_folds=3, warm_start=False)
    _, b = _run(X, y, checker=checker, n_branches=1, n_folds=3, warm_start=False)
    (pa,), (pb,) = a.branches(1), b.branches(1)
    np.testing.assert_array_equal(pa.probs.toarray(), pb.probs.toarray())
    assert checker.random_state is None  # the prototype is never modified


def test_multisplit_classes_missing_from_training_fold() -> None:
    """A class with one row is absent from one training fold; its column is 0 there."""
    X = np.vstack([np.eye(3)[np.arange(30) % 3] + 0.01 * np.arange(30)[:, None], [[5, 5, 5]]])
    y = np.append(np.arange(30) % 3, 3)
    _, store = _run(X, y, checker=SoftmaxRegression(), n_branches=2, n_folds=3)
    for pred in store.branches(1):
        assert pred.probs[30].toarray()[0, 3] == 0.0
        np.testing.assert_allclose(np.exp(pred.log_dense(slice(None))).sum(axis=1), 1.0)


class _CountingChecker(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Records how often each instance was fitted and whether warm_start was on."""

    def __init__(self, warm_start: bool = False) -> None:
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any) -> _CountingChecker:
        self.fits_ = getattr(self, "fits_", 0) + 1
        self.warm_fits_ = getattr(self, "warm_fits_", 0) + int(self.warm_start)
        self.inner_ = NearestCentroid().fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.inner_.predict_proba(X)  # type: ignore[no-any-return]


def test_multisplit_warm_start_keeps_one_model_per_split(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = data
    splitter, store = _run(X, y, checker=_CountingChecker(), iterations=3)
    assert splitter.n_fits_ == 3 * 3 * 4
    models = splitter._models
    assert sorted(models) == [(b, f) for b in range(3) for f in range(4)]
    assert len({id(m) for m in models.values()}) == 12
    # each kept model is the same instance refitted every iteration, warm after the first
    for model in models.values():
        assert model.fits_ == 3
        assert model.warm_fits_ == 2
    assert store.n_branches(3) == 3


def test_multisplit_no_models_kept_without_warm_start(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = data
    cold, _ = _run(X, y, checker=_CountingChecker(), iterations=2, warm_start=False)
    assert cold._models == {}
    # a checker without a warm_start parameter is never kept either
    no_param, _ = _run(X, y, checker=NearestCentroid(), iterations=2)
    assert no_param._models == {}
    assert no_param.n_fits_ == 2 * 12


def test_multisplit_warm_start_does_not_change_softmax_much(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = data
    checker = SoftmaxRegression(C=1.0, max_iter=200, tol=1e-3)
    _, warm = _run(X, y, checker=checker, iterations=2)
    _, cold = _run(X, y, checker=checker, iterations=2, warm_start=False)
    for w, c in zip(warm.branches(2), cold.branches(2)):
        np.testing.assert_allclose(w.probs.toarray(), c.probs.toarray(), atol=0.02)


# ------------------------------------------------------------------------ LocalExecutor


def test_local_executor_two_jobs_matches_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    _, one = _run(X, y, checker=SoftmaxRegression(), n_branches=2, n_folds=3, n_jobs=1)
    _, two = _run(X, y, checker=SoftmaxRegression(), n_branches=2, n_folds=3, n_jobs=2)
    for a, b in zip(one.branches(1), two.branches(1)):
        # float32 BLAS may sum in another order with one thread per worker
        np.testing.assert_allclose(a.probs.toarray(), b.probs.toarray(), atol=1e-5)


def test_local_executor_threads_match_processes(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    k = int(y.max()) + 1
    stores = []
    for ex in (LocalExecutor(n_jobs=2), LocalExecutor(n_jobs=2, prefer="threads")):
        store = MemoryStore(len(y), k, top_k=k)
        splitter = MultiSplit(SoftmaxRegression(), n_branches=2, n_folds=3, random_state=0,
                              executor=ex)
        splitter.prepare(y)
        splitter.run(X, y, k, store, 1)
        stores.append(store)
    for a, b in zip(stores[0].branches(1), stores[1].branches(1)):
        # both run every fit with one BLAS thread
        np.testing.assert_array_equal(a.probs.toarray(), b.probs.toarray())
    with pytest.raises(ValueError, match="threads"):
        LocalExecutor(prefer="gpu")


def _where(shared: None, task: int) -> tuple[int, int, int]:
    """The process and thread a task ran in, and its BLAS threads."""
    import threading

    from threadpoolctl import threadpool_info

    blas = max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"),
               default=1)
    return os.getpid(), threading.get_ident(), blas


def test_local_executor_threads_run_in_this_process_with_one_blas_thread() -> None:
    tasks = list(range(8))
    here = list(LocalExecutor(n_jobs=2, prefer="threads").map_unordered(_where, None, tasks))
    assert {pid for pid, _, _ in here} == {os.getpid()}
    assert {blas for _, _, blas in here} == {1}
    away = list(LocalExecutor(n_jobs=2).map_unordered(_where, None, tasks))
    assert os.getpid() not in {pid for pid, _, _ in away}
    assert {blas for _, _, blas in away} == {1}


def _add(shared: int, task: int) -> int:
    return shared + task


@pytest.mark.parametrize("n_jobs", [1, -1, -100])
def test_local_executor_map_unordered(n_jobs: int) -> None:
    ex = LocalExecutor(n_jobs=n_jobs)
    assert ex._workers() >= 1
    assert sorted(ex.map_unordered(_add, 10, [1])) == [11]
    assert list(ex.map_unordered(_add, 10, [])) == []
