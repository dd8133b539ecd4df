"""Candidate columns (pico.vote.candidates) against the dense O(N * K) formulas."""

from __future__ import annotations

import numpy as np
import pytest

from pico.history import LabelHistoryModel, sticky_smooth
from pico.store import SparsePredictions
from pico.vote import BayesianVote, bayes_posterior, checker_evidence
from pico.vote.bayes import class_frequencies
from pico.vote.candidates import (
    CandidateEvidence,
    candidate_counts,
    candidate_evidence,
    column_prior,
    dense_posterior,
)


def _problem(n: int = 400, k: int = 12, rate: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, k, n)
    flip = rng.random(n) < rate
    given = np.where(flip, (clean + rng.integers(1, k, n)) % k, clean)

    def branch(strength: float = 2.5, top_k: int = 3) -> SparsePredictions:
        logits = rng.normal(size=(n, k)) * 1.5
        logits[np.arange(n), clean] += strength
        p = np.exp(logits)
        return SparsePredictions.from_dense(p / p.sum(axis=1, keepdims=True), top_k)

    return clean, given, branch


def _all_columns(iterations, trained_on, n: int, k: int) -> CandidateEvidence:
    """Every class its own column, from the dense evidence: the O(N * K) reference."""
    evidence = np.zeros((len(iterations), n, k + 1))
    sizes = np.zeros(len(iterations))
    for t, (branches, used) in enumerate(zip(iterations, trained_on)):
        e, m = checker_evidence(branches, class_frequencies(np.asarray(used), k))
        evidence[t, :, :k] = e / m
        sizes[t] = m
    classes = np.broadcast_to(np.arange(k), (n, k)).copy()
    return CandidateEvidence(classes, np.ones((n, k), dtype=bool), evidence, sizes, k)


def test_candidates_cover_stored_classes_and_the_given_label() -> None:
    _, given, branch = _problem(n=50)
    branches = [branch(), branch()]
    cand = candidate_evidence([branches], [given], given, n_classes=12)
    for i in range(50):
        expected = set(given[i : i + 1]) | {
            int(c) for b in branches for c in b.probs[i].indices
        }
        assert set(cand.classes[i][cand.valid[i]]) == expected
    assert cand.evidence.shape == (1, 50, cand.width + 1)
    assert np.all(cand.has_rest)
    np.testing.assert_allclose(column_prior(cand, np.full(12, 1 / 12)).sum(axis=1), 1.0)


def test_max_candidates_keeps_the_given_label_and_the_strongest() -> None:
    _, given, branch = _problem(n=80)
    branches = [branch(top_k=6) for _ in range(3)]
    cand = candidate_evidence([branches], [given], given, n_classes=12, max_candidates=4)
    assert cand.width == 4
    rows = np.arange(80)
    assert np.all((cand.classes == given[:, None]).any(axis=1))
    # the best class of branch 0 is kept unless it is beaten by the given label and two others
    top0 = np.array([b.indices[np.argmax(b.data)] for b in branches[0].probs])
    assert np.mean((cand.classes == top0[:, None]).any(axis=1)) > 0.9
    assert cand.valid[rows].sum(axis=1).max() == 4


@pytest.mark.parametrize("top_k", [2, 4, 12])
def test_vote_posterior_is_the_dense_bayes_posterior(top_k: int) -> None:
    clean, given, branch = _problem()
    branches = [branch(top_k=top_k) for _ in range(4)]
    vote = BayesianVote(random_state=0).fit(branches, given)
    evidence, _ = checker_evidence(branches, class_frequencies(given, 12))
    expected = bayes_posterior(
        evidence, given, noise=vote.noise_, class_prior=vote.class_prior_, beta=vote.beta_
    )
    np.testing.assert_allclose(vote.posterior_, expected, atol=1e-8)
    np.testing.assert_allclose(vote.posterior_.sum(axis=1), 1.0)
    rows = np.arange(len(given))
    np.testing.assert_allclose(vote.probability(given), expected[rows, given], atol=1e-8)
    best, best_p = vote.best()
    np.testing.assert_array_equal(best, expected.argmax(axis=1))
    np.testing.assert_allclose(best_p, expected.max(axis=1), atol=1e-8)
    assert np.mean(best == clean) > np.mean(given == clean) + 0.1


@pytest.mark.parametrize("n_iterations", [1, 3])
def test_em_on_candidates_fits_what_the_em_on_every_class_fits(n_iterations: int) -> None:
    _, given, branch = _problem(n=300, k=16, seed=1)
    rng = np.random.default_rng(5)
    iterations = [[branch(top_k=3) for _ in range(3)] for _ in range(n_iterations)]
    trained_on = [given] + [
        np.where(rng.random(300) < 0.1, rng.integers(0, 16, 300), given)
        for _ in range(n_iterations - 1)
    ]
    sparse = LabelHistoryModel(random_state=0).fit(iterations, given, trained_on=trained_on)
    full = LabelHistoryModel(random_state=0)
    full.fit_candidates(_all_columns(iterations, trained_on, 300, 16), given)
    assert sparse.candidate_posterior_.shape[1] < 16
    np.testing.assert_allclose(sparse.weights_, full.weights_, rtol=1e-5, atol=1e-6)
    assert sparse.stay_ == pytest.approx(full.stay_, abs=1e-6)
    np.testing.assert_allclose(sparse.noise_, full.noise_, atol=1e-6)
    np.testing.assert_allclose(sparse.class_prior_, full.class_prior_, atol=1e-8)
    np.testing.assert_allclose(sparse.posterior_, full.posterior_, atol=1e-6)


def test_smoothed_chain_on_candidates_matches_every_class() -> None:
    _, given, branch = _problem(n=200, k=8, seed=2)
    iterations = [[branch(top_k=2) for _ in range(2)] for _ in range(3)]
    trained_on = [given] * 3
    model = LabelHistoryModel(random_state=0).fit(iterations, given, trained_on=trained_on)
    full = _all_columns(iterations, trained_on, 200, 8)
    emissions = model.weights_[:, None, None] * full.evidence[:, :, :8]
    emissions[-1] += np.log(model.noise_[:, given].T)
    dense = sticky_smooth(
        emissions, model.class_prior_, stay=model.stay_, jump=model.class_prior_
    )
    np.testing.assert_allclose(model.posterior_, dense.smoothed[-1], atol=1e-8)
    # the rest's "same label after a redraw" is approximated: expected changes agree closely
    np.testing.assert_allclose(model.expected_changes_, dense.expected_changes, atol=0.02)


def test_counts_on_candidates_are_the_dense_counts() -> None:
    _, given, branch = _problem(n=150, k=9, seed=3)
    cand = candidate_evidence([[branch(top_k=2)]], [given], given, n_classes=9)
    rng = np.random.default_rng(0)
    post = rng.dirichlet(np.ones(cand.width + 1), size=150) * np.c_[cand.valid, cand.has_rest]
    post /= post.sum(axis=1, keepdims=True)
    prior = rng.dirichlet(np.ones(9))
    noise = rng.dirichlet(np.ones(9), size=9)
    dense = dense_posterior(cand, post, given, noise, prior)
    np.testing.assert_allclose(dense.sum(axis=1), 1.0)
    onehot = np.eye(9)[given]
    np.testing.assert_allclose(
        candidate_counts(cand, post, given, noise, prior), dense.T @ onehot, atol=1e-10
    )


def test_group_rows_share_candidates_and_posterior() -> None:
    _, _, branch = _problem(n=20, k=6, seed=4)
    groups = np.arange(60) // 3  # three identical texts each: the same predictions
    branches = [
        SparsePredictions(b.probs[groups], b.residual[groups])
        for b in (branch(top_k=2) for _ in range(3))
    ]
    given = np.random.default_rng(0).integers(0, 6, 60)
    cand = candidate_evidence([branches], [given], given, n_classes=6, groups=groups)
    for g in range(20):
        rows = np.flatnonzero(groups == g)
        assert all(np.array_equal(cand.classes[rows[0]], cand.classes[r]) for r in rows)
    vote = BayesianVote(random_state=0).fit(branches, given, groups=groups)
    post = vote.candidate_posterior_
    for g in range(20):
        rows = np.flatnonzero(groups == g)
        np.testing.assert_allclose(post[rows], post[rows[0]][None].repeat(len(rows), 0))
