"""Hostile input, property-based: every input gets a correct result or a one-line error.

Readers get random bytes, wrong encodings, ragged rows, embedded newlines and quotes,
huge fields and duplicate column names; the cleaner gets NaN/inf features, one row per
class, labels that are numbers or whitespace; the vote and history math get random
predictions, up to 10,000 classes. docs/limits.md lists what is covered.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pico
from pico.cli import cli
from pico.data.io import read_table
from pico.exceptions import InvalidInputError
from pico.history import LabelHistoryModel
from pico.store import SparsePredictions
from pico.vote import BayesianVote

EXTENSIONS = (".csv", ".tsv", ".jsonl", ".parquet", ".yml")


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=3000), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes_read_as_a_table_or_a_one_line_error(payload: bytes, ext: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{ext}"
        path.write_bytes(payload)
        try:
            frame = read_table(path)
        except InvalidInputError as e:
            assert "\n" not in str(e).strip() or ext == ".yml"
            return
        assert isinstance(frame, pd.DataFrame)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.binary(max_size=1500))
def test_cli_on_random_bytes_exits_cleanly_and_writes_nothing_on_error(payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "d.csv", Path(tmp) / "o.csv"
        data.write_bytes(payload)
        res = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text", "-o",
                                       str(out), "--run-dir", str(Path(tmp) / "run"), "-q",
                                       "--branches", "2", "--folds", "2"])
        assert res.exit_code in (0, 2), res.output  # never a traceback (exit 1)
        if res.exit_code == 2:
            assert res.output.startswith("Error: ") and res.output.count("\n") == 1
            assert not out.exists()
        assert data.read_bytes() == payload  # the input is never modified


_cell = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t;é한')), max_size=12)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.lists(_cell, min_size=1, max_size=4), min_size=1, max_size=8))
def test_ragged_quoted_multiline_csv(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows([["text", "label"], *rows])  # quotes \r, \n, quotes, commas
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        path.write_bytes(buf.getvalue().encode("utf-8"))
        if all(len(r) == 2 for r in rows):
            frame = read_table(path)  # every field comes back exactly as written
            assert frame.values.tolist() == rows
        else:
            with pytest.raises(InvalidInputError, match="line"):
                read_table(path)


def test_wrong_encoding_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "ko.csv"
    path.write_bytes("text,label\n날씨 알려줘,weather\n".encode("cp949"))
    with pytest.raises(InvalidInputError, match="encoding"):
        read_table(path)
    assert read_table(path, encoding="cp949")["text"].tolist() == ["날씨 알려줘"]


def test_huge_field_and_duplicate_columns(tmp_path: Path) -> None:
    big = "x" * 3_000_000
    path = tmp_path / "big.csv"
    path.write_text(f"text,label\n{big},a\nshort,b\n", encoding="utf-8")
    assert len(read_table(path)["text"][0]) == 3_000_000
    dup = tmp_path / "dup.csv"
    dup.write_text("text,label,text\na,b,c\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="text"):
        read_table(dup)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n_bad=st.integers(1, 5),
       value=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_nan_or_inf_features_get_an_error_naming_the_rows(seed: int, n_bad: int,
                                                          value: float) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    y = np.arange(40) % 2
    rows = rng.choice(40, n_bad, replace=False)
    X[rows, rng.integers(0, 3, n_bad)] = value
    with pytest.raises(InvalidInputError, match=f"in {n_bad} rows"):
        pico.clean(X, y, n_branches=1)
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        pico.clean(sp.csr_matrix(X), y, n_branches=1)


def test_one_row_per_class_keeps_every_label() -> None:
    X = np.random.default_rng(0).normal(size=(25, 3))
    y = np.arange(25)
    result = pico.clean(X, y, n_branches=2)
    assert (result.labels == y).all()  # no evidence can move a class of one row


@settings(max_examples=25, deadline=None)
@given(labels=st.lists(st.sampled_from([1, 2, 2.0, "1", " ", "", None, "x"]),
                       min_size=12, max_size=30))
def test_labels_that_are_numbers_or_whitespace(labels: list[object]) -> None:
    X = np.random.default_rng(len(labels)).normal(size=(len(labels), 3))
    try:
        result = pico.clean(X, labels, n_branches=1)
    except InvalidInputError as e:
        assert any(w in str(e) for w in ("2 classes", "no labels", "empty", "one type"))
        return
    missing = [v is None or (isinstance(v, str) and not v.strip()) for v in labels]
    assert [s == "skipped" for s in result.status] == missing
    kept = [lab for lab, m in zip(result.labels, missing) if m]
    assert kept == [v for v, m in zip(labels, missing) if m]  # skipped rows untouched


def _random_predictions(rng: np.random.Generator, n: int, k: int, top: int) -> SparsePredictions:
    idx = np.stack([rng.choice(k, top, replace=False) for _ in range(n)])
    vals = rng.dirichlet(np.ones(top + 1), size=n)
    mat = sp.csr_matrix((vals[:, :top].ravel().astype(np.float32), idx.ravel(),
                         np.arange(0, n * top + 1, top)), shape=(n, k))
    return SparsePredictions(mat, vals[:, top])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 40), branches=st.integers(1, 3))
def test_vote_posteriors_are_distributions(seed: int, k: int, branches: int) -> None:
    rng = np.random.default_rng(seed)
    n, top = 60, min(k, 5)
    preds = [_random_predictions(rng, n, k, top) for _ in range(branches)]
    labels = rng.integers(0, k, n)
    vote = BayesianVote(random_state=0, profile_rows=200).fit(preds, labels, n_classes=k)
    post = vote.posterior_
    assert np.all(post >= 0) and np.allclose(post.sum(axis=1), 1.0)
    best, p = vote.best()
    assert np.allclose(p, post[np.arange(n), best])
    assert np.allclose(vote.probability(labels), post[np.arange(n), labels])


@pytest.mark.parametrize("k", [300, 10_000])
def test_history_model_with_many_classes(k: int) -> None:
    # the noise matrix keeps the cells the rows reach, not K x K: 10,000 classes run in
    # seconds
    rng = np.random.default_rng(0)
    n = 3000
    iterations = [[_random_predictions(rng, n, k, 8) for _ in range(2)] for _ in range(2)]
    labels = rng.integers(0, k, n)
    model = LabelHistoryModel(random_state=0, profile_rows=500).fit(
        iterations, labels, trained_on=[labels, labels], n_classes=k
    )
    best, p = model.best()
    assert best.shape == (n,) and np.all((p >= 0) & (p <= 1 + 1e-9))
    assert model.noise_matrix_.shape == (k, k)
    np.testing.assert_allclose(model.noise_matrix_.row_sums(), 1.0, atol=1e-9)
    assert model.noise_matrix_.full == (k <= model.dense_noise_classes)
