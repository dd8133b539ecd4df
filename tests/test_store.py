"""Tests for pico.store: top-k sparsification, SparsePredictions and MemoryStore."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import pico.store as store_pkg
from pico.store import MemoryStore, SparsePredictions, sparsify_topk

SETTINGS = settings(max_examples=40, deadline=None, database=None)


def _random_probs(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    p = rng.dirichlet(np.full(k, 0.5), size=n)
    return p


@st.composite
def prob_blocks(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, 12))
    raw = draw(
        arrays(np.float64, (n, k), elements=st.floats(0.0, 1.0, allow_nan=False, width=32))
    )
    raw = raw + 1e-3  # no all-zero rows
    return raw / raw.sum(axis=1, keepdims=True)


def test_import_all_consistency() -> None:
    for name in store_pkg.__all__:
        assert hasattr(store_pkg, name), name


# ------------------------------------------------------------------------ sparsify_topk


@SETTINGS
@given(probs=prob_blocks(), top_k=st.integers(1, 15))
def test_sparsify_topk_rows_plus_residual_sum_to_one(probs: np.ndarray, top_k: int) -> None:
    idx, vals, res = sparsify_topk(probs, top_k)
    n, k_all = probs.shape
    k = min(top_k, k_all)
    assert idx.shape == vals.shape == (n, k)
    assert res.shape == (n,)
    assert vals.dtype == np.float32
    np.testing.assert_allclose(vals.sum(axis=1, dtype=np.float64) + res, 1.0, atol=1e-5)
    assert np.all(res >= 0)
    # kept values are the probabilities of the kept columns, in decreasing order
    np.testing.assert_allclose(vals, np.take_along_axis(probs, idx, axis=1), rtol=1e-6)
    assert np.all(np.diff(vals, axis=1) <= 0)
    # every row keeps distinct columns
    assert all(len(set(row)) == k for row in idx.tolist())
    # no dropped entry is larger than the smallest kept one
    dropped = probs.copy()
    np.put_along_axis(dropped, idx, -1.0, axis=1)
    assert np.all(dropped.max(axis=1) <= vals[:, -1] + 1e-7)


def test_sparsify_topk_keeps_the_top_values() -> None:
    probs = np.array([[0.05, 0.5, 0.1, 0.35], [0.7, 0.1, 0.15, 0.05]])
    idx, vals, res = sparsify_topk(probs, 2)
    assert idx.tolist() == [[1, 3], [0, 2]]
    np.testing.assert_allclose(vals, [[0.5, 0.35], [0.7, 0.15]], rtol=1e-6)
    np.testing.assert_allclose(res, [0.15, 0.15], atol=1e-7)


@pytest.mark.parametrize("top_k", [3, 4, 100])
def test_sparsify_topk_k_at_least_K_keeps_everything(top_k: int) -> None:
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    idx, vals, res = sparsify_topk(probs, top_k)
    assert idx.shape == (2, 3)
    for row in range(2):
        assert sorted(idx[row].tolist()) == [0, 1, 2]
        np.testing.assert_allclose(vals[row], probs[row, idx[row]], rtol=1e-6)
    np.testing.assert_allclose(res, 0.0, atol=1e-6)


# --------------------------------------------------------------------- SparsePredictions


def _as_sparse(probs: np.ndarray, top_k: int) -> SparsePredictions:
    idx, vals, res = sparsify_topk(probs, top_k)
    n, k_all = probs.shape
    k = idx.shape[1]
    mat = sp.csr_matrix(
        (vals.ravel(), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, k_all)
    )
    return SparsePredictions(mat, res)


@SETTINGS
@given(probs=prob_blocks(), top_k=st.integers(1, 15))
def test_log_dense_rows_are_distributions(probs: np.ndarray, top_k: int) -> None:
    pred = _as_sparse(probs, top_k)
    log_p = pred.log_dense(slice(None))
    assert log_p.shape == probs.shape
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, atol=1e-9)
    assert np.all(np.exp(log_p) >= 1e-6 / 2)  # floored then renormalised


def test_log_dense_spreads_residual_evenly_over_unstored_classes() -> None:
    probs = np.array([[0.6, 0.2, 0.1, 0.1], [0.05, 0.05, 0.1, 0.8]])
    pred = _as_sparse(probs, 2)
    dense = np.exp(pred.log_dense(slice(None)))
    np.testing.assert_allclose(dense[0], [0.6, 0.2, 0.1, 0.1], atol=1e-6)
    np.testing.assert_allclose(dense[1], [0.05, 0.05, 0.1, 0.8], atol=1e-6)

    probs = np.array([[0.5, 0.3, 0.15, 0.05]])
    dense = np.exp(_as_sparse(probs, 2).log_dense(np.array([0])))
    np.testing.assert_allclose(dense, [[0.5, 0.3, 0.1, 0.1]], atol=1e-6)


def test_log_dense_selects_rows() -> None:
    rng = np.random.default_rng(0)
    probs = _random_probs(rng, 6, 5)
    pred = _as_sparse(probs, 5)
    full = pred.log_dense(slice(None))
    np.testing.assert_allclose(pred.log_dense(np.array([4, 1])), full[[4, 1]])
    np.testing.assert_allclose(pred.log_dense(slice(2, 4)), full[2:4])
    assert pred.shape == (6, 5)


def test_log_dense_floor() -> None:
    probs = np.array([[1.0, 0.0, 0.0]])
    pred = _as_sparse(probs, 3)
    dense = np.exp(pred.log_dense(slice(None), floor=1e-3))
    np.testing.assert_allclose(dense, [[1.0, 1e-3, 1e-3]] / np.float64(1.002), rtol=1e-6)
    # the default floor never rules a class out either
    assert np.all(np.isfinite(pred.log_dense(slice(None))))
    assert np.exp(pred.log_dense(slice(None))).min() > 0


# --------------------------------------------------------------------------- MemoryStore


def test_memory_store_assembles_parts_in_any_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 30, 6
    probs = _random_probs(rng, n, k)
    rows = rng.permutation(n)
    parts = np.array_split(rows, 4)
    store = MemoryStore(n, k, top_k=3)
    for order in (rng.permutation(4), rng.permutation(4)):
        branch = 0 if store.n_branches(1) == 0 else 1
        for part in order:
            store.add(1, branch, parts[part], probs[parts[part]])
    assert store.n_branches(1) == 2
    assert store.n_branches(0) == 0
    reference = _as_sparse(probs, 3)
    expected = reference.log_dense(slice(None))
    got = list(store.branches(1))
    assert len(got) == 2
    for pred in got:
        assert pred.shape == (n, k)
        np.testing.assert_allclose(pred.residual, reference.residual, atol=1e-7)
        np.testing.assert_allclose(pred.log_dense(slice(None)), expected, atol=1e-5)
        assert np.all(np.diff(pred.probs.indptr) == 3)


def test_memory_store_add_after_assembly_reassembles() -> None:
    store = MemoryStore(2, 3, top_k=3)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    store.add(0, 0, np.array([0]), probs[:1])
    with pytest.raises(ValueError, match="every row must be predicted"):
        list(store.branches(0))
    store.add(0, 0, np.array([1]), probs[1:])
    (pred,) = store.branches(0)
    np.testing.assert_allclose(pred.probs.toarray(), probs, atol=1e-7)


@pytest.mark.parametrize(
    "rows",
    [np.array([0, 1, 3]), np.array([0, 1, 2, 2]), np.array([0, 1, 2, 3, 3])],
    ids=["missing", "missing+duplicate", "duplicate"],
)
def test_memory_store_error_when_rows_missing_or_repeated(rows: np.ndarray) -> None:
    store = MemoryStore(4, 3, top_k=2)
    probs = np.full((len(rows), 3), 1 / 3)
    store.add(0, 5, rows, probs)
    with pytest.raises(ValueError, match=r"branch 5 of iteration 0 .* of 4 rows"):
        list(store.branches(0))


def test_memory_store_keep_iterations_drops_old() -> None:
    store = MemoryStore(2, 2, top_k=2, keep_iterations=2)
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    rows = np.array([0, 1])
    for t in range(1, 5):
        store.add(t, 0, rows, probs)
        store.add(t, 1, rows, probs)
    assert [store.n_branches(t) for t in range(1, 5)] == [0, 0, 2, 2]
    assert list(store.branches(1)) == []
    assert len(list(store.branches(4))) == 2

    keep_all = MemoryStore(2, 2, top_k=2)
    for t in range(1, 5):
        keep_all.add(t, 0, rows, probs)
    assert [keep_all.n_branches(t) for t in range(1, 5)] == [1, 1, 1, 1]


def test_memory_store_nbytes_grows_with_top_k_not_classes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 50

    def filled(k: int, top_k: int, n_rows: int = n) -> int:
        store = MemoryStore(n_rows, k, top_k=top_k)
        store.add(0, 0, np.arange(n_rows), _random_probs(rng, n_rows, k))
        return store.nbytes

    small_k, big_k = filled(20, 4), filled(400, 4)
    assert small_k == big_k  # independent of K
    assert filled(400, 8) > big_k  # grows with top_k ...
    assert filled(400, 4, n_rows=2 * n) == 2 * big_k  # ... and linearly with N
    assert big_k < n * 400 * 4 / 10  # far below a dense float32 (N, K) block


def test_add_sparse_keeps_top_k_rows_as_given() -> None:
    from pico.exceptions import InvalidInputError

    probs = sp.csr_matrix(np.array([[0.7, 0.2, 0.0], [0.0, 0.1, 0.8]], dtype=np.float32))
    pred = SparsePredictions(probs, np.array([0.1, 0.1]))
    store = MemoryStore(2, 3, keep_iterations=1)
    store.add_sparse(1, 0, pred)
    (back,) = list(store.branches(1))
    np.testing.assert_array_equal(back.probs.toarray(), probs.toarray())
    assert store.n_branches(1) == 1 and store.nbytes > 0
    store.add_sparse(2, 0, pred)  # keep_iterations=1 forgets iteration 1
    assert store.n_branches(1) == 0 and store.n_branches(2) == 1
    with pytest.raises(InvalidInputError, match="this store holds"):
        store.add_sparse(3, 0, SparsePredictions(probs[:1], np.array([0.1])))


# --------------------------------------------------------------- MemoryStore checkpoints


def _filled_store(seed: int, n: int = 30, k: int = 7) -> MemoryStore:
    """Two iterations of two branches from parts in random order, and one sparse branch."""
    rng = np.random.default_rng(seed)
    store = MemoryStore(n, k, top_k=3)
    for t in (1, 2):
        for b in (0, 1):
            probs = _random_probs(rng, n, k)
            for part in np.array_split(rng.permutation(n), 3):
                store.add(t, b, part, probs[part])
    uneven = sp.random(n, k, density=0.3, format="csr", random_state=seed, dtype=np.float64)
    uneven.data /= 10.0  # rows keep different numbers of classes
    store.add_sparse(3, 0, SparsePredictions(uneven, np.full(n, 0.25)))
    return store


def test_memory_store_state_and_restore_give_the_same_branches(seed: int) -> None:
    store = _filled_store(seed)
    meta, saved = store.state()
    assert meta["keys"] == [[1, 0], [1, 1], [2, 0], [2, 1], [3, 0]]
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in saved.values())
    assert saved["i1.b0.indices"].dtype == np.uint8  # 7 classes
    assert saved["i1.b0.values"].dtype == np.float32  # kept as stored
    assert saved["i3.b0.values"].dtype == np.float64
    again = MemoryStore(30, 7, top_k=3)
    again.restore(meta, saved)
    for t in (1, 2, 3):
        assert again.n_branches(t) == store.n_branches(t)
        for a, b in zip(store.branches(t), again.branches(t), strict=True):
            for name in ("data", "indices", "indptr"):
                x, y = getattr(a.probs, name), getattr(b.probs, name)
                assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
            assert a.residual.dtype == b.residual.dtype
            assert a.residual.tobytes() == b.residual.tobytes()
    assert again.nbytes > 0
    again.add(4, 0, np.arange(30), np.full((30, 7), 1 / 7))  # and it goes on as before
    assert again.n_branches(4) == 1


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m, a: m.update(n_rows=31), "31 rows"),
        (lambda m, a: m.update(keys=[[1, 0], [1, 0]]), "twice"),
        (lambda m, a: m.update(keys=[[1, "0"]]), "pairs"),
        (lambda m, a: a.pop("i1.b1.values"), "'i1.b1.values' is missing"),
        (lambda m, a: a.update(extra=np.zeros(2)), "unexpected stored array 'extra'"),
        (lambda m, a: a.update({"i1.b0.indices": a["i1.b0.indices"] + 7}), "outside 0..6"),
        (lambda m, a: a.update({"i1.b0.indptr": a["i1.b0.indptr"][::-1]}), "does not index"),
        (lambda m, a: a.update({"i1.b0.residual": a["i1.b0.residual"][:-1]}), "29 rows"),
        (lambda m, a: a.update({"i1.b0.values": a["i1.b0.values"] - 1}), r"outside \[0, 1\]"),
        (lambda m, a: a.update({"i1.b0.values": a["i1.b0.values"].astype(np.int64)}),
         "floats expected"),
    ],
    ids=["rows", "twice", "keys", "missing", "extra", "indices", "indptr", "residual",
         "values", "dtype"],
)
def test_memory_store_restore_checks_every_array(edit: Any, match: str) -> None:
    from pico.exceptions import InvalidInputError

    meta, saved = _filled_store(0).state()
    edit(meta, saved)
    store = MemoryStore(30, 7, top_k=3)
    with pytest.raises(InvalidInputError, match=match):
        store.restore(meta, saved)
    assert store.n_branches(1) == 0  # nothing half-restored
