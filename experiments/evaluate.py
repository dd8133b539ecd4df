"""The evaluation suite: every label-correction claim of PICO, from one command.

For each dataset (CLINC150, BANKING77) x noise model x rate (see
``experiments/suite/scenarios.py``), every method (``experiments/suite/methods.py``)
cleans the same noisy labels with the same features and checker; the clean labels
score the result:

- label accuracy after cleaning; precision, recall and F1 of the changed labels;
  damage (right labels made wrong);
- average precision of finding the rows whose final label is still wrong by sorting
  on the method's confidence in it (``pico_confidence`` for PICO);
- accuracy on the clean test split of a checker trained on the corrected labels;
- wall seconds and checker fits.

The extra cells (real noise on two HINT3 bots, CLINC150 with few-shot intents,
CLINC150 with its out-of-scope catch-all; ``EXTRA_DATASETS`` in
``experiments/suite/scenarios.py``) run when ``--datasets`` names them, alone: they go
to ``experiments/results/evaluate-real.json`` and ``docs/benchmarks-real.md``. There
every method also reports the review-ranking average precision of its per-row score
(``experiments/suite/metrics.py``), PICO its rows sent to review, and each method what
it did to the small intents and to the catch-all.

Usage::

    python experiments/evaluate.py                       # everything -> docs/benchmarks.md
    python experiments/evaluate.py --quick               # small end-to-end check (CI)
    python experiments/evaluate.py --datasets banking77 --noise confusable --rates 0.2
    python experiments/evaluate.py --report-only         # redraw the page from the JSON
    python experiments/evaluate.py --datasets hint3-curekart hint3-sofmattress \
        clinc150-fewshot clinc150-catchall               # -> docs/benchmarks-real.md

Raw results go to ``experiments/results/`` (the JSON is committed); plots to ``docs/img/``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from experiments.loaders import datasets_available
from experiments.suite import methods as M
from experiments.suite.metrics import (
    catch_all_flows,
    class_subset_metrics,
    review_average_precision,
    review_counts,
)
from experiments.suite.provenance import code_diff_digest, code_version
from experiments.suite.report import render_markdown, write_plots
from experiments.suite.report_real import render_real_markdown
from experiments.suite.scenarios import (
    DATASETS,
    EXTRA_DATASETS,
    NOISE_MODELS,
    RATES,
    Cell,
    Dataset,
    cells_for,
    extra_available,
    extra_cell,
    featurize,
    load_dataset,
    load_extra,
)
from pico.benchmarking.metrics import (
    calibration_bins,
    correction_metrics,
    ranking_average_precision,
)
from pico.corrector import IterativeCorrector

DEFAULT_DOC = REPO / "docs" / "benchmarks.md"
DEFAULT_JSON = REPO / "experiments" / "results" / "evaluate.json"
DEFAULT_IMG = REPO / "docs" / "img"
#: Where the extra cells (real noise, few-shot, catch-all) go by default.
EXTRA_DOC = REPO / "docs" / "benchmarks-real.md"
EXTRA_JSON = REPO / "experiments" / "results" / "evaluate-real.json"
QUICK_OUT = REPO / "experiments" / "results" / "quick"
QUICK_PICO = {"n_branches": 2, "n_folds": 3}
QUICK_SHARED = {"n_branches": 2, "n_folds": 3}
#: What ``--quick`` runs: every noise model once, over both datasets.
QUICK_CELLS = {
    "clinc150": [("within-group", 0.0), ("within-group", 0.2), ("generic-specific", 0.2)],
    "banking77": [("confusable", 0.2), ("uniform", 0.2), ("imbalanced-confusable", 0.2)],
}


def log(message: str) -> None:
    """Print a progress line at once (runs are long; output may be piped)."""
    stamp = _dt.datetime.now().strftime("%H:%M:%S")
    print(f"{stamp} {message}", flush=True)


def confusion_scores(y: np.ndarray, probs: np.ndarray, k: int) -> np.ndarray:
    """(K, K) out-of-fold probability mass per true class, zero diagonal."""
    scores = np.zeros((k, k))
    np.add.at(scores, y, probs)
    np.fill_diagonal(scores, 0.0)
    return scores


def prepare_dataset(name: str, *, quick: bool, seed: int, jobs: int) -> Dataset:
    """Load, featurize and fit the clean-label confusion that confusable noise uses."""
    dataset = load_dataset(name, quick=quick, seed=seed)
    X, _ = featurize(dataset, np.arange(len(dataset.clean)), "full")
    start = time.perf_counter()
    probs = M.cross_val_probs(X, dataset.clean, dataset.n_classes, jobs=jobs, seed=seed)
    dataset.confusion = confusion_scores(dataset.clean, probs, dataset.n_classes)
    log(
        f"[{name}] {len(dataset.clean)} rows, {dataset.n_classes} classes, "
        f"{len(np.unique(dataset.class_group))} groups; clean-label checker "
        f"{np.mean(probs.argmax(axis=1) == dataset.clean):.3f} out-of-fold accuracy "
        f"({time.perf_counter() - start:.0f}s)"
    )
    return dataset


def prepare_extra(name: str, *, quick: bool, seed: int) -> Cell:
    """Load an extra dataset (real noise, few-shot, catch-all) and build its one cell."""
    dataset = load_extra(name, quick=quick, seed=seed)
    cell = extra_cell(dataset, seed=seed, quick=quick)
    log(
        f"[{name}] {len(cell.rows)} rows, {dataset.n_classes} classes, "
        f"{np.mean(cell.noisy != cell.clean):.3f} noise, "
        f"{len(cell.small_classes)} classes of <= 10 rows, catch-all {dataset.catch_all}, "
        f"{'a' if dataset.has_test else 'no'} test split"
    )
    return cell


def _same_config(options: dict[str, Any], vote_options: dict[str, Any]) -> bool:
    defaults = IterativeCorrector().__dict__
    a = {**defaults, **options}
    b = {**defaults, **vote_options}
    return a == b


def evaluate_cell(
    cell: Cell,
    *,
    jobs: int,
    seed: int,
    pico_options: dict[str, Any],
    methods: tuple[str, ...] = M.METHODS,
    shared_splits: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Run every method on one cell; return its JSON-ready record."""
    shared_splits = shared_splits or {
        "n_branches": M.SHARED_BRANCHES, "n_folds": M.SHARED_FOLDS
    }
    ds = cell.dataset
    k = ds.n_classes
    X, X_test = featurize(ds, cell.rows, cell.subsample)
    clean, noisy = cell.clean, cell.noisy
    outcomes: dict[str, M.Outcome] = {M.NONE: M.Outcome(noisy, None, 0.0, 0)}
    if M.CLEANLAB_PRUNE in methods or M.CLEANLAB_BOTH in methods:
        log(f"    cleanlab: {M.CV_FOLDS}-fold CV + find_label_issues")
        outcomes.update(M.run_cleanlab(X, noisy, k, jobs=jobs, seed=seed))
    if {M.MAJORITY, M.DAWID_SKENE, M.MEAN_VOTE, M.MEAN_VOTE_HALF} & set(methods):
        log(f"    MultiSplit {shared_splits['n_branches']}x{shared_splits['n_folds']}: "
            "majority, Dawid-Skene, mean vote")
        outcomes.update(
            M.run_multisplit_votes(X, noisy, k, jobs=jobs, seed=seed, log=log, **shared_splits)
        )
    names = ds.class_names[noisy]
    ran: list[tuple[dict[str, Any], str]] = []
    for variant, extra in M.PICO_VARIANTS.items():
        if variant not in methods:
            continue
        options = {**pico_options, **extra}
        same = next((name for opts, name in ran if _same_config(opts, options)), None)
        if same is not None:
            outcomes[variant] = outcomes[same].same_run(same)
            continue
        log(f"    {variant}")
        outcomes[variant] = M.run_pico(
            cell.texts, names, ds.class_names, jobs=jobs, seed=seed, options=options, log=log
        )
        ran.append((options, variant))
    outcomes = {m: outcomes[m] for m in M.METHODS if m in outcomes}
    if X_test is not None:
        log("    test-split accuracy of a checker trained on each method's labels")
    test_acc = M.test_accuracy(
        X, X_test, ds.test_clean, {n: o.labels for n, o in outcomes.items()}, jobs=jobs
    )
    small = cell.small_classes
    catch_all = ds.catch_all_code
    records: dict[str, Any] = {}
    for name, out in outcomes.items():
        m = correction_metrics(clean, noisy, out.labels)
        m["average_precision"] = (
            None if out.confidence is None
            else ranking_average_precision(out.labels != clean, out.confidence)
        )
        m["review_ap"] = (
            None if out.review_score is None
            else review_average_precision(noisy, clean, out.review_score)
        )
        if out.review_score is not None:
            m["review_score"] = M.REVIEW_SCORES.get(name)
        if out.review is not None:
            m.update(review_counts(noisy, clean, out.review))
        if small.size:
            m["small_classes"] = class_subset_metrics(clean, noisy, out.labels, small)
        if catch_all is not None:
            m["catch_all"] = catch_all_flows(clean, noisy, out.labels, catch_all)
        if out.confidence is not None and name.startswith("PICO"):
            m["calibration"] = calibration_bins(out.labels == clean, out.confidence)
            moved = out.labels != noisy
            if moved.any():
                m["calibration_moved"] = calibration_bins(
                    out.labels[moved] == clean[moved], out.confidence[moved]
                )
        m["test_accuracy"] = test_acc[name]
        m["seconds"] = round(out.seconds, 3)
        m["fits"] = out.fits
        extra = {key: v for key, v in out.extra.items() if key != "threshold_labels"}
        records[name] = {**m, **extra}
        test = "n/a" if m["test_accuracy"] is None else f"{m['test_accuracy']:.4f}"
        review_ap = "" if m["review_ap"] is None else f"  review AP {m['review_ap']:.3f}"
        log(
            f"    {name:32s} acc {m['accuracy_before']:.4f} -> {m['accuracy_after']:.4f}  "
            f"changed {m['changed']:5d}  damage {m['damage']:4d}  test {test}"
            f"{review_ap}  {out.seconds:6.1f}s"
        )
    # "below": what a row below the threshold keeps (the given label). Sweeps saved
    # without it were computed with the default run's labels below every threshold, so
    # their rows above the default threshold are wrong; the page leaves them out.
    sweep = [
        {"threshold": t, "below": "given", **correction_metrics(clean, noisy, labels)}
        for t, labels in (
            outcomes[M.PICO_VOTE].extra.get("threshold_labels", {}) if M.PICO_VOTE in outcomes
            else {}
        ).items()
    ]
    return {
        "key": cell.key,
        "dataset": ds.name,
        "noise": cell.noise,
        "rate": cell.rate,
        "subsample": cell.subsample,
        "rows": int(len(clean)),
        "classes": int(k),
        "measured_noise_rate": float(np.mean(noisy != clean)),
        "info": cell.info,
        "test_split": X_test is not None,
        "small_classes": ds.class_names[small].tolist(),
        "catch_all": ds.catch_all,
        "methods": records,
        "not_run": dict(M.NOT_RUN),
        "pico_threshold_sweep": sweep,
    }


def machine_info() -> dict[str, Any]:
    """Cores, processor and versions of this machine."""
    processor = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import cleanlab
    import crowdkit
    import sklearn

    import pico

    return {
        "cpu_count": os.cpu_count(),
        "processor": processor or platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "cleanlab": cleanlab.__version__,
        "crowd-kit": getattr(crowdkit, "__version__", "unknown"),
        "pico": pico.__version__,
    }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (creating its folder) through a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=DATASETS + EXTRA_DATASETS, default=None,
        help=f"default: the grid ({' '.join(DATASETS)}); the extra cells "
        f"({' '.join(EXTRA_DATASETS)}: one cell each, their own page "
        f"{EXTRA_DOC.relative_to(REPO)} and results {EXTRA_JSON.relative_to(REPO)}) run "
        "only when named, without grid datasets",
    )
    parser.add_argument(
        "--noise", nargs="+", choices=NOISE_MODELS, default=None,
        help="noise models (default: all)",
    )
    parser.add_argument(
        "--rates", nargs="+", type=float, default=None,
        help=f"noise rates (default {' '.join(map(str, RATES))}; 0 0.2 with --quick)",
    )
    parser.add_argument(
        "--methods", nargs="+", choices=M.METHODS, default=list(M.METHODS),
        help="methods to run (default: all; 'no cleaning' always runs)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of noise, folds, checkers")
    parser.add_argument(
        "--quick", action="store_true",
        help="small subsamples, each noise model once at 0.2 plus one clean cell, "
        "n_branches=2 for PICO: checks the suite end to end (not a measurement)",
    )
    parser.add_argument("--doc", type=Path, default=None, help="markdown page to write")
    parser.add_argument("--json", type=Path, default=None, help="raw results to write")
    parser.add_argument("--img", type=Path, default=None, help="folder for the PNG plots")
    parser.add_argument(
        "--report-only", action="store_true",
        help="do not run anything: redraw the page and plots from the JSON results",
    )
    parser.add_argument(
        "--merge", nargs="+", type=Path, default=None,
        help="with --report-only: add the cells of these result files (runs of other parts "
        "of the grid) to the page",
    )
    parser.add_argument(
        "--update", nargs="+", type=Path, default=None,
        help="with --report-only: the methods these result files ran (e.g. a rerun of the "
        "PICO methods with --methods) replace the same methods of the same cells",
    )
    return parser.parse_args(argv)


def update_cells(results: dict[str, Any], more: dict[str, Any]) -> list[str]:
    """Replace the methods (and PICO's threshold sweep) that ``more`` ran in shared cells.

    Each replaced method records the commit that produced it (``method_commits``).
    Returns the names of the methods replaced.
    """
    commit = more["meta"].get("commit")
    by_key = {c["key"]: c for c in results["cells"]}
    replaced: set[str] = set()
    for cell in more["cells"]:
        base = by_key.get(cell["key"])
        if base is None:
            continue
        for name, record in cell["methods"].items():
            if name == M.NONE:
                continue
            base["methods"][name] = record
            base.setdefault("method_commits", {})[name] = commit
            replaced.add(name)
        if cell.get("pico_threshold_sweep"):
            base["pico_threshold_sweep"] = cell["pico_threshold_sweep"]
    return sorted(replaced)


def redraw(
    json_path: Path, doc: Path, img: Path, *, merge: Sequence[Path] = (),
    update: Sequence[Path] = (), rendered_by: str,
) -> dict[str, Any]:
    """Draw ``doc`` (and its plots in ``img``) from saved results, running nothing.

    ``merge``: result files whose cells join the page (runs of other parts of the grid);
    ``update``: result files whose methods replace the same methods of the same cells;
    ``rendered_by``: the command named on the page as the one that drew it.
    """
    results = json.loads(json_path.read_text(encoding="utf-8"))
    results["meta"]["rendered_by"] = rendered_by
    for extra in merge:
        more = json.loads(extra.read_text(encoding="utf-8"))
        keys = {c["key"] for c in results["cells"]}
        results["cells"] += [c for c in more["cells"] if c["key"] not in keys]
        results["meta"].setdefault("merged", []).append(
            {k: more["meta"].get(k) for k in ("command", "date", "commit", "total_seconds", "note")}
        )
    for extra in update:
        more = json.loads(extra.read_text(encoding="utf-8"))
        replaced = update_cells(results, more)
        results["meta"].setdefault("updated", []).append(
            {
                **{k: more["meta"].get(k) for k in ("command", "date", "commit", "note")},
                "methods": replaced,
                "cells": len({c["key"] for c in more["cells"]}),
            }
        )
    if results["meta"].get("extra"):
        write(doc, render_real_markdown(results))
    else:
        plots = write_plots(results, img)
        write(doc, render_markdown(results, plots, doc.parent))
    log(f"wrote {doc}")
    return results  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the selected cells, then write the JSON results, the plots and the page."""
    args = parse_args(argv)
    extra = [name for name in args.datasets or [] if name in EXTRA_DATASETS]
    if extra and len(extra) != len(args.datasets):
        raise SystemExit(
            "evaluate.py: error: the extra cells (" + ", ".join(EXTRA_DATASETS) + ") have "
            "their own page: run them without the grid datasets"
        )
    if extra and not args.report_only and (args.noise is not None or args.rates is not None):
        raise SystemExit(
            "evaluate.py: error: --noise and --rates select grid cells; each extra dataset "
            "is one fixed cell"
        )
    args.datasets = args.datasets or list(DATASETS)
    args.noise_given = args.noise is not None
    args.noise = args.noise or list(NOISE_MODELS)
    out = QUICK_OUT if args.quick else None
    if extra:
        doc = args.doc or (out / EXTRA_DOC.name if out else EXTRA_DOC)
        json_path = args.json or (out / EXTRA_JSON.name if out else EXTRA_JSON)
    else:
        doc = args.doc or (out / "benchmarks.md" if out else DEFAULT_DOC)
        json_path = args.json or (out / "evaluate.json" if out else DEFAULT_JSON)
    img = args.img or (out / "img" if out else DEFAULT_IMG)
    if args.report_only:
        return redraw(
            json_path, doc, img, merge=args.merge or (), update=args.update or (),
            rendered_by="python experiments/evaluate.py " + shlex.join(
                sys.argv[1:] if argv is None else argv
            ),
        )
    rates = args.rates or ([0.0, 0.2] if args.quick else list(RATES))
    # --quick alone: each noise model once, spread over the two datasets
    quick_cells = QUICK_CELLS if args.quick and not (args.rates or args.noise_given) else None
    pico_options = dict(QUICK_PICO) if args.quick else {}
    shared = dict(QUICK_SHARED) if args.quick else {
        "n_branches": M.SHARED_BRANCHES, "n_folds": M.SHARED_FOLDS
    }
    results: dict[str, Any] = {
        "meta": {
            "command": "python experiments/evaluate.py " + shlex.join(
                sys.argv[1:] if argv is None else argv
            ),
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": code_version(),
            "diff_digest": code_diff_digest(),
            "extra": bool(extra),
            "quick": args.quick,
            "jobs": args.jobs,
            "seed": args.seed,
            "rates": rates,
            "noise_models": args.noise,
            "methods": args.methods,
            "pico_options": pico_options,
            "shared_splits": shared,
            "machine": machine_info(),
        },
        "cells": [],
        "skipped": [],
    }
    start = time.perf_counter()

    def run_cell(cell: Any) -> None:
        """Evaluate one cell and save the results so far (a long run keeps its cells)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class")
            record = evaluate_cell(
                cell, jobs=args.jobs, seed=args.seed, pico_options=pico_options,
                methods=tuple(args.methods), shared_splits=shared,
            )
        results["cells"].append(record)
        results["meta"]["total_seconds"] = round(time.perf_counter() - start, 1)
        write(json_path, json.dumps(_jsonable(results), indent=1) + "\n")

    if extra:
        results["meta"]["rates"] = results["meta"]["noise_models"] = None
        log(f"evaluate: extra cells {extra}, jobs {args.jobs}, quick {args.quick}")
        for i, name in enumerate(extra, 1):
            if not extra_available(name):
                log(f"[{name}] skipped: dataset folder not found (set PICO_DATASETS)")
                results["skipped"].append(name)
                continue
            cell = prepare_extra(name, quick=args.quick, seed=args.seed)
            log(f"[{cell.key}] cell {i}/{len(extra)}")
            run_cell(cell)
        results["meta"]["total_seconds"] = round(time.perf_counter() - start, 1)
        write(json_path, json.dumps(_jsonable(results), indent=1) + "\n")
        write(doc, render_real_markdown(results))
        log(f"wrote {json_path} and {doc} in {time.perf_counter() - start:.0f}s")
        return results
    log(f"evaluate: datasets {args.datasets}, noise {args.noise}, rates {rates}, "
        f"jobs {args.jobs}, quick {args.quick}")
    for name in args.datasets:
        if not datasets_available(name):
            log(f"[{name}] skipped: dataset folder not found (set PICO_DATASETS)")
            results["skipped"].append(name)
            continue
        dataset = prepare_dataset(name, quick=args.quick, seed=args.seed, jobs=args.jobs)
        if quick_cells is not None:
            cells = [
                cell
                for noise, rate in quick_cells[name]
                for cell in cells_for(dataset, [noise], [rate], seed=args.seed)
            ]
        else:
            cells = cells_for(dataset, args.noise, rates, seed=args.seed)
        for i, cell in enumerate(cells, 1):
            log(
                f"[{cell.key}] cell {i}/{len(cells)}: {len(cell.rows)} rows, "
                f"{np.mean(cell.noisy != cell.clean):.3f} noise"
            )
            run_cell(cell)
    plots = write_plots(results, img)
    write(doc, render_markdown(results, plots, doc.parent))
    log(f"wrote {json_path} and {doc} in {time.perf_counter() - start:.0f}s")
    return results


if __name__ == "__main__":
    main()
