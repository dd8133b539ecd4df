"""Tests for pico.benchmarking.noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pico.benchmarking as bench
from pico.benchmarking import (
    confusable_noise,
    generic_specific_noise,
    imbalanced_subsample,
    noise_rate,
    sibling_pairs,
    uniform_noise,
    within_group_noise,
)
from pico.exceptions import InvalidInputError

SETTINGS = settings(max_examples=40, deadline=None, database=None)


@st.composite
def labels_and_k(draw: st.DrawFn, min_k: int = 2) -> tuple[np.ndarray, int]:
    k = draw(st.integers(min_k, 8))
    n = draw(st.integers(0, 60))
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return np.asarray(labels, dtype=np.int64), k


rates = st.floats(0.0, 1.0, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)


def test_import_all_consistency() -> None:
    for name in bench.__all__:
        assert hasattr(bench, name), name
    assert set(bench.noise.__all__) <= set(bench.__all__)


# --------------------------------------------------------------------------- uniform


@SETTINGS
@given(data=labels_and_k(), rate=rates, seed=seeds)
def test_uniform_noise_invariants(data: tuple[np.ndarray, int], rate: float, seed: int) -> None:
    labels, k = data
    before = labels.copy()
    noisy = uniform_noise(labels, rate=rate, n_classes=k, random_state=seed)
    np.testing.assert_array_equal(labels, before)  # input untouched
    assert noisy.dtype == np.int64 and noisy.shape == labels.shape
    assert noisy is not labels
    assert int((noisy != labels).sum()) == int(round(rate * labels.size))
    assert noisy.min(initial=0) >= 0 and noisy.max(initial=0) < k
    again = uniform_noise(labels, rate=rate, n_classes=k, random_state=seed)
    np.testing.assert_array_equal(noisy, again)


@SETTINGS
@given(data=labels_and_k(), seed=seeds)
def test_rate_zero_is_identity(data: tuple[np.ndarray, int], seed: int) -> None:
    labels, k = data
    groups = np.arange(k) % 2
    confusion = np.ones((k, k))
    for noisy in (
        uniform_noise(labels, rate=0.0, n_classes=k, random_state=seed),
        within_group_noise(labels, rate=0.0, groups=groups, random_state=seed),
        confusable_noise(labels, rate=0.0, confusion=confusion, random_state=seed),
        generic_specific_noise(labels, pairs=[(0, 1)], fraction=0.0, random_state=seed),
    ):
        np.testing.assert_array_equal(noisy, labels)
        assert noisy.dtype == np.int64


def test_uniform_noise_is_roughly_uniform() -> None:
    labels = np.zeros(4000, dtype=np.int64)
    noisy = uniform_noise(labels, rate=1.0, n_classes=5, random_state=1)
    counts = np.bincount(noisy, minlength=5)
    assert counts[0] == 0
    assert np.all(np.abs(counts[1:] - 1000) < 120)


def test_uniform_noise_accepts_generator_and_list() -> None:
    rng = np.random.default_rng(3)
    noisy = uniform_noise([0, 1, 2, 0, 1, 2], rate=0.5, random_state=rng)
    assert int((noisy != np.array([0, 1, 2, 0, 1, 2])).sum()) == 3


def test_different_seeds_differ() -> None:
    labels = np.repeat(np.arange(10), 50)
    a = uniform_noise(labels, rate=0.2, random_state=0)
    b = uniform_noise(labels, rate=0.2, random_state=1)
    assert not np.array_equal(a, b)


# --------------------------------------------------------------------------- within group


@st.composite
def grouped(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(2, 10))
    groups = np.asarray(draw(st.lists(st.sampled_from("abc"), min_size=k, max_size=k)))
    n = draw(st.integers(0, 60))
    labels = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return labels.astype(np.int64), groups


@SETTINGS
@given(data=grouped(), rate=rates, seed=seeds)
def test_within_group_noise_stays_in_group(
    data: tuple[np.ndarray, np.ndarray], rate: float, seed: int
) -> None:
    labels, groups = data
    before = labels.copy()
    noisy = within_group_noise(labels, rate=rate, groups=groups, random_state=seed)
    np.testing.assert_array_equal(labels, before)
    flipped = noisy != labels
    assert int(flipped.sum()) == int(round(rate * labels.size))
    sizes = {g: int((groups == g).sum()) for g in set(groups.tolist())}
    for clean, new in zip(labels[flipped], noisy[flipped]):
        if sizes[groups[clean]] > 1:
            assert groups[new] == groups[clean]
    np.testing.assert_array_equal(
        noisy, within_group_noise(labels, rate=rate, groups=groups, random_state=seed)
    )


def test_within_group_singleton_falls_back() -> None:
    groups = np.array(["solo", "pair", "pair"])
    labels = np.zeros(30, dtype=np.int64)
    noisy = within_group_noise(labels, rate=1.0, groups=groups, random_state=0)
    assert set(noisy.tolist()) <= {1, 2}
    assert np.all(noisy != 0)


def test_within_group_label_out_of_range() -> None:
    with pytest.raises(InvalidInputError, match="len\\(groups\\)"):
        within_group_noise([0, 3], rate=0.5, groups=["a", "a", "b"])


# --------------------------------------------------------------------------- confusable


@SETTINGS
@given(data=labels_and_k(), rate=rates, seed=seeds, top=st.integers(1, 4))
def test_confusable_noise_goes_to_top_classes(
    data: tuple[np.ndarray, int], rate: float, seed: int, top: int
) -> None:
    labels, k = data
    conf_rng = np.random.default_rng(seed)
    confusion = conf_rng.random((k, k)) + 0.01  # distinct positive scores, no ties
    noisy = confusable_noise(labels, rate=rate, confusion=confusion, top=top, random_state=seed)
    flipped = noisy != labels
    assert int(flipped.sum()) == int(round(rate * labels.size))
    for clean, new in zip(labels[flipped], noisy[flipped]):
        row = confusion[clean].copy()
        row[clean] = -np.inf
        allowed = np.argsort(-row)[: min(top, k - 1)]
        assert new in allowed


def test_confusable_noise_proportional_to_score() -> None:
    confusion = np.array([[0.0, 3.0, 1.0, 0.0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])
    labels = np.zeros(4000, dtype=np.int64)
    noisy = confusable_noise(labels, rate=1.0, confusion=confusion, top=3, random_state=0)
    counts = np.bincount(noisy, minlength=4)
    assert counts[0] == 0 and counts[3] == 0  # zero score never chosen
    assert abs(counts[1] / 4000 - 0.75) < 0.03


def test_confusable_noise_zero_row_falls_back() -> None:
    confusion = np.eye(3)
    noisy = confusable_noise(np.zeros(20, dtype=int), rate=1.0, confusion=confusion, top=2)
    assert np.all(noisy != 0)


@pytest.mark.parametrize(
    ("confusion", "match"),
    [
        (np.ones((2, 3)), "square"),
        (-np.ones((2, 2)), ">= 0"),
        (np.full((2, 2), np.nan), "finite"),
    ],
)
def test_confusable_noise_bad_confusion(confusion: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        confusable_noise([0, 1], rate=0.5, confusion=confusion)


# --------------------------------------------------------------------------- generic/specific


@SETTINGS
@given(
    k=st.integers(3, 8),
    sizes=st.lists(st.integers(0, 20), min_size=8, max_size=8),
    fraction=rates,
    seed=seeds,
)
def test_generic_specific_counts(k: int, sizes: list[int], fraction: float, seed: int) -> None:
    labels = np.repeat(np.arange(k), sizes[:k])
    pairs = sibling_pairs(np.arange(k) % 2, n_pairs=1, random_state=seed)
    before = labels.copy()
    noisy = generic_specific_noise(labels, pairs=pairs, fraction=fraction, random_state=seed)
    np.testing.assert_array_equal(labels, before)
    (specific, generic), = pairs
    changed = noisy != labels
    assert int(changed.sum()) == int(round(fraction * sizes[specific]))
    assert np.all(labels[changed] == specific)
    assert np.all(noisy[changed] == generic)


def test_generic_specific_pairs_do_not_chain() -> None:
    labels = np.repeat(np.arange(3), 10)
    noisy = generic_specific_noise(labels, pairs=[(0, 1), (1, 2)], fraction=1.0)
    np.testing.assert_array_equal(noisy, np.repeat([1, 2, 2], 10))


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ([(1, 1)], "invalid pair"),
        ([(0, 1), (0, 2)], "several pairs"),
        ([(0, 1, 2)], "sequence of"),
        ([(-1, 0)], "invalid pair"),
    ],
)
def test_generic_specific_bad_pairs(pairs: list[tuple[int, ...]], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        generic_specific_noise([0, 1, 2], pairs=pairs)  # type: ignore[arg-type]


@SETTINGS
@given(
    groups=st.lists(st.sampled_from("abcd"), min_size=1, max_size=20),
    seed=seeds,
    data=st.data(),
)
def test_sibling_pairs_disjoint_same_group(
    groups: list[str], seed: int, data: st.DataObject
) -> None:
    arr = np.asarray(groups)
    limit = sum(int((arr == g).sum()) // 2 for g in set(groups))
    n_pairs = data.draw(st.integers(0, limit))
    pairs = sibling_pairs(arr, n_pairs=n_pairs, random_state=seed)
    assert len(pairs) == n_pairs
    used = [c for pair in pairs for c in pair]
    assert len(set(used)) == len(used)
    assert all(arr[s] == arr[g] and s != g for s, g in pairs)
    assert pairs == sibling_pairs(arr, n_pairs=n_pairs, random_state=seed)
    with pytest.raises(InvalidInputError, match="n_pairs"):
        sibling_pairs(arr, n_pairs=limit + 1, random_state=seed)


# --------------------------------------------------------------------------- subsample


@SETTINGS
@given(
    sizes=st.lists(st.integers(1, 80), min_size=1, max_size=8),
    min_fraction=st.floats(0.01, 1.0),
    seed=seeds,
)
def test_imbalanced_subsample(sizes: list[int], min_fraction: float, seed: int) -> None:
    labels = np.repeat(np.arange(len(sizes)), sizes)
    idx = imbalanced_subsample(labels, min_fraction=min_fraction, random_state=seed)
    assert idx.dtype == np.int64
    assert np.all(np.diff(idx) > 0)  # sorted and unique
    kept = np.bincount(labels[idx], minlength=len(sizes))
    sizes_arr = np.asarray(sizes)
    assert np.all(kept >= np.minimum(2, sizes_arr))
    assert np.all(kept <= sizes_arr)
    assert np.all(kept >= np.floor(min_fraction * sizes_arr))
    np.testing.assert_array_equal(
        idx, imbalanced_subsample(labels, min_fraction=min_fraction, random_state=seed)
    )


def test_imbalanced_subsample_spacing() -> None:
    labels = np.repeat(np.arange(5), 200)
    idx = imbalanced_subsample(labels, min_fraction=0.1, random_state=0)
    kept = sorted(np.bincount(labels[idx]).tolist())
    assert kept[0] == 20 and kept[-1] == 200
    assert kept == sorted(set(kept))  # all different


# --------------------------------------------------------------------------- rate, validation


def test_noise_rate() -> None:
    assert noise_rate([0, 1, 2, 3], [0, 1, 2, 0]) == 0.25
    assert noise_rate([], []) == 0.0
    with pytest.raises(InvalidInputError, match="same length"):
        noise_rate([0, 1], [0])


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), "0.1", True])
def test_bad_rate_names_parameter(rate: object) -> None:
    with pytest.raises(InvalidInputError, match="'rate' parameter of uniform_noise"):
        uniform_noise([0, 1], rate=rate)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([[0, 1]], "1-D"),
        (["a", "b"], "integer class indices"),
        ([0.0, 1.0], "integer class indices"),
        ([0, -1], ">= 0"),
    ],
)
def test_bad_labels(labels: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        uniform_noise(labels, rate=0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("random_state", [-1, 1.5, "seed", True])
def test_bad_random_state(random_state: object) -> None:
    with pytest.raises(InvalidInputError, match="random_state"):
        uniform_noise([0, 1], rate=0.5, random_state=random_state)  # type: ignore[arg-type]


def test_n_classes_too_small() -> None:
    with pytest.raises(InvalidInputError, match="below K=2"):
        uniform_noise([0, 1, 2], rate=0.5, n_classes=2)
    with pytest.raises(InvalidInputError, match="at least 2 classes"):
        uniform_noise([0, 0, 0], rate=0.5)


def test_invalid_input_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        imbalanced_subsample([0, 1], min_fraction=0.0)
