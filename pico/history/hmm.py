"""A sticky hidden Markov model over each row's label across iterations.

The hidden state ``z_t`` is a row's label at iteration ``t = 1..T``; the emission at
``t`` is the checkers' evidence of that iteration (log-likelihood ratios per class);
the transition is *sticky*: a label stays with probability ``stay`` and otherwise is
redrawn from a ``jump`` distribution (the class prior)::

    A[c, c'] = stay * [c == c'] + (1 - stay) * jump[c']

With this structure one forward or backward step costs O(K) per row instead of
O(K^2), and every function here works on all rows at once. Rows are independent
chains; all arrays carry the row as their first axis after the time axis.

These are pure functions on arrays. :class:`~pico.history.LabelHistoryModel` fits the
parameters; hmmlearn's dense forward-backward is the reference the tests compare with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ChainPosterior", "sticky_forward", "sticky_smooth"]

_TINY = 1e-300


def _check(log_emissions: np.ndarray, init: np.ndarray, stay: float, jump: np.ndarray) -> None:
    if log_emissions.ndim != 3:
        raise ValueError(f"log_emissions must have shape (T, N, K); got {log_emissions.shape}")
    _, n, k = log_emissions.shape
    if init.shape not in ((k,), (n, k)):
        raise ValueError(f"init must have shape (K,) or (N, K) = {(n, k)}; got {init.shape}")
    if jump.shape not in ((k,), (n, k)):
        raise ValueError(f"jump must have shape (K,) or (N, K) = {(n, k)}; got {jump.shape}")
    if not 0.0 <= stay <= 1.0:
        raise ValueError(f"stay must be in [0, 1]; got {stay}")


def _emission_probs(log_emission: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(log e - max) and the max per row, so that no step overflows."""
    top = log_emission.max(axis=1, keepdims=True)
    return np.exp(log_emission - top), top[:, 0]


def sticky_forward(
    log_emissions: np.ndarray, init: np.ndarray, *, stay: float, jump: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Filtered state probabilities ``P(z_t | e_1..e_t)`` of every row.

    Parameters
    ----------
    log_emissions : ndarray of shape (T, N, K)
        ``log P(e_t | z_t = c)`` up to a constant per (t, row).
    init : ndarray of shape (K,) or (N, K)
        Distribution of ``z_1`` before its emission.
    stay : float in [0, 1]
        Probability that a label stays from one iteration to the next (before the
        redraw, which may pick the same class again).
    jump : ndarray of shape (K,) or (N, K)
        Distribution of a redrawn label (per row when 2-D: a row's states may be its
        own candidate classes, see :mod:`pico.vote.candidates`).

    Returns
    -------
    filtered : ndarray of shape (T, N, K)
        Rows sum to 1.
    log_evidence : ndarray of shape (N,)
        ``log P(e_1..e_T)`` of each row, up to the constants of ``log_emissions``.

    Examples
    --------
    >>> le = np.log(np.array([[[0.9, 0.1]], [[0.2, 0.8]]]))
    >>> f, _ = sticky_forward(le, np.array([0.5, 0.5]), stay=1.0, jump=np.array([.5, .5]))
    >>> f[-1].round(3).tolist()  # stay=1: the evidence of both iterations multiplies
    [[0.692, 0.308]]
    """
    _check(log_emissions, init, stay, jump)
    t_max, n, k = log_emissions.shape
    filtered = np.empty((t_max, n, k))
    log_evidence = np.zeros(n)
    pred = np.broadcast_to(init, (n, k))
    for t in range(t_max):
        if t > 0:
            pred = stay * filtered[t - 1] + (1.0 - stay) * jump
        em, top = _emission_probs(log_emissions[t])
        joint = pred * em
        scale = np.maximum(joint.sum(axis=1), _TINY)
        filtered[t] = joint / scale[:, None]
        log_evidence += np.log(scale) + top
    return filtered, log_evidence


@dataclass
class ChainPosterior:
    """What :func:`sticky_smooth` returns.

    Attributes
    ----------
    filtered : ndarray of shape (T, N, K)
        ``P(z_t | e_1..e_t)``.
    smoothed : ndarray of shape (T, N, K)
        ``P(z_t | e_1..e_T)``.
    same : ndarray of shape (T - 1, N)
        ``P(z_t = z_{t+1} | e_1..e_T)``: the probability that the label did not
        change between iterations t and t + 1.
    stayed : ndarray of shape (T - 1, N)
        Posterior probability that the transition from t to t + 1 took the "stay"
        branch (rather than a redraw, which may land on the same class): the expected
        counts of the Baum-Welch update of ``stay``.
    log_evidence : ndarray of shape (N,)
        ``log P(e_1..e_T)`` per row, up to the constants of the emissions.
    """

    filtered: np.ndarray
    smoothed: np.ndarray
    same: np.ndarray
    stayed: np.ndarray
    log_evidence: np.ndarray

    @property
    def expected_changes(self) -> np.ndarray:
        """Expected number of label changes along each row's history, shape (N,)."""
        return np.sum(1.0 - self.same, axis=0)  # type: ignore[no-any-return]


def sticky_smooth(
    log_emissions: np.ndarray,
    init: np.ndarray,
    *,
    stay: float,
    jump: np.ndarray,
    redraw_same: np.ndarray | None = None,
) -> ChainPosterior:
    """Forward-backward smoothing of every row's label history.

    Parameters
    ----------
    log_emissions, init, stay, jump
        As in :func:`sticky_forward`.
    redraw_same : ndarray of shape (K,) or (N, K), optional
        Probability that a redraw from state c lands on the same label; default
        ``jump``. A state that lumps several classes (the "rest" state of
        :mod:`pico.vote.candidates`) redraws its own label less often than it
        redraws into the state. Only ``same`` uses it.

    Returns
    -------
    ChainPosterior

    Examples
    --------
    >>> le = np.log(np.array([[[0.9, 0.1]], [[0.9, 0.1]], [[0.1, 0.9]]]))
    >>> post = sticky_smooth(le, np.array([.5, .5]), stay=0.8, jump=np.array([.5, .5]))
    >>> post.smoothed[:, 0].argmax(axis=1).tolist(), bool(post.expected_changes[0] > 0.5)
    ([0, 0, 1], True)
    """
    filtered, log_evidence = sticky_forward(log_emissions, init, stay=stay, jump=jump)
    t_max, n, k = log_emissions.shape
    smoothed = np.empty_like(filtered)
    same = np.empty((max(t_max - 1, 0), n))
    stayed = np.empty_like(same)
    smoothed[-1] = filtered[-1]
    # backward[t] = P(e_{t+1..T} | z_t) / P(e_{t+1..T} | e_1..e_t); smoothed = filtered * backward
    back = np.ones((n, k))
    for t in range(t_max - 2, -1, -1):
        em, _ = _emission_probs(log_emissions[t + 1])
        pred = stay * filtered[t] + (1.0 - stay) * jump
        norm = np.maximum((pred * em).sum(axis=1), _TINY)
        weighted = em * back  # e_{t+1}(c') b_{t+1}(c')
        redraw = np.sum(weighted * jump, axis=1)  # sum_c' jump(c') e(c') b(c')
        new_back = (stay * weighted + (1.0 - stay) * redraw[:, None]) / norm[:, None]
        # P(z_t = z_{t+1} = c | all) = f_t(c) A[c, c] e_{t+1}(c) b_{t+1}(c) / norm
        diag = stay + (1.0 - stay) * (jump if redraw_same is None else redraw_same)
        same[t] = np.sum(filtered[t] * diag * weighted, axis=1) / norm
        stayed[t] = stay * np.sum(filtered[t] * weighted, axis=1) / norm
        back = new_back
        smoothed[t] = filtered[t] * back
        smoothed[t] /= np.maximum(smoothed[t].sum(axis=1, keepdims=True), _TINY)
    return ChainPosterior(
        filtered, smoothed, np.clip(same, 0.0, 1.0), np.clip(stayed, 0.0, 1.0), log_evidence
    )
