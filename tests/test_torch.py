"""The PyTorch checker (CPU here; CUDA when a GPU is present)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from pico.benchmarking import make_blobs_with_noise
from pico.checkers import SoftmaxRegression
from pico.corrector import IterativeCorrector
from pico.exceptions import InvalidInputError, MissingDependencyError

torch = pytest.importorskip("torch")
from pico.checkers.torch import TorchChecker


def _sparse_blobs(n: int = 600, k: int = 4, seed: int = 0) -> tuple:
    import scipy.sparse as sp

    X, y, noisy = make_blobs_with_noise(n, k, rate=0.15, random_state=seed)
    return sp.csr_matrix(np.maximum(X, 0.0)), y, noisy


def test_estimator_api_dense_and_sparse() -> None:
    X, y, _ = make_blobs_with_noise(300, 3, rate=0.0, random_state=0)
    clf = TorchChecker(device="cpu").fit(X, y)
    p = clf.predict_proba(X)
    assert p.shape == (300, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.mean(clf.predict(X) == y) > 0.95
    Xs, ys, _ = _sparse_blobs()
    sparse = TorchChecker(device="cpu").fit(Xs, ys)
    dense = TorchChecker(device="cpu").fit(Xs.toarray(), ys)
    np.testing.assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(Xs.toarray()),
                               atol=1e-3)


def test_same_objective_as_the_numpy_checker() -> None:
    X, y, _ = make_blobs_with_noise(400, 4, rate=0.1, random_state=3)
    a = TorchChecker(device="cpu", max_iter=200, tol=1e-6).fit(X, y).predict_proba(X)
    b = SoftmaxRegression(max_iter=200, tol=1e-6).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=2e-3)


def test_batched_folds_match_separate_fits() -> None:
    X, _, y = _sparse_blobs(500, 4, seed=1)
    folds = np.random.default_rng(0).integers(0, 5, len(y))
    held = TorchChecker(device="cpu", max_iter=200, tol=1e-6).fit_predict_folds(X, y, folds, 4)
    for f in range(5):
        one = TorchChecker(device="cpu", max_iter=200, tol=1e-6).fit(X[folds != f], y[folds != f])
        np.testing.assert_allclose(held[folds == f], one.predict_proba(X[folds == f]), atol=1e-2)


def test_a_class_missing_from_a_fold_gets_zero() -> None:
    X, y, _ = make_blobs_with_noise(200, 3, rate=0.0, random_state=2)
    y = y.copy()
    folds = np.arange(200) % 2
    y[(y == 2) & (folds == 1)] = 0  # class 2 only in fold 0: fold 1's model never sees it
    held = TorchChecker(device="cpu").fit_predict_folds(X, y, folds, 3)
    assert np.all(held[folds == 0][:, 2] == 0.0)
    np.testing.assert_allclose(held.sum(axis=1), 1.0)


def test_corrector_with_the_batched_checker() -> None:
    X, y_true, y_noisy = _sparse_blobs(800, 4, seed=4)
    torch_run = IterativeCorrector(TorchChecker(device="cpu"), n_branches=3, n_iterations=2,
                                   tol=0.0, random_state=0).fit(X, y_noisy)
    numpy_run = IterativeCorrector(n_branches=3, n_iterations=2, tol=0.0,
                                   random_state=0).fit(X, y_noisy)
    assert torch_run.n_fits_ == numpy_run.n_fits_ == 30
    acc_t = np.mean(torch_run.labels_ == y_true)
    acc_n = np.mean(numpy_run.labels_ == y_true)
    assert acc_t > np.mean(y_noisy == y_true) + 0.05
    assert abs(acc_t - acc_n) < 0.02


def test_warm_start_continues_from_the_last_weights() -> None:
    X, y, _ = make_blobs_with_noise(300, 3, rate=0.0, random_state=5)
    clf = TorchChecker(device="cpu", warm_start=True, max_iter=100, tol=1e-5).fit(X, y)
    first = clf.n_iter_
    clf.fit(X, y)
    assert clf.n_iter_ < first


def test_mlp_learns_xor() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    linear = TorchChecker(device="cpu", max_iter=200).fit(X, y)
    mlp = TorchChecker(hidden=32, device="cpu", max_iter=300, C=100.0, random_state=0).fit(X, y)
    assert np.mean(mlp.predict(X) == y) > 0.9 > np.mean(linear.predict(X) == y) + 0.2


def test_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, _ = make_blobs_with_noise(50, 2, random_state=0)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="no CUDA"):
            TorchChecker(device="cuda").fit(X, y)
    with pytest.raises(InvalidInputError, match="hidden"):
        TorchChecker(hidden=-1).fit(X, y)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"pico-clean\[torch\]"):
        TorchChecker().fit(X, y)


def test_cli_torch_checker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pandas as pd
    from click.testing import CliRunner

    from pico.cli import cli

    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album"], "weather": ["rain", "sunny", "forecast"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab}
            for i in range(40) for lab, w in words.items()]
    rows[0]["label"] = "weather" if rows[0]["label"] == "music" else "music"
    data = tmp_path / "d.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    run = tmp_path / "run"
    out = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text", "--checker",
                                   "torch-softmax", "--branches", "2", "--iterations", "1", "-o",
                                   str(tmp_path / "o.csv"), "--run-dir", str(run), "-q"])
    assert out.exit_code == 0, out.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["options"]["checker"] == "TorchChecker"
    assert summary["checker_fits"] == 10
