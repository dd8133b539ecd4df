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

The fit works on each row's candidate classes and one column for all the others
(:mod:`pico.vote.candidates`), so its cost grows with N times the number of
candidates, not N * K.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp

from ..exceptions import InvalidInputError
from ..store.base import SparsePredictions
from .candidates import (
    CandidateEvidence,
    best_candidate,
    candidate_evidence,
    candidate_pairs,
    column_prior,
    count_statistics,
    dense_posterior,
    label_loglik,
    probability_of,
    rest_same_redraw,
)
from .noise import NoiseMatrix, noise_from_counts, noise_step

__all__ = [
    "BayesianVote",
    "RowsInMemory",
    "bayes_posterior",
    "checker_evidence",
    "class_frequencies",
    "em_pass",
    "fit_noise_matrix",
    "noise_from_counts",
    "noise_step",
]

if TYPE_CHECKING:
    from ..history.hmm import ChainPosterior

_log = logging.getLogger(__name__)

# The profile search: EM steps at each weight it tries, and rows it uses (the
# weight is one number; T and the prior are refitted on every row afterwards).


def checker_evidence(
    branches: Iterable[SparsePredictions], class_prior: np.ndarray, *, floor: float = 1e-6
) -> tuple[np.ndarray, int]:
    """Sum over branches of ``log p_r(c | x) - log P(c)``, dense (N, K).

    Each branch's residual is spread over its unstored classes in proportion to
    ``class_prior`` (:meth:`SparsePredictions.log_dense`). The vote itself works on
    candidate columns (:func:`~pico.vote.candidates.candidate_evidence`), which give
    the same posterior in O(N * W); this dense form is the reference for small data.

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
        block = pred.log_dense(slice(None), floor=floor, prior=class_prior)
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
    noise: np.ndarray | NoiseMatrix,
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
    noise : ndarray of shape (K, K) or NoiseMatrix
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
    noise = np.asarray(noise)
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

    Every step works on each row's candidate classes plus one column for all other
    classes (:mod:`pico.vote.candidates`): O(N * W) per iteration of evidence, W
    candidate columns, instead of O(N * K).

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
        become a learned "noise pair".
    beta_bounds : tuple of float, default=(0.02, 4.0)
        Range searched for ``beta * M``, the weight of the branches' mean evidence
        (M branches).
    max_rows_for_beta : int, default=20000
        Rows sampled to fit ``beta`` on large data (a few numbers: 20000 rows pin
        them down).
    max_candidates : int or None, default=64
        Most candidate classes per row (the classes any branch stored for it, and the
        given label); classes beyond it share the rest column. None: no limit.
    profile_rows : int, default=5000
        Rows sampled for the profile-likelihood search of the tempering.
    profile_steps : int, default=20
        EM steps at each tempering the search tries (from each of two starts).
    confidence_scale : float, default=0.7
        Factor on the fitted evidence weights for the reported confidence
        (:meth:`confidence`). The fitted posterior is sharper than its accuracy (the
        branches' and iterations' checkers learned from overlapping data, and the
        weights are fitted on the same rows); the decisions use the fitted posterior,
        the confidence a person reads uses these flatter weights. 1 reports the fitted
        posterior.
    dense_noise_classes : int, default=500
        Up to this many classes every cell of the noise matrix is fitted on its own
        (O(K^2) per EM step). Above, the cells no row's candidates reach share one
        value per row of the matrix (:mod:`pico.vote.noise`), and each EM step costs
        O(N * W + observed cells).
    random_state : int or None

    Attributes
    ----------
    noise_matrix_ : NoiseMatrix
        Fitted T: its diagonal, the cells the rows reach, and one value per row for
        the rest (:class:`~pico.vote.noise.NoiseMatrix`).
    noise_ : ndarray of shape (K, K)
        Fitted T, dense (computed on access from ``noise_matrix_``: K * K floats).
    class_prior_ : ndarray of shape (K,)
    beta_ : float
        Fitted tempering per branch (the ``beta`` of the formula above).
    n_branches_ : int
        M.
    candidates_ : ndarray of shape (N, W)
        Candidate classes of each row (-1: padding).
    candidate_posterior_ : ndarray of shape (N, W)
        Posterior at the candidates (0 at padding).
    rest_posterior_ : ndarray of shape (N,)
        Posterior mass of all other classes together.
    posterior_ : ndarray of shape (N, K)
        The posterior expanded to every class (computed on access: N * K floats).
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
        max_rows_for_beta: int = 20000,
        max_candidates: int | None = 64,
        profile_rows: int = 5000,
        profile_steps: int = 20,
        confidence_scale: float = 0.7,
        dense_noise_classes: int = 500,
        random_state: int | None = None,
    ) -> None:
        self.confidence_scale = confidence_scale
        self.dense_noise_classes = dense_noise_classes
        self.profile_rows = profile_rows
        self.profile_steps = profile_steps
        self.max_iter = max_iter
        self.tol = tol
        self.diag_strength = diag_strength
        self.off_strength = off_strength
        self.beta_bounds = beta_bounds
        self.max_rows_for_beta = max_rows_for_beta
        self.max_candidates = max_candidates
        self.random_state = random_state

    def fit(
        self,
        branches: Iterable[SparsePredictions],
        labels: np.ndarray,
        *,
        groups: np.ndarray | None = None,
        n_classes: int | None = None,
        trained_on: np.ndarray | None = None,
    ) -> BayesianVote:
        """Fit on one iteration's predictions and the given labels (coded 0..K-1).

        ``trained_on`` holds the labels the checkers were trained on when those are not
        ``labels`` (a checker trained on a reference dataset): their class frequencies
        are the prior its probabilities contain.
        """
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
        used = labels if trained_on is None else np.asarray(trained_on, dtype=np.int64)
        cand = candidate_evidence(
            [branches], [used], labels, n_classes=k, groups=groups,
            max_candidates=self.max_candidates,
        )
        return self.fit_rows(RowsInMemory(cand, labels, groups))

    def fit_rows(self, rows: Any) -> BayesianVote:
        """Fit on rows of candidate evidence held by ``rows`` (:class:`RowsInMemory`).

        ``rows`` may keep its rows elsewhere (the Spark store keeps them on Spark): the
        EM only asks it for sums over its rows (:func:`em_pass`), for a sample of rows
        (the tempering's fit) and, at the end, for each row's outcome.
        """
        state, history = self._fit_em(rows)
        rows.finish(self, state)
        self.log_likelihood_ = history
        self.noise_matrix_: NoiseMatrix = state["noise"]
        self.class_prior_ = state["prior"]
        self.weights_ = state["weights"]
        self.stay_ = state["stay"]
        self.betas_ = self.weights_ / rows.sizes
        self.beta_ = float(self.betas_[-1])
        self.n_branches_ = int(rows.sizes[-1])
        _log.debug(
            "vote: beta*M %s, stay %.3f after %d EM steps",
            np.round(self.weights_, 3).tolist(), self.stay_, len(history),
        )
        return self

    # The EM, shared with the label-history model, on candidate columns: ``evidence``
    # has shape (T, N, C), each iteration's mean branch evidence; ``prior_cols`` (N, C)
    # the class prior of each column; ``weights`` are ``beta_t * M_t``.

    def _initial_stay(self, n_iterations: int) -> float:
        return 1.0

    def _log_q(
        self, evidence: np.ndarray, prior_cols: np.ndarray, weights: np.ndarray, stay: float
    ) -> np.ndarray:
        """log q: the checkers' evidence, tempered and multiplied (one label throughout)."""
        log_q = _log0(prior_cols)
        for w, ev in zip(weights, evidence):  # (T small) cheaper than tensordot's copy
            log_q += w * ev
        return log_q - _row_logsumexp(log_q)[:, None]  # type: ignore[no-any-return]

    @staticmethod
    def _smooth(
        evidence: np.ndarray,
        label_ll: np.ndarray,
        prior_cols: np.ndarray,
        same_cols: np.ndarray,
        weights: np.ndarray,
        stay: float,
    ) -> ChainPosterior | None:
        """The label chain smoothed over the iterations (the vote has none)."""
        return None

    def _stay_from_sums(self, total: float, count: float, stay: float) -> float:
        return stay

    def _fit_em(self, rows: Any) -> tuple[dict[str, Any], list[float]]:
        n = rows.n
        rng = np.random.default_rng(self.random_state)
        sample = (
            np.sort(rng.choice(n, self.max_rows_for_beta, replace=False))
            if n > self.max_rows_for_beta
            else np.arange(n)
        )
        few = (
            np.sort(rng.permutation(sample)[: self.profile_rows])
            if len(sample) > self.profile_rows
            else sample
        )
        # The tempering and the noise matrix trade off along a ridge (flat checkers and
        # reliable labels explain the given labels almost as well as sharp checkers and
        # noisy labels), where alternating updates stall. So first the profile
        # likelihood: for one weight shared by every iteration, run EM for T, the prior
        # and the stay probability to convergence, on the sampled rows; keep the best.
        state = self._profile(*rows.take(few))
        # Then EM on every row from there, refining each iteration's weight.
        return self._em_steps(rows, state, steps=self.max_iter, refit=rows.take(sample))

    @property
    def noise_(self) -> np.ndarray:
        """The fitted noise matrix, dense (K, K) (computed on access)."""
        return self.noise_matrix_.toarray()

    def _m_step(
        self, sums: dict[str, Any], noise: NoiseMatrix, prior: np.ndarray
    ) -> tuple[NoiseMatrix, np.ndarray]:
        """The noise matrix and the expected rows per class from :func:`em_pass` sums."""
        return noise_step(
            sums["keys"], sums["direct"], sums["taken"], sums["per_label"], noise, prior,
            diag_strength=self.diag_strength, off_strength=self.off_strength,
            dense_classes=self.dense_noise_classes,
        )

    def _initial_state(self, cand: CandidateEvidence, labels: np.ndarray) -> dict[str, Any]:
        k = cand.n_classes
        if k <= self.dense_noise_classes:
            dense = np.full((k, k), 0.1 / max(k - 1, 1))
            np.fill_diagonal(dense, 0.9)
            noise = NoiseMatrix.from_dense(dense)
        else:
            noise = NoiseMatrix(
                np.full(k, 0.9), np.zeros(0, dtype=np.int64), np.zeros(0),
                np.full(k, 0.1 / max(k - 1, 1)),
            )
        return {
            "noise": noise,
            "prior": class_frequencies(labels, k),
            "weights": np.ones(cand.evidence.shape[0]),
            "stay": self._initial_stay(cand.evidence.shape[0]),
        }

    def _profile(
        self, cand: CandidateEvidence, labels: np.ndarray, groups: np.ndarray | None
    ) -> dict[str, Any]:
        """EM at fixed shared weights, the weight chosen by its converged likelihood."""
        lo, hi = self.beta_bounds
        tried: dict[float, tuple[float, dict[str, Any]]] = {}
        rows = RowsInMemory(cand, labels, groups)

        def neg_ll(weight: float) -> float:
            # Two starts: labels 90% reliable, and the confusion of what the checkers
            # alone say against the given labels. EM creeps between the two readings
            # of a confusion (the checkers' or the labels' fault); keep the likelier.
            best: tuple[float, dict[str, Any]] | None = None
            for start in ("reliable", "checkers"):
                state = self._initial_state(cand, labels)
                state["weights"] = np.full(cand.evidence.shape[0], weight)
                if start == "checkers":
                    cols = column_prior(cand, state["prior"])
                    q = np.exp(self._log_q(cand.evidence, cols, state["weights"], state["stay"]))
                    keys, direct, taken, per_label = count_statistics(
                        cand, q, labels, state["noise"], state["prior"], pairs=rows.pairs
                    )
                    state["noise"], _ = self._m_step(
                        {"keys": keys, "direct": direct, "taken": taken, "per_label": per_label},
                        state["noise"], state["prior"],
                    )
                state, history = self._em_steps(rows, state, steps=self.profile_steps)
                if best is None or history[-1] > best[0]:
                    best = (history[-1], state)
            assert best is not None
            tried[weight] = best
            return -best[0]

        minimize_scalar(
            neg_ll, bounds=(max(lo, 0.05), hi), method="bounded", options={"xatol": 0.1}
        )
        best = max(tried, key=lambda w: tried[w][0])
        state = tried[best][1]
        return {key: state[key] for key in ("noise", "prior", "weights", "stay")}

    def _em_steps(
        self,
        rows: Any,
        state: dict[str, Any],
        *,
        steps: int,
        refit: tuple[CandidateEvidence, np.ndarray, np.ndarray | None] | None = None,
    ) -> tuple[dict[str, Any], list[float]]:
        """EM for the noise matrix, prior and stay (and the weights on ``refit`` rows).

        ``rows`` gives sums over all rows (:func:`em_pass`); ``refit`` holds the sampled
        rows the weights are fitted on. Returns the state and the mean marginal
        log-likelihood after each step.
        """
        noise, prior = state["noise"], state["prior"]
        weights, stay = state["weights"], state["stay"]
        k, n = len(prior), rows.n
        sums: dict[str, Any] | None = None
        history: list[float] = []
        refit_pairs = None if refit is None else candidate_pairs(refit[0], refit[1])
        for step in range(steps):
            if refit is not None and step % 5 == 0:
                r_cand, r_labels, _ = refit
                weights = self._fit_weights(
                    r_cand.evidence, column_prior(r_cand, prior),
                    label_loglik(r_cand, r_labels, noise, prior, pairs=refit_pairs),
                    weights, stay,
                )
                sums = None
            theta = {"noise": noise, "prior": prior, "weights": weights, "stay": stay}
            if sums is None:
                sums = rows.em_pass(self, theta, "counts")
            noise, class_counts = self._m_step(sums, noise, prior)
            prior = (class_counts + 0.5) / (n + 0.5 * k)
            if len(weights) > 1:  # one iteration: no chain, the stay stays 1
                stay_sums = rows.em_pass(
                    self, {"noise": noise, "prior": prior, "weights": weights, "stay": stay},
                    "stay",
                )
                stay = self._stay_from_sums(stay_sums["stay_sum"], stay_sums["stay_n"], stay)
            theta = {"noise": noise, "prior": prior, "weights": weights, "stay": stay}
            sums = rows.em_pass(self, theta, "counts")
            history.append(sums["ll_sum"] / n)
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        if not history:
            theta = {"noise": noise, "prior": prior, "weights": weights, "stay": stay}
            history.append(rows.em_pass(self, theta, "counts")["ll_sum"] / n)
        return {"noise": noise, "prior": prior, "weights": weights, "stay": stay}, history

    def _keep_rows(
        self,
        cand: CandidateEvidence,
        labels: np.ndarray,
        groups: np.ndarray | None,
        state: dict[str, Any],
        *,
        pairs: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Keep every row's candidate posterior (rows held in memory)."""
        out = row_outcome(self, cand, labels, groups, state, posterior=True, pairs=pairs)
        w = cand.width
        post = out["posterior"]
        self._cand: CandidateEvidence | None = cand
        self._labels = labels
        self._summary: dict[str, np.ndarray] | None = None
        self.candidates_ = np.where(cand.valid, cand.classes, -1)
        self.candidate_posterior_ = np.where(cand.valid, post[:, :w], 0.0)
        self.rest_posterior_ = post[:, w].copy()
        self.expected_changes_ = out["changes"]
        self._confidences = {key: out[key] for key in ("labels", "best", "best_c", "given_c")}

    def _keep_summary(self, summary: dict[str, np.ndarray]) -> None:
        """Keep each row's outcome only (rows held elsewhere: their posterior stays there).

        ``summary`` holds ``labels``, ``best``, ``best_p``, ``given_p``, ``changes``,
        and the reported confidences ``best_c`` and ``given_c``.
        """
        self._cand = None
        self._summary = summary
        self._confidences = summary
        self._labels = summary["labels"]
        self.expected_changes_ = summary["changes"]

    def _columns(self) -> np.ndarray:
        return np.concatenate([self.candidate_posterior_, self.rest_posterior_[:, None]], axis=1)

    @property
    def posterior_(self) -> np.ndarray:
        """Posterior over every class, shape (N, K); the rest spread by ``P(c) T[c, y~]``."""
        if self._cand is None:
            raise InvalidInputError(
                "the posterior of every class stays where the rows were fitted (the Spark "
                "store keeps it on Spark); use best() and probability(), or the memory store"
            )
        return dense_posterior(
            self._cand, self._columns(), self._labels, self.noise_matrix_, self.class_prior_
        )

    def probability(self, codes: np.ndarray) -> np.ndarray:
        """Posterior probability of class ``codes[i]`` (coded 0..K-1) for each row i.

        When the rows were fitted elsewhere (the Spark store), only each row's given
        label and best candidate are known here.
        """
        codes = np.asarray(codes, dtype=np.int64)
        if self._cand is None:
            summary = self._summary
            assert summary is not None
            at_given = codes == summary["labels"]
            at_best = codes == summary["best"]
            if not np.all(at_given | at_best):
                raise InvalidInputError(
                    "with rows fitted on Spark only the given label's and the best "
                    "candidate's probabilities are kept; fit in memory for other classes"
                )
            return np.where(at_given, summary["given_p"], summary["best_p"])
        return probability_of(
            self._cand, self._columns(), codes, self._labels, self.noise_matrix_,
            self.class_prior_,
        )

    def confidence(self, codes: np.ndarray) -> np.ndarray:
        """Reported probability that class ``codes[i]`` is row i's true label.

        The posterior with the evidence weights scaled by ``confidence_scale``;
        ``codes[i]`` must be row i's given label or its best candidate (:meth:`best`),
        the two labels a corrected row can end with.
        """
        codes = np.asarray(codes, dtype=np.int64)
        kept = self._confidences
        at_given = codes == kept["labels"]
        if not np.all(at_given | (codes == kept["best"])):
            raise InvalidInputError(
                "confidence() knows each row's given label and best candidate only; "
                "use probability() for the fitted posterior of another class"
            )
        return np.where(at_given, kept["given_c"], kept["best_c"])

    def best(self) -> tuple[np.ndarray, np.ndarray]:
        """Most probable candidate class of each row and its posterior probability."""
        if self._cand is None:
            assert self._summary is not None
            return self._summary["best"], self._summary["best_p"]
        return best_candidate(self._cand, self._columns())

    def _fit_weights(
        self,
        evidence: np.ndarray,
        prior_cols: np.ndarray,
        label_ll: np.ndarray,
        weights: np.ndarray,
        stay: float,
    ) -> np.ndarray:
        """Tempering of each iteration that maximises the held-out likelihood."""
        x0 = np.clip(weights, *self.beta_bounds)
        bounds = [self.beta_bounds] * len(weights)
        if stay >= 1.0 - 1e-9:
            # log q = log P + sum_t w_t e_t, so d ll_i / d w_t = E_post_i[e_t] - E_q_i[e_t].
            def loss_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
                log_q = BayesianVote._log_q(self, evidence, prior_cols, x, 1.0)
                joint = log_q + label_ll
                ll = _row_logsumexp(joint)
                post = np.exp(joint - ll[:, None])
                grad = np.einsum("tnk,nk->t", evidence, post - np.exp(log_q)) / len(label_ll)
                return -float(ll.mean()), -grad

            res = minimize(
                loss_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": 50, "ftol": 1e-7},
            )
        else:

            def loss(x: np.ndarray) -> float:
                return -_marginal_ll(self._log_q(evidence, prior_cols, x, stay), label_ll)

            res = minimize(
                loss, x0, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": 50, "eps": 1e-4, "ftol": 1e-7},
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
            "max_candidates": self.max_candidates,
            "profile_rows": self.profile_rows,
            "profile_steps": self.profile_steps,
            "confidence_scale": self.confidence_scale,
            "dense_noise_classes": self.dense_noise_classes,
            "random_state": self.random_state,
        }


class RowsInMemory:
    """Rows of candidate evidence held in this process, for :meth:`BayesianVote.fit_rows`.

    The interface the EM needs from where the rows live: ``n`` and ``sizes``;
    ``em_pass`` (sums over every row), ``take`` (some rows, in memory) and ``finish``
    (each row's outcome kept on the model). ``pico.store.spark`` has the Spark one.
    """

    def __init__(
        self, cand: CandidateEvidence, labels: np.ndarray, groups: np.ndarray | None = None
    ) -> None:
        self.cand = cand
        self.labels = np.asarray(labels, dtype=np.int64)
        self.groups = groups
        self.n = len(self.labels)
        self.sizes = np.asarray(cand.sizes, dtype=np.float64)
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The noise-matrix cells the rows reach (:func:`~pico.vote.candidates.candidate_pairs`),
        computed once."""
        if self._pairs is None:
            self._pairs = candidate_pairs(self.cand, self.labels)
        return self._pairs

    def em_pass(self, model: BayesianVote, state: dict[str, Any], what: str) -> dict[str, Any]:
        """:func:`em_pass` over every row."""
        return em_pass(model, self.cand, self.labels, self.groups, state, what, pairs=self.pairs)

    def take(
        self, rows: np.ndarray
    ) -> tuple[CandidateEvidence, np.ndarray, np.ndarray | None]:
        """The candidate evidence, labels and groups of ``rows`` (sorted row numbers)."""
        if len(rows) == self.n:
            return self.cand, self.labels, self.groups
        c = self.cand
        part = CandidateEvidence(
            c.classes[rows], c.valid[rows], c.evidence[:, rows], c.sizes, c.n_classes
        )
        return part, self.labels[rows], None if self.groups is None else self.groups[rows]

    def finish(self, model: BayesianVote, state: dict[str, Any]) -> None:
        """Keep every row's posterior on the model."""
        model._keep_rows(self.cand, self.labels, self.groups, state, pairs=self.pairs)


def em_pass(
    model: BayesianVote,
    cand: CandidateEvidence,
    labels: np.ndarray,
    groups: np.ndarray | None,
    state: dict[str, Any],
    what: str,
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """One pass of the EM over a block of rows: sums that add up over blocks.

    A block must hold whole groups (rows that pool their given labels).

    Parameters
    ----------
    model : BayesianVote
        Gives the checker-only belief (``_log_q``) and the chain's sums.
    cand, labels, groups
        The block's rows.
    state : dict
        ``noise``, ``prior``, ``weights`` and ``stay``.
    what : {"counts", "stay"}
        "counts": the summed marginal log-likelihood ``ll_sum`` of the given labels and
        the noise-matrix count statistics (:func:`~pico.vote.candidates.count_statistics`:
        ``keys``, the cells the rows reach, with their ``direct`` and ``taken`` sums, and
        ``per_label``); "stay": the sums of the stay probability's update.
    pairs : tuple, optional
        :func:`~pico.vote.candidates.candidate_pairs` of the block, when already known.
    """
    noise, prior = state["noise"], state["prior"]
    if pairs is None:
        pairs = candidate_pairs(cand, labels)
    cols = column_prior(cand, prior)
    label_ll = label_loglik(cand, labels, noise, prior, pairs=pairs)
    if what == "stay":
        chain = model._smooth(
            cand.evidence, label_ll, cols, rest_same_redraw(cand, prior),
            state["weights"], state["stay"],
        )
        if chain is None:
            return {"stay_sum": 0.0, "stay_n": 0.0}
        return {"stay_sum": float(chain.stayed.sum()), "stay_n": float(chain.stayed.size)}
    if what != "counts":
        raise ValueError(f"what must be 'counts' or 'stay', not {what!r}")
    log_q = model._log_q(cand.evidence, cols, state["weights"], state["stay"])
    post = _softmax(log_q + _group_sum(label_ll, groups))
    keys, direct, taken, per_label = count_statistics(
        cand, post, labels, noise, prior, pairs=pairs
    )
    return {
        "ll_sum": float(_row_logsumexp(log_q + label_ll).sum()),
        "keys": keys,
        "direct": direct,
        "taken": taken,
        "per_label": per_label,
    }


def add_passes(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    """Sum of two blocks' :func:`em_pass` results (the cells' sums over the union of
    their cells)."""
    if a is None:
        return dict(b)
    out = {key: a[key] + b[key] for key in b if key not in ("keys", "direct", "taken")}
    if "keys" in b:
        keys, inverse = np.unique(np.concatenate([a["keys"], b["keys"]]), return_inverse=True)
        inverse = inverse.ravel()
        out["keys"] = keys
        for key in ("direct", "taken"):
            out[key] = np.bincount(
                inverse, weights=np.concatenate([a[key], b[key]]), minlength=len(keys)
            )
    return out


def row_outcome(
    model: BayesianVote,
    cand: CandidateEvidence,
    labels: np.ndarray,
    groups: np.ndarray | None,
    state: dict[str, Any],
    *,
    posterior: bool = False,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Each row's best candidate, its probability, the given label's, expected changes.

    ``best_p`` and ``given_p`` come from the fitted posterior (the decisions);
    ``best_c`` and ``given_c`` are the same two classes' reported confidences, from the
    posterior with the weights scaled by the model's ``confidence_scale``. With
    ``posterior``, also the columns' posterior (N, W + 1). ``pairs``:
    :func:`~pico.vote.candidates.candidate_pairs` of the rows, when known.
    """
    noise, prior, weights, stay = state["noise"], state["prior"], state["weights"], state["stay"]
    cols = column_prior(cand, prior)
    if pairs is None:
        pairs = candidate_pairs(cand, labels)
    label_ll = label_loglik(cand, labels, noise, prior, pairs=pairs)
    log_q = model._log_q(cand.evidence, cols, weights, stay)
    post = _softmax(log_q + _group_sum(label_ll, groups))
    best, best_p = best_candidate(cand, post)
    chain = (
        model._smooth(cand.evidence, label_ll, cols, rest_same_redraw(cand, prior), weights, stay)
        if len(weights) > 1
        else None
    )
    given_p = probability_of(cand, post, labels, labels, noise, prior, pairs=pairs)
    scale = float(model.confidence_scale)
    if scale == 1.0:
        best_c, given_c = best_p, given_p
    else:
        shown = _softmax(
            model._log_q(cand.evidence, cols, weights * scale, stay)
            + _group_sum(label_ll, groups)
        )
        best_c = probability_of(cand, shown, best, labels, noise, prior, pairs=pairs)
        given_c = probability_of(cand, shown, labels, labels, noise, prior, pairs=pairs)
    out = {
        "labels": labels,
        "best": best,
        "best_p": best_p,
        "given_p": given_p,
        "best_c": best_c,
        "given_c": given_c,
        "changes": (
            chain.expected_changes if chain is not None else np.zeros(len(labels))
        ),
    }
    if posterior:
        out["posterior"] = post
    return out


def _log0(x: np.ndarray) -> np.ndarray:
    """log with log 0 = -inf and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(x)  # type: ignore[no-any-return]


def _row_logsumexp(x: np.ndarray) -> np.ndarray:
    """``log sum_j exp(x[i, j])`` per row; every row has a finite entry."""
    top = x.max(axis=1)
    out: np.ndarray = np.log(np.exp(x - top[:, None]).sum(axis=1)) + top
    return out


def _softmax(log_p: np.ndarray) -> np.ndarray:
    return np.exp(log_p - _row_logsumexp(log_p)[:, None])  # type: ignore[no-any-return]


def class_frequencies(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Smoothed class frequencies of ``labels`` (half a pseudo-count per class).

    Examples
    --------
    >>> class_frequencies(np.array([0, 0, 1]), 3).round(3).tolist()
    [0.556, 0.333, 0.111]
    """
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    return (counts + 0.5) / (counts.sum() + 0.5 * n_classes)  # type: ignore[no-any-return]


def _marginal_ll(log_q: np.ndarray, label_ll: np.ndarray) -> float:
    """Mean held-out log-likelihood of the given labels, ``log sum_c q(c) T[c, y~]``."""
    return float(_row_logsumexp(log_q + label_ll).mean())


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
    return noise_from_counts(counts, diag_strength=diag_strength, off_strength=off_strength)
