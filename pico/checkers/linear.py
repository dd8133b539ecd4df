"""Fast multinomial logistic regression for sparse, high-dimensional features.

The default checker. scikit-learn's ``LogisticRegression`` spends most of its time in
the optimiser's bookkeeping when there are millions of parameters (features x classes);
this estimator runs a plain limited-memory BFGS in float32 numpy, so that one
iteration costs two sparse matrix products, and it can warm-start from an earlier fit
(pico refits the same split after a few labels changed).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets as _sk_check_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..exceptions import InvalidInputError

__all__ = ["NearestCentroid", "SoftmaxRegression"]


def _check_targets(y: Any) -> None:
    """scikit-learn's target check without its "more classes than half the rows" warning:
    many small classes are normal in intent data (and in a fold of it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The number of unique classes is greater")
        _sk_check_targets(y)


def _softmax_inplace(scores: np.ndarray) -> np.ndarray:
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _check_positive(name: str, value: Any, *, integer: bool = False) -> None:
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise InvalidInputError(f"The {name!r} parameter must be {what}. Got {value!r} instead.")


class SoftmaxRegression(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Multinomial logistic regression trained by L-BFGS in float32.

    Minimises ``mean_i CE(y_i, softmax(x_i W + b)) + ||W||^2 / (2 C N)``, the same
    objective as scikit-learn's ``LogisticRegression(C=C)`` up to a constant factor.

    Parameters
    ----------
    C : float, default=2.0
        Inverse regularisation strength. Smaller values resist label noise better.
    max_iter : int, default=30
        Maximum number of L-BFGS iterations. Stopping early is part of the
        regularisation: a checker should not memorise the (noisy) labels.
    tol : float, default=1e-4
        Stop when the largest absolute gradient entry falls below ``tol``.
    memory : int, default=7
        Number of correction pairs kept by L-BFGS.
    warm_start : bool, default=False
        Start from the previous solution when ``fit`` is called again with the same
        classes and number of features.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
        Class labels seen in ``fit``.
    coef_ : ndarray of shape (K, D)
        Weights.
    intercept_ : ndarray of shape (K,)
        Biases.
    n_iter_ : int
        Iterations run by the last ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> clf = SoftmaxRegression(C=10.0).fit(X, ["a", "a", "b", "b"])
    >>> clf.predict(np.array([[1.0, 0.0], [0.0, 1.0]])).tolist()
    ['a', 'b']
    """

    def __init__(
        self,
        C: float = 2.0,
        max_iter: int = 30,
        tol: float = 1e-4,
        memory: int = 7,
        warm_start: bool = False,
    ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.memory = memory
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any) -> SoftmaxRegression:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (N, D)
            Features.
        y : array-like of shape (N,)
            Labels.

        Returns
        -------
        self : SoftmaxRegression
        """
        _check_positive("C", self.C)
        _check_positive("max_iter", self.max_iter, integer=True)
        _check_positive("memory", self.memory, integer=True)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float32, np.float64], reset=True
        )
        X = X.astype(np.float32, copy=False)
        _check_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        n, d = X.shape
        k = len(classes)
        previous = getattr(self, "coef_", None)
        warm = (
            self.warm_start
            and previous is not None
            and np.array_equal(np.asarray(getattr(self, "classes_", [])), classes)
            and previous.shape == (k, d)
        )
        self.classes_ = classes
        if k == 1:
            self.coef_ = np.zeros((1, d), dtype=np.float32)
            self.intercept_ = np.zeros(1, dtype=np.float32)
            self.n_iter_ = 0
            return self
        x0 = np.zeros((d + 1) * k, dtype=np.float32)
        if warm:
            x0[: d * k] = np.ascontiguousarray(self.coef_.T).ravel()
            x0[d * k :] = self.intercept_
        xt = X.T.tocsr() if sp.issparse(X) else np.ascontiguousarray(X.T)
        rows = np.arange(n)
        penalty = 1.0 / (float(self.C) * n)

        def loss_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
            weights = w[: d * k].reshape(d, k)
            scores = np.asarray(X @ weights, dtype=np.float32)
            scores += w[d * k :]
            scores -= scores.max(axis=1, keepdims=True)
            lse = np.log(np.exp(scores).sum(axis=1))
            loss = float((lse - scores[rows, codes]).sum()) / n
            loss += 0.5 * penalty * float(np.dot(w[: d * k], w[: d * k]))
            np.exp(scores - lse[:, None], out=scores)
            scores[rows, codes] -= 1.0
            scores /= n
            grad = np.empty_like(w)
            gw = np.asarray(xt @ scores, dtype=np.float32)
            gw += penalty * weights
            grad[: d * k] = gw.ravel()
            grad[d * k :] = scores.sum(axis=0)
            return loss, grad

        w, self.n_iter_ = _lbfgs(
            loss_grad, x0, max_iter=int(self.max_iter), tol=float(self.tol), memory=int(self.memory)
        )
        self.coef_ = np.ascontiguousarray(w[: d * k].reshape(d, k).T)
        self.intercept_ = w[d * k :].copy()
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Class scores ``X W + b`` of shape (N, K)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float32, np.float64], reset=False)
        X = X.astype(np.float32, copy=False)
        return np.asarray(X @ self.coef_.T, dtype=np.float32) + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape (N, K), columns in the order of ``classes_``."""
        return _softmax_inplace(self.decision_function(X).astype(np.float64))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]  # type: ignore[no-any-return]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _lbfgs(
    fun: Any, x0: np.ndarray, *, max_iter: int, tol: float, memory: int
) -> tuple[np.ndarray, int]:
    """Minimise ``fun`` (returning value and gradient) by L-BFGS with backtracking.

    A float32 two-loop recursion with in-place BLAS vector operations: with millions
    of parameters, memory traffic over the stored pairs costs as much as the two
    matrix products of ``fun``, so no step allocates a temporary it can avoid.
    """
    dot, axpy, scal, nrm2 = blas.sdot, blas.saxpy, blas.sscal, blas.snrm2
    if x0.dtype != np.float32:
        dot, axpy, scal, nrm2 = blas.ddot, blas.daxpy, blas.dscal, blas.dnrm2
    x = x0
    f, g = fun(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    rho_hist: list[float] = []
    it = 0
    for it in range(1, max_iter + 1):
        if float(np.max(np.abs(g))) < tol:
            it -= 1
            break
        q = g.copy()  # becomes H g; the search direction is -q
        alphas = []
        for s, yv, rho in zip(reversed(s_hist), reversed(y_hist), reversed(rho_hist)):
            a = rho * float(dot(s, q))
            alphas.append(a)
            axpy(yv, q, a=-a)
        if s_hist:
            gamma = float(dot(s_hist[-1], y_hist[-1])) / float(dot(y_hist[-1], y_hist[-1]))
        else:
            gamma = 1.0 / max(float(nrm2(g)), 1e-12)
        scal(gamma, q)
        for s, yv, rho, a in zip(s_hist, y_hist, rho_hist, reversed(alphas)):
            b = rho * float(dot(yv, q))
            axpy(s, q, a=a - b)
        slope = -float(dot(g, q))
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist, y_hist, rho_hist = [], [], []
            q = g * g.dtype.type(1.0 / max(float(nrm2(g)), 1e-12))
            slope = -float(dot(g, q))
        step = 1.0
        for _ in range(20):
            x_new = x.copy()
            axpy(q, x_new, a=-step)
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break
        scal(-step, q)  # q is now the step taken, x_new - x
        yv = g_new - g
        sy = float(dot(q, yv))
        x, f, g = x_new, f_new, g_new
        if sy > 1e-10:
            if len(s_hist) >= memory:
                del s_hist[0], y_hist[0], rho_hist[0]
            s_hist.append(q)
            y_hist.append(yv)
            rho_hist.append(1.0 / sy)
    return x, it


class NearestCentroid(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Cosine nearest-centroid classifier with softmax probabilities.

    Training is one pass over the data (class means), which makes it the cheapest
    checker: useful for the quick pre-check and for very large data.

    A class's score is its centroid's cosine similarity to the row, which does not
    grow with the number of rows carrying the label, and the probabilities carry no
    class prior: they compare how much a row looks like each label's rows, not how
    often each label occurs. A discriminative checker such as :class:`SoftmaxRegression`
    learns how often each label occurs in a region, so when most of one intent's rows
    were labeled as another, it learns that mapping; here the moved rows pull the other
    class's centroid towards them only in proportion to their share of its rows, and the
    rows left behind keep their own class's centroid pure. ``pico.check`` uses it beside
    the softmax checker for that reason.

    Parameters
    ----------
    temperature : float, default=20.0
        Multiplies the cosine similarities before the softmax.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> NearestCentroid().fit(X, [0, 0, 1, 1]).predict(np.array([[0.2, 0.8]])).tolist()
    [1]
    """

    def __init__(self, temperature: float = 20.0) -> None:
        self.temperature = temperature

    def fit(self, X: Any, y: Any) -> NearestCentroid:
        """Compute the L2-normalised class centroids."""
        _check_positive("temperature", self.temperature)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float32, np.float64])
        _check_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        onehot = sp.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(classes), len(codes))
        )
        centroids = np.asarray((onehot @ X).todense() if sp.issparse(X) else onehot @ X)
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
        self.classes_ = classes
        self.centroids_ = centroids.astype(np.float32)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the scaled cosine similarity to each centroid, shape (N, K)."""
        check_is_fitted(self, "centroids_")
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float32, np.float64], reset=False)
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel()) if sp.issparse(X) else (
            np.linalg.norm(X, axis=1)
        )
        sims = np.asarray(X @ self.centroids_.T, dtype=np.float64)
        sims /= norms[:, None] + 1e-12
        return _softmax_inplace(sims * float(self.temperature))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row."""
        probs = self.predict_proba(X)
        return self.classes_[np.argmax(probs, axis=1)]  # type: ignore[no-any-return]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
