"""The sticky label-history HMM against hmmlearn's dense forward-backward."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from pico.exceptions import InvalidInputError
from pico.history import LabelHistoryModel, sticky_forward, sticky_smooth
from pico.store.base import SparsePredictions
from pico.vote.bayes import BayesianVote, bayes_posterior, checker_evidence, class_frequencies

def _dense_reference(log_em: np.ndarray, init: np.ndarray, stay: float, jump: np.ndarray):
    """Smoothed posteriors and log-likelihood of one row from hmmlearn (dense K x K)."""
    pytest.importorskip("hmmlearn")
    from hmmlearn.base import BaseHMM

    k = log_em.shape[1]

    class FixedEmissions(BaseHMM):  # type: ignore[misc]
        def _compute_log_likelihood(self, X: np.ndarray) -> np.ndarray:
            return log_em[X[:, 0].astype(int)]

        def _init(self, X, lengths=None):  # pragma: no cover - not fitted
            pass

        def _check(self):
            pass

    model = FixedEmissions(n_components=k, init_params="", params="")
    model.startprob_ = init
    model.transmat_ = stay * np.eye(k) + (1.0 - stay) * jump[None, :]
    X = np.arange(len(log_em))[:, None]
    ll, post = model.score_samples(X)
    return ll, post


@pytest.mark.parametrize("stay", [0.0, 0.5, 0.9, 1.0])
def test_matches_hmmlearn(stay: float) -> None:
    rng = np.random.default_rng(1)
    t, n, k = 4, 6, 5
    log_em = rng.normal(size=(t, n, k)) * 2
    init = rng.dirichlet(np.ones(k))
    jump = rng.dirichlet(np.ones(k))
    post = sticky_smooth(log_em, init, stay=stay, jump=jump)
    for i in range(n):
        ll, smoothed = _dense_reference(log_em[:, i], init, stay, jump)
        np.testing.assert_allclose(post.smoothed[:, i], smoothed, atol=1e-8)
        assert post.log_evidence[i] == pytest.approx(ll)
    np.testing.assert_allclose(post.smoothed.sum(axis=2), 1.0)
    np.testing.assert_allclose(post.filtered[-1], post.smoothed[-1])


def test_pairwise_same_label_probability_matches_enumeration() -> None:
    rng = np.random.default_rng(2)
    t, k = 3, 3
    log_em = rng.normal(size=(t, 1, k))
    init = rng.dirichlet(np.ones(k))
    jump = rng.dirichlet(np.ones(k))
    stay = 0.7
    A = stay * np.eye(k) + (1 - stay) * jump[None, :]
    # enumerate all K^T paths
    paths = np.array(np.meshgrid(*[np.arange(k)] * t, indexing="ij")).reshape(t, -1).T
    w = np.array([
        init[p[0]] * np.prod([A[p[s - 1], p[s]] for s in range(1, t)])
        * np.exp(sum(log_em[s, 0, p[s]] for s in range(t)))
        for p in paths
    ])
    w /= w.sum()
    post = sticky_smooth(log_em, init, stay=stay, jump=jump)
    for s in range(t - 1):
        assert post.same[s, 0] == pytest.approx(w[paths[:, s] == paths[:, s + 1]].sum())
    stay_share = np.array([
        sum(stay / (stay + (1 - stay) * jump[p[s]]) for s in range(t - 1) if p[s] == p[s + 1])
        for p in paths
    ])
    assert post.stayed[:, 0].sum() == pytest.approx(np.sum(w * stay_share))
    assert post.expected_changes[0] == pytest.approx(
        sum(w[paths[:, s] != paths[:, s + 1]].sum() for s in range(t - 1))
    )


def test_stay_one_multiplies_and_stay_zero_forgets() -> None:
    rng = np.random.default_rng(3)
    log_em = rng.normal(size=(3, 10, 4))
    init = np.full(4, 0.25)
    f1, _ = sticky_forward(log_em, init, stay=1.0, jump=init)
    product = np.exp(log_em.sum(axis=0))
    np.testing.assert_allclose(f1[-1], product / product.sum(axis=1, keepdims=True))
    f0, _ = sticky_forward(log_em, init, stay=0.0, jump=init)
    last = np.exp(log_em[-1])
    np.testing.assert_allclose(f0[-1], last / last.sum(axis=1, keepdims=True))


def test_extreme_evidence_does_not_overflow() -> None:
    log_em = np.array([[[800.0, 0.0]], [[-900.0, 0.0]]])
    post = sticky_smooth(log_em, np.array([0.5, 0.5]), stay=0.9, jump=np.array([0.5, 0.5]))
    assert np.all(np.isfinite(post.smoothed)) and np.all(np.isfinite(post.log_evidence))


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="shape"):
        sticky_forward(np.zeros((2, 3)), np.ones(3) / 3, stay=0.5, jump=np.ones(3) / 3)
    with pytest.raises(ValueError, match="init"):
        sticky_forward(np.zeros((2, 3, 4)), np.ones(3) / 3, stay=0.5, jump=np.ones(4) / 4)
    with pytest.raises(ValueError, match="stay"):
        sticky_forward(np.zeros((2, 3, 4)), np.ones(4) / 4, stay=1.5, jump=np.ones(4) / 4)


# --------------------------------------------------------------------------- the model


def _branches(probs: list[np.ndarray]) -> list[SparsePredictions]:
    return [SparsePredictions(sp.csr_matrix(p), np.zeros(len(p))) for p in probs]


def _noisy_problem(n: int = 600, k: int = 4, rate: float = 0.25, seed: int = 0):
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, k, n)
    flip = rng.random(n) < rate
    given = np.where(flip, (clean + rng.integers(1, k, n)) % k, clean)

    def checker(strength: float) -> np.ndarray:
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), clean] += strength
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    return clean, given, checker, rng


def test_one_iteration_is_the_bayesian_vote() -> None:
    clean, given, checker, _ = _noisy_problem()
    branches = _branches([checker(2.5) for _ in range(3)])
    model = LabelHistoryModel(random_state=0).fit([branches], given, trained_on=[given])
    # the posterior is the vote's formula with the fitted tempering, noise and prior
    evidence, m = checker_evidence(branches, class_frequencies(given, 4))
    expected = bayes_posterior(
        evidence, given, noise=model.noise_, class_prior=model.class_prior_, beta=model.beta_
    )
    np.testing.assert_allclose(model.posterior_, expected, atol=1e-10)
    assert m == 3 and model.weights_[0] == pytest.approx(3 * model.beta_)
    assert model.stay_ == 1.0 and np.all(model.expected_changes_ == 0)
    assert np.mean(model.posterior_.argmax(1) == clean) > np.mean(given == clean) + 0.1
    # and BayesianVote fits the same model: the same labels
    vote = BayesianVote(random_state=0).fit(branches, given)
    assert np.array_equal(vote.posterior_.argmax(1), model.posterior_.argmax(1))


def test_reported_confidence_is_the_posterior_at_scaled_weights() -> None:
    _, given, checker, _ = _noisy_problem()
    branches = _branches([checker(2.5) for _ in range(3)])
    rows = np.arange(len(given))
    fitted: dict[float, np.ndarray] = {}
    for scale in (1.0, 0.7):
        model = LabelHistoryModel(confidence_scale=scale, random_state=0).fit(
            [branches], given, trained_on=[given]
        )
        evidence, _ = checker_evidence(branches, class_frequencies(given, 4))
        shown = bayes_posterior(evidence, given, noise=model.noise_,
                                class_prior=model.class_prior_, beta=scale * model.beta_)
        best, _ = model.best()
        np.testing.assert_allclose(model.confidence(given), shown[rows, given], atol=1e-10)
        np.testing.assert_allclose(model.confidence(best), shown[rows, best], atol=1e-10)
        fitted[scale] = model.posterior_
        if scale == 1.0:
            np.testing.assert_allclose(model.confidence(best), model.probability(best))
        else:
            assert not np.allclose(model.confidence(best), model.probability(best))
    # the fitted posterior (what the decisions read) does not depend on the scale
    np.testing.assert_allclose(fitted[0.7], fitted[1.0], atol=1e-12)
    other = np.where((best + 1) % 4 == given, (best + 2) % 4, (best + 1) % 4)
    with pytest.raises(InvalidInputError, match="given label and best candidate"):
        model.confidence(other)


def test_an_uninformative_iteration_gets_no_weight() -> None:
    clean, given, checker, rng = _noisy_problem(seed=1)
    good = _branches([checker(2.5) for _ in range(3)])
    k = 4
    junk = _branches([rng.dirichlet(np.ones(k), size=len(given)) for _ in range(3)])
    model = LabelHistoryModel(random_state=0).fit(
        [good, junk], given, trained_on=[given, given]
    )
    assert model.weights_[1] < 0.1 * model.weights_[0]
    single = LabelHistoryModel(random_state=0).fit([good], given, trained_on=[given])
    acc = np.mean(model.posterior_.argmax(1) == clean)
    assert acc > np.mean(single.posterior_.argmax(1) == clean) - 0.01


def test_a_second_informative_iteration_adds_evidence() -> None:
    clean, given, checker, _ = _noisy_problem(seed=2)
    first = _branches([checker(1.5) for _ in range(3)])
    second = _branches([checker(1.5) for _ in range(3)])  # independent, equally good
    one = LabelHistoryModel(random_state=0).fit([first], given, trained_on=[given])
    two = LabelHistoryModel(random_state=0).fit(
        [first, second], given, trained_on=[given, given]
    )
    assert min(two.weights_) > 0.2
    acc_one = np.mean(one.posterior_.argmax(1) == clean)
    acc_two = np.mean(two.posterior_.argmax(1) == clean)
    assert acc_two > acc_one + 0.01


def test_a_flipping_row_is_expected_to_change() -> None:
    n, k = 200, 3
    given = np.arange(n) % k
    a = np.full((n, k), 0.05)
    a[np.arange(n), given] = 0.9
    b = a.copy()
    # row 0: iteration 1 says class 1 strongly, iteration 2 says class 2 strongly
    a[0] = [0.02, 0.96, 0.02]
    b[0] = [0.02, 0.02, 0.96]
    model = LabelHistoryModel(stay_bounds=(0.6, 0.6), random_state=0).fit(
        [_branches([a]), _branches([b])], given, trained_on=[given, given]
    )
    assert model.stay_ == pytest.approx(0.6)
    assert model.expected_changes_[0] > 0.5
    assert np.median(model.expected_changes_[1:]) < 0.1


def test_history_model_input_errors() -> None:
    p = _branches([np.full((3, 2), 0.5)])
    y = np.array([0, 1, 0])
    with pytest.raises(InvalidInputError, match="trained_on"):
        LabelHistoryModel().fit([p, p], y, trained_on=[y])
    with pytest.raises(InvalidInputError, match="at least one branch"):
        LabelHistoryModel().fit([p, []], y, trained_on=[y, y])
    with pytest.raises(InvalidInputError, match="shape"):
        LabelHistoryModel().fit([p, _branches([np.full((4, 2), 0.5)])], y, trained_on=[y, y])
