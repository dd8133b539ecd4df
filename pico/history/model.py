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
``beta_t``, the noise matrix T and the class prior are fitted by the EM of
:class:`~pico.vote.BayesianVote`, on the held-out marginal likelihood of the given
labels, ``sum_i log sum_c q_i(c) T[c, y~_i]`` (every prediction of row i comes from a
checker that never saw row i); the stay probability by the Baum-Welch update of the
smoothed chains (the expected share of transitions that kept the label). An iteration
that adds nothing gets ``beta_t`` near 0: the likelihood, not a schedule, decides how
much later iterations, whose checkers learned from earlier corrections, are believed.

Smoothing the chain over the whole history gives, for every row, the expected number
of label changes along it; rows that are expected to change more than once are the
oscillating ones the corrector sends to review.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError
from ..store.base import SparsePredictions
from ..vote.bayes import BayesianVote, RowsInMemory
from ..vote.candidates import CandidateEvidence, candidate_evidence
from .hmm import ChainPosterior, sticky_forward, sticky_smooth

__all__ = ["LabelHistoryModel"]


class LabelHistoryModel(BayesianVote):
    """Fit the label-history HMM and the noise matrix; give the posterior of every row.

    With one iteration this is the :class:`~pico.vote.BayesianVote` (fitted by the
    same EM); with more, the iterations' evidence goes through the sticky chain.

    Parameters
    ----------
    max_iter, tol, diag_strength, off_strength, max_rows_for_beta
        As in :class:`~pico.vote.BayesianVote`.
    max_candidates, profile_rows, profile_steps, confidence_scale, dense_noise_classes
        As in :class:`~pico.vote.BayesianVote`.
    random_state
        As in :class:`~pico.vote.BayesianVote`.
    beta_bounds : tuple of float, default=(0.0, 4.0)
        Range of ``beta_t * M_t``, the weight of iteration t's mean branch evidence;
        0 lets the likelihood drop an iteration that adds nothing.
    stay_bounds : tuple of float, default=(0.5, 1.0)
        Range of the chain's stay probability (start: 0.95 clipped to the range).

    Attributes
    ----------
    weights_ : ndarray of shape (T,)
        Fitted ``beta_t * M_t`` of each iteration.
    betas_ : ndarray of shape (T,)
        Fitted tempering per branch of each iteration.
    stay_ : float
        Fitted stay probability.
    noise_matrix_ : NoiseMatrix
        Fitted T (:class:`~pico.vote.noise.NoiseMatrix`).
    noise_ : ndarray of shape (K, K)
        Fitted T, dense (computed on access).
    class_prior_ : ndarray of shape (K,)
    candidates_, candidate_posterior_, rest_posterior_, posterior_
        As in :class:`~pico.vote.BayesianVote`.
    expected_changes_ : ndarray of shape (N,)
        Expected number of label changes along each row's history (smoothed chain;
        zeros with one iteration).
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
        max_rows_for_beta: int = 20000,
        max_candidates: int | None = 64,
        profile_rows: int = 5000,
        profile_steps: int = 20,
        confidence_scale: float = 0.7,
        dense_noise_classes: int = 500,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            max_iter=max_iter,
            tol=tol,
            diag_strength=diag_strength,
            off_strength=off_strength,
            beta_bounds=beta_bounds,
            max_rows_for_beta=max_rows_for_beta,
            max_candidates=max_candidates,
            profile_rows=profile_rows,
            profile_steps=profile_steps,
            confidence_scale=confidence_scale,
            dense_noise_classes=dense_noise_classes,
            random_state=random_state,
        )
        self.stay_bounds = stay_bounds

    def fit(  # type: ignore[override]
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
        cand = candidate_evidence(
            blocks, trained_on, labels, n_classes=k, groups=groups,
            max_candidates=self.max_candidates,
        )
        return self.fit_candidates(cand, labels, groups=groups)

    def fit_candidates(
        self, cand: CandidateEvidence, labels: np.ndarray, *, groups: np.ndarray | None = None
    ) -> LabelHistoryModel:
        """Fit on candidate evidence built elsewhere.

        ``cand`` is what :func:`~pico.vote.candidates.candidate_evidence` returns for
        every iteration so far; ``fit`` is this after building it from the predictions.
        """
        self.fit_rows(RowsInMemory(cand, np.asarray(labels, dtype=np.int64), groups))
        return self

    def _initial_stay(self, n_iterations: int) -> float:
        lo, hi = self.stay_bounds
        return float(np.clip(0.95 if n_iterations > 1 else 1.0, lo, hi))

    def _log_q(
        self, evidence: np.ndarray, prior_cols: np.ndarray, weights: np.ndarray, stay: float
    ) -> np.ndarray:
        """log P(z_T | e_1..e_T) of the checker-only chain."""
        filtered, _ = sticky_forward(
            weights[:, None, None] * evidence, prior_cols, stay=stay, jump=prior_cols
        )
        with np.errstate(divide="ignore"):
            return np.log(filtered[-1])  # type: ignore[no-any-return]

    def _stay_from_sums(self, total: float, count: float, stay: float) -> float:
        """The expected share of transitions that kept the label."""
        if count <= 0:
            return stay
        return float(np.clip(total / count, *self.stay_bounds))

    @staticmethod
    def _smooth(
        evidence: np.ndarray,
        label_ll: np.ndarray,
        prior_cols: np.ndarray,
        same_cols: np.ndarray,
        weights: np.ndarray,
        stay: float,
    ) -> ChainPosterior:
        """The chain smoothed with the given label observing the last state."""
        emissions = weights[:, None, None] * evidence
        emissions[-1] += label_ll
        return sticky_smooth(
            emissions, prior_cols, stay=stay, jump=prior_cols, redraw_same=same_cols
        )

    def get_params(self) -> dict[str, Any]:
        """Parameters, as in scikit-learn."""
        return {**super().get_params(), "stay_bounds": self.stay_bounds}
