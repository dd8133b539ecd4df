"""LabelHistoryModel: the Bayesian vote over every iteration's evidence, through a sticky HMM.

Iteration t's checkers were trained on the labels of iteration t - 1 and predict the
rows they did not see. Their evidence ``e_t(c) = sum_r [log p_r(c | x) - log P_t(c)]``
(``P_t``: the class frequencies they were trained on) is the emission of a sticky HMM
(:mod:`pico.history.hmm`) over the row's label; the chain's filtered belief after the
last iteration, ``q(c) = P(z_T = c | e_1..e_T)``, plays the part the single-iteration
vote gives to the checkers, and the given label enters through the noise matrix::

    post_i(c)  ~  q_i(c) * prod_{j in group(i)} T[c, y~_j]

Each iteration's evidence is tempered by its own ``beta_t`` (branches share most of
their training data, and later iterations repeat much of what earlier ones said); the
``beta_t``, the noise matrix T and the class prior are fitted by
expectation-maximisation on the held-out marginal likelihood of the given labels,
``sum_i log sum_c q_i(c) T[c, y~_i]`` (every prediction of row i comes from a checker
that never saw row i); the stay probability by the Baum-Welch update of the smoothed
chains (the expected share of transitions that kept the label). An iteration that adds nothing gets
``beta_t`` near 0: the likelihood, not a schedule, decides how much later iterations,
whose checkers learned from earlier corrections, are believed.

Smoothing the chain over the whole history gives, for every row, the expected number
of label changes along it; rows that are expected to change more than once are the
oscillating ones the corrector sends to review.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from ..exceptions import InvalidInputError
from ..store.base import SparsePredictions
from ..vote.bayes import bayes_posterior, checker_evidence, fit_noise_matrix
from .hmm import ChainPosterior, sticky_forward, sticky_smooth

__all__ = ["LabelHistoryModel"]

_log = logging.getLogger(__name__)


def _frequencies(labels: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return (counts + 0.5) / (counts.sum() + 0.5 * k)  # type: ignore[no-any-return]


class LabelHistoryModel:
    """Fit the label-history HMM and the noise matrix; give the posterior of every row.

    Parameters
    ----------
    max_iter : int, default=20
        EM iterations.
    tol : float, default=1e-5
        Stop when the mean log-likelihood improves by less than this.
    diag_strength, off_strength : float, default=2.0, 20.0
        Pseudo-counts of the noise matrix, as in :class:`~pico.vote.BayesianVote`.
    beta_bounds : tuple of float, default=(0.0, 4.0)
        Range of ``beta_t * M_t``, the weight of iteration t's mean branch evidence.
    stay_bounds : tuple of float, default=(0.5, 1.0)
        Range of the chain's stay probability (start: 0.95 clipped to the range).
    max_rows_for_fit : int, default=30000
        Rows sampled to fit the tempering (a few numbers) on larger data.
    random_state : int or None

    Attributes
    ----------
    betas_ : ndarray of shape (T,)
        Fitted tempering per branch of each iteration.
    stay_ : float
        Fitted stay probability.
    noise_ : ndarray of shape (K, K)
    class_prior_ : ndarray of shape (K,)
    posterior_ : ndarray of shape (N, K)
    expected_changes_ : ndarray of shape (N,)
        Expected number of label changes along each row's history (smoothed chain).
    log_likelihood_ : list of float

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> p = SparsePredictions(sp.csr_matrix(np.array([[.9, .1], [.8, .2], [.1, .9]])),
    ...                       np.zeros(3))
    >>> y = np.array([0, 1, 1])
    >>> m = LabelHistoryModel().fit([[p], [p]], y, trained_on=[y, y])
    >>> m.posterior_.argmax(axis=1).tolist()
    [0, 0, 1]
    """

    def __init__(
        self,
        *,
        max_iter: int = 20,
        tol: float = 1e-5,
        diag_strength: float = 2.0,
        off_strength: float = 20.0,
        beta_bounds: tuple[float, float] = (0.0, 4.0),
        stay_bounds: tuple[float, float] = (0.5, 1.0),
        max_rows_for_fit: int = 30000,
        random_state: int | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.diag_strength = diag_strength
        self.off_strength = off_strength
        self.beta_bounds = beta_bounds
        self.stay_bounds = stay_bounds
        self.max_rows_for_fit = max_rows_for_fit
        self.random_state = random_state

    def fit(
        self,
        iterations: Sequence[Iterable[SparsePredictions]],
        labels: np.ndarray,
        *,
        trained_on: Sequence[np.ndarray],
        groups: np.ndarray | None = None,
        n_classes: int | None = None,
    ) -> LabelHistoryModel:
        """Fit on every iteration's predictions so far.

        Parameters
        ----------
        iterations : sequence of iterables of SparsePredictions
            One entry per iteration, in order: its branches' (N, K) predictions.
        labels : ndarray of shape (N,)
            Given labels, coded 0..K-1.
        trained_on : sequence of ndarray of shape (N,)
            The labels each iteration's checkers were trained on (their class
            frequencies are the prior the checkers' probabilities contain).
        groups : ndarray of shape (N,), optional
            Rows with the same id pool their given labels.
        n_classes : int, optional
            K; default: the predictions' width.
        """
        labels = np.asarray(labels, dtype=np.int64)
        blocks = [list(b) for b in iterations]
        if not blocks or not all(blocks):
            raise InvalidInputError("the history model needs at least one branch per iteration")
        if len(trained_on) != len(blocks):
            raise InvalidInputError(
                f"trained_on has {len(trained_on)} label vectors for {len(blocks)} iterations"
            )
        k = n_classes or blocks[0][0].shape[1]
        n = len(labels)
        evidence = np.empty((len(blocks), n, k))
        sizes = np.empty(len(blocks))
        for t, (branches, used) in enumerate(zip(blocks, trained_on)):
            if branches[0].shape != (n, k):
                raise InvalidInputError(
                    f"iteration {t + 1} predictions have shape {branches[0].shape}; expected "
                    f"{(n, k)}"
                )
            e, m = checker_evidence(branches, _frequencies(np.asarray(used), k))
            evidence[t] = e / m  # mean branch evidence; beta_t * M_t weighs it
            sizes[t] = m
        prior = _frequencies(labels, k)
        rng = np.random.default_rng(self.random_state)
        sample = (
            np.sort(rng.choice(n, self.max_rows_for_fit, replace=False))
            if n > self.max_rows_for_fit
            else np.arange(n)
        )
        lo_s, hi_s = self.stay_bounds
        stay = float(np.clip(0.95 if len(blocks) > 1 else 1.0, lo_s, hi_s))
        noise = np.full((k, k), 0.1 / max(k - 1, 1))
        np.fill_diagonal(noise, 0.9)
        weights = np.full(len(blocks), 1.0)
        history: list[float] = []
        for step in range(self.max_iter):
            if step < 3 or step % 5 == 0:
                weights = self._fit_weights(
                    evidence[:, sample], labels[sample], noise, prior, weights, stay
                )
            log_q = self._log_q(evidence, prior, weights, stay)
            post = bayes_posterior(
                log_q, labels, noise=noise, class_prior=np.ones(k), beta=1.0, groups=groups
            )
            noise = fit_noise_matrix(
                post, labels, k, diag_strength=self.diag_strength, off_strength=self.off_strength
            )
            prior = (post.sum(axis=0) + 0.5) / (n + 0.5 * k)
            chain = self._smooth(evidence, labels, noise, prior, weights, stay)
            if len(blocks) > 1:  # Baum-Welch update of the stay probability
                stay = float(np.clip(chain.stayed.mean(), lo_s, hi_s))
            ll = self._marginal_ll(self._log_q(evidence, prior, weights, stay), labels, noise)
            history.append(ll)
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        log_q = self._log_q(evidence, prior, weights, stay)
        self.posterior_ = bayes_posterior(
            log_q, labels, noise=noise, class_prior=np.ones(k), beta=1.0, groups=groups
        )
        chain = self._smooth(evidence, labels, noise, prior, weights, stay)
        self.expected_changes_ = chain.expected_changes
        self.betas_ = weights / sizes
        self.weights_ = weights
        self.stay_ = stay
        self.noise_ = noise
        self.class_prior_ = prior
        self.log_likelihood_ = history
        _log.debug(
            "history: beta*M %s, stay %.3f after %d EM steps",
            np.round(weights, 3).tolist(),
            stay,
            len(history),
        )
        return self

    @staticmethod
    def _smooth(
        evidence: np.ndarray,
        labels: np.ndarray,
        noise: np.ndarray,
        prior: np.ndarray,
        weights: np.ndarray,
        stay: float,
    ) -> ChainPosterior:
        """The chain smoothed with the given label observing the last state."""
        emissions = weights[:, None, None] * evidence
        emissions[-1] += np.log(np.maximum(noise[:, labels].T, 1e-300))
        return sticky_smooth(emissions, prior, stay=stay, jump=prior)

    @staticmethod
    def _log_q(
        evidence: np.ndarray, prior: np.ndarray, weights: np.ndarray, stay: float
    ) -> np.ndarray:
        """log P(z_T | e_1..e_T) of the checker-only chain."""
        emissions = weights[:, None, None] * evidence
        filtered, _ = sticky_forward(emissions, prior, stay=stay, jump=prior)
        return np.log(np.maximum(filtered[-1], 1e-300))  # type: ignore[no-any-return]

    @staticmethod
    def _marginal_ll(log_q: np.ndarray, labels: np.ndarray, noise: np.ndarray) -> float:
        ll = logsumexp(log_q + np.log(np.maximum(noise[:, labels].T, 1e-300)), axis=1)
        return float(ll.mean())

    def _fit_weights(
        self,
        evidence: np.ndarray,
        labels: np.ndarray,
        noise: np.ndarray,
        prior: np.ndarray,
        weights: np.ndarray,
        stay: float,
    ) -> np.ndarray:
        """Tempering of each iteration that maximises the held-out likelihood."""
        x0 = np.clip(weights, *self.beta_bounds)
        log_label = np.log(np.maximum(noise[:, labels].T, 1e-300))
        log_prior = np.log(prior)

        if stay >= 1.0:
            # The chain multiplies the iterations' evidence: log q = log P + sum_t w_t e_t,
            # and d ll_i / d w_t = E_post_i[e_t] - E_q_i[e_t].
            def loss_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
                log_q = log_prior + np.tensordot(x, evidence, axes=1)
                log_q -= logsumexp(log_q, axis=1, keepdims=True)
                joint = log_q + log_label
                ll = logsumexp(joint, axis=1)
                post = np.exp(joint - ll[:, None])
                q = np.exp(log_q)
                grad = np.einsum("tnk,nk->t", evidence, post - q) / len(labels)
                return -float(ll.mean()), -grad

            res = minimize(
                loss_grad, x0, jac=True, method="L-BFGS-B",
                bounds=[self.beta_bounds] * len(weights), options={"maxiter": 50},
            )
        else:

            def loss(x: np.ndarray) -> float:
                return -self._marginal_ll(self._log_q(evidence, prior, x, stay), labels, noise)

            res = minimize(
                loss, x0, method="L-BFGS-B", bounds=[self.beta_bounds] * len(weights),
                options={"maxiter": 50, "eps": 1e-4},
            )
        return np.asarray(res.x, dtype=np.float64).copy()

    def get_params(self) -> dict[str, Any]:
        """Parameters, as in scikit-learn."""
        return {
            "max_iter": self.max_iter,
            "tol": self.tol,
            "diag_strength": self.diag_strength,
            "off_strength": self.off_strength,
            "beta_bounds": self.beta_bounds,
            "stay_bounds": self.stay_bounds,
            "max_rows_for_fit": self.max_rows_for_fit,
            "random_state": self.random_state,
        }
