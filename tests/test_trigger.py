"""The trigger: ``pico.check``, ``clean(trigger=True)`` and the ``pico check`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pico
from pico.benchmarking import make_blobs_with_noise
from pico.checkers import NearestCentroid
from pico.cli import cli
from pico.exceptions import InvalidInputError
from pico.featurizers import TfidfFeaturizer
from pico.report import format_check
from pico.trigger import estimate
from pico.trigger.check import (
    CENTROID_TEMPERATURE,
    COLLAPSE_COUNT,
    COLLAPSE_RATIO,
    TEXT_FEATURES,
    text_featurizer,
)
from pico.trigger.estimate import (
    class_noise,
    collapsed_pairs,
    conflicting_duplicates,
    confused_pairs,
    focus_classes,
    lookalike_pairs,
    noise_interval,
    pair_matrix,
)

# --------------------------------------------------------------------------- arithmetic


def test_interval_widens_for_a_sample_and_shrinks_with_rows() -> None:
    q = np.r_[np.full(900, 0.02), np.full(100, 0.9)]
    rate, low, high = noise_interval(q)
    assert rate == pytest.approx(q.mean())
    assert low < rate < high
    _, low_s, high_s = noise_interval(q, n_total=100_000)
    assert high_s - low_s > high - low  # the draw of the sample adds uncertainty
    _, low_big, high_big = noise_interval(np.tile(q, 10))
    assert high_big - low_big < high - low
    assert noise_interval(np.array([]))[0] != noise_interval(np.array([]))[0]  # NaN


def test_class_noise_and_pairs_sum_the_posterior() -> None:
    labels = np.array([0, 0, 1, 2])
    wrong = np.array([0.7, 0.1, 0.0, 0.5])
    rows, bad = class_noise(labels, wrong, 3)
    assert rows.tolist() == [2, 1, 1]
    np.testing.assert_allclose(bad, [0.8, 0.0, 0.5])
    cands = np.array([[0, 1, -1], [0, 2, -1], [1, -1, -1], [2, 0, 1]])
    post = np.array([[0.3, 0.7, 0], [0.9, 0.1, 0], [1.0, 0, 0], [0.5, 0.3, 0.2]])
    pairs = confused_pairs(labels, cands, post, 3, min_rows=0.0)
    assert pairs[0] == (0, 1, 0.7)
    assert {(g, t) for g, t, _ in pairs} == {(0, 1), (0, 2), (2, 0), (2, 1)}
    # a pair's expected rows never count the row's own label
    assert all(g != t for g, t, _ in pairs)


def test_conflicting_duplicates_and_focus() -> None:
    assert conflicting_duplicates(np.array([5, 5, 5, 1, 1]), ["a", "a", "b", "c", "c"]) == [
        [0, 1, 2]
    ]
    rows = np.array([20, 20, 20, 20, 20, 20])
    bad = np.array([5.0, 0.1, 0.0, 0.0, 0.0, 0.0])
    classes, everything = focus_classes(rows, bad, [(0, 3, 4.0), (1, 2, 0.1)], 0.05)
    assert classes == [0, 3] and not everything
    classes, everything = focus_classes(rows, np.full(6, 4.0), [], 0.05)
    assert everything and len(classes) == 6


def _collapse_probs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 (generic), class 1 (specific) with half its rows given 0, class 2 apart.

    The checker scores every specific row alike, whatever its given label: the mapping
    was learned.
    """
    rng = np.random.default_rng(seed)
    generic = np.c_[rng.uniform(0.85, 0.95, 100), np.full(100, 0.03)]
    p1 = rng.uniform(0.3, 0.6, 100)
    specific = np.c_[1.0 - p1 - 0.02, p1]
    other = np.c_[np.full(100, 0.05), np.full(100, 0.05)]
    probs = np.r_[generic, specific, other]
    probs = np.c_[probs, 1.0 - probs.sum(axis=1)]
    labels = np.r_[np.zeros(100), np.zeros(50), np.ones(50), np.full(100, 2)].astype(int)
    return probs, labels


def test_lookalike_pairs_count_a_one_way_collapse() -> None:
    probs, labels = _collapse_probs()
    pairs = lookalike_pairs(probs, labels, 3)
    assert [(a, b) for a, b, _ in pairs] == [(0, 1)]  # the reverse is not listed
    assert 10 <= pairs[0][2] <= 55  # 50 rows moved: part of them, never many more
    # rows moved into class 1 from elsewhere would thin its tail: purity scales the count
    halved = lookalike_pairs(probs, labels, 3, purity=np.array([1.0, 0.5, 1.0]))
    assert halved[0][2] == pytest.approx(pairs[0][2] / 2, abs=0.01)
    # clean labels: nothing looks alike
    clean = np.r_[np.zeros(100), np.ones(100), np.full(100, 2)].astype(int)
    assert lookalike_pairs(probs, clean, 3) == []


def test_lookalike_pairs_leave_out_two_way_swaps() -> None:
    # two separable classes, 30 rows of each labeled as the other: both directions look
    # alike, which a collapse does not do
    rng = np.random.default_rng(0)
    p0 = np.r_[rng.uniform(0.6, 0.9, 100), rng.uniform(0.1, 0.4, 100)]
    probs = np.c_[p0, 0.98 - p0, np.full(200, 0.02)]
    labels = np.r_[np.zeros(70), np.ones(30), np.ones(70), np.zeros(30)].astype(int)
    assert lookalike_pairs(probs, labels, 3) == []
    both = lookalike_pairs(probs, labels, 3, one_way=1.0)
    assert {(a, b) for a, b, _ in both} == {(0, 1), (1, 0)}
    # overlapping classes with right labels: the checker still ranks them, and at most
    # a few rows look alike (check() lists a pair only above a tenth of its class)
    p0 = np.r_[rng.uniform(0.4, 0.7, 100), rng.uniform(0.3, 0.6, 100)]
    probs = np.c_[p0, 0.98 - p0, np.full(200, 0.02)]
    right = np.r_[np.zeros(100), np.ones(100)].astype(int)
    assert all(rows < 3 for _, _, rows in lookalike_pairs(probs, right, 3, one_way=1.0))
    assert lookalike_pairs(probs, right, 3, one_way=1.0, margin=0) == []


def _small_collapse(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 keeps 14 of its 100 rows, 86 are given 0; class 2 resembles small class 3.

    Moved and remaining rows of class 1 are scored alike. Class 2's rows score as high
    for class 3 as class 3's own rows do, but prefer class 2.
    """
    rng = np.random.default_rng(seed)
    generic = np.c_[rng.uniform(0.7, 0.9, 100), rng.uniform(0.0, 0.08, 100)]
    specific = np.c_[rng.uniform(0.25, 0.55, 100), rng.uniform(0.1, 0.5, 100)]
    near = np.c_[rng.uniform(0.5, 0.7, 90), rng.uniform(0.3, 0.5, 90)]
    small = np.c_[rng.uniform(0.2, 0.45, 13), rng.uniform(0.3, 0.6, 13)]
    probs = np.zeros((303, 4))
    probs[:200, :2] = np.r_[generic, specific]
    probs[200:, 2:] = np.r_[near, small]
    labels = np.r_[np.zeros(186), np.ones(14), np.full(90, 2), np.full(13, 3)].astype(int)
    return probs, labels


def test_one_threshold_counts_of_a_small_collapse() -> None:
    best, median, pairwise, boundary = [], [], [], []
    for seed in range(10):
        probs, labels = _small_collapse(seed)
        for out, kw in ((best, {}), (median, {"count": "median"}),
                        (pairwise, {"count": "median", "pairwise": True}),
                        (boundary, {"count": "boundary", "pairwise": True})):
            out.append({(a, b): r for a, b, r in lookalike_pairs(probs, labels, 4, **kw)})

    def rows(found: list[dict], pair: tuple[int, int]) -> np.ndarray:
        return np.array([f.get(pair, 0.0) for f in found])

    # 86 moved rows, 14 left to compare them with: the best-bin minimum undercounts,
    # one threshold (the median of the rows left, or the a-b boundary) does not
    for one in (pairwise, boundary):
        assert rows(one, (0, 1)).mean() > rows(best, (0, 1)).mean() + 10
        assert 60 <= rows(one, (0, 1)).mean() <= 110
    # a class that merely resembles a small one: its rows score high for it (the plain
    # median counts them) but prefer their own class (the pairwise scores do not)
    assert rows(median, (2, 3)).max() > 20
    assert rows(pairwise, (2, 3)).max() == 0 and rows(boundary, (2, 3)).max() == 0
    with pytest.raises(ValueError, match="count must be"):
        lookalike_pairs(*_small_collapse(0), 4, count="mean")
    with pytest.raises(ValueError, match="pairwise=True"):
        lookalike_pairs(*_small_collapse(0), 4, count="boundary")


def test_lookalike_margin_lessens_the_undercount() -> None:
    # the plain minimum over noisy tail ratios undercounts the 50 moved rows; picking
    # the threshold with a margin for the tails' noise counts more of them, never more
    # than were moved by much
    plain, picked = [], []
    for seed in range(10):
        probs, labels = _collapse_probs(seed)
        plain.append({(a, b): r for a, b, r in lookalike_pairs(probs, labels, 3, margin=0)})
        picked.append({(a, b): r for a, b, r in lookalike_pairs(probs, labels, 3)})
    plain_rows = [p.get((0, 1), 0.0) for p in plain]
    picked_rows = [p.get((0, 1), 0.0) for p in picked]
    assert np.mean(picked_rows) > np.mean(plain_rows) + 5
    assert all(10 <= r <= 55 for r in picked_rows)
    assert all(set(p) <= {(0, 1)} for p in picked)  # the reverse is never listed


def test_pair_matrix_matches_confused_pairs() -> None:
    labels = np.array([0, 0, 1])
    cands = np.array([[0, 1], [0, 1], [1, 0]])
    post = np.array([[0.2, 0.8], [0.4, 0.6], [1.0, 0.0]])
    m = pair_matrix(labels, cands, post, 2)
    assert m[0, 1] == pytest.approx(1.4) and m[1, 0] == 0 and m.diagonal().sum() == 0
    assert confused_pairs(labels, cands, post, 2) == [(0, 1, 1.4)]


# --------------------------------------------------------------------------- check()


def test_check_estimates_uniform_noise() -> None:
    X, y_true, y_noisy = make_blobs_with_noise(1500, 5, rate=0.2, random_state=3)
    true_rate = float(np.mean(y_true != y_noisy))
    found = pico.check(X, y_noisy)
    assert abs(found.noise_rate - true_rate) < 0.05
    low, high = found.interval
    assert low < found.noise_rate < high
    assert found.recommendation["clean"] and found.recommendation["everything"]
    assert found.summary["checker_fits"] == 4  # 2 folds x (softmax + centroid)
    # rows flagged most likely wrong are mostly wrong
    top = np.argsort(-found.wrong)[:200]
    assert np.mean(y_noisy[top] != y_true[top]) > 0.8
    assert len(found.classes) == 5 and sum(c["rows"] for c in found.classes) == 1500


def test_check_clean_data_recommends_nothing() -> None:
    X, y_true, _ = make_blobs_with_noise(1000, 4, rate=0.0, random_state=1)
    found = pico.check(X, y_true)
    assert found.noise_rate < 0.03
    assert not found.recommendation["clean"]
    assert found.focus == []
    assert found.lookalike_pairs == [] and found.noise_rate_upper == found.noise_rate
    assert found.collapsed_pairs == [] and found.summary["vote_noise_rate"] == round(
        found.noise_rate, 4
    )


def _concentrated(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eight blobs; a third of class 0 is labeled 1, everything else is right."""
    X, y, _ = make_blobs_with_noise(1600, 8, rate=0.0, separation=4.0, random_state=seed)
    noisy = y.copy()
    zeros = np.flatnonzero(y == 0)
    noisy[zeros[: len(zeros) // 3]] = 1
    return X, y, noisy


def test_check_finds_the_noisy_classes() -> None:
    X, _, noisy = _concentrated()
    found = pico.check(X, noisy)
    assert found.recommendation["clean"]
    assert not found.recommendation["everything"]
    assert set(found.focus) == {0, 1}
    assert found.classes[0]["label"] == 1  # rows labeled 1 hold the wrong labels
    assert found.pairs[0]["given"] == 1 and found.pairs[0]["probable"] == 0


def test_check_samples_big_data() -> None:
    X, _, y_noisy = make_blobs_with_noise(2000, 4, rate=0.1, random_state=2)
    found = pico.check(X, y_noisy, max_rows=500)
    assert found.summary["checked_rows"] == 500
    assert np.isfinite(found.wrong).sum() == 500
    rate_all = pico.check(X, y_noisy, max_rows=None).noise_rate
    assert abs(found.noise_rate - rate_all) < 0.05


def test_check_skips_missing_labels_and_reports_duplicates() -> None:
    texts = [f"play {w} music" for w in ["jazz", "rock", "pop", "soul", "funk"]] * 8 + [
        f"weather in {c} today" for c in ["paris", "rome", "oslo", "lima", "kyiv"]
    ] * 8
    labels: list[str | None] = ["music"] * 40 + ["weather"] * 40
    labels[1] = "weather"  # "play rock music" now carries both labels
    labels[2] = None
    found = pico.check(texts, labels)
    assert np.isnan(found.wrong[2])
    assert found.summary["checked_rows"] == 79
    conflict = [d for d in found.conflicting_duplicates if 1 in d["rows"]]
    assert conflict and conflict[0]["labels"] == ["music", "weather"]


def test_check_against_a_reference() -> None:
    X, y_true, _ = make_blobs_with_noise(1400, 4, rate=0.0, random_state=4)
    ref_X, ref_y = X[:1000], y_true[:1000]
    new_X, new_true = X[1000:], y_true[1000:].copy()
    new_y = new_true.copy()
    rng = np.random.default_rng(0)
    flip = rng.choice(400, size=80, replace=False)
    new_y[flip] = (new_y[flip] + 1) % 4
    new_y = new_y.astype(object)
    new_y[:5] = "a brand new intent"
    found = pico.check(new_X, new_y, reference=ref_X, reference_labels=ref_y)
    assert found.summary["checker_fits"] == 1
    assert found.summary["unknown_label_rows"] == 5
    assert np.isnan(found.wrong[:5]).all()
    true_rate = np.mean(new_y[5:].astype(int) != new_true[5:])
    assert abs(found.noise_rate - true_rate) < 0.05
    flagged = found.wrong[5:] > 0.5
    assert np.mean((new_y[5:].astype(int) != new_true[5:])[flagged]) > 0.9


def test_check_errors_say_what_to_do() -> None:
    X, _, y = make_blobs_with_noise(100, 2, random_state=0)
    with pytest.raises(InvalidInputError, match="must match"):
        pico.check(X, y[:-1])
    with pytest.raises(InvalidInputError, match="reference_labels"):
        pico.check(X, y, reference=X)
    with pytest.raises(InvalidInputError, match="reference"):
        pico.check(X, y, reference_labels=y)
    with pytest.raises(InvalidInputError, match="n_folds"):
        pico.check(X, y, n_folds=1)
    with pytest.raises(InvalidInputError, match="no new row"):
        pico.check(X, np.full(100, "x", dtype=object), reference=X, reference_labels=y)


# --------------------------------------------------------------------------- clean(trigger)


def test_clean_trigger_skips_clean_data() -> None:
    X, y_true, _ = make_blobs_with_noise(800, 4, rate=0.0, random_state=5)
    result = pico.clean(X, y_true, trigger=True)
    assert (result.labels == y_true).all()
    assert set(result.status.tolist()) == {"kept"}
    assert result.summary["trigger"]["rows_cleaned"] == 0
    assert np.isfinite(result.confidence).all()


def test_clean_trigger_cleans_only_the_focus() -> None:
    X, y, noisy = _concentrated()
    result = pico.clean(X, noisy, trigger=True, n_branches=2)
    trig = result.summary["trigger"]
    assert set(trig["recommendation"]["focus"]) == {0, 1}
    inside = np.isin(noisy, [0, 1])
    assert trig["rows_cleaned"] == int(inside.sum())
    assert (result.labels[~inside] == noisy[~inside]).all()
    assert (result.status[~inside] == "kept").all()
    wrong = noisy != y
    assert np.mean(result.labels[wrong] == y[wrong]) > 0.9  # most planted mistakes fixed
    assert result.summary["rows"] == len(y)
    assert sum(result.summary["status_counts"].values()) == len(y)


# --------------------------------------------------------------------------- CLI


def _csv(tmp_path: Path, name: str, texts: list[str], labels: list[str]) -> Path:
    path = tmp_path / name
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)
    return path


def _intent_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab = {
        "weather": ["weather", "rain", "sunny", "forecast", "temperature"],
        "music": ["song", "music", "playlist", "jazz", "album"],
        "timer": ["timer", "countdown", "minutes", "alarm", "stopwatch"],
    }
    texts, labels = [], []
    for i in range(n):
        label = list(vocab)[i % 3]
        words = rng.choice(vocab[label], size=3)
        texts.append(f"{' '.join(words)} please {i}")
        labels.append(label)
    return texts, labels


def test_cli_check_text_json_and_max_noise(tmp_path: Path) -> None:
    texts, labels = _intent_texts(300, 0)
    for i in range(0, 300, 10):
        labels[i] = "timer" if labels[i] != "timer" else "music"
    path = _csv(tmp_path, "data.csv", texts, labels)
    runner = CliRunner()
    out = runner.invoke(cli, ["check", str(path), "--text-column", "text"])
    assert out.exit_code == 0, out.output
    assert "estimated wrong labels" in out.output and "recommendation" in out.output
    out = runner.invoke(cli, ["check", str(path), "--text-column", "text", "--json"])
    summary = json.loads(out.output)
    assert abs(summary["noise_rate"] - 0.1) < 0.05
    assert summary["checked_rows"] == 300
    out = runner.invoke(
        cli, ["check", str(path), "--text-column", "text", "--max-noise", "0.02"]
    )
    assert out.exit_code == 1
    out = runner.invoke(
        cli, ["check", str(path), "--text-column", "text", "--max-noise", "0.5"]
    )
    assert out.exit_code == 0


def _collapsed_texts(
    moved: float | None = None, seed: int = 0
) -> tuple[list[str], list[str], list[str]]:
    """Four intents; part of "alarm" is labeled as its sibling "timer".

    Half of it (every other group of four rows) by default; each alarm row with
    probability ``moved`` otherwise.
    """
    rng = np.random.default_rng(seed)
    vocab = {
        "weather": ["weather", "rain", "sunny", "forecast", "temperature"],
        "music": ["song", "music", "playlist", "jazz", "album"],
        "timer": ["timer", "countdown", "minutes", "stopwatch", "seconds"],
        "alarm": ["alarm", "wake", "morning", "snooze", "ring"],
    }
    texts, labels, truth = [], [], []
    for i in range(400):
        label = list(vocab)[i % 4]
        texts.append(" ".join(rng.choice(vocab[label], size=3)) + f" please {i}")
        truth.append(label)
        move = label == "alarm" and (
            (i // 4) % 2 == 0 if moved is None else bool(rng.random() < moved)
        )
        labels.append("timer" if move else label)
    return texts, labels, truth


def test_check_centroid_runs_at_the_check_temperature(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []
    fit = NearestCentroid.fit

    def spy(self: NearestCentroid, X: Any, y: Any) -> NearestCentroid:
        seen.append(self.temperature)
        return fit(self, X, y)

    monkeypatch.setattr(NearestCentroid, "fit", spy)
    texts, labels, _ = _collapsed_texts()
    found = pico.check(texts, labels)
    assert seen == [CENTROID_TEMPERATURE] * 2  # one centroid per fold, at the check's own
    assert CENTROID_TEMPERATURE != NearestCentroid().temperature
    assert found.summary["options"]["centroid_temperature"] == CENTROID_TEMPERATURE


def test_check_featurizes_texts_with_its_own_light_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    fit_transform = TfidfFeaturizer.fit_transform

    def spy(self: TfidfFeaturizer, texts: Any, y: Any = None, **kw: Any) -> Any:
        seen.append(self.get_params())
        return fit_transform(self, texts, y, **kw)

    monkeypatch.setattr(TfidfFeaturizer, "fit_transform", spy)
    texts, labels, _ = _collapsed_texts()
    found = pico.check(texts, labels)
    assert len(seen) == 1
    assert {k: seen[0][k] for k in TEXT_FEATURES} == TEXT_FEATURES
    assert TEXT_FEATURES != {k: TfidfFeaturizer().get_params()[k] for k in TEXT_FEATURES}
    options = found.summary["options"]
    assert options["featurizer"] == "TfidfFeaturizer"
    assert {k: options["featurizer_params"][k] for k in TEXT_FEATURES} == TEXT_FEATURES
    json.dumps(found.summary)  # what --json prints
    # a featurizer passed in is used as given
    seen.clear()
    pico.check(texts, labels, featurizer=TfidfFeaturizer())
    assert seen == [TfidfFeaturizer().get_params()]
    # one whose parameters are objects still gives a JSON-ready summary
    from sklearn.pipeline import make_pipeline

    piped = pico.check(texts, labels, featurizer=make_pipeline(TfidfFeaturizer()))
    assert isinstance(piped.summary["options"]["featurizer_params"]["steps"], str)
    json.dumps(piped.summary)


def test_check_keeps_short_ngrams_for_texts_written_without_spaces() -> None:
    # Chinese intents: a word is one or two characters, 4-grams alone would span words
    rng = np.random.default_rng(0)
    words = {"天气": ["天气", "下雨", "晴天", "预报"], "音乐": ["音乐", "歌曲", "播放", "爵士"]}
    texts, labels = [], []
    for i in range(200):
        label = list(words)[i % 2]
        texts.append("请" + "".join(rng.choice(words[label], size=3)) + "吗")
        labels.append(label)
    found = pico.check(texts, labels, merge_duplicates=False)
    params = found.summary["options"]["featurizer_params"]
    assert params["char_ngrams"] == TfidfFeaturizer().char_ngrams == (2, 4)
    assert params["min_df"] == TfidfFeaturizer().min_df
    assert found.noise_rate < 0.03
    # mostly spaced texts (a few one-word or unspaced ones among them) keep the light ones
    mixed = ["book a flight to paris", "play some jazz", "hello", "ok", "你好世界你好"] * 10
    assert text_featurizer(mixed).char_ngrams == TEXT_FEATURES["char_ngrams"]


def test_check_lists_a_collapse_and_adds_what_the_vote_does_not_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 85% of "alarm" labeled "timer": the centroid's look-alike count of the moved rows
    # makes it a collapsed pair
    texts, labels, truth = _collapsed_texts(moved=0.85, seed=1)
    true_rate = float(np.mean(np.array(labels) != np.array(truth)))
    found = pico.check(texts, labels, merge_duplicates=False)
    assert [(p["given"], p["like"]) for p in found.collapsed_pairs] == [("timer", "alarm")]
    pair = found.collapsed_pairs[0]
    assert pair["rows"] > COLLAPSE_RATIO * pair["like_rows"]
    # the estimate is the vote's plus the pair's rows beyond the vote's own count of it
    vote_rate = found.summary["vote_noise_rate"]
    added = max(0.0, pair["rows"] - pair["vote_rows"]) / len(texts)
    assert found.noise_rate == pytest.approx(vote_rate + added, abs=1e-3)
    assert abs(found.noise_rate - true_rate) < 0.05
    assert found.noise_rate_upper >= found.noise_rate
    assert "most of its rows labeled as another class" in found.recommendation["reason"]
    assert abs(float(np.nanmean(found.wrong)) - vote_rate) < 1e-3  # per row: the vote's
    json.dumps(found.summary)
    text = format_check({**found.summary, "input": "intents.csv"})
    assert "collapsed pairs" in text and "  timer ~ alarm: " in text
    # the reason quotes the estimate and interval as the report prints them
    low, high = (100 * v for v in found.summary["interval"])
    shown = f"{100 * found.summary['noise_rate']:.1f}% ({low:.1f}-{high:.1f}%)"
    assert f"estimated {shown} wrong labels" in found.recommendation["reason"]
    assert f"{100 * found.summary['noise_rate']:.1f}% (95% sampling interval {low:.1f}-" in text
    # with the softmax checker alone there is no centroid to see a collapse
    assert pico.check(texts, labels, merge_duplicates=False, centroid=False).collapsed_pairs == []

    # These distinct words let the vote count the moved rows itself (nothing to add
    # above). Where it counts none of them, the whole pair goes into the estimate, the
    # interval and the given class, and the per-row probabilities stay the vote's.
    def vote_counts_nothing(pairs: Any, rows: Any, voted: Any, **kw: Any) -> Any:
        return collapsed_pairs(pairs, rows, np.zeros(voted.shape), **kw)

    monkeypatch.setattr(estimate, "collapsed_pairs", vote_counts_nothing)
    blind = pico.check(texts, labels, merge_duplicates=False)
    rows = blind.collapsed_pairs[0]["rows"]
    assert rows > 0
    assert blind.noise_rate == pytest.approx(vote_rate + rows / len(texts), abs=1e-3)
    assert blind.interval[0] == pytest.approx(found.interval[0] - added + rows / len(texts),
                                              abs=1e-3)
    timer = {c["label"]: c["expected_wrong"] for c in found.classes}["timer"]
    timer_blind = {c["label"]: c["expected_wrong"] for c in blind.classes}["timer"]
    assert timer_blind == pytest.approx(timer - added * len(texts) + rows, abs=0.05)
    assert np.allclose(blind.wrong, found.wrong, equal_nan=True)


def test_reason_and_report_quote_the_same_rounded_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 0.0725194 prints as 7.3%, the summary's 0.0725 as 7.2%: both must say 7.2
    monkeypatch.setattr(estimate, "noise_interval",
                        lambda q, n_total=None: (0.0760223, 0.0725194, 0.0795252))
    X, _, y_noisy = make_blobs_with_noise(300, 3, rate=0.1, random_state=0)
    found = pico.check(X, y_noisy, centroid=False)
    assert found.interval == (0.0725194, 0.0795252)  # the result keeps full precision
    assert found.summary["interval"] == [0.0725, 0.0795]
    assert "estimated 7.6% (7.2-8.0%) wrong labels" in found.recommendation["reason"]
    text = format_check({**found.summary, "input": "x.csv"})
    assert "7.6% (95% sampling interval 7.2-8.0%)" in text


def test_check_counts_collapses_as_collapse_count_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the centroid's pairs are counted with COLLAPSE_COUNT, the softmax's look-alike
    # pairs with the best-bin default
    calls: list[dict[str, Any]] = []
    real = estimate.lookalike_pairs

    def spy(*args: Any, **kw: Any) -> Any:
        calls.append({k: kw[k] for k in ("count", "pairwise") if k in kw})
        return real(*args, **kw)

    monkeypatch.setattr(estimate, "lookalike_pairs", spy)
    texts, labels, _ = _collapsed_texts(moved=0.85, seed=1)
    found = pico.check(texts, labels, merge_duplicates=False)
    assert calls == [COLLAPSE_COUNT, {}]
    assert COLLAPSE_COUNT == {"count": "boundary", "pairwise": True}
    assert found.collapsed_pairs
    calls.clear()
    pico.check(texts, labels, merge_duplicates=False, centroid=False)
    assert calls == [{}]


def test_collapsed_pairs_add_what_the_vote_does_not_count() -> None:
    rows = np.array([280, 14, 100, 100])
    voted = np.zeros((4, 4))
    voted[0, 1] = 50.0  # the vote counts 50 of the 126 rows given 0 that look like 1
    voted[2, 3] = 30.0
    pairs = [(0, 1, 126.0), (2, 3, 30.0), (3, 2, 5.0)]
    found, extra = collapsed_pairs(pairs, rows, voted, min_share=0.1, ratio=3.0)
    assert found == [(0, 1, 126.0, 50.0)]  # 30 <= 3 x 100, 5 <= 0.1 x 100: not collapses
    assert extra.tolist() == [76.0, 0.0, 0.0, 0.0]
    voted[0, 1] = 200.0  # never less than the vote's own count
    assert collapsed_pairs(pairs, rows, voted, min_share=0.1, ratio=3.0)[1].sum() == 0.0


def test_check_lists_a_collapsed_pair_and_the_upper_estimate(tmp_path: Path) -> None:
    texts, labels, truth = _collapsed_texts()
    true_rate = np.mean(np.array(labels) != np.array(truth))  # 50 of 400
    # The softmax checker alone learns the collapse: the vote misses much of it and the
    # look-alike pair supplies the rest.
    found = pico.check(texts, labels, centroid=False)
    assert found.summary["options"]["centroid"] is False
    pair = found.lookalike_pairs[0]
    assert (pair["given"], pair["like"]) == ("timer", "alarm")
    assert 10 <= pair["rows"] <= 55  # 50 rows moved
    assert found.noise_rate < true_rate - 0.03
    assert found.noise_rate <= found.noise_rate_upper <= true_rate + 0.03
    assert abs(found.noise_rate_upper - true_rate) <= abs(found.noise_rate - true_rate)
    assert {"timer", "alarm"} <= set(found.focus)
    assert "looks alike" in found.recommendation["reason"]
    # With the centroid checker (the default) the vote itself counts the moved rows, so
    # the pair adds nothing beyond them and the recommendation does not mention it.
    both = pico.check(texts, labels)
    assert both.summary["checker_fits"] == 4 and both.summary["options"]["centroid"] is True
    assert both.summary["options"]["centroid_temperature"] == CENTROID_TEMPERATURE
    assert found.summary["options"]["centroid_temperature"] is None
    assert abs(both.noise_rate - true_rate) <= 0.02
    assert both.lookalike_pairs[0]["vote_rows"] >= 40
    assert both.noise_rate_upper == pytest.approx(both.noise_rate)
    assert "looks alike" not in both.recommendation["reason"]
    assert {"timer", "alarm"} <= set(both.focus)
    assert found.summary["noise_rate_upper"] == round(found.noise_rate_upper, 4)
    assert found.summary["lookalike_pairs"] == found.lookalike_pairs
    path = _csv(tmp_path, "data.csv", texts, labels)
    out = CliRunner().invoke(cli, ["check", str(path), "--text-column", "text"])
    assert out.exit_code == 0, out.output
    assert "look-alike pairs" in out.output and "timer ~ alarm" in out.output
    # a pair is listed above a tenth of its class, or above a higher noise threshold
    strict = pico.check(texts, labels, noise_threshold=0.5, centroid=False)
    assert strict.lookalike_pairs == [] and strict.noise_rate_upper == strict.noise_rate


def test_cli_check_reference_uses_pico_label(tmp_path: Path) -> None:
    texts, labels = _intent_texts(360, 1)
    ref = pd.DataFrame({"text": texts[:300], "label": "unused", "pico_label": labels[:300]})
    ref_path = tmp_path / "ref.cleaned.csv"
    ref.to_csv(ref_path, index=False)
    new_labels = labels[300:]
    new_labels[0] = "timer" if new_labels[0] != "timer" else "music"
    new_path = _csv(tmp_path, "new.csv", texts[300:], new_labels)
    out = CliRunner().invoke(
        cli, ["check", str(new_path), "--text-column", "text", "--reference", str(ref_path),
              "--json"]
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["checked_rows"] == 60 and summary["checker_fits"] == 1
    assert summary["options"]["centroid"] is False  # its checker never saw these labels
    assert summary["options"]["centroid_temperature"] is None
    assert summary["options"]["reference"] is True
    out = CliRunner().invoke(
        cli, ["check", str(new_path), "--text-column", "text", "--reference", str(ref_path),
              "--reference-label-column", "nope"]
    )
    assert out.exit_code == 2 and "reference-label-column" in out.output


def test_cli_clean_trigger_on_clean_data_keeps_every_label(tmp_path: Path) -> None:
    texts, labels = _intent_texts(240, 2)
    path = _csv(tmp_path, "data.csv", texts, labels)
    out_path = tmp_path / "out.csv"
    run_dir = tmp_path / "run"
    out = CliRunner().invoke(
        cli, ["clean", str(path), "--text-column", "text", "--trigger", "-o", str(out_path),
              "--run-dir", str(run_dir)]
    )
    assert out.exit_code == 0, out.output
    assert "trigger:" in out.output and "nothing cleaned" in out.output
    cleaned = pd.read_csv(out_path, dtype=str, keep_default_na=False)
    assert cleaned["pico_label"].tolist() == labels
    assert set(cleaned["pico_status"]) == {"kept"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["trigger"]["rows_cleaned"] == 0



def test_check_on_a_real_bot_with_a_catch_all() -> None:
    """HINT3 sofmattress: 5.4% real mistakes, 144 rows under the catch-all label."""
    import pandas as pd

    from experiments.loaders import SHARED_DATASETS

    folder = SHARED_DATASETS / "hint3" / "sofmattress"
    if not folder.is_dir():
        pytest.skip(f"HINT3 is not in {folder.parent}")
    frame = pd.concat([pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")])
    truth = float((frame["noisy_label"] != frame["clean_label"]).mean())
    found = pico.check(frame["text"].tolist(), frame["noisy_label"].tolist(), n_jobs=1)
    blind = pico.check(frame["text"].tolist(), frame["noisy_label"].tolist(), n_jobs=1,
                       catch_all=None)
    assert abs(found.noise_rate - truth) < 0.03 < blind.noise_rate - truth
    assert all(c["noise_rate"] <= 1.0 for c in found.classes + blind.classes)
    assert not [p for p in found.collapsed_pairs
                if "NO_NODES_DETECTED" in (p["given"], p["like"])]


def test_check_settings_default_to_the_constants_and_reach_the_check() -> None:
    from pico.trigger.check import CheckSettings

    texts, labels, _ = _collapsed_texts(moved=0.85, seed=1)
    plain = pico.check(texts, labels, merge_duplicates=False)
    same = pico.check(texts, labels, merge_duplicates=False, settings=CheckSettings())
    assert same.noise_rate == plain.noise_rate and same.collapsed_pairs == plain.collapsed_pairs
    np.testing.assert_array_equal(same.wrong, plain.wrong)
    assert plain.collapsed_pairs  # the default ratio finds the collapse ...
    none = pico.check(texts, labels, merge_duplicates=False,
                      settings=CheckSettings(collapse_ratio=float("inf")))
    assert none.collapsed_pairs == []  # ... an infinite one finds none: the vote alone
    assert none.noise_rate == pytest.approx(none.summary["vote_noise_rate"], abs=1e-4)
    assert none.noise_rate <= plain.noise_rate  # the pairs only add rows the vote misses
    warm = pico.check(texts, labels, merge_duplicates=False,
                      settings=CheckSettings(centroid_temperature=3.0))
    assert warm.summary["options"]["centroid_temperature"] == 3.0
    with pytest.raises(InvalidInputError, match="CheckSettings"):
        pico.check(texts, labels, settings={"collapse_ratio": 2.0})
