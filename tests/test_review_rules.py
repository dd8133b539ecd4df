"""Moves the evidence cannot carry go to review: protected and catch-all classes, classes
the checkers cannot learn, and changes reported below the relabel threshold."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import pico
from pico.benchmarking import make_blobs_with_noise
from pico.cli import cli
from pico.corrector import IterativeCorrector, catch_all_mask, class_recall
from pico.exceptions import InvalidInputError

OPTIONS = {"random_state": 0, "n_branches": 2, "n_folds": 3, "n_iterations": 2}


def _named(y: np.ndarray, names: list[str]) -> np.ndarray:
    return np.array(names, dtype=object)[y]


def test_every_relabeled_row_reports_at_least_the_threshold() -> None:
    X, _, y = make_blobs_with_noise(400, 4, rate=0.2, separation=1.2, random_state=3)
    corr = IterativeCorrector(**OPTIONS).fit(X, y)
    relabeled = corr.status_ == "relabeled"
    assert relabeled.any()
    assert np.all(corr.confidence_[relabeled] >= corr.relabel_threshold)
    assert set(corr.review_reasons_) == {"protected", "catch_all", "weak_class",
                                         "low_confidence"}


def test_protected_classes_lose_no_row_automatically() -> None:
    X, y_true, y_noisy = make_blobs_with_noise(400, 4, rate=0.2, random_state=0)
    labels = _named(y_noisy, ["a", "b", "c", "d"])
    free = IterativeCorrector(**OPTIONS).fit(X, labels)
    assert np.any((free.status_ == "relabeled") & (labels == "b"))  # b loses rows freely
    kept = IterativeCorrector(protect=["b"], **OPTIONS).fit(X, labels)
    moved_out = (kept.labels_ != labels) & (labels == "b")
    assert not moved_out.any()
    would = (free.status_ == "relabeled") & (labels == "b")
    assert np.all(kept.status_[would] == "review")
    assert kept.review_reasons_["protected"] == would.sum()
    with pytest.raises(InvalidInputError, match="'zzz'"):
        IterativeCorrector(protect=["zzz"], **OPTIONS).fit(X, labels)


def test_moves_into_or_out_of_the_catch_all_need_the_break_even_confidence() -> None:
    X, _, y_noisy = make_blobs_with_noise(400, 4, rate=0.2, separation=1.5, random_state=0)
    labels = _named(y_noisy, ["a", "b", "out_of_scope", "d"])
    corr = IterativeCorrector(**OPTIONS).fit(X, labels)
    touched = (corr.labels_ != labels) & (
        (labels == "out_of_scope") | (corr.labels_ == "out_of_scope")
    )
    break_even = corr.relabel_odds / (1 + corr.relabel_odds)  # 7/8
    assert np.all(corr.confidence_[touched] >= break_even)
    assert corr.review_reasons_["catch_all"] > 0
    off = IterativeCorrector(catch_all=None, **OPTIONS).fit(X, labels)
    more = (off.labels_ != labels) & ((labels == "out_of_scope") | (off.labels_ == "out_of_scope"))
    assert more.sum() > touched.sum()
    held = more & ~touched
    assert np.all(corr.status_[held] == "review")
    assert catch_all_mask(np.array(["NO_NODES_DETECTED", "None", "nlu_fallback", "greet"]),
                          "auto").tolist() == [True, True, True, False]
    with pytest.raises(InvalidInputError, match="not a label"):
        catch_all_mask(np.array(["a", "b"]), ["c"])


def test_a_class_the_checkers_cannot_learn_keeps_its_rows() -> None:
    # a 6-row class inside a big one: the checkers never rank it first for its own rows
    rng = np.random.default_rng(0)
    big = rng.normal(0, 1, size=(300, 5))
    other = rng.normal(4, 1, size=(300, 5))
    tiny = rng.normal(0.3, 1, size=(6, 5))
    X = np.vstack([big, other, tiny])
    labels = np.array(["big"] * 300 + ["other"] * 300 + ["tiny"] * 6, dtype=object)
    loose = IterativeCorrector(min_class_recall=0.0, **OPTIONS).fit(X, labels)
    assert np.any(loose.labels_[-6:] != "tiny")  # without the rule the tiny class is absorbed
    corr = IterativeCorrector(**OPTIONS).fit(X, labels)
    assert np.all(corr.labels_[-6:] == "tiny")
    assert np.all(corr.status_[-6:][loose.labels_[-6:] != "tiny"] == "review")
    tiny_code = list(corr.classes_).index("tiny")
    assert corr.class_recall_[tiny_code] < 0.5 < corr.class_recall_[0]
    assert corr.review_reasons_["weak_class"] > 0


def test_class_recall_counts_each_branch() -> None:
    import scipy.sparse as sp

    from pico.store.base import SparsePredictions

    a = SparsePredictions(sp.csr_matrix(np.array([[.9, .1], [.2, .8]])), np.zeros(2))
    b = SparsePredictions(sp.csr_matrix(np.array([[.3, .7], [.2, .8]])), np.zeros(2))
    assert class_recall([a, b], np.array([0, 1]), 2).tolist() == [0.5, 1.0]


def test_the_cli_passes_protect(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    X, _, y_noisy = make_blobs_with_noise(300, 3, rate=0.2, random_state=0)
    texts = [" ".join(f"w{int(v * 3)}_{j}" for j, v in enumerate(row)) for row in X]
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": texts, "label": _named(y_noisy, ["a", "b", "c"])}).to_csv(path, index=False)
    res = CliRunner().invoke(cli, [
        "clean", str(path), "--text-column", "text", "-o", str(tmp_path / "o.csv"),
        "--run-dir", str(tmp_path / "run"), "--protect", "a,b,c",
        "--branches", "2", "--folds", "3", "--iterations", "1", "-q",
    ])
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "o.csv", dtype=str)
    assert (out["pico_label"] == out["label"]).all()  # every move was held back
    import json

    for flags, expected in ((["--catch-all", "c"], ["c"]), (["--no-catch-all"], None), ([], "auto")):
        run = tmp_path / f"run{len(flags)}{expected is None}"
        res = CliRunner().invoke(cli, [
            "clean", str(path), "--text-column", "text", "-o", str(tmp_path / "o3.csv"),
            "--run-dir", str(run), "--branches", "2", "--folds", "3", "--iterations", "1",
            "-q", *flags,
        ])
        assert res.exit_code == 0, res.output
        summary = json.loads((run / "summary.json").read_text())
        assert summary["options"]["catch_all"] == expected
    res = CliRunner().invoke(cli, ["clean", str(path), "--text-column", "text", "-o",
                                   str(tmp_path / "o2.csv"), "--run-dir", str(tmp_path / "r2"),
                                   "--protect", "nope", "-q"])
    assert res.exit_code == 2 and "'nope'" in res.output


def test_api_reports_review_reasons() -> None:
    texts = ["book a flight to paris", "book a flight to rome", "flight to berlin please",
             "play some jazz", "play rock music", "put on some jazz music"] * 5
    labels = ["travel", "travel", "travel", "music", "music", "music"] * 5
    labels[2] = "music"
    result = pico.clean(texts, labels, n_branches=2, n_iterations=2, merge_duplicates=False,
                        protect=["music"], n_jobs=1)
    assert result.status[2] == "review" and result.labels[2] == "music"
    assert result.summary["review_reasons"]["protected"] == 1
