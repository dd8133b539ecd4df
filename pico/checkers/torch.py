"""PyTorch checkers: softmax regression or a small MLP, every fold of a branch at once.

The only module that imports torch (``pip install 'pico-clean[torch]'``). A
:class:`TorchChecker` is an ordinary estimator (``fit`` / ``predict_proba``), and it
can also train the F fold models of one random split as one batched model:
``fit_predict_folds`` stacks the folds' weights into one tensor, computes every
fold's scores with one sparse matrix product per step, masks each fold's held-out rows
out of its loss, and returns every row's held-out probabilities. The split engine
uses that path when a checker has it (one task per branch instead of one per fold).
It runs on CUDA when a GPU is present (``device="auto"``) and warm-starts from the
previous iteration's weights.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .._optional import require
from .linear import _check_targets
from ..exceptions import InvalidInputError

__all__ = ["TorchChecker"]


def _torch() -> Any:
    return require("torch", extra="torch", purpose="the PyTorch checker")


def _device(torch: Any, device: str) -> Any:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInputError(
            f"device={device!r} but torch sees no CUDA GPU; use device='auto' or 'cpu'"
        )
    return torch.device(device)


def _csr(torch: Any, X: sp.csr_matrix, device: Any) -> Any:
    X = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(X.indptr.astype(np.int64)),
            torch.from_numpy(X.indices.astype(np.int64)),
            torch.from_numpy(X.data),
            size=X.shape,
            check_invariants=False,
        ).to(device)


class _Features:
    """Features on the device; sparse ones keep their transpose for the backward pass."""

    def __init__(self, torch: Any, X: Any, device: Any) -> None:
        self.sparse = sp.issparse(X)
        if self.sparse:
            X = X.tocsr()
            self.X = _csr(torch, X, device)
            self.XT = _csr(torch, X.T.tocsr(), device)
        else:
            self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
            self.XT = None
        self.shape = tuple(X.shape)
        self.device = device
        self._mm = _sparse_mm(torch) if self.sparse else None

    def matmul(self, W: Any) -> Any:
        """``X @ W`` for a dense W (N, D) @ (D, C), differentiable in W."""
        if self._mm is None:
            return self.X @ W
        return self._mm.apply(W, self.X, self.XT)


def _sparse_mm(torch: Any) -> Any:
    class SparseMM(torch.autograd.Function):  # type: ignore[misc]
        """X @ W with the gradient X^T @ G from a stored CSR transpose (no conversion)."""

        @staticmethod
        def forward(ctx: Any, W: Any, X: Any, XT: Any) -> Any:
            ctx.XT = XT
            return X @ W

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return ctx.XT @ grad, None, None

    return SparseMM


class TorchChecker(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Softmax regression (``hidden=0``) or a one-hidden-layer MLP in PyTorch.

    Minimises, per model, ``mean_i CE(y_i, f(x_i)) + ||W||^2 / (2 C n)`` by full-batch
    L-BFGS, the objective of :class:`~pico.checkers.SoftmaxRegression`.

    Parameters
    ----------
    hidden : int, default=0
        Width of the hidden layer (ReLU); 0 is softmax regression.
    C : float, default=2.0
        Inverse regularisation strength.
    max_iter : int, default=30
        L-BFGS iterations (early stopping is part of the regularisation).
    tol : float, default=1e-4
        Stop when the largest absolute gradient entry falls below it.
    memory : int, default=7
        L-BFGS history size.
    device : str, default="auto"
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda[:i]"``.
    warm_start : bool, default=False
        Start from the previous weights when refitted on the same classes and features.
    random_state : int or None, default=None
        Seed of the MLP's initial weights.

    Examples
    --------
    >>> from pico.benchmarking import make_blobs_with_noise
    >>> X, y, _ = make_blobs_with_noise(200, 3, rate=0.0, random_state=0)
    >>> clf = TorchChecker().fit(X, y)
    >>> bool((clf.predict(X) == y).mean() > 0.9)
    True
    """

    def __init__(
        self,
        hidden: int = 0,
        C: float = 2.0,
        max_iter: int = 30,
        tol: float = 1e-4,
        memory: int = 7,
        device: str = "auto",
        warm_start: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.hidden = hidden
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.memory = memory
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state

    # ------------------------------------------------------------------ the batched core

    def _init_params(self, torch: Any, n_models: int, d: int, k: int, device: Any) -> list[Any]:
        gen = torch.Generator().manual_seed(int(self.random_state or 0))
        if self.hidden:
            h = int(self.hidden)
            w1 = torch.randn(n_models, d, h, generator=gen) * (2.0 / max(d, 1)) ** 0.5
            return [
                w1.to(device),
                torch.zeros(n_models, 1, h, device=device),
                torch.zeros(n_models, h, k, device=device),
                torch.zeros(n_models, 1, k, device=device),
            ]
        return [torch.zeros(n_models, d, k, device=device),
                torch.zeros(n_models, 1, k, device=device)]

    def _scores(self, torch: Any, X: Any, params: list[Any]) -> Any:
        """Scores of every row under every model: shape (M, N, K)."""
        w = params[0]
        m, d, width = w.shape
        flat = w.permute(1, 0, 2).reshape(d, m * width)
        z = X.matmul(flat).reshape(-1, m, width).permute(1, 0, 2) + params[1]
        if self.hidden:
            z = torch.relu(z) @ params[2] + params[3]
        return z

    def _optimise(
        self, torch: Any, X: Any, codes: Any, train: Any, params: list[Any], k: int,
        present: Any,
    ) -> int:
        """L-BFGS on the sum of the models' objectives; ``train`` (M, N) masks their rows."""
        for p in params:
            p.requires_grad_(True)
        n_train = train.sum(dim=1).clamp(min=1.0)  # (M,)
        penalty = 1.0 / (float(self.C) * n_train)
        onehot = torch.nn.functional.one_hot(codes, k).to(train.dtype)  # (N, K)
        absent = ~present[:, None, :]  # (M, 1, K): classes a model never saw
        opt = torch.optim.LBFGS(
            params, lr=1.0, max_iter=int(self.max_iter), history_size=int(self.memory),
            tolerance_grad=float(self.tol), tolerance_change=1e-9,
            line_search_fn="strong_wolfe",
        )
        weights = [p for p in params if p.dim() == 3 and p.shape[1] > 1]

        def closure() -> Any:
            opt.zero_grad()
            z = self._scores(torch, X, params).masked_fill(absent, -1e9)
            ce = torch.logsumexp(z, dim=2) - (z * onehot).sum(dim=2)  # (M, N)
            loss = ((ce * train).sum(dim=1) / n_train).sum()
            for w in weights:
                loss = loss + (0.5 * penalty * (w * w).sum(dim=(1, 2))).sum()
            loss.backward()
            return loss

        opt.step(closure)
        for p in params:
            p.requires_grad_(False)
        return int(opt.state[params[0]].get("n_iter", 0))

    def _prepare(self, X: Any, y: Any) -> tuple[Any, Any, Any, np.ndarray, Any]:
        if not (isinstance(self.hidden, (int, np.integer)) and self.hidden >= 0):
            raise InvalidInputError(f"hidden must be an integer >= 0; got {self.hidden!r}")
        if not self.C > 0 or not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter > 0):
            raise InvalidInputError(
                f"C must be > 0 and max_iter a positive integer; got {self.C!r}, {self.max_iter!r}"
            )
        torch = _torch()
        device = _device(torch, self.device)
        y = np.asarray(y)
        _check_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        return torch, device, _Features(torch, X, device), classes, codes

    def _warm(self, torch: Any, n_models: int, d: int, k: int, device: Any) -> list[Any] | None:
        old = getattr(self, "params_", None)
        if not (self.warm_start and old is not None):
            return None
        if old[0].shape[0] != n_models or old[0].shape[1] != d or old[-1].shape[-1] != k:
            return None
        return [p.detach().to(device).clone() for p in old]

    # ------------------------------------------------------------------ estimator API

    def fit(self, X: Any, y: Any) -> TorchChecker:
        """Fit one model on every row."""
        torch, device, Xt, classes, codes = self._prepare(X, y)
        n, d = Xt.shape
        k = len(classes)
        self.classes_ = classes
        self.n_features_in_ = d
        params = self._warm(torch, 1, d, k, device) or self._init_params(torch, 1, d, k, device)
        train = torch.ones(1, n, device=device)
        present = torch.ones(1, k, dtype=torch.bool, device=device)
        self.n_iter_ = self._optimise(
            torch, Xt, torch.from_numpy(codes.astype(np.int64)).to(device), train, params, k,
            present,
        )
        self.params_ = params
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape (N, K), columns in the order of ``classes_``."""
        check_is_fitted(self, "params_")
        torch = _torch()
        Xt = _Features(torch, X, self.params_[0].device)
        with torch.no_grad():
            z = self._scores(torch, Xt, self.params_)[0]
            out: np.ndarray = torch.softmax(z.double(), dim=1).cpu().numpy()
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]  # type: ignore[no-any-return]

    def fit_predict_folds(
        self, X: Any, codes: np.ndarray, folds: np.ndarray, n_classes: int
    ) -> np.ndarray:
        """Train one model per fold on the other folds, as one batched model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (N, D)
        codes : ndarray of shape (N,)
            Labels coded 0..K-1.
        folds : ndarray of shape (N,)
            Fold of each row (0..F-1; negative: in no fold, used by no model).
        n_classes : int
            K.

        Returns
        -------
        ndarray of shape (N, K)
            Each row's probabilities from the model that did not see it (zeros for rows
            in no fold; classes absent from a model's training rows get 0).
        """
        torch = _torch()
        device = _device(torch, self.device)
        Xt = _Features(torch, X, device)
        n, d = Xt.shape
        k = int(n_classes)
        n_folds = int(folds.max()) + 1
        fold_t = torch.from_numpy(np.asarray(folds, dtype=np.int64)).to(device)
        ids = torch.arange(n_folds, device=device)[:, None]
        train = ((fold_t[None, :] != ids) & (fold_t[None, :] >= 0)).float()  # (F, N)
        codes_t = torch.from_numpy(np.asarray(codes, dtype=np.int64)).to(device)
        counts = torch.zeros(n_folds, k, device=device)
        counts.index_put_(
            (torch.arange(n_folds, device=device)[:, None].expand(n_folds, n), codes_t.expand(n_folds, n)),
            train, accumulate=True,
        )
        present = counts > 0
        self.classes_ = np.arange(k)
        self.n_features_in_ = d
        params = (
            self._warm(torch, n_folds, d, k, device)
            or self._init_params(torch, n_folds, d, k, device)
        )
        self.n_iter_ = self._optimise(torch, Xt, codes_t, train, params, k, present)
        self.params_ = params
        with torch.no_grad():
            z = self._scores(torch, Xt, params).masked_fill(~present[:, None, :], -float("inf"))
            probs = torch.softmax(z.double(), dim=2)  # (F, N, K)
            rows = torch.arange(n, device=device)
            held = probs[fold_t.clamp(min=0), rows]  # each row under its own fold's model
            held[fold_t < 0] = 0.0
        out: np.ndarray = held.cpu().numpy()
        return out
