"""TF-IDF over word and character n-grams: the default, language-agnostic features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler, normalize

__all__ = ["NumericFeaturizer", "TfidfFeaturizer"]


class TfidfFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Word (1-2)-grams and character (2-4)-grams within word boundaries, L2-normalised.

    Character n-grams make it work for languages without clear word boundaries or with
    rich morphology (Korean, Japanese, German compounds) and for typos. Features do not
    depend on labels, so pico computes them once per dataset.

    Parameters
    ----------
    word_ngrams : tuple of int, default=(1, 2)
    char_ngrams : tuple of int or None, default=(2, 4)
        None turns character n-grams off.
    min_df : int, default=2
        Minimum document frequency of an n-gram. Features are fitted on the whole
        dataset, so an n-gram found in one row only can never help predict another
        row: it only lets a checker memorise that row's (possibly wrong) label.
    lowercase : bool, default=True

    Examples
    --------
    >>> X = TfidfFeaturizer().fit_transform(["book a flight", "book a table", "hi"])
    >>> X.shape[0], bool(abs(X[0].multiply(X[0]).sum() - 1) < 1e-6)
    (3, True)
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 4),
        min_df: int = 2,
        lowercase: bool = True,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.lowercase = lowercase

    def fit(self, texts: Sequence[str], y: Any = None) -> TfidfFeaturizer:
        """Learn the vocabularies and IDF weights."""
        self._fit(texts, transform=False)
        return self

    def fit_transform(self, texts: Sequence[str], y: Any = None, **_: Any) -> sp.csr_matrix:
        """``fit(texts).transform(texts)``, tokenizing the texts once instead of twice."""
        X = self._stack(self._fit(texts, transform=True))
        # fit_transform leaves each row's columns unsorted; sorted, the matrix is the
        # same as transform's, stored in the same order (so sums round the same way)
        X.sort_indices()
        return X

    def _fit(self, texts: Sequence[str], *, transform: bool) -> list[sp.csr_matrix]:
        n_docs = len(texts)
        words: dict[str, Any] = dict(
            ngram_range=self.word_ngrams,
            sublinear_tf=True,
            lowercase=self.lowercase,
            token_pattern=r"(?u)\b\w+\b",
            dtype=np.float32,
        )
        parts = []
        self.word_ = TfidfVectorizer(min_df=min(self.min_df, max(n_docs, 1)), **words)
        try:
            parts.append(self._learn(self.word_, texts, transform))
        except ValueError:  # no word reaches min_df (tiny data): keep them all
            self.word_ = TfidfVectorizer(**words)
            parts.append(self._learn(self.word_, texts, transform))
        self.char_ = None
        if self.char_ngrams is not None:
            self.char_ = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=self.char_ngrams,
                sublinear_tf=True,
                lowercase=self.lowercase,
                min_df=min(self.min_df, max(n_docs, 1)),
                dtype=np.float32,
            )
            try:
                parts.append(self._learn(self.char_, texts, transform))
            except ValueError:  # no n-gram reaches min_df (tiny data)
                self.char_ = None
        return parts

    @staticmethod
    def _learn(vectorizer: TfidfVectorizer, texts: Sequence[str], transform: bool) -> Any:
        if transform:
            return vectorizer.fit_transform(texts)
        vectorizer.fit(texts)
        return None

    @staticmethod
    def _stack(parts: list[sp.csr_matrix]) -> sp.csr_matrix:
        X = sp.hstack(parts, format="csr", dtype=np.float32)
        return normalize(X, copy=False)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(N, D) sparse float32 features, each row of unit length (or zero)."""
        parts = [self.word_.transform(texts)]
        if self.char_ is not None:
            parts.append(self.char_.transform(texts))
        return self._stack(parts)


class NumericFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Standardise dense numeric features (tabular data, precomputed embeddings).

    Examples
    --------
    >>> NumericFeaturizer().fit_transform(np.array([[1.0], [3.0]])).ravel().tolist()
    [-1.0, 1.0]
    """

    def fit(self, X: Any, y: Any = None) -> NumericFeaturizer:
        """Learn the mean and scale of every column."""
        self.scaler_ = StandardScaler(with_mean=not sp.issparse(X)).fit(X)
        return self

    def transform(self, X: Any) -> Any:
        """Standardised features (float32)."""
        out = self.scaler_.transform(X)
        return out.astype(np.float32)
