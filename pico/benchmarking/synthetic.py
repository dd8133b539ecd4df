"""Small synthetic datasets with planted label noise, for tests and examples."""

from __future__ import annotations

import numpy as np

from .noise import uniform_noise

__all__ = ["make_blobs_with_noise"]


def make_blobs_with_noise(
    n_samples: int = 500,
    n_classes: int = 4,
    *,
    n_features: int = 8,
    rate: float = 0.1,
    separation: float = 3.0,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class, with uniform label noise.

    Parameters
    ----------
    n_samples : int, default=500
        N.
    n_classes : int, default=4
        K.
    n_features : int, default=8
        D.
    rate : float, default=0.1
        Fraction of labels flipped to another class.
    separation : float, default=3.0
        Scale of the class centres (larger: easier).
    random_state : int or None

    Returns
    -------
    X : ndarray of shape (N, D)
    y_true : ndarray of shape (N,)
    y_noisy : ndarray of shape (N,)

    Examples
    --------
    >>> X, y, y_noisy = make_blobs_with_noise(100, 2, rate=0.2, random_state=0)
    >>> X.shape, int((y != y_noisy).sum())
    ((100, 8), 20)
    """
    rng = np.random.default_rng(random_state)
    centers = rng.normal(scale=separation, size=(n_classes, n_features))
    y_true = np.arange(n_samples) % n_classes
    rng.shuffle(y_true)
    X = centers[y_true] + rng.normal(size=(n_samples, n_features))
    y_noisy = uniform_noise(y_true, rate=rate, n_classes=n_classes, random_state=rng)
    return X, y_true.astype(np.int64), y_noisy
