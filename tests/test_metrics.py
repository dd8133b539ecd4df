"""Correction-quality metrics."""

from __future__ import annotations

import numpy as np
import pytest

from pico.benchmarking.metrics import correction_metrics, ranking_average_precision
from pico.exceptions import InvalidInputError


def test_counts_add_up_on_random_labels() -> None:
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 5, 500)
    given = np.where(rng.random(500) < 0.3, rng.integers(0, 5, 500), clean)
    new = np.where(rng.random(500) < 0.4, rng.integers(0, 5, 500), given)
    m = correction_metrics(clean, given, new)
    changed = new != given
    assert m["changed"] == changed.sum()
    # every changed row is fixed, damage, wrong-to-wrong or right-to-right (impossible)
    assert m["fixed"] + m["damage"] + m["wrong_to_wrong"] == m["changed"]
    # accuracy moves by exactly (fixed - damage) / N
    assert m["accuracy_after"] - m["accuracy_before"] == pytest.approx(
        (m["fixed"] - m["damage"]) / 500
    )
    assert m["precision"] == pytest.approx(m["fixed"] / m["changed"])
    assert m["recall"] == pytest.approx(m["fixed"] / np.sum(given != clean))
    p, r = m["precision"], m["recall"]
    assert m["f1"] == pytest.approx(2 * p * r / (p + r))


def test_no_change_and_no_noise() -> None:
    m = correction_metrics([0, 1, 2], [0, 1, 2], [0, 1, 2])
    assert m["changed"] == 0 and m["precision"] is None and m["recall"] is None
    assert m["f1"] is None and m["accuracy_after"] == 1.0
    m = correction_metrics([0, 1, 2], [0, 1, 2], [1, 1, 2])
    assert m["damage"] == 1 and m["precision"] == 0.0 and m["recall"] is None


def test_all_wrong_labels_fixed() -> None:
    m = correction_metrics([0, 1, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0])
    assert (m["precision"], m["recall"], m["f1"], m["accuracy_after"]) == (1.0, 1.0, 1.0, 1.0)


def test_length_mismatch_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="same length"):
        correction_metrics([0, 1], [0, 1], [0])
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        correction_metrics([[0, 1]], [0, 1], [0, 1])


def test_average_precision_of_rankings() -> None:
    err = np.array([True, False, True, False, False])
    assert ranking_average_precision(err, [0.1, 0.9, 0.2, 0.8, 0.7]) == 1.0
    worst = ranking_average_precision(err, [0.9, 0.1, 0.8, 0.2, 0.3])
    assert worst is not None and worst < 0.5
    assert ranking_average_precision(np.zeros(3, bool), [0.1, 0.2, 0.3]) is None
    with pytest.raises(InvalidInputError, match="same shape"):
        ranking_average_precision(err, [0.1])


def test_calibration_bins() -> None:
    from pico.benchmarking.metrics import calibration_bins

    rng = np.random.default_rng(0)
    conf = rng.random(20000)
    calibrated = rng.random(20000) < conf
    table = calibration_bins(calibrated, conf)
    assert sum(table["count"]) == 20000 and len(table["edges"]) == 11
    assert table["ece"] < 0.02
    for c, a in zip(table["confidence"], table["accuracy"]):
        assert abs(c - a) < 0.05
    overconfident = calibration_bins(rng.random(20000) < conf / 2, conf)
    assert overconfident["ece"] > 0.2
    edge = calibration_bins([True, False], [1.0, 0.0], n_bins=4)
    assert edge["count"] == [1, 0, 0, 1] and edge["accuracy"][1] is None
