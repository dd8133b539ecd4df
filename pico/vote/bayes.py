"""The Bayesian vote: checkers' evidence and the given label combined by Bayes' rule.

For row i, class c, R branches with out-of-sample predictions p_r(c | x_i) and class
prior P(c)::

    log q_i(c)    = log P(c) + beta * sum_r [log p_r(c | x_i) - log P(c)] + const
    log post_i(c) = log q_i(c) + sum_{j in group(i)} log T[c, y~_j] + const

``q`` is what the checkers alone say; ``T[c, l]`` is the probability that a row whose
true class is c was given label l (the noise matrix: its diagonal is each class's label
reliability). ``beta`` tempers the product because the branches share most of their
training data. ``T``, ``P`` and ``beta`` are fitted by expectation-maximisation on the
marginal likelihood of the given labels, ``sum_i log sum_c q_i(c) T[c, y~_i]``; every
p_r is out-of-sample for its row, so this is a held-out likelihood. Rows in one group
(identical texts) share one posterior: their given labels are pooled evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp

from ..exceptions import InvalidInputError
from ..store.base import SparsePredictions

__all__ = [
    "BayesianVote",
    "bayes_posterior",
    "checker_evidence",
    "class_frequencies",
    "fit_noise_matrix",
]

_log = logging.getLogger(__name__)


def checker_evidence(
    branches: Iterable[SparsePredictions], class_prior: np.ndarray, *, floor: float = 1e-6
) -> tuple[np.ndarray, int]:
    """Sum over branches of ``log p_r(c | x) - log P(c)``.

    Parameters
    ----------
    branches : iterable of SparsePredictions
        One (N, K) top-k prediction matrix per branch.
    class_prior : ndarray of shape (K,)
        P(c).
    floor : float, default=1e-6
        Smallest probability a checker may give a class.

    Returns
    -------
    evidence : ndarray of shape (N, K)
    n_branches : int
        M, the number of branches summed.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> p = SparsePredictions(sp.csr_matrix(np.array([[0.75, 0.25]])), np.zeros(1))
    >>> ev, m = checker_evidence([p, p], np.array([0.5, 0.5]))
    >>> m, ev.round(3).tolist()
    (2, [[0.811, -1.386]])
    """
    log_prior = np.log(np.maximum(class_prior, floor))
    total: np.ndarray | None = None
    m = 0
    for pred in branches:
        block = pred.log_dense(slice(None), floor=floor)
        block -= log_prior
        total = block if total is None else total + block
        m += 1
    if total is None:
        raise InvalidInputError("the vote needs at least one branch of predictions; got none")
    return total, m


def _group_sum(values: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    if groups is None:
        return values
    _, inverse = np.unique(groups, return_inverse=True)
    inverse = inverse.ravel()
    sums = np.zeros((inverse.max() + 1, values.shape[1]))
    np.add.at(sums, inverse, values)
    return sums[inverse]


def bayes_posterior(
    evidence: np.ndarray,
    labels: np.ndarray,
    *,
    noise: np.ndarray,
    class_prior: np.ndarray,
    beta: float,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Posterior over the true class of every row.

    Parameters
    ----------
    evidence : ndarray of shape (N, K)
        Output of :func:`checker_evidence`.
    labels : ndarray of shape (N,)
        Given labels, coded 0..K-1.
    noise : ndarray of shape (K, K)
        T[c, l] = P(given label l | true class c); rows sum to 1.
    class_prior : ndarray of shape (K,)
    beta : float
        Tempering of the checkers' evidence.
    groups : ndarray of shape (N,), optional
        Rows with the same group id pool their given labels.

    Returns
    -------
    ndarray of shape (N, K)
        Rows sum to 1.

    Examples
    --------
    >>> ev = np.log(np.array([[0.9, 0.1], [0.5, 0.5]]) / 0.5)
    >>> T = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> post = bayes_posterior(ev, np.array([1, 1]), noise=T, class_prior=np.array([.5, .5]),
    ...                        beta=1.0)
    >>> post.round(3).tolist()
    [[0.692, 0.308], [0.2, 0.8]]
    """
    log_post = np.log(np.maximum(class_prior, 1e-300)) + beta * evidence
    label_ll = np.log(np.maximum(noise[:, labels].T, 1e-300))
    log_post = log_post + _group_sum(label_ll, groups)
    log_post -= logsumexp(log_post, axis=1, keepdims=True)
    return np.exp(log_post)  # type: ignore[no-any-return]


class BayesianVote:
    """Fit the noise matrix, class prior and tempering, and compute the posterior.

    The evidence of the branches is tempered by ``beta`` (they share most of their
    training data); ``beta``, the noise matrix and the class prior are fitted by
    expectation-maximisation on the held-out marginal likelihood of the given labels,
    ``sum_i log sum_c q_i(c) T[c, y~_i]``, where ``q_i`` is what the checkers alone say.
    :class:`~pico.history.LabelHistoryModel` runs the same EM over several iterations.

    Parameters
    ----------
    max_iter : int, default=20
        EM iterations.
    tol : float, default=1e-5
        Stop when the mean log-likelihood improves by less than this.
    diag_strength : float, default=2.0
        Pseudo-counts pulling each class's label reliability towards 1 (against one
        pseudo-count towards 0).
    off_strength : float, default=20.0
        Pseudo-counts spread evenly over the classes a class's wrong labels go to.
        Larger values need more rows of evidence before a confusion pattern is
        learned, so that a checker's systematic confusion in a clean class does not
        become a learned noise pair.
    beta_bounds : tuple of float, default=(0.02, 4.0)
        Range searched for ``beta * M``, the weight of the branches' mean evidence
        (M branches).
    max_rows_for_beta : int, default=50000
        Rows sampled to fit ``beta`` on large data.
    random_state : int or None

    Attributes
    ----------
    noise_ : ndarray of shape (K, K)
        Fitted T.
    class_prior_ : ndarray of shape (K,)
    beta_ : float
        Fitted tempering per branch (the ``beta`` of the formula above).
    n_branches_ : int
        M.
    posterior_ : ndarray of shape (N, K)
    log_likelihood_ : list of float
        Mean marginal log-likelihood of the given labels after each EM step.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> p = sp.csr_matrix(np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]]))
    >>> vote = BayesianVote().fit([SparsePredictions(p, np.zeros(4))], np.array([0, 0, 1, 0]))
    >>> vote.posterior_.argmax(axis=1).tolist()
    [0, 0, 1, 1]
    """

    def __init__(
        self,
        *,
        max_iter: int = 20,
        tol: float = 1e-5,
        diag_strength: float = 2.0,
        off_strength: float = 20.0,
        beta_bounds: tuple[float, float] = (0.02, 4.0),
        max_rows_for_beta: int = 50000,
        random_state: int | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.diag_strength = diag_strength
        self.off_strength = off_strength
        self.beta_bounds = beta_bounds
        self.max_rows_for_beta = max_rows_for_beta
        self.random_state = random_state

    def fit(
        self,
        branches: Iterable[SparsePredictions],
        labels: np.ndarray,
        *,
        groups: np.ndarray | None = None,
        n_classes: int | None = None,
    ) -> BayesianVote:
        """Fit on one iteration's predictions and the given labels (coded 0..K-1)."""
        labels = np.asarray(labels, dtype=np.int64)
        branches = list(branches)
        if not branches:
            raise InvalidInputError("the vote needs at least one branch of predictions; got none")
        k = n_classes or branches[0].shape[1]
        if branches[0].shape != (len(labels), k):
            raise InvalidInputError(
                f"predictions have shape {branches[0].shape} but there are {len(labels)} labels "
                f"and {k} classes"
            )
        evidence, m = checker_evidence(branches, class_frequencies(labels, k))
        return self._fit_em((evidence / m)[None], np.array([m]), labels, groups, k)

    # The EM, shared with the label-history model. ``evidence`` has shape (T, N, K):
    # each iteration's mean branch evidence; ``weights`` are ``beta_t * M_t``.

    def _initial_stay(self, n_iterations: int) -> float:
        return 1.0

    def _log_q(
        self, evidence: np.ndarray, prior: np.ndarray, weights: np.ndarray, stay: float
    ) -> np.ndarray:
        """log q: the checkers' evidence, tempered and multiplied (one label throughout)."""
        log_q = np.log(prior) + np.tensordot(weights, evidence, axes=1)
        return log_q - logsumexp(log_q, axis=1, keepdims=True)  # type: ignore[no-any-return]

    def _update_stay(
        self,
        evidence: np.ndarray,
        labels: np.ndarray,
        noise: np.ndarray,
        prior: np.ndarray,
        weights: np.ndarray,
        stay: float,
    ) -> float:
        return stay

    def _fit_em(
        self,
        evidence: np.ndarray,
        sizes: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray | None,
        k: int,
    ) -> BayesianVote:
        n_iter, n = evidence.shape[0], len(labels)
        prior = class_frequencies(labels, k)
        rng = np.random.default_rng(self.random_state)
        sample = (
            np.sort(rng.choice(n, self.max_rows_for_beta, replace=False))
            if n > self.max_rows_for_beta
            else np.arange(n)
        )
        stay = self._initial_stay(n_iter)
        noise = np.full((k, k), 0.1 / max(k - 1, 1))
        np.fill_diagonal(noise, 0.9)
        weights = np.full(n_iter, 1.0)
        history: list[float] = []
        for step in range(self.max_iter):
            if step < 3 or step % 5 == 0:  # the tempering settles within a few steps
                weights = self._fit_weights(
                    evidence[:, sample], labels[sample], noise, prior, weights, stay
                )
            post = bayes_posterior(
                self._log_q(evidence, prior, weights, stay), labels, noise=noise,
                class_prior=np.ones(k), beta=1.0, groups=groups,
            )
            noise = fit_noise_matrix(
                post, labels, k, diag_strength=self.diag_strength, off_strength=self.off_strength
            )
            prior = (post.sum(axis=0) + 0.5) / (n + 0.5 * k)
            stay = self._update_stay(evidence, labels, noise, prior, weights, stay)
            ll = _marginal_ll(self._log_q(evidence, prior, weights, stay), labels, noise)
            history.append(ll)
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        self.posterior_ = bayes_posterior(
            self._log_q(evidence, prior, weights, stay), labels, noise=noise,
            class_prior=np.ones(k), beta=1.0, groups=groups,
        )
        self.weights_ = weights
        self.betas_ = weights / sizes
        self.beta_ = float(self.betas_[-1])
        self.n_branches_ = int(sizes[-1])
        self.stay_ = stay
        self.noise_ = noise
        self.class_prior_ = prior
        self.log_likelihood_ = history
        _log.debug(
            "vote: beta*M %s, stay %.3f after %d EM steps",
            np.round(weights, 3).tolist(),
            stay,
            len(history),
        )
        return self

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
        bounds = [self.beta_bounds] * len(weights)
        if stay >= 1.0:
            # log q = log P + sum_t w_t e_t, so d ll_i / d w_t = E_post_i[e_t] - E_q_i[e_t].
            log_label = np.log(np.maximum(noise[:, labels].T, 1e-300))

            def loss_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
                log_q = BayesianVote._log_q(self, evidence, prior, x, 1.0)
                joint = log_q + log_label
                ll = logsumexp(joint, axis=1)
                post = np.exp(joint - ll[:, None])
                grad = np.einsum("tnk,nk->t", evidence, post - np.exp(log_q)) / len(labels)
                return -float(ll.mean()), -grad

            res = minimize(
                loss_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": 50},
            )
        else:

            def loss(x: np.ndarray) -> float:
                return -_marginal_ll(self._log_q(evidence, prior, x, stay), labels, noise)

            res = minimize(
                loss, x0, method="L-BFGS-B", bounds=bounds, options={"maxiter": 50, "eps": 1e-4}
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
            "max_rows_for_beta": self.max_rows_for_beta,
            "random_state": self.random_state,
        }


def class_frequencies(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Smoothed class frequencies of ``labels`` (half a pseudo-count per class).

    Examples
    --------
    >>> class_frequencies(np.array([0, 0, 1]), 3).round(3).tolist()
    [0.556, 0.333, 0.111]
    """
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    return (counts + 0.5) / (counts.sum() + 0.5 * n_classes)  # type: ignore[no-any-return]


def _marginal_ll(log_q: np.ndarray, labels: np.ndarray, noise: np.ndarray) -> float:
    """Mean held-out log-likelihood of the given labels, ``log sum_c q(c) T[c, y~]``."""
    ll = logsumexp(log_q + np.log(np.maximum(noise[:, labels].T, 1e-300)), axis=1)
    return float(ll.mean())


def fit_noise_matrix(
    post: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    diag_strength: float = 2.0,
    off_strength: float = 20.0,
) -> np.ndarray:
    """M-step of the noise matrix: T[c, c] = rho_c, T[c, l != c] = (1 - rho_c) Q[c, l].

    rho_c gets ``diag_strength`` pseudo-counts towards 1 (against one towards 0). The
    confusion profile Q gets ``off_strength`` pseudo-counts spread evenly: a class
    whose noise is concentrated on a few siblings (many rows) keeps that structure,
    while the one or two rows a checker confuses in a clean class stay close to
    uniform, so a checker's systematic confusion does not become a learned "noise pair".

    Parameters
    ----------
    post : ndarray of shape (N, K)
        Posterior over the true class of every row.
    labels : ndarray of shape (N,)
        Given labels, coded 0..K-1.
    n_classes : int
    diag_strength, off_strength : float

    Returns
    -------
    ndarray of shape (K, K)
        Rows sum to 1.

    Examples
    --------
    >>> T = fit_noise_matrix(np.eye(2)[[0, 0, 1, 1]], np.array([0, 0, 1, 0]), 2)
    >>> T.sum(axis=1).round(6).tolist(), bool(T[1, 1] < T[0, 0])
    ([1.0, 1.0], True)
    """
    k = n_classes
    onehot_t = sp.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    counts = np.asarray(onehot_t @ post).T  # counts[c, l] = sum_i post_i(c) [y~_i = l]
    diag = np.diag(counts).copy()
    rows = counts.sum(axis=1)
    rho = (diag + diag_strength) / (rows + diag_strength + 1.0)
    off = counts.copy()
    off[np.diag_indices(k)] = 0.0
    off += off_strength / max(k - 1, 1)
    off[np.diag_indices(k)] = 0.0
    noise = off / off.sum(axis=1, keepdims=True) * (1.0 - rho)[:, None]
    noise[np.diag_indices(k)] = rho
    out: np.ndarray = noise
    return out
