"""The evaluation suite: its noise cells, and the whole command in quick mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from datasets.loaders import datasets_available
from experiments.suite import methods as M
from experiments.suite.scenarios import Dataset, cells_for, make_cell


def toy_dataset(k: int = 8, per_class: int = 50) -> Dataset:
    clean = np.repeat(np.arange(k), per_class)
    groups = np.array(["a", "b"] * (k // 2))
    conf = np.random.default_rng(0).random((k, k))
    return Dataset(
        name="toy",
        texts=[f"row {i}" for i in range(len(clean))],
        class_names=np.array([f"c{i}" for i in range(k)]),
        clean=clean,
        class_group=groups,
        test_texts=[],
        test_clean=np.zeros(0, dtype=np.int64),
        confusion=conf,
    )


@pytest.mark.parametrize("noise", ["uniform", "within-group", "confusable", "generic-specific"])
@pytest.mark.parametrize("rate", [0.1, 0.2, 0.4])
def test_cells_hit_their_rate(noise: str, rate: float) -> None:
    ds = toy_dataset()
    cell = make_cell(ds, noise, rate, seed=3)
    measured = np.mean(cell.noisy != cell.clean)
    assert measured == pytest.approx(rate, abs=0.03)
    assert cell.key == f"toy/{noise}/{rate:g}"
    # the same seed gives the same cell; another seed another one
    assert np.array_equal(make_cell(ds, noise, rate, seed=3).noisy, cell.noisy)
    assert not np.array_equal(make_cell(ds, noise, rate, seed=4).noisy, cell.noisy)


def test_within_group_and_generic_noise_stay_in_the_group() -> None:
    ds = toy_dataset()
    for noise in ("within-group", "generic-specific"):
        cell = make_cell(ds, noise, 0.2, seed=0)
        moved = cell.noisy != cell.clean
        assert np.all(ds.class_group[cell.noisy[moved]] == ds.class_group[cell.clean[moved]])
    cell = make_cell(ds, "generic-specific", 0.1, seed=0)
    moved = cell.noisy != cell.clean
    # the same part of a few classes moves, each into one sibling
    sources = np.unique(cell.clean[moved])
    for c in sources:
        assert len(np.unique(cell.noisy[moved & (cell.clean == c)])) == 1
        assert np.sum(moved & (cell.clean == c)) == round(cell.info["fraction_moved"] * 50)
    assert cell.info["pairs"] == len(sources)


def test_rate_zero_is_one_cell_per_subsample() -> None:
    ds = toy_dataset()
    cells = cells_for(ds, ["uniform", "confusable", "imbalanced-confusable"], [0.0, 0.2], seed=0)
    keys = [c.key for c in cells]
    assert keys == [
        "toy/none/0", "toy/uniform/0.2", "toy/confusable/0.2",
        "toy/imbalanced-confusable/0", "toy/imbalanced-confusable/0.2",
    ]
    imb = cells[-1]
    sizes = np.bincount(imb.clean, minlength=8)
    assert sizes.max() == 50 and sizes.min() < 10 and len(imb.rows) < 400
    assert np.all(cells[0].noisy == cells[0].clean)


@pytest.mark.skipif(
    not (datasets_available("clinc150") and datasets_available("banking77")),
    reason="CLINC150 / BANKING77 not available",
)
def test_quick_suite_end_to_end(tmp_path: Path) -> None:
    from experiments import evaluate

    doc, out, img = tmp_path / "bench.md", tmp_path / "bench.json", tmp_path / "img"
    args = ["--quick", "--jobs", "1", "--doc", str(doc), "--json", str(out), "--img", str(img)]
    results = evaluate.main(args)
    cells = results["cells"]
    keys = {c["key"] for c in cells}
    assert keys == {
        "clinc150/none/0", "clinc150/within-group/0.2", "clinc150/generic-specific/0.2",
        "banking77/confusable/0.2", "banking77/uniform/0.2",
        "banking77/imbalanced-confusable/0.2",
    }
    for c in cells:
        assert set(c["methods"]) == set(M.METHODS)
        none = c["methods"][M.NONE]
        assert none["changed"] == 0 and none["accuracy_after"] == none["accuracy_before"]
        assert none["accuracy_before"] == pytest.approx(1 - c["measured_noise_rate"])
        # --quick shares a 2 x 3 MultiSplit round: 3 rounds of 6 fits
        assert c["methods"][M.MEAN_VOTE]["fits"] == c["methods"][M.MEAN_VOTE_HALF]["fits"] == 18
        for m in c["methods"].values():
            assert 0.0 <= m["accuracy_after"] <= 1.0 and 0.0 <= m["test_accuracy"] <= 1.0
        vote = c["methods"][M.PICO_VOTE]
        at_default = [s for s in c["pico_threshold_sweep"] if s["threshold"] == 0.6][0]
        assert (at_default["changed"], at_default["damage"]) == (vote["changed"], vote["damage"])
        # a higher threshold moves a subset of the rows a lower one moves
        changed = [s["changed"] for s in sorted(c["pico_threshold_sweep"],
                                                key=lambda s: s["threshold"])]
        assert changed == sorted(changed, reverse=True)
        if c["rate"] > 0 and vote["changed"] >= 10:
            assert changed[-1] < vote["changed"]
    noisy = [c for c in cells if c["rate"] > 0]
    # cleaning helps on average: PICO raises label accuracy over the noisy labels
    gain = np.mean([c["methods"][M.PICO_DEFAULT]["accuracy_after"]
                    - c["methods"][M.NONE]["accuracy_after"] for c in noisy])
    assert gain > 0
    text = doc.read_text()
    for heading in ("## CLINC150", "## BANKING77", "### Label accuracy after cleaning",
                    "### Where PICO's defaults are behind a baseline", "Quick mode",
                    "### Calibration of pico_confidence by noise model"):
        assert heading in text
    for png in ("accuracy-clinc150.png", "precision-recall-banking77.png",
                "calibration-clinc150.png"):
        assert (img / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"img/{png}" in text
    assert json.loads(out.read_text())["cells"] == json.loads(json.dumps(cells))
    # the page is redrawn from the JSON alone
    doc2 = tmp_path / "again.md"
    evaluate.main(["--report-only", "--json", str(out), "--doc", str(doc2), "--img", str(img)])
    redrawn = doc2.read_text().splitlines()
    drawn_by = [line for line in redrawn if line.startswith("- Page drawn from the saved results")]
    assert len(drawn_by) == 1 and "--report-only" in drawn_by[0]
    assert [line for line in redrawn if line not in drawn_by] == text.splitlines()


def test_update_replaces_only_the_methods_the_newer_run_has() -> None:
    from experiments.evaluate import update_cells

    def cell(key: str, methods: dict[str, float]) -> dict:
        return {"key": key, "methods": {m: {"accuracy_after": a} for m, a in methods.items()}}

    base = {"cells": [cell("d/x/0.2", {M.NONE: 0.8, M.CLEANLAB_BOTH: 0.9, M.PICO_VOTE: 0.91}),
                      cell("d/y/0.2", {M.NONE: 0.7, M.PICO_VOTE: 0.75})]}
    newer = {"meta": {"commit": "abc"},
             "cells": [cell("d/x/0.2", {M.NONE: 0.8, M.PICO_VOTE: 0.95}),
                       cell("d/z/0.2", {M.NONE: 0.6, M.PICO_VOTE: 0.65})]}
    newer["cells"][0]["pico_threshold_sweep"] = [{"threshold": 0.6}]
    assert update_cells(base, newer) == [M.PICO_VOTE]
    x, y = base["cells"]
    assert x["methods"][M.PICO_VOTE]["accuracy_after"] == 0.95
    assert x["methods"][M.CLEANLAB_BOTH]["accuracy_after"] == 0.9
    assert x["method_commits"] == {M.PICO_VOTE: "abc"}
    assert x["pico_threshold_sweep"] == [{"threshold": 0.6}]
    assert y["methods"][M.PICO_VOTE]["accuracy_after"] == 0.75 and "method_commits" not in y
    assert [c["key"] for c in base["cells"]] == ["d/x/0.2", "d/y/0.2"]


@pytest.mark.skipif(
    not (datasets_available("clinc150") and datasets_available("banking77")),
    reason="CLINC150 / BANKING77 not available",
)
def test_quick_trigger_benchmark(tmp_path: Path) -> None:
    from experiments import trigger

    doc, out = tmp_path / "trigger.md", tmp_path / "trigger.json"
    results = trigger.main(["--quick", "--doc", str(doc), "--json", str(out)])
    cells = results["cells"]
    assert len(cells) == 6
    for c in cells:
        for tool in ("pico", "cleanlab"):
            est = c[tool]["estimate"]
            assert 0.0 <= est <= 1.0
            assert c[tool]["error"] == pytest.approx(est - c["true_rate"], abs=2e-4)
        low, high = c["pico"]["interval"]
        assert low <= c["pico"]["estimate"] <= high
    timed = [c for c in cells if "clean_seconds" in c]
    assert len(timed) == 2  # the first cell of each dataset
    assert all(c["check_to_clean"] > 0 for c in timed)
    text = doc.read_text()
    assert "quick mode" in text and "| clinc150/none/0 |" in text
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))


@pytest.mark.slow
@pytest.mark.skipif(not datasets_available("clinc150"), reason="CLINC150 not available")
def test_quick_engines_benchmark(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    pytest.importorskip("torch")
    from experiments import engines

    doc, out = tmp_path / "engines.md", tmp_path / "engines.json"
    results = engines.main(["--quick", "--doc", str(doc), "--json", str(out)])
    ran = {name: r for name, r in results["configs"].items() if "skipped" not in r}
    assert {"local, 1 worker", "Ray, 2 CPUs", "torch batched (CPU), 1 worker"} <= set(ran)
    for name, r in ran.items():
        assert r["fits"] == 20 and r["fits_per_second"] > 0
        if not name.startswith("torch"):
            assert r["same_labels"], name  # every engine gives the local labels
    assert results["baseline"]["seconds"] > 0
    text = doc.read_text()
    assert "x cleanlab CV" in text and "quick mode" in text
    again = tmp_path / "again.md"
    engines.main(["--report-only", "--json", str(out), "--doc", str(again)])
    assert again.read_text() == text


@pytest.mark.spark
def test_quick_store_scale_benchmark(tmp_path: Path) -> None:
    import shutil

    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    from experiments import scale

    doc, out = tmp_path / "spark.md", tmp_path / "spark.json"
    scale.main(["--quick", "--stores", "--doc", str(doc), "--json", str(out)])
    results = json.loads(out.read_text())["results"]
    assert [r["store"] for r in results] == ["memory", "spark"]
    memory, spark = results
    # the same evidence through both stores: the same outcome
    assert spark["accuracy_after"] == memory["accuracy_after"]
    assert spark["accuracy_after"] > spark["accuracy_given"]
    assert spark["em_steps"] == memory["em_steps"]
    assert spark["build_s"] > 0 and spark["peak_mb"] > memory["peak_mb"] > 0
    text = doc.read_text()
    assert "| 3,000 | 50 | 4 | spark |" in text and "--stores --quick" in text
    assert "Both stores end with the same accuracy" in text and "Spark driver at" in text
