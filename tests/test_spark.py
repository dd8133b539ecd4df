"""The Spark prediction store, on a real local Spark session (needs Java)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pico
from pico.benchmarking import make_blobs_with_noise
from pico.cli import cli
from pico.corrector import IterativeCorrector
from pico.exceptions import InvalidInputError, MissingDependencyError
from pico.store.memory import MemoryStore

pytest.importorskip("pyspark")
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java"),
]


@pytest.fixture(scope="module")
def spark() -> Any:
    from pico.store.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.mark.parametrize("history", [False, True])
def test_spark_store_gives_the_memory_store_labels(spark: Any, tmp_path: Path,
                                                   history: bool) -> None:
    from pico.store.spark import SparkStore

    X, _, y = make_blobs_with_noise(600, 5, rate=0.2, random_state=0)
    groups = np.arange(600) // 2  # duplicate pairs: their candidates are a union
    kw = {"n_branches": 3, "n_iterations": 2, "history": history, "tol": 0.0,
          "random_state": 0}
    on_spark = IterativeCorrector(
        store_factory=lambda n, k: SparkStore(n, k, path=tmp_path / "p", top_k=3,
                                              keep_iterations=None if history else 1),
        **kw,
    ).fit(X, y, groups=groups)
    in_memory = IterativeCorrector(
        store_factory=lambda n, k: MemoryStore(n, k, top_k=3), **kw
    ).fit(X, y, groups=groups)
    np.testing.assert_array_equal(on_spark.labels_, in_memory.labels_)
    np.testing.assert_allclose(on_spark.confidence_, in_memory.confidence_, atol=1e-9)
    np.testing.assert_array_equal(on_spark.status_, in_memory.status_)
    files = list((tmp_path / "p").glob("iteration=*/branch=*/*.parquet"))
    assert len(files) == (6 if history else 3) * 5  # every fold of every kept branch
    assert not list((tmp_path / "p").rglob("*.tmp"))


def test_parquet_rows_read_back_as_the_predictions(spark: Any, tmp_path: Path) -> None:
    from pico.store.spark import SparkStore

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6), size=40)
    spark_store = SparkStore(40, 6, path=tmp_path / "p", top_k=3)
    memory = MemoryStore(40, 6, top_k=3)
    for part in np.array_split(rng.permutation(40), 3):
        spark_store.add(1, 0, part, probs[part])
        memory.add(1, 0, part, probs[part])
    (a,), (b,) = list(spark_store.branches(1)), list(memory.branches(1))
    np.testing.assert_allclose(a.probs.toarray(), b.probs.toarray())
    np.testing.assert_allclose(a.residual, b.residual)
    rows = spark.read.parquet(str(tmp_path / "p")).collect()
    assert len(rows) == 40 and all(len(r["indices"]) == 3 for r in rows)


def test_em_on_spark_brings_back_sums_a_sample_and_four_numbers_per_row(
    spark: Any, tmp_path: Path
) -> None:
    from pico.history import LabelHistoryModel
    from pico.store.spark import SparkStore
    rng = np.random.default_rng(1)
    n, k = 900, 12
    truth = rng.integers(0, k, n)
    given = np.where(rng.random(n) < 0.2, rng.integers(0, k, n), truth)
    groups = np.arange(n) // 3
    spark_store = SparkStore(n, k, path=tmp_path / "p", top_k=4, partitions=5)
    memory = MemoryStore(n, k, top_k=4)
    for t in (1, 2):
        for b in range(3):
            logits = rng.normal(size=(n, k))
            logits[np.arange(n), truth] += 2.5
            probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            for part in np.array_split(rng.permutation(n), 4):
                spark_store.add(t, b, part, probs[part])
                memory.add(t, b, part, probs[part])
    trained_on = [given, np.where(rng.random(n) < 0.1, truth, given)]
    params = {"max_rows_for_beta": 300, "profile_rows": 150, "random_state": 0}
    rows = spark_store.candidate_rows([1, 2], trained_on=trained_on, labels=given,
                                      groups=groups)
    taken: list[int] = []
    original_take = rows.take
    rows.take = lambda ids: (taken.append(len(ids)), original_take(ids))[1]  # type: ignore
    on_spark = LabelHistoryModel(**params).fit_rows(rows)
    rows.close()
    in_memory = LabelHistoryModel(**params).fit(
        [list(memory.branches(1)), list(memory.branches(2))], given,
        trained_on=trained_on, groups=groups,
    )
    # The driver saw the profile's and the tempering's samples only, never every row.
    assert taken == [150, 300]
    assert on_spark._cand is None and on_spark._summary is not None
    np.testing.assert_allclose(on_spark.weights_, in_memory.weights_, rtol=1e-7)
    assert on_spark.stay_ == pytest.approx(in_memory.stay_, abs=1e-9)
    np.testing.assert_allclose(on_spark.noise_, in_memory.noise_, atol=1e-9)
    best, best_p = on_spark.best()
    np.testing.assert_array_equal(best, in_memory.best()[0])
    np.testing.assert_allclose(best_p, in_memory.best()[1], atol=1e-9)
    np.testing.assert_allclose(on_spark.probability(given), in_memory.probability(given),
                               atol=1e-9)
    np.testing.assert_allclose(on_spark.expected_changes_, in_memory.expected_changes_,
                               atol=1e-9)
    for codes in (given, best):  # the reported confidences of the two possible labels
        np.testing.assert_allclose(on_spark.confidence(codes), in_memory.confidence(codes),
                                   atol=1e-9)
    other = (best + 1) % k
    other[other == given] = (other[other == given] + 1) % k
    with pytest.raises(InvalidInputError, match="given label"):
        on_spark.probability(other)
    with pytest.raises(InvalidInputError, match="given label"):
        on_spark.confidence(other)
    with pytest.raises(InvalidInputError, match="Spark"):
        _ = on_spark.posterior_


def test_api_and_cli_store_spark(spark: Any, tmp_path: Path) -> None:
    X, _, y = make_blobs_with_noise(300, 3, rate=0.15, random_state=1)
    a = pico.clean(X, y, n_branches=2, store="spark")
    b = pico.clean(X, y, n_branches=2)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.summary["options"]["store"] == "spark"
    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album"], "weather": ["rain", "sunny", "forecast"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab}
            for i in range(30) for lab, w in words.items()]
    data = tmp_path / "d.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    run = tmp_path / "run"
    out = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text", "--store",
                                   "spark", "--branches", "2", "-o", str(tmp_path / "o.csv"),
                                   "--run-dir", str(run), "-q"])
    assert out.exit_code == 0, out.output
    assert list((run / "predictions").glob("iteration=1/branch=*/*.parquet"))
    assert json.loads((run / "summary.json").read_text())["options"]["store"] == "spark"


def test_missing_java_or_pyspark_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from pico.store import spark as spark_module

    monkeypatch.setattr(spark_module.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(MissingDependencyError, match="Java"):
        spark_module.spark_session()
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(MissingDependencyError, match=r"pico-clean\[spark\]"):
        spark_module.spark_session("local[1]")
    with pytest.raises(InvalidInputError, match="store='spark'"):
        pico.clean(np.zeros((4, 2)), [0, 1, 0, 1], spark_master="local[1]")


class _Stop(Exception):
    """Raised from the progress callback: the run dies before an iteration."""


def _stop_before(iteration: int) -> Any:
    def progress(event: str, info: dict[str, Any]) -> None:
        if event == "start" and info["iteration"] == iteration:
            raise _Stop

    return progress


def test_spark_store_leaves_other_files_alone_and_reads_only_its_own(
    spark: Any, tmp_path: Path
) -> None:
    from pico.store.spark import SparkStore

    X, _, y = make_blobs_with_noise(400, 4, rate=0.2, random_state=2)
    path = tmp_path / "predictions"
    branch = path / "iteration=1" / "branch=0"
    branch.mkdir(parents=True)
    notes = {
        path / "notes.txt": b"the user's notes\n",
        path / "iteration=1" / "notes.txt": b"more notes\n",
        branch / "notes.txt": b"notes in a branch\n",
        branch / "part-00000-1234.snappy.parquet": b"someone else's file, not Parquet",
    }
    for file, content in notes.items():
        file.write_bytes(content)
    # A part file an earlier (killed) run left: reading it would count rows twice.
    other = SparkStore(400, 4, path=tmp_path / "other", top_k=2)
    other.add(1, 0, np.arange(400), np.full((400, 4), 0.25))
    (stale,) = (tmp_path / "other").glob("iteration=1/branch=0/part-*.parquet")
    (branch / stale.name).write_bytes(stale.read_bytes())
    stores: list[SparkStore] = []

    def factory(n: int, k: int) -> SparkStore:
        stores.append(SparkStore(n, k, path=path, top_k=3))
        return stores[-1]

    kw = {"n_branches": 2, "n_folds": 5, "n_iterations": 2, "tol": 0.0, "random_state": 0}
    on_spark = IterativeCorrector(store_factory=factory, **kw).fit(X, y)
    in_memory = IterativeCorrector(**kw).fit(X, y)
    np.testing.assert_array_equal(on_spark.labels_, in_memory.labels_)
    assert {file: file.read_bytes() for file in notes} == notes
    assert not (branch / stale.name).exists()
    assert len(list(path.glob("iteration=*/branch=*/part-*.parquet"))) == 2 * 2 * 5 + 1
    stores[0].close()
    assert {file: file.read_bytes() for file in notes} == notes
    left = sorted(str(p.relative_to(path)) for p in path.rglob("*"))
    assert left == sorted(["notes.txt", "iteration=1", "iteration=1/notes.txt",
                           "iteration=1/branch=0", "iteration=1/branch=0/notes.txt",
                           "iteration=1/branch=0/part-00000-1234.snappy.parquet"])


def test_spark_store_resumes_from_its_parquet_files(spark: Any, tmp_path: Path) -> None:
    from pico.checkpoint import ARRAYS_FILE, STATE_FILE
    from pico.store.spark import SparkStore

    X, y_true, y = make_blobs_with_noise(400, 4, rate=0.2, random_state=3)
    path, folder = tmp_path / "predictions", tmp_path / "checkpoints"
    kw = {"n_branches": 2, "n_folds": 5, "n_iterations": 3, "tol": 0.0, "random_state": 0}

    def corrector(**more: Any) -> IterativeCorrector:
        return IterativeCorrector(
            store_factory=lambda n, k: SparkStore(n, k, path=path, top_k=3),
            checkpoint_dir=folder, **kw, **more,
        )

    with pytest.raises(_Stop):
        corrector(progress=_stop_before(2)).fit(X, y)
    state = json.loads((folder / STATE_FILE).read_text())
    assert state["store"]["kind"] == "SparkStore"
    assert [key[:2] for key in state["store"]["meta"]["keys"]] == [[1, 0], [1, 1]]
    with np.load(folder / ARRAYS_FILE) as npz:  # the Parquet files are the checkpoint
        assert not [name for name in npz.files if name.startswith("store.")]
    resumed = corrector(resume=True).fit(X, y)
    whole = IterativeCorrector(**kw).fit(X, y)
    np.testing.assert_array_equal(resumed.history_[:, :2], whole.history_[:, :2])
    assert resumed.n_fits_ == whole.n_fits_ == 30
    # iteration 2's checkers start cold: a few labels may differ (measured: 0 of 400 here)
    assert np.sum(resumed.labels_ != whole.labels_) <= 0.05 * len(y)
    again = corrector(resume=True).fit(X, y)  # after the last iteration: refitted on Spark
    np.testing.assert_array_equal(again.labels_, resumed.labels_)
    np.testing.assert_allclose(again.confidence_, resumed.confidence_, atol=1e-12)
    next(path.glob("iteration=1/branch=1/part-*.parquet")).unlink()
    with pytest.raises(InvalidInputError, match="damaged .*branch 1 of iteration 1 are missing"):
        corrector(resume=True).fit(X, y)
    assert (np.mean(resumed.labels_ == y_true)) >= np.mean(whole.labels_ == y_true) - 0.02
