"""Bring your own predictions: pico.clean(labels=..., pred_probs=...) and --pred-probs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import pico
from pico.benchmarking import make_blobs_with_noise
from pico.cli import cli
from pico.corrector import IterativeCorrector
from pico.predictions import as_predictions, read_pred_probs
from pico.store.memory import MemoryStore


def _own_predictions(X: np.ndarray, y: np.ndarray, **options: object) -> tuple[
    IterativeCorrector, list[list[sp.csr_matrix]]
]:
    """A corrector fitted as usual, and the held-out predictions its checkers made."""
    stores: list[MemoryStore] = []

    def factory(n: int, k: int) -> MemoryStore:
        stores.append(MemoryStore(n, k, top_k=20))
        return stores[-1]

    corr = IterativeCorrector(store_factory=factory, random_state=0, **options).fit(X, y)
    store = stores[0]
    return corr, [
        [p.probs for p in store.branches(t)] for t in range(1, corr.n_iter_ + 1)
    ]


def test_own_out_of_fold_predictions_reproduce_the_one_iteration_vote() -> None:
    X, _, y = make_blobs_with_noise(300, 3, rate=0.15, random_state=3)
    corr, iterations = _own_predictions(X, y, n_iterations=1, history=False, n_branches=2)
    assert len(iterations) == 1 and len(iterations[0]) == 2  # two checkers (branches)
    res = pico.clean(labels=y, pred_probs=iterations[0], history=False, random_state=0)
    assert np.array_equal(res.labels, corr.labels_)
    assert np.array_equal(res.status, corr.status_)
    assert np.allclose(res.confidence, corr.confidence_)
    assert res.summary["checker_fits"] == 0
    assert res.summary["options"]["pred_probs"] is True
    assert int(res.changed.sum()) > 0


def test_own_predictions_over_iterations_reproduce_the_history_model() -> None:
    X, _, y = make_blobs_with_noise(300, 3, rate=0.2, random_state=4)
    corr, iterations = _own_predictions(X, y, n_iterations=2, tol=0.0, n_branches=2)
    assert len(iterations) == 2
    res = pico.clean(labels=y, pred_probs=iterations, random_state=0)
    assert np.array_equal(res.labels, corr.labels_)
    assert np.array_equal(res.status, corr.status_)
    assert res.history.shape == (len(y), 3)


def test_dense_and_sparse_give_the_same_labels() -> None:
    rng = np.random.default_rng(0)
    n, k, top = 400, 30, 5
    truth = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), truth] += 4.0
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = truth.copy()
    flip = rng.random(n) < 0.15
    y[flip] = rng.integers(0, k, flip.sum())
    # the sparse form keeps the top 5 of each row, as the dense one does with top_k=5
    idx = np.argsort(-P, axis=1)[:, :top]
    S = sp.csr_matrix(
        (np.take_along_axis(P, idx, axis=1).ravel(), idx.ravel(), np.arange(0, n * top + 1, top)),
        shape=(n, k),
    )
    dense = pico.clean(labels=y, pred_probs=P, top_k=top)
    sparse = pico.clean(labels=y, pred_probs=S, top_k=top)
    assert np.array_equal(dense.labels, sparse.labels)
    assert np.array_equal(dense.status, sparse.status)
    assert np.allclose(dense.confidence, sparse.confidence, atol=1e-6)
    assert (dense.labels == truth).mean() > (y == truth).mean()
    # column order: a DataFrame's columns name the classes, in any order
    frame = pd.DataFrame(P, columns=list(range(k)))[list(range(k))[::-1]]
    reordered = pico.clean(labels=y, pred_probs=frame, top_k=top)
    assert np.array_equal(reordered.labels, dense.labels)


def test_classes_give_the_column_order_and_unused_columns_are_rest() -> None:
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]] * 10)
    y = np.array(["b", "a", "b", "b"] * 10, dtype=object)  # "c" labels no row
    res = pico.clean(labels=y, pred_probs=P, classes=["b", "a", "c"])
    assert res.labels[3] == "a" and res.status[3] == "relabeled"
    assert res.labels[0] == "b"
    swapped = pico.clean(labels=y, pred_probs=P[:, [1, 0, 2]], classes=["a", "b", "c"])
    assert np.array_equal(swapped.labels, res.labels)


def test_integer_labels_index_the_columns() -> None:
    P = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]] * 20)
    y = np.array([0, 0] * 20)
    y[1::2] = 2  # class 1 labels no row: the columns are still 0, 1, 2
    preds = as_predictions(P, y, np.unique(y))
    assert preds[0][0].shape == (40, 2)
    assert np.allclose(preds[0][0].probs.toarray()[0], [0.8, 0.1])


def test_rows_without_label_are_skipped_and_data_is_optional() -> None:
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.85, 0.15], [0.1, 0.9]] * 10)
    y = np.array(["a", "b", None, "a"] * 10, dtype=object)
    res = pico.clean(labels=y, pred_probs=P)
    assert (res.status[2::4] == "skipped").all() and res.labels[2] is None
    assert res.labels[3] == "b"
    # texts given: identical texts share one decision
    texts = [f"text {i}" for i in range(40)]
    texts[1] = "TEXT 3"  # given b and a, both predicted b
    merged = pico.clean(texts, y, pred_probs=P)
    assert merged.summary["duplicates"]["conflicting_groups"] == 1
    assert merged.labels[1] == merged.labels[3] == "b"


def test_errors_say_what_to_change() -> None:
    P = np.array([[0.9, 0.1], [0.2, 0.8]] * 5)
    y = ["a", "b"] * 5
    with pytest.raises(pico.InvalidInputError, match="n_branches.*nothing is trained"):
        pico.clean(labels=y, pred_probs=P, n_branches=2)
    with pytest.raises(pico.InvalidInputError, match="one row per label"):
        pico.clean(labels=y, pred_probs=P[:5])
    with pytest.raises(pico.InvalidInputError, match="classes="):
        pico.clean(labels=y, pred_probs=np.hstack([P, np.zeros((10, 1))]))
    with pytest.raises(pico.InvalidInputError, match="sum to 1"):
        pico.clean(labels=y, pred_probs=P * 0.5)
    with pytest.raises(pico.InvalidInputError, match="outside"):
        pico.clean(labels=y, pred_probs=-P)
    with pytest.raises(pico.InvalidInputError, match="no column"):
        pico.clean(labels=y, pred_probs=P, classes=["a", "z"])
    with pytest.raises(pico.InvalidInputError, match="pass pred_probs too"):
        pico.clean(["x y"] * 10, y, classes=["a", "b"])


def test_read_pred_probs_files(tmp_path: Path) -> None:
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    np.save(tmp_path / "p.npy", P)
    np.savez(tmp_path / "m.npz", first=P, second=P[:, ::-1], classes=np.array(["x", "y"]))
    sp.save_npz(tmp_path / "s.npz", sp.csr_matrix(P))
    pd.DataFrame(P, columns=["x", "y"]).to_parquet(tmp_path / "p.parquet")
    mats, classes = read_pred_probs(tmp_path / "p.npy")
    assert len(mats) == 1 and classes is None and np.allclose(mats[0], P)
    mats, classes = read_pred_probs(tmp_path / "m.npz")
    assert len(mats) == 2 and classes == ["x", "y"]
    mats, classes = read_pred_probs(tmp_path / "s.npz")
    assert sp.issparse(mats[0]) and classes is None
    mats, classes = read_pred_probs(tmp_path / "p.parquet")
    assert classes == ["x", "y"]
    with pytest.raises(pico.InvalidInputError, match=".npy"):
        read_pred_probs(tmp_path / "p.csv")


def test_cli_pred_probs(tmp_path: Path) -> None:
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]] * 10)
    y = ["a", "a", "b", "a"] * 10
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": [f"row {i}" for i in range(40)], "label": y}).to_csv(data, index=False)
    pd.DataFrame(P, columns=["a", "b"]).to_parquet(tmp_path / "p.parquet")
    np.save(tmp_path / "p.npy", P)
    outs = []
    for name in ("p.parquet", "p.npy"):
        out = tmp_path / f"out-{name}.csv"
        result = CliRunner().invoke(cli, [
            "clean", str(data), "--text-column", "text", "--pred-probs", str(tmp_path / name),
            "-o", str(out), "--run-dir", str(tmp_path / f"run-{name}"), "-q",
        ], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outs.append(pd.read_csv(out))
    assert outs[0]["pico_label"].tolist() == outs[1]["pico_label"].tolist()
    assert outs[0]["pico_label"][3] == "b" and outs[0]["pico_status"][3] == "relabeled"
    assert not (tmp_path / "run-p.npy" / "checkpoints").exists()
    refused = CliRunner().invoke(cli, [
        "clean", str(data), "--text-column", "text", "--pred-probs", str(tmp_path / "p.npy"),
        "--branches", "3", "-o", str(tmp_path / "x.csv"), "--run-dir", str(tmp_path / "r3"),
    ])
    assert refused.exit_code == 2 and "nothing is trained" in refused.output
