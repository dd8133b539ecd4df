"""The TF-IDF featurizer: one pass over the texts gives the same matrix as two."""

from __future__ import annotations

import numpy as np
import pytest

from pico.featurizers.tfidf import TfidfFeaturizer


def _texts() -> list[str]:
    rng = np.random.default_rng(0)
    words = ["book", "a", "flight", "table", "play", "jazz", "weather", "in", "paris", "rain"]
    return [" ".join(rng.choice(words, size=rng.integers(2, 7))) for _ in range(300)]


@pytest.mark.parametrize(
    "options", [{}, {"char_ngrams": None}, {"min_df": 1, "word_ngrams": (1, 1)}]
)
def test_fit_transform_equals_fit_then_transform(options: dict) -> None:
    texts = _texts()
    two = TfidfFeaturizer(**options).fit(texts).transform(texts)
    one = TfidfFeaturizer(**options).fit_transform(texts)
    assert one.has_sorted_indices
    # the same matrix, stored in the same order: sums over a row round the same way
    np.testing.assert_array_equal(one.indptr, two.indptr)
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.data, two.data)
    assert one.dtype == np.float32
    np.testing.assert_allclose(np.asarray(one.multiply(one).sum(axis=1)).ravel(), 1.0, rtol=1e-5)


def test_fit_transform_keeps_every_word_of_tiny_data() -> None:
    # no word reaches min_df=2: the vocabulary falls back to every word, as fit does
    texts = ["hello there", "good morning"]
    one = TfidfFeaturizer().fit_transform(texts)
    two = TfidfFeaturizer().fit(texts).transform(texts)
    assert one.shape == two.shape and (one != two).nnz == 0
