"""pico.clean on tables: a pandas DataFrame and a Hugging Face Dataset, in and out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pico
from pico.results import ISSUE_COLUMNS

TEXTS = {
    "travel": ["book a flight to {}", "flights to {} tomorrow", "train tickets to {}"],
    "weather": ["weather in {}", "is it raining in {}", "forecast for {}"],
    "food": ["order pizza in {}", "restaurants near {}", "sushi delivery in {}"],
}
CITIES = ["paris", "rome", "oslo", "lima", "kyiv", "cairo", "delhi", "quito", "bern", "baku",
          "doha", "riga"]
PLANTED = {0: "food", 40: "food", 80: "travel"}
FAST = {"n_iterations": 2, "n_jobs": 1}


def _frame() -> tuple[pd.DataFrame, list[str]]:
    texts, truth = [], []
    for label, templates in TEXTS.items():
        for tpl in templates:
            for city in CITIES:
                texts.append(tpl.format(city))
                truth.append(label)
    noisy = list(truth)
    for i, wrong in PLANTED.items():
        noisy[i] = wrong
    return pd.DataFrame({"utterance": texts, "intent": noisy}), truth


def test_dataframe_in_issues_table_out() -> None:
    df, truth = _frame()
    df.index = pd.RangeIndex(100, 100 + len(df))  # not 0..N-1: the table keeps it
    res = pico.clean(df, text_column="utterance", label_column="intent", **FAST)
    issues = res.to_frame()
    assert list(issues.columns) == list(ISSUE_COLUMNS)
    assert issues.index.equals(df.index)
    assert issues["given_label"].tolist() == df["intent"].tolist()
    for i in PLANTED:
        assert issues.loc[100 + i, "label"] == truth[i]
        assert issues.loc[100 + i, "status"] == "relabeled"
    # the planted mistakes are the lowest label qualities
    worst = issues.sort_values("label_quality").index[: len(PLANTED)]
    assert sorted(worst - 100) == sorted(PLANTED)
    joined = df[["utterance"]].join(issues)
    assert len(joined) == len(df) and "label_quality" in joined.columns


def test_dataframe_same_as_arrays() -> None:
    df, _ = _frame()
    a = pico.clean(df, text_column="utterance", label_column="intent", **FAST)
    b = pico.clean(df["utterance"].tolist(), df["intent"].tolist(), **FAST)
    assert np.array_equal(a.labels, b.labels)
    assert np.allclose(a.confidence, b.confidence)


def test_dataframe_numeric_features_and_missing_labels() -> None:
    from pico.benchmarking import make_blobs_with_noise

    X, _, y = make_blobs_with_noise(120, 3, rate=0.1, random_state=0)
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    df["label"] = pd.array(y, dtype="Int64")
    df.loc[5, "label"] = pd.NA
    res = pico.clean(df, text_column=None, **FAST)
    assert res.status[5] == "skipped" and res.labels[5] is None
    assert res.to_frame()["status"].iloc[5] == "skipped"


def test_dataframe_errors_name_the_fix() -> None:
    df, _ = _frame()
    with pytest.raises(pico.InvalidInputError, match="label_column=NAME"):
        pico.clean(df, text_column="utterance")
    with pytest.raises(pico.InvalidInputError, match="text_column=NAME"):
        pico.clean(df, label_column="intent")
    with pytest.raises(pico.InvalidInputError, match="not numeric"):
        pico.clean(df, text_column=None, label_column="intent")


def test_hf_dataset_in_and_out_with_class_labels() -> None:
    datasets = pytest.importorskip("datasets")
    df, truth = _frame()
    names = sorted(TEXTS)
    codes = [names.index(v) for v in df["intent"]] + [-1]  # -1: a missing ClassLabel value
    ds = datasets.Dataset.from_dict(
        {"text": df["utterance"].tolist() + ["weather in sofia"], "label": codes},
        features=datasets.Features(
            {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)}
        ),
    )
    res = pico.clean(ds, **FAST)
    # ClassLabel values come back as their names
    assert set(res.labels.tolist()) - {None} <= set(names)
    assert res.status[-1] == "skipped" and res.labels[-1] is None
    for i in PLANTED:
        assert res.labels[i] == truth[i]
    out = res.to_dataset()
    assert out.num_rows == ds.num_rows
    assert out.column_names[:2] == ["text", "label"]
    assert out.features["pico_label"] == ds.features["label"]  # the same ClassLabel
    assert names[out[0]["pico_label"]] == truth[0]
    assert out[-1]["pico_label"] == -1
    assert out["pico_status"][:1] == ["relabeled"]
    assert np.allclose(np.array(out["pico_confidence"][1:5]), res.confidence[1:5])


def test_hf_dataset_string_labels_and_frame_input_to_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    df, truth = _frame()
    ds = datasets.Dataset.from_pandas(df, preserve_index=False)
    res = pico.clean(ds, text_column="utterance", label_column="intent", **FAST)
    assert res.labels[0] == truth[0]
    assert res.to_dataset()["pico_label"][0] == truth[0]
    # a DataFrame in: to_dataset holds its columns and pico's
    res_df = pico.clean(df, text_column="utterance", label_column="intent", **FAST)
    out = res_df.to_dataset()
    assert out.column_names[:2] == ["utterance", "intent"]
    assert out["pico_label"] == list(res_df.labels)


def test_hf_dataset_dict_is_refused() -> None:
    datasets = pytest.importorskip("datasets")
    df, _ = _frame()
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_pandas(df)})
    with pytest.raises(pico.InvalidInputError, match="one split"):
        pico.clean(dd)


def test_repr_is_short() -> None:
    df, _ = _frame()
    res = pico.clean(df, text_column="utterance", label_column="intent", **FAST)
    text = repr(res)
    assert text.startswith("CleanResult(rows=108, relabeled=3")
    assert "array" not in text and len(text) < 150


def test_check_json_lists_the_suspicious_rows(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from pico.cli import cli

    df, truth = _frame()
    path = tmp_path / "intents.csv"
    df.to_csv(path, index=False)
    out = CliRunner().invoke(
        cli, ["check", str(path), "--text-column", "utterance", "--label-column", "intent",
              "--json"], catch_exceptions=False,
    )
    rows = json.loads(out.output)["suspicious_rows"]
    assert set(rows[0]) == {"index", "text", "given", "suggested", "score"}
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    top = {r["index"]: r for r in rows[: len(PLANTED)]}
    assert set(top) == set(PLANTED)
    for i, row in top.items():
        assert row["text"] == df["utterance"][i] and row["given"] == PLANTED[i]
        assert row["suggested"] == truth[i]
