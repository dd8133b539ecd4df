"""Tests for pico.corrector.IterativeCorrector on small synthetic data with planted noise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from pico.benchmarking import make_blobs_with_noise
from pico.corrector import STATUSES, IterativeCorrector, limit_class_loss, split_shape
from pico.exceptions import InvalidInputError

# Small and fast: 2 branches x 5 folds x at most 2 iterations = 20 checker fits.
FAST: dict[str, Any] = {"n_branches": 2, "n_folds": 5, "n_iterations": 2, "n_jobs": 1}


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    # The fits are tiny; on a busy 2-core machine BLAS threads only contend
    # (sklearn's LogisticRegression ran 15x slower with 2 threads under load).
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def noisy(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return make_blobs_with_noise(400, 4, rate=0.15, separation=2.0, random_state=seed)


@pytest.fixture
def fitted(
    noisy: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int
) -> tuple[IterativeCorrector, np.ndarray, np.ndarray]:
    X, y_true, y_noisy = noisy
    return IterativeCorrector(random_state=seed, **FAST).fit(X, y_noisy), y_true, y_noisy


def test_correction_improves_accuracy_with_precise_changes(
    fitted: tuple[IterativeCorrector, np.ndarray, np.ndarray],
) -> None:
    corr, y_true, y_noisy = fitted
    before = np.mean(y_noisy == y_true)
    after = np.mean(corr.labels_ == y_true)
    assert after >= before + 0.05, (before, after)
    changed = corr.labels_ != y_noisy
    assert changed.sum() > 0
    precision = np.mean(corr.labels_[changed] == y_true[changed])
    assert precision >= 0.8, precision
    # and hardly any correct label was made wrong
    damage = np.sum((y_noisy == y_true) & (corr.labels_ != y_true))
    assert damage <= 0.02 * len(y_true)


def test_clean_data_is_left_almost_untouched(
    noisy: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int
) -> None:
    X, y_true, _ = noisy
    corr = IterativeCorrector(random_state=seed, **{**FAST, "n_iterations": 5}).fit(X, y_true)
    assert np.mean(corr.labels_ != y_true) < 0.01
    assert np.mean(corr.status_ == "relabeled") < 0.01
    # fewer than tol of the rows changed, so it stopped early
    assert corr.n_iter_ < 5
    assert len(corr.iterations_) == corr.n_iter_
    # it stopped once neither the returned nor the training labels moved (tol * N)
    moved = [max(it["changed"], it["training_changed"]) for it in corr.iterations_]
    limit = corr.tol * len(y_true)
    assert moved[-1] < limit and all(m >= limit for m in moved[:-1])


def test_same_random_state_same_result(
    noisy: tuple[np.ndarray, np.ndarray, np.ndarray],
    fitted: tuple[IterativeCorrector, np.ndarray, np.ndarray],
    seed: int,
) -> None:
    X, _, y_noisy = noisy
    first = fitted[0]
    again = IterativeCorrector(random_state=seed, **FAST).fit(X, y_noisy)
    np.testing.assert_array_equal(first.labels_, again.labels_)
    np.testing.assert_array_equal(first.confidence_, again.confidence_)
    np.testing.assert_array_equal(first.history_, again.history_)
    np.testing.assert_array_equal(first.status_, again.status_)


def test_history_and_status(fitted: tuple[IterativeCorrector, np.ndarray, np.ndarray]) -> None:
    corr, _, y_noisy = fitted
    n = len(y_noisy)
    assert corr.history_.shape == (n, corr.n_iter_ + 1)
    assert 1 <= corr.n_iter_ <= FAST["n_iterations"]
    np.testing.assert_array_equal(corr.classes_[corr.history_[:, 0]], y_noisy)
    np.testing.assert_array_equal(corr.history_[:, 0], np.searchsorted(corr.classes_, y_noisy))
    assert corr.n_fits_ == corr.n_iter_ * FAST["n_branches"] * FAST["n_folds"]

    assert set(corr.status_.tolist()) <= {"kept", "relabeled", "review"}
    assert set(corr.status_.tolist()) <= set(STATUSES)
    relabeled = corr.status_ == "relabeled"
    np.testing.assert_array_equal(relabeled, corr.labels_ != y_noisy)

    rows = np.arange(n)
    codes = np.searchsorted(corr.classes_, corr.labels_)
    assert np.all((corr.confidence_ >= 0) & (corr.confidence_ <= 1))
    np.testing.assert_allclose(corr.posterior_.sum(axis=1), 1.0)
    # the decisions read the fitted posterior: a relabeled row's new class reached the
    # threshold there, and a kept row's given label reached review_threshold
    np.testing.assert_array_equal(corr.suggested_[relabeled], corr.labels_[relabeled])
    np.testing.assert_allclose(
        corr.suggested_confidence_, corr.posterior_[rows, np.searchsorted(corr.classes_,
                                                                          corr.suggested_)]
    )
    assert np.all(corr.suggested_confidence_[relabeled] >= corr.relabel_threshold)
    given = np.searchsorted(corr.classes_, y_noisy)
    np.testing.assert_allclose(corr.given_confidence_, corr.posterior_[rows, given])
    kept = corr.status_ == "kept"
    assert np.all(corr.given_confidence_[kept] >= corr.review_threshold)
    # the reported confidence is the model's, from the flatter weights
    np.testing.assert_allclose(corr.confidence_, corr.model_.confidence(codes))
    assert corr.suggested_.shape == (n,)


def test_confidence_scale_changes_what_is_reported_and_only_low_confidence_moves() -> None:
    X, _, y_noisy = make_blobs_with_noise(300, 3, rate=0.2, separation=1.5, random_state=1)
    options = {"random_state": 0, "n_branches": 2, "n_folds": 3, "n_iterations": 2}
    fitted = IterativeCorrector(confidence_scale=1.0, **options).fit(X, y_noisy)
    flat = IterativeCorrector(confidence_scale=0.5, **options).fit(X, y_noisy)
    # the same fitted posterior; the flatter confidence holds back the moves it reports
    # below the relabel threshold (to review), and nothing else
    np.testing.assert_allclose(fitted.suggested_confidence_, flat.suggested_confidence_)
    differ = fitted.labels_ != flat.labels_
    assert np.all(fitted.status_[differ] == "relabeled") and np.all(flat.status_[differ] == "review")
    assert flat.review_reasons_["low_confidence"] >= differ.sum() > 0
    for corr in (fitted, flat):
        relabeled = corr.status_ == "relabeled"
        assert np.all(corr.confidence_[relabeled] >= corr.relabel_threshold)
    # at 1 the reported confidence is the fitted posterior of the final label
    rows = np.arange(len(y_noisy))
    codes = np.searchsorted(fitted.classes_, fitted.labels_)
    np.testing.assert_allclose(fitted.confidence_, fitted.posterior_[rows, codes])
    # flatter weights: the checkers' evidence counts less, so a relabeled row (which
    # the checkers carried against its given label) is reported as less certain
    moved = flat.status_ == "relabeled"
    assert moved.any()
    assert np.all(flat.confidence_[moved] < fitted.confidence_[moved] + 1e-12)
    assert np.mean(flat.confidence_[moved]) < np.mean(fitted.confidence_[moved])
    with pytest.raises(InvalidInputError, match="confidence_scale"):
        IterativeCorrector(confidence_scale=1.5).fit(X, y_noisy)


def test_relabel_odds_keeps_only_changes_that_beat_the_given_label() -> None:
    X, y_true, y_noisy = make_blobs_with_noise(300, 3, rate=0.2, separation=1.5,
                                              random_state=1)
    options = {"random_state": 0, "n_branches": 2, "n_folds": 3, "n_iterations": 1}
    loose = IterativeCorrector(relabel_odds=1.0, **options).fit(X, y_noisy)
    strict = IterativeCorrector(relabel_odds=20.0, **options).fit(X, y_noisy)
    # the same vote (the rule only decides), so the posteriors agree
    np.testing.assert_allclose(loose.suggested_confidence_, strict.suggested_confidence_)
    moved_loose = loose.labels_ != y_noisy
    moved_strict = strict.labels_ != y_noisy
    # every strict change is a loose one, and passes the odds against the given label
    assert np.all(moved_loose[moved_strict])
    assert moved_strict.sum() < moved_loose.sum()
    assert np.all(
        strict.suggested_confidence_[moved_strict]
        >= 20.0 * strict.given_confidence_[moved_strict]
    )
    # a row the rule holds back keeps its label and is marked for review
    held = moved_loose & ~moved_strict
    assert np.all(strict.status_[held] == "review")


def test_checkers_train_on_the_likeliest_labels() -> None:
    X, y_true, y_noisy = make_blobs_with_noise(300, 3, rate=0.2, separation=1.5,
                                              random_state=1)
    options = {"random_state": 0, "n_branches": 2, "n_folds": 3, "n_iterations": 2,
               "tol": 0.0}
    loose = IterativeCorrector(relabel_odds=1.0, **options).fit(X, y_noisy)
    strict = IterativeCorrector(relabel_odds=20.0, training_odds=1.0, **options).fit(
        X, y_noisy
    )
    same = IterativeCorrector(relabel_odds=20.0, training_odds=20.0, **options).fit(
        X, y_noisy
    )
    for corr in (loose, strict, same):
        assert corr.training_labels_.shape == (len(y_noisy), corr.n_iter_)
        np.testing.assert_array_equal(corr.training_labels_[:, 0], y_noisy)
    # iteration 1 is the same vote; the strict rule returns fewer moves, but its
    # second iteration's checkers learn from the loose rule's labels
    np.testing.assert_array_equal(strict.training_labels_[:, 1], loose.history_[:, 1])
    assert np.sum(strict.history_[:, 1] != y_noisy) < np.sum(loose.history_[:, 1] != y_noisy)
    # training_odds equal to relabel_odds: the checkers learn the returned labels
    np.testing.assert_array_equal(same.training_labels_[:, 1], same.history_[:, 1])
    assert np.mean(strict.training_labels_[:, 1] == y_true) > np.mean(y_noisy == y_true)


def test_string_labels_and_progress(seed: int) -> None:
    X, y_true, y_noisy = make_blobs_with_noise(120, 3, rate=0.1, random_state=seed)
    names = np.array(["billing", "cancel", "delivery"])
    events: list[tuple[str, dict[str, Any]]] = []
    corr = IterativeCorrector(
        random_state=seed,
        n_branches=1,
        n_folds=3,
        n_iterations=1,
        progress=lambda event, info: events.append((event, info)),
    ).fit(X, names[y_noisy])
    assert corr.classes_.tolist() == names.tolist()
    assert set(corr.labels_.tolist()) <= set(names.tolist())
    assert np.mean(corr.labels_ == names[y_true]) >= np.mean(y_noisy == y_true)
    kinds = [e for e, _ in events]
    assert kinds.count("checker") == 3 and kinds[-1] == "iteration"
    assert events[-1][1]["iteration"] == 1


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_folds": 1}, "n_folds"),
        ({"n_folds": 2.5}, "n_folds"),
        ({"n_branches": 0}, "n_branches"),
        ({"n_iterations": True}, "n_iterations"),
        ({"top_k": 0}, "top_k"),
        ({"relabel_threshold": 0.3}, "relabel_threshold"),
        ({"relabel_threshold": 1.5}, "relabel_threshold"),
        ({"relabel_odds": 0.5}, "relabel_odds"),
        ({"relabel_odds": True}, "relabel_odds"),
        ({"relabel_odds": "3"}, "relabel_odds"),
        ({"training_odds": 0.9}, "training_odds"),
        ({"review_threshold": -0.1}, "review_threshold"),
        ({"tol": 2.0}, "tol"),
        ({"max_class_loss": 1.5}, "max_class_loss"),
        ({"checker": LinearSVC()}, "checker"),
        ({"checker": object()}, "checker"),
    ],
)
def test_invalid_parameters(params: dict[str, Any], name: str) -> None:
    X, _, y = make_blobs_with_noise(40, 2, rate=0.0, random_state=0)
    with pytest.raises(InvalidInputError, match=f"'{name}'"):
        IterativeCorrector(**params).fit(X, y)


@pytest.mark.parametrize(
    ("n_rows", "given", "shape"),
    [
        (999, {}, (4, 5)),
        (1000, {}, (2, 10)),
        (50_000, {}, (2, 10)),
        (5000, {"n_folds": 3}, (6, 3)),
        (5000, {"n_folds": 40}, (1, 40)),
        (500, {"n_branches": 7}, (7, 5)),
        (5000, {"n_branches": 3, "n_folds": 4}, (3, 4)),
    ],
)
def test_split_shape_fills_in_the_options_left_out(
    n_rows: int, given: dict[str, int], shape: tuple[int, int]
) -> None:
    assert split_shape(n_rows, **given) == shape


@pytest.mark.parametrize(("n_rows", "shape"), [(400, (4, 5)), (1200, (2, 10))])
def test_default_split_shape_follows_the_rows(n_rows: int, shape: tuple[int, int]) -> None:
    X, _, y = make_blobs_with_noise(n_rows, 3, rate=0.05, random_state=0)
    corr = IterativeCorrector(n_iterations=1, random_state=0).fit(X, y)
    assert (corr.n_branches_, corr.n_folds_) == shape
    assert corr.n_fits_ == shape[0] * shape[1]
    assert corr.n_branches is None and corr.n_folds is None  # the options are left as given


def test_invalid_data() -> None:
    X, _, y = make_blobs_with_noise(40, 2, rate=0.0, random_state=0)
    with pytest.raises(InvalidInputError, match="rows"):
        IterativeCorrector(**FAST).fit(X[:30], y)
    with pytest.raises(InvalidInputError, match="at least 2 classes"):
        IterativeCorrector(**FAST).fit(X, np.zeros(40, dtype=int))


def test_class_smaller_than_n_folds(seed: int) -> None:
    """A genuine class with 2 rows (n_folds=5) survives and keeps its rows."""
    X, y_true, y_noisy = make_blobs_with_noise(200, 4, rate=0.1, separation=2.0, random_state=seed)
    rng = np.random.default_rng(seed)
    X = np.vstack([X, 8.0 + rng.normal(size=(2, X.shape[1]))])  # its own region
    y_noisy = np.append(y_noisy, [4, 4])
    y_true = np.append(y_true, [4, 4])
    corr = IterativeCorrector(random_state=seed, **FAST).fit(X, y_noisy)
    assert corr.classes_.tolist() == [0, 1, 2, 3, 4]
    assert corr.posterior_.shape == (202, 5)
    assert corr.labels_[-2:].tolist() == [4, 4]
    assert np.mean(corr.labels_ == y_true) > np.mean(y_noisy == y_true)


def test_tiny_class_does_not_absorb_its_big_neighbour() -> None:
    # With beta * M uncapped (it fitted 3.4 here) 12 of 200 correct labels were damaged.
    X, y_true, y_noisy = make_blobs_with_noise(200, 4, rate=0.1, separation=2.0, random_state=2)
    X = np.vstack([X, X[y_true == 0][:2] + 0.1])  # two class-0 rows mislabeled as "4"
    y_noisy = np.append(y_noisy, [4, 4])
    y_true = np.append(y_true, [0, 0])
    corr = IterativeCorrector(random_state=2, **FAST).fit(X, y_noisy)
    damage = np.sum((y_noisy == y_true) & (corr.labels_ != y_true))
    assert np.sum(corr.labels_ == 4) <= 2
    assert damage <= 2


def test_custom_checker(noisy: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int) -> None:
    X, y_true, y_noisy = noisy
    checker = LogisticRegression(C=1.0, max_iter=300)
    corr = IterativeCorrector(checker, random_state=seed, **FAST).fit(X, y_noisy)
    assert np.mean(corr.labels_ == y_true) >= np.mean(y_noisy == y_true) + 0.05
    assert checker.get_params()["warm_start"] is False  # the prototype is not touched
    assert not hasattr(checker, "coef_")


def test_history_model_uses_every_iteration(
    noisy: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int
) -> None:
    X, y_true, y_noisy = noisy
    params = {**FAST, "n_iterations": 3, "tol": 0.0}
    corr = IterativeCorrector(random_state=seed, history=True, **params).fit(X, y_noisy)
    assert corr.n_iter_ == 3
    # the model weighed every iteration so far, the last time three of them
    assert [len(it["weights"]) for it in corr.iterations_] == [1, 2, 3]
    assert all(0.5 <= it["stay"] <= 1.0 for it in corr.iterations_)
    assert corr.expected_changes_.shape == (len(y_noisy),)
    assert np.all(corr.expected_changes_ >= 0) and np.all(corr.expected_changes_ <= 2 + 1e-9)
    # rows expected to change label more than once go to review, keeping their label
    flagged = corr.expected_changes_ > 1.0
    assert np.all(corr.status_[flagged] == "review")
    assert np.all(corr.labels_[flagged] == y_noisy[flagged])
    assert np.mean(corr.labels_ == y_true) >= np.mean(y_noisy == y_true) + 0.05
    # the first iteration is the plain vote: the same labels as a one-iteration run
    one = IterativeCorrector(random_state=seed, **{**FAST, "n_iterations": 1}).fit(X, y_noisy)
    np.testing.assert_array_equal(corr.history_[:, 1], one.history_[:, 1])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_loss", [0.0, 0.2, 0.5, 1.0])
def test_limit_class_loss_keeps_the_strongest_moves(seed: int, max_loss: float) -> None:
    rng = np.random.default_rng(seed)
    given = rng.integers(0, 4, 200)
    proposed = np.where(rng.random(200) < 0.5, rng.integers(0, 4, 200), given)
    strength = rng.random(200)
    labels, held = limit_class_loss(given, proposed, strength, max_loss, 4)
    for c in range(4):
        mine = given == c
        assert np.sum(mine & (labels != c)) <= np.floor(max_loss * mine.sum())
        kept_moves = mine & (labels != given)
        if held[mine].any() and kept_moves.any():
            # every move undone was weaker than every move kept in its class
            assert strength[held & mine].max() <= strength[kept_moves].min()
    assert np.array_equal(labels[~held], proposed[~held])
    assert np.array_equal(labels[held], given[held])
    assert not held.any() if max_loss == 1.0 else True


def test_guard_holds_back_moves_and_reports_the_class(seed: int) -> None:
    X, _, y_noisy = make_blobs_with_noise(300, 3, rate=0.2, separation=3.0, random_state=seed)
    # one iteration of the vote: the guarded run sees the same evidence as the free one
    vote = {**FAST, "n_iterations": 1, "history": False}
    free = IterativeCorrector(random_state=seed, **vote).fit(X, y_noisy)
    assert np.sum(free.labels_ != y_noisy) > 10 and not free.guarded_classes_
    guarded = IterativeCorrector(random_state=seed, max_class_loss=0.0, **vote).fit(X, y_noisy)
    assert np.array_equal(guarded.labels_, y_noisy)
    assert np.array_equal(guarded.held_back_, free.labels_ != y_noisy)
    assert np.all(guarded.status_[guarded.held_back_] == "review")
    assert sum(guarded.guarded_classes_.values()) == guarded.held_back_.sum()
