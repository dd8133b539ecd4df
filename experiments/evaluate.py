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

Usage::

    python experiments/evaluate.py                       # everything -> docs/benchmarks.md
    python experiments/evaluate.py --quick               # small end-to-end check (CI)
    python experiments/evaluate.py --datasets banking77 --noise confusable --rates 0.2
    python experiments/evaluate.py --report-only         # redraw the page from the JSON

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
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from datasets.loaders import datasets_available
from experiments.suite import methods as M
from experiments.suite.provenance import code_version
from experiments.suite.report import render_markdown, write_plots
from experiments.suite.scenarios import (
    DATASETS,
    NOISE_MODELS,
    RATES,
    Cell,
    Dataset,
    cells_for,
    featurize,
    load_dataset,
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
            o = outcomes[same]
            outcomes[variant] = M.Outcome(
                o.labels, o.confidence, o.seconds, o.fits, {**o.extra, "same_run_as": same}
            )
            continue
        log(f"    {variant}")
        outcomes[variant] = M.run_pico(
            cell.texts, names, ds.class_names, jobs=jobs, seed=seed, options=options, log=log
        )
        ran.append((options, variant))
    outcomes = {m: outcomes[m] for m in M.METHODS if m in outcomes}
    log("    test-split accuracy of a checker trained on each method's labels")
    test_acc = M.test_accuracy(
        X, X_test, ds.test_clean, {n: o.labels for n, o in outcomes.items()}, jobs=jobs
    )
    records: dict[str, Any] = {}
    for name, out in outcomes.items():
        m = correction_metrics(clean, noisy, out.labels)
        m["average_precision"] = (
            None if out.confidence is None
            else ranking_average_precision(out.labels != clean, out.confidence)
        )
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
        log(
            f"    {name:32s} acc {m['accuracy_before']:.4f} -> {m['accuracy_after']:.4f}  "
            f"changed {m['changed']:5d}  damage {m['damage']:4d}  test {m['test_accuracy']:.4f}"
            f"  {out.seconds:6.1f}s"
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
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the selected cells, then write the JSON results, the plots and the page."""
    args = parse_args(argv)
    args.noise_given = args.noise is not None
    args.noise = args.noise or list(NOISE_MODELS)
    out = QUICK_OUT if args.quick else None
    doc = args.doc or (out / "benchmarks.md" if out else DEFAULT_DOC)
    json_path = args.json or (out / "evaluate.json" if out else DEFAULT_JSON)
    img = args.img or (out / "img" if out else DEFAULT_IMG)
    if args.report_only:
        results = json.loads(json_path.read_text(encoding="utf-8"))
        results["meta"]["rendered_by"] = "python experiments/evaluate.py " + shlex.join(
            sys.argv[1:] if argv is None else argv
        )
        for extra in args.merge or []:
            more = json.loads(extra.read_text(encoding="utf-8"))
            keys = {c["key"] for c in results["cells"]}
            results["cells"] += [c for c in more["cells"] if c["key"] not in keys]
            results["meta"].setdefault("merged", []).append(
                {
                    k: more["meta"].get(k)
                    for k in ("command", "date", "commit", "total_seconds", "note")
                }
            )
        for extra in args.update or []:
            more = json.loads(extra.read_text(encoding="utf-8"))
            replaced = update_cells(results, more)
            results["meta"].setdefault("updated", []).append(
                {
                    **{k: more["meta"].get(k) for k in ("command", "date", "commit", "note")},
                    "methods": replaced,
                    "cells": len({c["key"] for c in more["cells"]}),
                }
            )
        plots = write_plots(results, img)
        write(doc, render_markdown(results, plots, doc.parent))
        log(f"wrote {doc}")
        return results  # type: ignore[no-any-return]
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
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The least populated class")
                record = evaluate_cell(
                    cell, jobs=args.jobs, seed=args.seed, pico_options=pico_options,
                    methods=tuple(args.methods), shared_splits=shared,
                )
            results["cells"].append(record)
            results["meta"]["total_seconds"] = round(time.perf_counter() - start, 1)
            write(json_path, json.dumps(_jsonable(results), indent=1) + "\n")
    plots = write_plots(results, img)
    write(doc, render_markdown(results, plots, doc.parent))
    log(f"wrote {json_path} and {doc} in {time.perf_counter() - start:.0f}s")
    return results


if __name__ == "__main__":
    main()
