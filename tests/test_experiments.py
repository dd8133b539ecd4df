"""The evaluation suite: its noise cells, its extra cells and metrics, and the whole command
in quick mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.loaders import datasets_available, hint3_available
from experiments.suite import methods as M
from experiments.suite.metrics import (
    catch_all_flows,
    class_subset_metrics,
    review_average_precision,
    review_counts,
)
from experiments.suite.scenarios import (
    Dataset,
    catch_all_cell,
    cells_for,
    fewshot_cell,
    make_cell,
    real_cell,
)


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


# --- the extra cells: real noise, few-shot intents, the catch-all ---------------------


def test_fewshot_cell_cuts_intents_then_adds_within_group_noise() -> None:
    ds = toy_dataset(k=8, per_class=50)
    cell = fewshot_cell(ds, seed=5, n_classes=3, min_rows=3, max_rows=10, rate=0.1)
    assert cell.key == "toy/within-group/0.1" and cell.subsample == "fewshot"
    sizes = np.bincount(cell.clean, minlength=8)
    cut = [int(np.flatnonzero(ds.class_names == c)[0]) for c in cell.info["small_classes"]]
    assert len(cut) == 3 and sorted(cut) == cut
    assert [int(sizes[c]) for c in cut] == cell.info["small_sizes"]
    assert all(3 <= sizes[c] <= 10 for c in cut)
    assert all(sizes[c] == 50 for c in range(8) if c not in cut)
    assert np.array_equal(np.sort(cell.small_classes), np.sort(cut))
    # the rows are a sorted subset; the cut intents keep rows of their own
    assert np.all(np.diff(cell.rows) > 0) and np.all(ds.clean[cell.rows] == cell.clean)
    # then exactly round(0.1 N) rows flip, each within its group
    moved = cell.noisy != cell.clean
    assert moved.sum() == round(0.1 * len(cell.rows))
    assert np.all(ds.class_group[cell.noisy[moved]] == ds.class_group[cell.clean[moved]])
    given_small = np.isin(cell.noisy, cut)
    assert cell.info["rows_labeled_small"] == given_small.sum()
    assert cell.info["rows_labeled_small_wrong"] == np.sum(given_small & moved)
    # seeded
    again = fewshot_cell(ds, seed=5, n_classes=3, min_rows=3, max_rows=10, rate=0.1)
    assert np.array_equal(again.rows, cell.rows) and np.array_equal(again.noisy, cell.noisy)
    other = fewshot_cell(ds, seed=6, n_classes=3, min_rows=3, max_rows=10, rate=0.1)
    assert not np.array_equal(other.rows, cell.rows)
    with pytest.raises(ValueError, match="only 8 have"):
        fewshot_cell(ds, seed=0, n_classes=9)


def catch_all_toy(oos_rows: int = 60) -> Dataset:
    ds = toy_dataset(k=6, per_class=50)
    names = np.array(["a1", "a2", "b1", "b2", "c1", "oos"])
    clean = np.concatenate([np.repeat(np.arange(5), 50), np.full(oos_rows, 5)])
    return Dataset(
        name="toy-catchall", texts=[f"row {i}" for i in range(len(clean))],
        class_names=names, clean=clean, class_group=np.array(list("aabbco")),
        test_texts=[], test_clean=ds.test_clean, catch_all="oos",
    )


def test_catch_all_cell_moves_rows_into_and_out_of_the_catch_all() -> None:
    ds = catch_all_toy()
    assert ds.catch_all_code == 5 and not ds.has_test
    cell = catch_all_cell(ds, seed=1, rate=0.1)
    n = round(0.1 * 310)  # 31 flips: 16 in-scope rows to oos, 15 oos rows out
    assert cell.key == "toy-catchall/catch-all/0.1"
    moved = cell.noisy != cell.clean
    assert moved.sum() == n
    into = moved & (cell.noisy == 5)
    out = moved & (cell.clean == 5)
    assert into.sum() == 16 and out.sum() == 15 and (into | out).sum() == n
    assert np.all(cell.clean[into] != 5) and np.all(cell.noisy[out] != 5)
    assert cell.info == {"catch_all": "oos", "catch_all_rows": 60,
                         "in_scope_to_catch_all": 16, "catch_all_to_in_scope": 15}
    assert np.array_equal(catch_all_cell(ds, seed=1, rate=0.1).noisy, cell.noisy)
    assert not np.array_equal(catch_all_cell(ds, seed=2, rate=0.1).noisy, cell.noisy)
    with pytest.raises(ValueError, match="catch-all"):
        catch_all_cell(catch_all_toy(oos_rows=5), seed=0, rate=0.2)
    with pytest.raises(ValueError, match="no catch-all"):
        catch_all_cell(toy_dataset(), seed=0)


def test_real_cell_takes_the_published_labels() -> None:
    ds = catch_all_toy(oos_rows=10)
    given = ds.clean.copy()
    given[[0, 1]] = 5  # two in-scope rows published as oos
    given[-1] = 0  # one oos row published as an intent
    ds.given = given
    cell = real_cell(ds)
    assert cell.key == "toy-catchall/real" and np.array_equal(cell.noisy, given)
    assert cell.rate == pytest.approx(3 / 260)
    assert cell.info["in_scope_given_catch_all"] == 2
    assert cell.info["catch_all_given_in_scope"] == 1
    with pytest.raises(ValueError, match="published"):
        real_cell(toy_dataset())


def test_review_average_precision_by_hand() -> None:
    given = np.array([0, 1, 1, 2, 2, 0])
    clean = np.array([0, 1, 2, 2, 0, 0])  # rows 2 and 4 are wrong
    # ranking: row 2 (pos), row 1 (neg), row 4 (pos), rest: AP = (1/1 + 2/3) / 2
    score = np.array([0.1, 0.8, 0.9, 0.2, 0.7, 0.0])
    assert review_average_precision(given, clean, score) == pytest.approx((1 + 2 / 3) / 2)
    assert review_average_precision(given, clean, -score) == pytest.approx(
        (1 / 4 + 2 / 6) / 2  # reversed: row 5,0,3 (neg), 4 (pos), 1 (neg), 2 (pos)
    )
    assert review_average_precision(given, given, score) is None  # nothing wrong
    nan = score.copy()
    nan[4] = np.nan  # ranks last
    assert review_average_precision(given, clean, nan) == pytest.approx((1 + 2 / 6) / 2)
    with pytest.raises(ValueError, match="shape"):
        review_average_precision(given, clean, score[:3])


def test_review_small_class_and_catch_all_counts() -> None:
    clean = np.array([0, 0, 1, 1, 9, 9, 9])
    given = np.array([0, 1, 1, 9, 9, 9, 0])
    new = np.array([1, 0, 1, 1, 0, 9, 9])
    assert review_counts(given, clean, [True, True, False, True, False, False, False]) == {
        "review": 3, "review_wrong": 2}
    assert class_subset_metrics(clean, given, new, [0]) == {
        "rows": 2, "right_before": 1, "damage": 1, "fixed": 1, "wrongly_moved_in": 1}
    assert catch_all_flows(clean, given, new, 9) == {
        "into": 1, "into_right": 1, "out": 2, "out_right": 1, "other": 2,
        "catch_all_damage": 1}


@pytest.mark.skipif(
    not (datasets_available("clinc150") and hint3_available()),
    reason="CLINC150 / HINT3 not available",
)
def test_quick_extra_cells_end_to_end(tmp_path: Path) -> None:
    from experiments import evaluate
    from experiments.suite.scenarios import EXTRA_DATASETS

    doc, out = tmp_path / "real.md", tmp_path / "real.json"
    args = ["--quick", "--jobs", "1", "--datasets", *EXTRA_DATASETS,
            "--doc", str(doc), "--json", str(out)]
    results = evaluate.main(args)
    cells = {c["key"]: c for c in results["cells"]}
    assert set(cells) == {
        "hint3-curekart/real", "hint3-sofmattress/real",
        "clinc150-fewshot/within-group/0.1", "clinc150-catchall/catch-all/0.1",
    }
    assert cells["hint3-curekart/real"]["rows"] == 1590
    assert round(cells["hint3-sofmattress/real"]["measured_noise_rate"] * 725) == 39
    for key, c in cells.items():
        assert set(c["methods"]) == set(M.METHODS)
        hint3 = key.startswith("hint3")
        assert c["test_split"] is not hint3
        for name, m in c["methods"].items():
            assert (m["test_accuracy"] is None) is hint3
            if name == M.NONE:
                assert m["review_ap"] is None and m["changed"] == 0
                continue
            assert 0.0 <= m["review_ap"] <= 1.0 and m["review_score"]
            if name.startswith("PICO"):
                assert 0 <= m["review_wrong"] <= m["review"]
                assert m["review"] == m["status_counts"].get("review", 0)
            if c["catch_all"]:
                f = m["catch_all"]
                assert f["into"] + f["out"] + f["other"] == m["changed"]
        cleanlab = c["methods"][M.CLEANLAB_BOTH]
        assert cleanlab["review_ap"] == c["methods"][M.CLEANLAB_PRUNE]["review_ap"]
    assert cells["clinc150-fewshot/within-group/0.1"]["small_classes"]
    text = doc.read_text()
    for heading in ("# Real noise, few-shot intents and the catch-all", "## Summary",
                    "### Review AP", "## hint3-curekart/real", "Small intents",
                    "into `oos`", "Quick mode"):
        assert heading in text
    assert json.loads(out.read_text())["cells"] == json.loads(json.dumps(results["cells"]))
    again = tmp_path / "again.md"
    evaluate.main(["--report-only", "--datasets", "hint3-curekart", "--json", str(out),
                   "--doc", str(again)])
    redrawn = [line for line in again.read_text().splitlines()
               if not line.startswith("- Page drawn from the saved results")]
    assert redrawn == text.splitlines()


def test_extra_cells_skip_without_their_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments import evaluate

    monkeypatch.setenv("PICO_DATASETS", str(tmp_path))
    doc, out = tmp_path / "real.md", tmp_path / "real.json"
    results = evaluate.main(["--datasets", "hint3-curekart", "clinc150-catchall",
                             "--doc", str(doc), "--json", str(out)])
    assert results["cells"] == []
    assert results["skipped"] == ["hint3-curekart", "clinc150-catchall"]
    assert "Skipped: dataset folder not found." in doc.read_text()
    with pytest.raises(SystemExit, match="without the grid"):
        evaluate.main(["--datasets", "clinc150", "hint3-curekart", "--doc", str(doc)])


# --- the pages drawn from committed results ---------------------------------------------


def test_trigger_variants_are_arguments_of_check() -> None:
    import importlib
    import inspect

    import pico
    from experiments.trigger_variants import VARIANTS
    from pico.trigger.check import CheckSettings

    check_module = importlib.import_module("pico.trigger.check")
    parameters = set(inspect.signature(pico.check).parameters)
    constants = {name: getattr(check_module, name) for name in
                 ("VOTE", "COLLAPSE_RATIO", "COLLAPSE_COUNT", "CENTROID_TEMPERATURE")}
    for name, build in VARIANTS.items():
        kwargs = build()
        assert set(kwargs) <= parameters, name
        if "settings" in kwargs:
            assert isinstance(kwargs["settings"], CheckSettings)
            assert kwargs["settings"] != CheckSettings(), name  # each differs from the check
    assert VARIANTS["default"]() == {}
    assert VARIANTS["vote-10-steps"]()["settings"].vote["max_iter"] == 10
    assert VARIANTS["no-collapse"]()["settings"].collapse_ratio == float("inf")
    # building the variants leaves the check's own settings alone
    assert constants == {name: getattr(check_module, name) for name in constants}


def test_trigger_comparisons_are_drawn_from_the_committed_variant_runs() -> None:
    from experiments.trigger_variants import COMPARISONS, RESULTS, cited_files, render_comparisons

    assert all((RESULTS / name).exists() for name in cited_files())
    text = "\n".join(render_comparisons())
    for comparison in COMPARISONS:
        assert f"### {comparison.title}" in text
        for row in comparison.rows:
            saved = json.loads((RESULTS / row.file).read_text())
            summary = saved["meta"][row.variant]
            assert (f"| {row.label} | {saved['meta']['seed']} | {summary['within']} of "
                    f"{summary['cells']} | {100 * summary['mean_abs_error']:.2f} |") in text
            assert row.baseline is None or row.baseline in {r.label for r in comparison.rows}


def test_real_noise_page_shows_the_verdicts_and_counts_them() -> None:
    from experiments.real_noise import render, verdict_counts

    def change(text: str, confidence: float) -> dict:
        return {"text": text, "given": "a", "label": "b", "confidence": confidence}

    changes = [change("x  one", 0.95), change("two", 0.8), change("three", 0.5),
               change("four", 0.4)]
    results = {
        "meta": {"command": "python experiments/real_noise.py", "date": "2026-01-01",
                 "commit": "abc", "machine": {"cpu_count": 2, "python": "3.11"}},
        "datasets": [{"name": "toy", "rows": 400, "classes": 2, "seconds": 3.2,
                      "options": {"n_branches": 2, "n_folds": 10, "relabel_odds": 7.0},
                      "relabeled": 4, "review": 1, "changes": changes}],
    }
    verdicts = {"verdicts": {"toy": [
        {"text": "x one", "given": "a", "label": "b", "verdict": "right"},
        {"text": "two", "given": "a", "label": "b", "verdict": "wrong"},
        {"text": "three", "given": "a", "label": "b", "verdict": "unclear",
         "note": "neither label fits"},
        {"text": "four", "given": "a", "label": "c", "verdict": "right"},  # another change
    ]}}
    page = render(results, verdicts)
    assert "| 1 | x one | a | b | 0.950 | right |" in page
    assert "| 3 | three | a | b | 0.500 | unclear (neither label fits) |" in page
    assert "| 4 | four | a | b | 0.400 | not judged |" in page
    assert ("Read by hand: 1 right, 1 wrong, 1 unclear, 1 not judged of 4 changes; at "
            "confidence 0.9 or more, 1 right, 0 wrong, 0 unclear; at confidence 0.7 to 0.9, "
            "0 right, 1 wrong, 0 unclear; at confidence below 0.7, 0 right, 0 wrong, "
            "1 unclear, 1 not judged.") in page
    keyed = {("two", "a", "b"): "wrong"}
    assert verdict_counts(changes, keyed) == {
        "right": 0, "wrong": 1, "unclear": 0, "not judged": 3}
    unread = render(results, None)
    assert "| 2 | two | a | b | 0.800 | not judged |" in unread and "Read by hand" not in unread
