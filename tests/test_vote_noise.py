"""Tests for pico.vote.noise: the noise matrix kept as diagonal + observed cells + row floors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from pico.report import noise_entries
from pico.store import SparsePredictions
from pico.vote import BayesianVote
from pico.vote.bayes import RowsInMemory, add_passes, em_pass
from pico.vote.candidates import (
    candidate_evidence,
    candidate_pairs,
    count_statistics,
    counts_from_statistics,
    label_loglik,
)
from pico.vote.noise import NoiseMatrix, noise_from_counts, noise_step


def _random_matrix(k: int, held: float, seed: int) -> NoiseMatrix:
    """A NoiseMatrix with a random share ``held`` of its off-diagonal cells on their own."""
    rng = np.random.default_rng(seed)
    keys = np.array([c * k + l for c in range(k) for l in range(k) if c != l])
    keys = np.sort(rng.choice(keys, int(held * len(keys)), replace=False))
    diag = rng.uniform(0.5, 0.95, k)
    values = rng.uniform(0.0, 0.1, len(keys))
    rows = keys // k
    off_held = np.bincount(rows, weights=values, minlength=k)
    tied = (k - 1) - np.bincount(rows, minlength=k)
    # scale so that every row sums to 1: diag + s * (held + tied * floor0) = 1
    floor0 = rng.uniform(0.0, 0.05, k)
    scale = (1.0 - diag) / (off_held + tied * floor0)
    return NoiseMatrix(diag, keys, values * scale[rows], floor0 * scale)


def test_noise_matrix_is_the_dense_matrix_it_stands_for() -> None:
    T = _random_matrix(7, 0.3, 0)
    dense = T.toarray()
    np.testing.assert_allclose(dense.sum(axis=1), 1.0)
    np.testing.assert_allclose(T.row_sums(), 1.0)
    rows, cols = np.meshgrid(np.arange(7), np.arange(7), indexing="ij")
    np.testing.assert_array_equal(T.at(rows, cols), dense)
    v = np.random.default_rng(1).random(7)
    np.testing.assert_allclose(T.dot(v), dense @ v)
    np.testing.assert_allclose(T.column_mass(v), v @ dense)
    np.testing.assert_array_equal(np.asarray(T), dense)
    again = NoiseMatrix.from_dense(dense)
    assert again.full and not T.full
    np.testing.assert_array_equal(again.toarray(), dense)
    assert T.shape == (7, 7) and T.nbytes < dense.nbytes


def test_lookups_are_kept_per_keys_array_and_not_pickled() -> None:
    T = _random_matrix(5, 0.5, 2)
    keys = np.array([0, 1, 7, 24])
    first = T.at_keys(keys)
    assert T.at_keys(keys) is first and not first.flags.writeable
    np.testing.assert_array_equal(T.at_keys(keys.copy()), first)
    again = pickle.loads(pickle.dumps(T))
    assert "_memo" not in again.__dict__
    np.testing.assert_array_equal(again.at_keys(keys), first)


def test_off_diagonal_lists_held_cells_and_floors_above_the_threshold() -> None:
    T = NoiseMatrix(
        np.array([0.8, 0.9, 0.99]), np.array([1]), np.array([0.15]),
        np.array([0.05, 0.05, 0.005]),
    )
    rows, cols, values = T.off_diagonal(0.01)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2)]
    np.testing.assert_allclose(values, [0.15, 0.05, 0.05, 0.05])
    # the run summary lists the same entries whether the matrix is sparse or dense
    names = np.array(["a", "b", "c"])
    assert noise_entries(names, T, floor=0.01) == noise_entries(names, T.toarray(), floor=0.01)


def _statistics(k: int, seed: int, *, rest: bool) -> tuple:
    """Random E-step sums over a random set of observed cells (every diagonal cell)."""
    rng = np.random.default_rng(seed)
    off = np.array([c * k + l for c in range(k) for l in range(k) if c != l])
    keys = np.union1d(rng.choice(off, len(off) // 4, replace=False), np.arange(k) * (k + 1))
    direct = rng.gamma(1.0, 3.0, len(keys))
    taken = rng.uniform(0.0, 0.5, len(keys)) if rest else np.zeros(len(keys))
    per_label = rng.uniform(0.5, 2.0, k) if rest else np.zeros(k)
    prior = rng.dirichlet(np.full(k, 3.0))
    return keys, direct, taken, per_label, prior


@pytest.mark.parametrize("rest", [False, True])
def test_dense_step_is_the_dense_m_step(rest: bool) -> None:
    k = 9
    keys, direct, taken, per_label, prior = _statistics(k, 3, rest=rest)
    old = _random_matrix(k, 0.4, 4)
    new, class_counts = noise_step(keys, direct, taken, per_label, old, prior, dense_classes=k)
    counts = counts_from_statistics(keys, direct, taken, per_label, old, prior)
    np.testing.assert_array_equal(new.toarray(), noise_from_counts(counts))
    np.testing.assert_array_equal(class_counts, counts.sum(axis=1))
    assert new.full


@pytest.mark.parametrize("rest", [False, True])
def test_sparse_step_ties_the_unobserved_cells_of_each_row(rest: bool) -> None:
    k = 9
    keys, direct, taken, per_label, prior = _statistics(k, 5, rest=rest)
    old = _random_matrix(k, 0.4, 6)
    new, class_counts = noise_step(keys, direct, taken, per_label, old, prior, dense_classes=0)
    counts = counts_from_statistics(keys, direct, taken, per_label, old, prior)
    dense = noise_from_counts(counts)
    got = new.toarray()
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(class_counts, counts.sum(axis=1), rtol=1e-12)
    # the reliabilities and every observed cell are the dense M-step's ...
    np.testing.assert_allclose(np.diag(got), np.diag(dense), rtol=1e-12)
    observed = np.zeros(k * k, dtype=bool)
    observed[keys] = True
    observed = observed.reshape(k, k)
    np.testing.assert_allclose(got[observed], dense[observed], rtol=1e-12)
    # ... and the unobserved cells of a row share the mean of their dense values
    for c in range(k):
        tied = ~observed[c] & (np.arange(k) != c)
        np.testing.assert_allclose(got[c, tied], dense[c, tied].mean(), rtol=1e-12)
        if not rest:  # no rest mass: the dense values are equal already
            np.testing.assert_allclose(got[c, tied], dense[c, tied], rtol=1e-12)
    assert len(new.keys) == int((observed & ~np.eye(k, dtype=bool)).sum())


def _sparse_case(n: int, k: int, top_k: int, seed: int) -> tuple[np.ndarray, np.ndarray, list]:
    """True and given labels (12% moved to the next class) and two top-k checkers."""
    rng = np.random.default_rng(seed)
    y = rng.integers(k, size=n)
    given = np.where(rng.random(n) < 0.12, (y + 1) % k, y)
    branches = []
    for _ in range(2):
        right = rng.random(n) < 0.9
        top = np.where(right, y, rng.integers(k, size=n))
        cols = np.concatenate([top[:, None], rng.integers(k, size=(n, top_k - 1))], axis=1)
        vals = np.concatenate([np.full((n, 1), 0.8), np.full((n, top_k - 1), 0.15 / top_k)], 1)
        probs = sp.coo_matrix(
            (vals.ravel(), (np.repeat(np.arange(n), top_k), cols.ravel())), shape=(n, k)
        ).tocsr()  # a repeated class adds up
        probs.data = np.minimum(probs.data, 0.95)
        branches.append(SparsePredictions(probs, np.clip(1.0 - probs.sum(axis=1).A1, 0, 1)))
    return y, given, branches


def test_sparse_and_dense_noise_give_the_same_labels_where_few_cells_are_reached() -> None:
    _, given, branches = _sparse_case(800, 100, 3, 0)
    dense = BayesianVote(random_state=0).fit(branches, given, n_classes=100)
    sparse = BayesianVote(random_state=0, dense_noise_classes=0).fit(
        branches, given, n_classes=100
    )
    assert dense.noise_matrix_.full and not sparse.noise_matrix_.full
    assert len(sparse.noise_matrix_.keys) < 0.5 * 100 * 99
    np.testing.assert_array_equal(sparse.best()[0], dense.best()[0])
    np.testing.assert_allclose(sparse.noise_matrix_.diagonal, dense.noise_matrix_.diagonal,
                               atol=1e-3)
    np.testing.assert_allclose(sparse.noise_.sum(axis=1), 1.0)


def test_vote_on_thousands_of_classes_keeps_the_matrix_small_and_finds_the_noise() -> None:
    k = 5000
    y, given, branches = _sparse_case(3000, k, 5, 1)
    vote = BayesianVote(random_state=0).fit(branches, given, n_classes=k)
    noise = vote.noise_matrix_
    assert noise.shape == (k, k) and not noise.full
    assert noise.nbytes < 0.01 * 8 * k * k  # under 1% of the dense matrix
    np.testing.assert_allclose(noise.row_sums(), 1.0, atol=1e-9)
    best, _ = vote.best()
    wrong = given != y
    assert np.mean(best[wrong] == y[wrong]) > 0.8
    assert np.mean(best[~wrong] == y[~wrong]) > 0.98
    # the planted confusion (c -> c + 1) is learned as observed cells above the floor
    pairs = noise.at(y[wrong], given[wrong])
    assert np.median(pairs) > 10 * np.median(noise.floor)


def test_em_sums_add_up_over_blocks_of_rows() -> None:
    _, given, branches = _sparse_case(400, 40, 4, 2)
    cand = candidate_evidence([branches], [given], given, n_classes=40)
    rows = RowsInMemory(cand, given)
    vote = BayesianVote(random_state=0, dense_noise_classes=0)
    state = vote._initial_state(cand, given)
    whole = rows.em_pass(vote, state, "counts")
    halves = None
    for part in (np.arange(0, 150), np.arange(150, 400)):
        sub_cand, sub_labels, _ = rows.take(part)
        halves = add_passes(halves, em_pass(vote, sub_cand, sub_labels, None, state, "counts"))
    assert halves is not None
    np.testing.assert_array_equal(halves["keys"], whole["keys"])
    for key in ("direct", "taken", "per_label"):
        np.testing.assert_allclose(halves[key], whole[key], rtol=1e-12)
    assert halves["ll_sum"] == pytest.approx(whole["ll_sum"], rel=1e-12)


def test_candidate_functions_take_a_dense_matrix_or_a_noise_matrix() -> None:
    _, given, branches = _sparse_case(200, 12, 4, 3)
    cand = candidate_evidence([branches], [given], given, n_classes=12)
    T = _random_matrix(12, 0.3, 7)
    prior = np.full(12, 1 / 12)
    np.testing.assert_allclose(
        label_loglik(cand, given, T, prior),
        label_loglik(cand, given, T.toarray(), prior), rtol=1e-12,
    )
    np.testing.assert_array_equal(
        label_loglik(cand, given, T, prior, pairs=candidate_pairs(cand, given)),
        label_loglik(cand, given, T, prior),
    )
    post = np.random.default_rng(0).dirichlet(np.ones(cand.width + 1), size=200)
    a = count_statistics(cand, post, given, T, prior)
    b = count_statistics(cand, post, given, T.toarray(), prior)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12)
