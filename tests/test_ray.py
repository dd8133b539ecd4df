"""The Ray engine, on a real local Ray runtime with 2 CPUs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pico
from pico.benchmarking import make_blobs_with_noise
from pico.checkers import SoftmaxRegression
from pico.cli import cli
from pico.corrector import IterativeCorrector
from pico.exceptions import InvalidInputError, MissingDependencyError
from pico.executors import LocalExecutor, RayExecutor, make_executor

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_runtime() -> Any:
    """One local Ray runtime with 2 CPUs for the module (the executors join it)."""
    # the test module's classes travel to the workers by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield ray
    ray.shutdown()


class DieOnce(SoftmaxRegression):  # type: ignore[misc]
    """A checker whose first fit kills its worker process (when ``marker`` is missing)."""

    def __init__(self, marker: str = "", C: float = 2.0, max_iter: int = 30,
                 tol: float = 1e-4, memory: int = 7, warm_start: bool = False) -> None:
        super().__init__(C=C, max_iter=max_iter, tol=tol, memory=memory, warm_start=warm_start)
        self.marker = marker

    def fit(self, X: Any, y: Any) -> DieOnce:
        if self.marker and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)  # the worker dies mid-run, without cleanup
        super().fit(X, y)
        return self


def test_ray_engine_gives_the_local_labels(ray_runtime: Any) -> None:
    X, _, y = make_blobs_with_noise(600, 4, rate=0.2, random_state=0)
    local = pico.clean(X, y, n_branches=3, n_iterations=2)
    on_ray = pico.clean(X, y, n_branches=3, n_iterations=2, engine="ray")
    np.testing.assert_array_equal(on_ray.labels, local.labels)
    np.testing.assert_allclose(on_ray.confidence, local.confidence)
    assert on_ray.summary["options"]["engine"] == "ray"
    assert on_ray.summary["checker_fits"] == local.summary["checker_fits"] == 30
    assert ray.is_initialized()  # a runtime the call did not start is left running


def test_features_go_into_the_object_store_once(ray_runtime: Any) -> None:
    X, _, y = make_blobs_with_noise(400, 3, rate=0.1, random_state=1)
    executor = RayExecutor()
    corr = IterativeCorrector(n_branches=2, n_iterations=3, tol=0.0, executor=executor,
                              random_state=0).fit(X, y)
    assert corr.n_iter_ == 3
    big = [obj for obj, _ in executor._refs]
    assert len(big) == 1 and big[0] is X


def test_a_killed_worker_does_not_lose_the_run(ray_runtime: Any, tmp_path: Path) -> None:
    X, _, y = make_blobs_with_noise(500, 4, rate=0.15, random_state=2)
    marker = tmp_path / "died"
    checker = DieOnce(marker=str(marker))
    on_ray = IterativeCorrector(checker, n_branches=2, n_iterations=1, random_state=0,
                                executor=RayExecutor(max_retries=2)).fit(X, y)
    assert marker.exists()  # one worker really died
    assert int(marker.read_text()) != os.getpid()
    local = IterativeCorrector(checker, n_branches=2, n_iterations=1, random_state=0,
                               executor=LocalExecutor()).fit(X, y)
    np.testing.assert_array_equal(on_ray.labels_, local.labels_)
    assert on_ray.n_fits_ == 10


def test_cli_engine_ray(ray_runtime: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album"], "weather": ["rain", "sunny", "forecast"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab}
            for i in range(60) for lab, w in words.items()]
    data = tmp_path / "d.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out, run = tmp_path / "o.csv", tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "clean", str(data), "--text-column", "text", "--engine", "ray", "--branches", "2",
        "-o", str(out), "--run-dir", str(run), "-q",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["options"]["engine"] == "ray"
    assert len(pd.read_csv(out)) == 120


def test_engine_errors() -> None:
    with pytest.raises(InvalidInputError, match="unknown engine"):
        make_executor("dask")
    with pytest.raises(InvalidInputError, match="--engine ray"):
        make_executor("local", ray_address="auto")
    with pytest.raises(InvalidInputError, match="cpus_per_task"):
        RayExecutor(cpus_per_task=0)


def test_missing_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    with pytest.raises(MissingDependencyError, match=r"pico-clean\[ray\]"):
        list(RayExecutor().map_unordered(lambda s, t: t, 0, [1]))
