"""pico.Cleaner and IterativeCorrector as scikit-learn citizens, and progress in Python."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import pico
from pico.benchmarking import make_blobs_with_noise
from pico.corrector import IterativeCorrector

#: Small settings so that each of the checks' fits takes a moment.
FAST: dict[str, Any] = {
    "n_branches": 1, "n_folds": 2, "n_iterations": 1, "n_jobs": 1, "progress": False,
}

#: Checks that do not apply to a relabeler, and why. scikit-learn 1.9 runs every
#: generic check on Cleaner and it passes them; the array-API check skips itself unless
#: SCIPY_ARRAY_API is set (pico computes in numpy).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks(
    [pico.Cleaner(**FAST)], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible_cleaner(estimator: Any, check: Any) -> None:
    check(estimator)


def test_cleaner_takes_the_options_of_clean() -> None:
    clean_options = {
        name: p.default for name, p in inspect.signature(pico.clean).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }
    for table_only in ("text_column", "label_column", "pred_probs", "classes"):
        clean_options.pop(table_only)
    assert pico.Cleaner().get_params(deep=False) == clean_options


def test_clone_get_set_params_and_repr() -> None:
    cleaner = pico.Cleaner(n_iterations=2, protect=["billing"])
    twin = clone(cleaner)
    assert twin is not cleaner and twin.get_params() == cleaner.get_params()
    assert twin.set_params(relabel_odds=3.0) is twin and twin.relabel_odds == 3.0
    assert cleaner.relabel_odds == 7.0
    assert repr(cleaner) == "Cleaner(n_iterations=2, protect=['billing'])"
    assert "Cleaner" in cleaner._repr_html_()


def test_parameters_are_validated_in_fit() -> None:
    X, _, y = make_blobs_with_noise(60, 3, rate=0.1, random_state=0)
    cleaner = pico.Cleaner(n_iterations=0, relabel_threshold=2.0)  # stored as given
    assert cleaner.n_iterations == 0
    with pytest.raises(pico.InvalidInputError, match="'n_iterations'"):
        cleaner.fit(X, y)


def test_fit_sets_results_and_keeps_label_dtype() -> None:
    X, y_true, y = make_blobs_with_noise(300, 3, rate=0.15, random_state=5)
    cleaner = pico.Cleaner(n_iterations=2, n_jobs=1).fit(X, y)
    assert cleaner.labels_.dtype == y.dtype
    assert cleaner.n_features_in_ == X.shape[1]
    assert (cleaner.labels_ == y_true).mean() > (y == y_true).mean()
    assert np.array_equal(cleaner.label_quality_, cleaner.result_.label_quality)
    texts = ["book a flight", "flights to rome", "play jazz", "play some rock"] * 10
    fitted = pico.Cleaner(**FAST).fit(texts, ["travel", "travel", "music", "music"] * 10)
    assert not hasattr(fitted, "n_features_in_")  # texts have no feature count


def test_imblearn_pipeline_cleans_before_the_model() -> None:
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    X, y_true, y = make_blobs_with_noise(300, 3, rate=0.2, random_state=2)
    pipe = imblearn_pipeline.make_pipeline(
        StandardScaler(), pico.Cleaner(n_iterations=2, n_jobs=1), LogisticRegression()
    )
    pipe.fit(X, y)
    cleaner = pipe.named_steps["cleaner"]
    model = pipe.named_steps["logisticregression"]
    assert (cleaner.labels_ == y_true).mean() > (y == y_true).mean()
    # the model learned from the cleaned labels; predicting skips the cleaner
    direct = LogisticRegression().fit(StandardScaler().fit_transform(X), cleaner.labels_)
    assert np.allclose(model.coef_, direct.coef_)
    assert pipe.predict(X).shape == y.shape


def test_sklearn_pipeline_refuses_a_relabeler_step_by_name() -> None:
    X, _, y = make_blobs_with_noise(60, 3, rate=0.1, random_state=0)
    with pytest.raises(TypeError, match="Cleaner.*doesn't"):
        make_pipeline(pico.Cleaner(**FAST), LogisticRegression()).fit(X, y)
    # as the last step it fits (the cleaned labels are the step's result)
    pipe = Pipeline([("scale", StandardScaler()), ("clean", pico.Cleaner(**FAST))]).fit(X, y)
    assert len(pipe.named_steps["clean"].labels_) == len(y)


def test_iterative_corrector_is_an_estimator() -> None:
    corr = IterativeCorrector(n_branches=2, n_iterations=1, random_state=3)
    twin = clone(corr)
    assert twin.get_params() == corr.get_params()
    assert twin.get_params()["n_branches"] == 2
    assert "IterativeCorrector(n_branches=2" in repr(corr)
    X, _, y = make_blobs_with_noise(120, 3, rate=0.1, random_state=0)
    assert np.array_equal(twin.fit(X, y).labels_, corr.fit(X, y).labels_)


# --------------------------------------------------------------------------- progress


def _texts() -> tuple[list[str], list[str]]:
    texts = ["book a flight to paris", "book a flight to rome", "flight to berlin please",
             "play some jazz", "play rock music", "put on some jazz music"] * 5
    labels = ["travel", "travel", "travel", "music", "music", "music"] * 5
    labels[2] = "music"
    return texts, labels


def test_no_output_under_pytest_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    texts, labels = _texts()
    pico.clean(texts, labels, n_branches=2, n_iterations=2, n_jobs=1)
    pico.clean(texts, labels, n_branches=2, n_iterations=2, n_jobs=1, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_shows_iterations_and_changes(capsys: pytest.CaptureFixture[str]) -> None:
    texts, labels = _texts()
    pico.clean(texts, labels, n_branches=2, n_iterations=2, n_jobs=1, progress=True,
               merge_duplicates=False)
    err = capsys.readouterr().err
    assert "pico iteration 1/2" in err
    assert "changed=1" in err and "differ_from_given=1" in err
    assert "10/10" in err  # every checker fit counted (2 branches x 5 folds)


def test_progress_callback_gets_the_cli_figures() -> None:
    texts, labels = _texts()
    events: list[tuple[str, dict[str, Any]]] = []
    pico.clean(texts, labels, n_branches=2, n_iterations=2, n_jobs=1,
               progress=lambda event, info: events.append((event, info)),
               merge_duplicates=False)
    kinds = [e for e, _ in events]
    assert kinds[0] == "start" and kinds.count("iteration") == 2
    last = [info for e, info in events if e == "iteration"][-1]
    assert {"iteration", "changed", "differ_from_given", "seconds"} <= set(last)
    with pytest.raises(pico.InvalidInputError, match="'progress'"):
        pico.clean(texts, labels, progress="yes")
