"""Each row's candidate classes: the vote and the label history in O(N * T * k).

The checkers keep only their ``top_k`` probabilities per row (:mod:`pico.store.base`);
the residual mass of the other classes is spread over them in proportion to the class
frequencies the checker was trained on. With that spread, the evidence a branch gives
every class it did not store, ``log p(c) - log P_t(c) = log residual - log U`` (U: the
prior mass of the unstored classes), is the same for all of them. So for each row only
its *candidate* classes need their own column:

- the union of the classes any branch of any iteration stored for the row, and the
  given label (for a group of identical rows: the union over the group), the strongest
  ``max_candidates`` of them;
- plus one **rest** column that stands for every other class at once. Its prior is the
  prior mass of those classes, its evidence the common value above, and the given label
  enters through ``R_i = sum_{c in rest} P(c) T[c, y~_i]``, a per-label sum over all
  classes minus the row's candidates.

Within the rest every quantity the vote and the chain need is proportional to ``P(c)``
(or linear in ``T[c, y~]``), so lumping it into one column is exact for the posterior,
the likelihood, the noise-matrix counts and the smoothed chain; memory and time are
O(N * T * W) with W the number of candidate columns, not O(N * K). Two things are
approximate and documented where they are computed: classes beyond ``max_candidates``
(counted as rest) and, for rows in groups, the rest's pooled label likelihood.

These are pure functions; :class:`~pico.vote.BayesianVote` and
:class:`~pico.history.LabelHistoryModel` use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ..exceptions import InvalidInputError
from ..store.base import SparsePredictions
from .noise import NoiseMatrix

__all__ = [
    "CandidateEvidence",
    "candidate_counts",
    "candidate_evidence",
    "candidate_pairs",
    "column_prior",
    "count_statistics",
    "counts_from_statistics",
    "label_loglik",
]

_TINY = 1e-300
# Up to this many noise-matrix cells (K * K), :func:`candidate_pairs` indexes them with a
# table (4 bytes a cell) instead of sorting the rows' cells.
_TABLE_CELLS = 1 << 22


@dataclass(frozen=True)
class CandidateEvidence:
    """The checkers' evidence of every iteration at each row's candidate classes.

    Attributes
    ----------
    classes : ndarray of shape (N, W)
        Candidate classes of each row, ascending; padding slots hold 0.
    valid : ndarray of shape (N, W)
        False at padding slots.
    evidence : ndarray of shape (T, N, W + 1)
        Mean branch evidence ``mean_r [log p_r(c | x) - log P_t(c)]`` of each iteration
        at each candidate; the last column holds the common value of every other class.
    sizes : ndarray of shape (T,)
        Branches per iteration (M_t).
    n_classes : int
        K.
    """

    classes: np.ndarray
    valid: np.ndarray
    evidence: np.ndarray
    sizes: np.ndarray
    n_classes: int

    @cached_property
    def has_rest(self) -> np.ndarray:
        """Rows with classes outside their candidates, shape (N,) (computed once)."""
        return self.valid.sum(axis=1) < self.n_classes  # type: ignore[no-any-return]

    @property
    def width(self) -> int:
        """W, the number of candidate columns."""
        return int(self.classes.shape[1])


def _group_matrix(groups: np.ndarray, n: int) -> sp.csr_matrix:
    _, inverse = np.unique(groups, return_inverse=True)
    inverse = inverse.ravel()
    return sp.csr_matrix((np.ones(n), (np.arange(n), inverse)), shape=(n, inverse.max() + 1))


def _candidate_pattern(
    iterations: Sequence[Sequence[SparsePredictions]],
    labels: np.ndarray,
    k: int,
    groups: np.ndarray | None,
    max_candidates: int | None,
) -> sp.csr_matrix:
    """(N, K) pattern of candidates, scored by the best stored probability."""
    n = len(labels)
    # Every stored class scores 1 + its probability; given labels score above all
    # (also when a group adds up its rows' scores).
    score = sp.csr_matrix((np.full(n, 1e9), (np.arange(n), labels)), shape=(n, k))
    for branches in iterations:
        for pred in branches:
            p = pred.probs
            score = score.maximum(sp.csr_matrix((p.data + 1.0, p.indices, p.indptr), shape=(n, k)))
    if groups is not None:
        g = _group_matrix(np.asarray(groups), n)
        score = (g @ (g.T @ score)).tocsr()
    score.sum_duplicates()
    score.sort_indices()
    counts = np.diff(score.indptr)
    if max_candidates is not None and counts.max(initial=0) > max_candidates:
        rows = np.repeat(np.arange(n), counts)
        order = np.lexsort((-score.data, rows))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - score.indptr[rows[order]]
        keep = rank < max_candidates
        score = sp.csr_matrix(
            (score.data[keep], (rows[keep], score.indices[keep])), shape=(n, k)
        )
        score.sort_indices()
    return score


def candidate_evidence(
    iterations: Sequence[Sequence[SparsePredictions]],
    trained_on: Sequence[np.ndarray],
    labels: np.ndarray,
    *,
    n_classes: int,
    groups: np.ndarray | None = None,
    max_candidates: int | None = 64,
    floor: float = 1e-6,
) -> CandidateEvidence:
    """Each iteration's mean branch evidence at every row's candidate classes.

    Parameters
    ----------
    iterations : sequence of sequences of SparsePredictions
        One entry per iteration: its branches' (N, K) top-k predictions.
    trained_on : sequence of ndarray of shape (N,)
        Labels each iteration's checkers were trained on; their smoothed class
        frequencies ``P_t`` are the prior the checkers' probabilities contain.
    labels : ndarray of shape (N,)
        Given labels, coded 0..K-1 (always a candidate of their row).
    n_classes : int
        K.
    groups : ndarray of shape (N,), optional
        Rows with the same id get the same candidates (the union over the group).
    max_candidates : int or None, default=64
        Most candidate classes per row, strongest first (best stored probability; the
        given labels first). Classes beyond it count as rest. None: no limit.
    floor : float, default=1e-6
        Smallest probability a checker may give a stored class; the residual is
        floored at ``floor`` per unstored class.

    Returns
    -------
    CandidateEvidence

    Examples
    --------
    >>> p = SparsePredictions(sp.csr_matrix(np.array([[0.7, 0.2, 0.0, 0.0]])), np.array([0.1]))
    >>> ev = candidate_evidence([[p]], [np.array([0])], np.array([3]), n_classes=4)
    >>> ev.classes.tolist(), ev.valid.tolist(), ev.evidence.shape
    ([[0, 1, 3]], [[True, True, True]], (1, 1, 4))
    """
    labels = np.asarray(labels, dtype=np.int64)
    n, k = len(labels), int(n_classes)
    if len(trained_on) != len(iterations):
        raise InvalidInputError(
            f"trained_on has {len(trained_on)} label vectors for {len(iterations)} iterations"
        )
    if not iterations or not all(len(b) for b in iterations):
        raise InvalidInputError("the vote needs at least one branch of predictions per iteration")
    for t, branches in enumerate(iterations):
        for pred in branches:
            if pred.shape != (n, k):
                raise InvalidInputError(
                    f"iteration {t + 1} predictions have shape {pred.shape}; expected {(n, k)} "
                    f"({n} labels, {k} classes)"
                )
    pattern = _candidate_pattern(iterations, labels, k, groups, max_candidates)
    counts = np.diff(pattern.indptr)
    width = int(counts.max(initial=1))
    rows_u = np.repeat(np.arange(n), counts)
    slots = np.arange(len(rows_u)) - pattern.indptr[rows_u]
    keys_u = rows_u * np.int64(k) + pattern.indices
    classes = np.zeros((n, width), dtype=np.int64)
    valid = np.zeros((n, width), dtype=bool)
    classes[rows_u, slots] = pattern.indices
    valid[rows_u, slots] = True

    evidence = np.zeros((len(iterations), n, width + 1))
    sizes = np.array([len(b) for b in iterations], dtype=np.float64)
    for t, (branches, used) in enumerate(zip(iterations, trained_on)):
        prior = _frequencies(np.asarray(used, dtype=np.int64), k)
        log_prior = np.log(prior)
        flat = np.zeros(len(keys_u))
        rest = np.zeros(n)
        for pred in branches:
            p = pred.probs
            per_row = np.diff(p.indptr)
            rows_b = np.repeat(np.arange(n), per_row)
            unstored_mass = 1.0 - np.bincount(rows_b, weights=prior[p.indices], minlength=n)
            unstored = k - per_row
            residual = np.maximum(np.asarray(pred.residual, dtype=np.float64), floor * unstored)
            level = np.where(
                unstored > 0,
                np.log(np.maximum(residual, _TINY)) - np.log(np.maximum(unstored_mass, _TINY)),
                0.0,
            )
            rest += level
            flat += level[rows_u]
            keys_b = rows_b * np.int64(k) + p.indices
            pos = np.minimum(np.searchsorted(keys_u, keys_b), len(keys_u) - 1)
            hit = keys_u[pos] == keys_b
            stored = (
                np.log(np.maximum(p.data.astype(np.float64), floor))
                - log_prior[p.indices]
                - level[rows_b]
            )
            np.add.at(flat, pos[hit], stored[hit])
        evidence[t, rows_u, slots] = flat / sizes[t]
        evidence[t, :, width] = rest / sizes[t]
    return CandidateEvidence(classes, valid, evidence, sizes, k)


def _frequencies(labels: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return (counts + 0.5) / (counts.sum() + 0.5 * k)  # type: ignore[no-any-return]


def column_prior(cand: CandidateEvidence, prior: np.ndarray) -> np.ndarray:
    """Prior of each row's columns: ``P(c)`` per candidate, the rest's mass last.

    Parameters
    ----------
    cand : CandidateEvidence
    prior : ndarray of shape (K,)

    Returns
    -------
    ndarray of shape (N, W + 1)
        Rows sum to 1 (padding slots 0).
    """
    cols = np.where(cand.valid, prior[cand.classes], 0.0)
    rest = np.where(cand.has_rest, np.clip(1.0 - cols.sum(axis=1), 0.0, 1.0), 0.0)
    out: np.ndarray = np.concatenate([cols, rest[:, None]], axis=1)
    return out


def rest_same_redraw(cand: CandidateEvidence, prior: np.ndarray) -> np.ndarray:
    """Probability that a redraw lands on the same label, per column, shape (N, W + 1).

    ``P(c)`` for a candidate; for the rest, ``sum_{c in rest} P(c)^2 / P(rest)`` (a
    redraw into the rest seldom picks the same one of its classes). Exact when the
    row's backward messages are equal over the rest; the rest holds little mass.
    """
    out = column_prior(cand, prior)
    rest_mass = out[:, -1].copy()
    squares = np.clip(np.sum(prior**2) - np.sum(out[:, :-1] ** 2, axis=1), 0.0, None)
    out[:, -1] = np.where(rest_mass > 0, squares / np.maximum(rest_mass, _TINY), 0.0)
    return out


def as_noise_matrix(noise: NoiseMatrix | np.ndarray) -> NoiseMatrix:
    """``noise`` as a :class:`~pico.vote.noise.NoiseMatrix` (a dense (K, K) array is
    taken cell by cell)."""
    if isinstance(noise, NoiseMatrix):
        return noise
    return NoiseMatrix.from_dense(np.asarray(noise, dtype=np.float64))


def _noise_at_candidates(
    cand: CandidateEvidence,
    labels: np.ndarray,
    noise: NoiseMatrix,
    pairs: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """``T[c, y~_i]`` at each row's candidate slots, shape (N, W) (1 at padding)."""
    if pairs is None:
        return np.where(cand.valid, noise.at(cand.classes, labels[:, None]), 1.0)
    keys, inverse = pairs
    out = np.ones(cand.classes.shape)
    out[cand.valid] = noise.at_keys(keys)[inverse]  # one look-up per distinct cell
    return out


def _rest_label_mass(
    cand: CandidateEvidence,
    labels: np.ndarray,
    noise: NoiseMatrix,
    prior: np.ndarray,
    at_cand: np.ndarray,
) -> np.ndarray:
    """``R_i = sum_{c in rest_i} P(c) T[c, y~_i]``, shape (N,); ``at_cand`` holds
    ``T[c, y~_i]`` at the candidates (:func:`_noise_at_candidates`)."""
    per_label = noise.column_mass(prior)  # sum_c P(c) T[c, l]
    at_candidates = np.where(cand.valid, prior[cand.classes] * at_cand, 0.0)
    mass = per_label[labels] - at_candidates.sum(axis=1)
    return np.where(cand.has_rest, np.clip(mass, 0.0, None), 0.0)


def label_loglik(
    cand: CandidateEvidence,
    labels: np.ndarray,
    noise: NoiseMatrix | np.ndarray,
    prior: np.ndarray,
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``log P(given label | column)`` of each row's columns, shape (N, W + 1).

    ``log T[c, y~_i]`` per candidate; for the rest, ``log (R_i / P(rest_i))``, the
    prior-weighted mean of ``T[c, y~_i]`` over the rest's classes. Rows of one group
    share their candidate columns, so the vote adds their given labels'
    log-likelihoods column by column; for the rest column that sum is an
    approximation (exact would be a sum over the rest's classes of a product over the
    group). ``pairs``: :func:`candidate_pairs` of ``cand`` and ``labels``, when known.
    """
    noise = as_noise_matrix(noise)
    cols = _noise_at_candidates(cand, labels, noise, pairs)
    rest_prior = column_prior(cand, prior)[:, -1]
    rest = _rest_label_mass(cand, labels, noise, prior, cols)
    rest_factor = np.where(rest_prior > 0, rest / np.maximum(rest_prior, _TINY), 1.0)
    out: np.ndarray = np.log(
        np.maximum(np.concatenate([cols, rest_factor[:, None]], axis=1), _TINY)
    )
    return out


def _rest_rate(
    cand: CandidateEvidence,
    post: np.ndarray,
    labels: np.ndarray,
    noise: NoiseMatrix,
    prior: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``post_i(rest) / R_i``: the rest's posterior of class c is this times P(c) T[c, y~_i]."""
    at_cand = _noise_at_candidates(cand, labels, noise, pairs)
    mass = _rest_label_mass(cand, labels, noise, prior, at_cand)
    rate: np.ndarray = np.where(mass > 0, post[:, cand.width] / np.maximum(mass, _TINY), 0.0)
    return rate


def candidate_pairs(cand: CandidateEvidence, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The noise-matrix cells the rows reach: (candidate class, given label) pairs.

    Returns
    -------
    keys : ndarray of shape (P,)
        The distinct cells ``c * K + l``, ascending.
    inverse : ndarray
        For each valid candidate slot (``cand.valid``, row-major), its cell's index in
        ``keys``.
    """
    k = cand.n_classes
    flat = (cand.classes * np.int64(k) + labels[:, None])[cand.valid]
    if k * k <= _TABLE_CELLS:  # a table of every cell: no sort
        seen = np.zeros(k * k, dtype=bool)
        seen[flat] = True
        keys = np.flatnonzero(seen)
        index = np.zeros(k * k, dtype=np.int32)
        index[keys] = np.arange(len(keys), dtype=np.int32)
        return keys, index[flat]
    keys, inverse = np.unique(flat, return_inverse=True)
    return keys, inverse.ravel().astype(np.int32 if len(keys) < 2**31 else np.int64)


def count_statistics(
    cand: CandidateEvidence,
    post: np.ndarray,
    labels: np.ndarray,
    noise: NoiseMatrix | np.ndarray,
    prior: np.ndarray,
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sums the noise matrix's M-step needs, additive over blocks of rows.

    Parameters
    ----------
    cand, post, labels, noise, prior
        As in :func:`candidate_counts`.
    pairs : tuple, optional
        :func:`candidate_pairs` of ``cand`` and ``labels``, when already computed.

    Returns
    -------
    keys : ndarray of shape (P,)
        The cells ``c * K + l`` the rows reach (:func:`candidate_pairs`).
    direct : ndarray of shape (P,)
        ``sum_i post_i(c) [y~_i = l]`` over the rows' candidate columns.
    taken : ndarray of shape (P,)
        ``sum_i rate_i [y~_i = l]`` over the rows where c is a candidate (the rest's
        share is taken back there).
    per_label : ndarray of shape (K,)
        ``sum_i rate_i [y~_i = l]`` over all rows; ``rate_i = post_i(rest) / R_i``.
    """
    noise = as_noise_matrix(noise)
    k = cand.n_classes
    w = cand.width
    if pairs is None:
        pairs = candidate_pairs(cand, labels)
    keys, inverse = pairs
    direct = np.bincount(inverse, weights=post[:, :w][cand.valid], minlength=len(keys))
    rate = _rest_rate(cand, post, labels, noise, prior, pairs)
    taken = np.bincount(
        inverse, weights=np.broadcast_to(rate[:, None], cand.classes.shape)[cand.valid],
        minlength=len(keys),
    )
    per_label = np.bincount(labels, weights=rate, minlength=k)
    return keys, direct, taken, per_label


def counts_from_statistics(
    keys: np.ndarray,
    direct: np.ndarray,
    taken: np.ndarray,
    per_label: np.ndarray,
    noise: NoiseMatrix | np.ndarray,
    prior: np.ndarray,
) -> np.ndarray:
    """Expected (true class, given label) counts from :func:`count_statistics` sums, dense.

    The rest of row i holds ``post_i(rest) P(c) T[c, y~_i] / R_i`` for each c outside
    its candidates: it is added for all c, then taken back at the candidates. (K, K):
    the M-step itself (:func:`~pico.vote.noise.noise_step`) never forms it.
    """
    noise = as_noise_matrix(noise)
    k = noise.n_classes
    flat_direct = np.zeros(k * k)
    flat_direct[keys] = direct
    flat_taken = np.zeros(k * k)
    flat_taken[keys] = taken
    spread = np.clip(per_label[None, :] - flat_taken.reshape(k, k), 0.0, None)
    return flat_direct.reshape(k, k) + prior[:, None] * noise.toarray() * spread  # type: ignore[no-any-return]


def candidate_counts(
    cand: CandidateEvidence,
    post: np.ndarray,
    labels: np.ndarray,
    noise: NoiseMatrix | np.ndarray,
    prior: np.ndarray,
) -> np.ndarray:
    """Expected (true class, given label) counts, ``sum_i post_i(c) [y~_i = l]``, dense.

    Parameters
    ----------
    cand : CandidateEvidence
    post : ndarray of shape (N, W + 1)
        Posterior of each row's columns.
    labels : ndarray of shape (N,)
    noise : NoiseMatrix or ndarray of shape (K, K)
    prior : ndarray of shape (K,)
        The noise matrix and class prior ``post`` was computed with: the rest's
        posterior is spread over its classes in proportion to ``P(c) T[c, y~_i]``.

    Returns
    -------
    ndarray of shape (K, K)
        counts[c, l]; its row sums are the expected class sizes.
    """
    return counts_from_statistics(
        *count_statistics(cand, post, labels, noise, prior), noise, prior
    )


def dense_posterior(
    cand: CandidateEvidence,
    post: np.ndarray,
    labels: np.ndarray,
    noise: NoiseMatrix | np.ndarray,
    prior: np.ndarray,
) -> np.ndarray:
    """Expand column posteriors to (N, K), the rest spread by ``P(c) T[c, y~_i]``."""
    noise = as_noise_matrix(noise)
    n, w = post.shape[0], cand.width
    rate = _rest_rate(cand, post, labels, noise, prior)
    dense = rate[:, None] * prior[None, :] * noise.toarray()[:, labels].T
    rows = np.broadcast_to(np.arange(n)[:, None], cand.classes.shape)
    dense[rows[cand.valid], cand.classes[cand.valid]] = post[:, :w][cand.valid]
    return dense  # type: ignore[no-any-return]


def probability_of(
    cand: CandidateEvidence,
    post: np.ndarray,
    codes: np.ndarray,
    labels: np.ndarray,
    noise: NoiseMatrix | np.ndarray,
    prior: np.ndarray,
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Posterior probability of class ``codes[i]`` for every row i, shape (N,).

    ``pairs``: :func:`candidate_pairs` of ``cand`` and ``labels``, when known.
    """
    noise = as_noise_matrix(noise)
    w = cand.width
    match = cand.valid & (cand.classes == codes[:, None])
    found = match.any(axis=1)
    at_candidate = np.where(found, post[:, :w][np.arange(len(codes)), match.argmax(axis=1)], 0.0)
    rate = _rest_rate(cand, post, labels, noise, prior, pairs)
    in_rest = rate * prior[codes] * noise.at(codes, labels)
    return np.where(found, at_candidate, in_rest)


def best_candidate(cand: CandidateEvidence, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most probable candidate class of every row and its probability.

    A row is only ever moved to one of its candidates (a class some checker ranked in
    its top k, or the given label).
    """
    w = cand.width
    cols = np.where(cand.valid, post[:, :w], -1.0)
    slot = cols.argmax(axis=1)
    rows = np.arange(len(slot))
    return cand.classes[rows, slot], cols[rows, slot]
