"""Tests for pico.checkers: SoftmaxRegression (own L-BFGS) and NearestCentroid."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from pico import checkers
from pico.benchmarking import make_blobs_with_noise
from pico.checkers import NearestCentroid, SoftmaxRegression
from pico.exceptions import InvalidInputError

# Both checkers always return one column per class, also for two classes: pico reads
# ``predict_proba`` (N, K) and stores K columns; a binary (N,) ``decision_function``
# would be a special case with no user. sklearn's binary-shape checks fail for that.
_BINARY_DECISION = (
    "design: decision_function returns (N, K) scores also for K=2 (multinomial model, "
    "one column per class), not sklearn's (N,) binary margin"
)


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    failed: dict[str, str] = {}
    if isinstance(estimator, SoftmaxRegression):
        failed.update(
            {
                "check_classifiers_classes": _BINARY_DECISION,
                "check_classifiers_train": _BINARY_DECISION,
                "check_decision_proba_consistency": _BINARY_DECISION,
            }
        )
    return failed


@parametrize_with_checks(
    [SoftmaxRegression(), NearestCentroid()],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator: Any, check: Any) -> None:
    check(estimator)


def test_import_all_consistency() -> None:
    for name in checkers.__all__:
        assert hasattr(checkers, name), name


@pytest.fixture
def blobs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, y, _ = make_blobs_with_noise(120, 3, rate=0.0, separation=4.0, random_state=seed)
    return X, y


# --------------------------------------------------------------------------- Softmax


def test_softmax_learns_separable_data(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    clf = SoftmaxRegression().fit(X, y)
    assert clf.score(X, y) >= 0.98
    assert clf.coef_.shape == (3, X.shape[1])
    assert clf.intercept_.shape == (3,)
    assert 0 < clf.n_iter_ <= clf.max_iter


def test_softmax_proba_rows_sum_to_one_and_follow_classes(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = blobs
    names = np.array(["zeta", "alpha", "mid"])[y]  # classes_ sorts: alpha, mid, zeta
    clf = SoftmaxRegression().fit(X, names)
    assert clf.classes_.tolist() == ["alpha", "mid", "zeta"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(proba >= 0)
    # column j is the probability of classes_[j]: argmax maps back to the true name
    assert np.mean(clf.classes_[proba.argmax(axis=1)] == names) >= 0.98
    assert np.array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_softmax_sparse_and_dense_agree(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    Xs = sp.csr_matrix(X)
    dense = SoftmaxRegression().fit(X, y)
    sparse = SoftmaxRegression().fit(Xs, y)
    # Same objective and optimiser; float32 products sum in another order, and a fit
    # stopped by max_iter amplifies that a little, hence the loose tolerance.
    assert dense.n_iter_ == sparse.n_iter_
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(Xs), atol=1e-2)
    np.testing.assert_array_equal(dense.predict(X), sparse.predict(Xs))
    # a model fitted on sparse input predicts dense input identically, and the reverse
    np.testing.assert_allclose(sparse.predict_proba(X), sparse.predict_proba(Xs), atol=1e-6)
    np.testing.assert_allclose(dense.predict_proba(Xs), dense.predict_proba(X), atol=1e-6)
    assert sparse.score(Xs, y) >= 0.98


def test_softmax_sparse_high_dimensional_text_like(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d, k = 90, 400, 3
    y = np.arange(n) % k
    X = sp.random(n, d, density=0.02, random_state=seed, format="csr")
    # each class owns a block of 20 "words"
    extra = sp.csr_matrix(
        (np.ones(n * 3), (np.repeat(np.arange(n), 3), y.repeat(3) * 20 + rng.integers(20, size=n * 3))),
        shape=(n, d),
    )
    X = (X + extra).tocsr()
    clf = SoftmaxRegression(C=10.0).fit(X, y)
    assert clf.score(X, y) == 1.0


def test_softmax_single_class() -> None:
    X = np.arange(12, dtype=float).reshape(6, 2)
    clf = SoftmaxRegression().fit(X, ["only"] * 6)
    assert clf.classes_.tolist() == ["only"]
    assert clf.n_iter_ == 0
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((6, 1)))
    assert clf.predict(X).tolist() == ["only"] * 6


def test_softmax_warm_start_reuses_solution(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    params = {"C": 1.0, "max_iter": 200, "tol": 1e-3}
    cold = SoftmaxRegression(**params).fit(X, y)
    warm = SoftmaxRegression(warm_start=True, **params).fit(X, y)
    first_coef = warm.coef_.copy()
    assert warm.n_iter_ == cold.n_iter_ > 0
    warm.fit(X, y)
    assert warm.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(warm.coef_, first_coef, atol=1e-3)



def test_softmax_warm_start_ignored_when_classes_change(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = blobs
    clf = SoftmaxRegression(warm_start=True).fit(X, y)
    keep = y < 2
    clf.fit(X[keep], y[keep])
    assert clf.coef_.shape == (2, X.shape[1])
    assert clf.score(X[keep], y[keep]) >= 0.98


def test_softmax_without_warm_start_refits_from_scratch(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = blobs
    clf = SoftmaxRegression(tol=1e-3, max_iter=200)
    first = clf.fit(X, y).n_iter_
    assert clf.fit(X, y).n_iter_ == first


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("C", 0),
        ("C", -1.0),
        ("C", "big"),
        ("C", float("nan")),
        ("C", True),
        ("max_iter", 0),
        ("max_iter", 2.5),
        ("max_iter", -3),
        ("memory", 0),
    ],
)
def test_softmax_invalid_parameters(
    blobs: tuple[np.ndarray, np.ndarray], param: str, value: Any
) -> None:
    X, y = blobs
    clf = SoftmaxRegression().set_params(**{param: value})
    with pytest.raises(InvalidInputError, match=repr(param)):
        clf.fit(X, y)
    # InvalidInputError is a ValueError, as sklearn callers expect
    with pytest.raises(ValueError):
        clone(clf).fit(X, y)


def test_softmax_rejects_wrong_feature_count(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    clf = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(X[:, :3])


def test_softmax_predict_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        SoftmaxRegression().predict(np.zeros((2, 2)))


# --------------------------------------------------------------------- NearestCentroid


def test_nearest_centroid_basics(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    # cosine similarity ignores the norm: centre the data so the directions differ
    Xc = X - X.mean(axis=0)
    clf = NearestCentroid().fit(Xc, y)
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.centroids_.shape == (3, X.shape[1])
    np.testing.assert_allclose(np.linalg.norm(clf.centroids_, axis=1), 1.0, atol=1e-5)
    proba = clf.predict_proba(Xc)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert clf.score(Xc, y) >= 0.9
    sparse = NearestCentroid().fit(sp.csr_matrix(Xc), y)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(Xc)), proba, atol=1e-5)


def test_nearest_centroid_temperature_sharpens() -> None:
    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = ["a", "a", "b", "b"]
    soft = NearestCentroid(temperature=1.0).fit(X, y).predict_proba(X)
    sharp = NearestCentroid(temperature=50.0).fit(X, y).predict_proba(X)
    assert np.all(sharp.max(axis=1) > soft.max(axis=1))
    assert NearestCentroid().fit(X, y).predict(np.array([[0.2, 0.8]])).tolist() == ["b"]


def test_nearest_centroid_probabilities_carry_no_class_prior() -> None:
    # a row equally close to two centroids gets even odds, however many rows each
    # label has: the probabilities say how alike a row is to each label's rows
    X = np.array([[1.0, 0.0]] * 30 + [[0.0, 1.0]] * 3)
    y = [0] * 30 + [1] * 3
    proba = NearestCentroid().fit(X, y).predict_proba(np.array([[1.0, 1.0]]))
    np.testing.assert_allclose(proba, [[0.5, 0.5]], atol=1e-6)


@pytest.mark.parametrize("value", [0, -1.0, "hot"])
def test_nearest_centroid_invalid_temperature(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="'temperature'"):
        NearestCentroid(temperature=value).fit(np.eye(2), [0, 1])
