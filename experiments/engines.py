"""Engines and checkers: checker fits per second and full-run wall time on CLINC150.

One default PICO run (``IterativeCorrector()``: its default split shape for the rows,
iterations, label-history model and relabel rule, recorded in the results) per
configuration on the same features and noisy labels (CLINC150, 20% within-domain
noise): the local engine with 1 and 2 workers, Ray with 1 and 2 CPUs, and the batched
PyTorch checker (CPU, and CUDA when a GPU is present). The baseline, in the same run: cleanlab's
``find_label_issues`` on 5-fold cross-validated probabilities of scikit-learn's
``LogisticRegression``; each configuration's wall time is given as a ratio to it.

Usage::

    python experiments/engines.py              # every configuration
    python experiments/engines.py --quick      # a 1,500-row subsample (CI smoke run)

Writes docs/benchmarks-engines.md and experiments/results/engines.json (or --doc,
--json).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
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

from experiments.loaders import datasets_available
from experiments.evaluate import log, machine_info, prepare_dataset
from experiments.suite.provenance import code_version
from experiments.suite.scenarios import cells_for, featurize
from pico.api import text_groups
from pico.benchmarking.metrics import correction_metrics
from pico.corrector import IterativeCorrector, split_shape

DEFAULT_DOC = REPO / "docs" / "benchmarks-engines.md"
DEFAULT_JSON = REPO / "experiments" / "results" / "engines.json"

#: name -> (engine, workers, checker)
CONFIGS: dict[str, tuple[str, int, str]] = {
    "local, 1 worker": ("local", 1, "softmax"),
    "local, 2 workers": ("local", 2, "softmax"),
    "Ray, 1 CPU": ("ray", 1, "softmax"),
    "Ray, 2 CPUs": ("ray", 2, "softmax"),
    "torch batched (CPU), 1 worker": ("local", 1, "torch-cpu"),
    "torch batched (CUDA)": ("local", 1, "torch-cuda"),
}


def _checker(name: str) -> Any:
    if name == "softmax":
        return None
    from pico.checkers.torch import TorchChecker

    return TorchChecker(device="cuda" if name == "torch-cuda" else "cpu")


def cleanlab_baseline(X: Any, noisy: np.ndarray, *, seed: int) -> tuple[np.ndarray, float]:
    """cleanlab ``both`` on 5-fold LogisticRegression probabilities; labels and seconds."""
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1):  # one BLAS thread, as every PICO worker
        probs = cross_val_predict(
            LogisticRegression(max_iter=1000), X, noisy, cv=folds, method="predict_proba"
        )
    issues = find_label_issues(noisy, probs, filter_by="both")
    labels = np.where(issues, probs.argmax(axis=1), noisy)
    return labels, time.perf_counter() - start


def run_config(
    name: str, X: Any, noisy: np.ndarray, groups: np.ndarray, *, seed: int
) -> dict[str, Any]:
    """One default PICO run on the given engine and checker."""
    from pico.executors import RayExecutor, make_executor

    engine, workers, checker = CONFIGS[name]
    # Ray gets exactly ``workers`` CPUs (make_executor gives a local runtime every core
    # when n_jobs is 1).
    executor = (
        RayExecutor(num_cpus=workers) if engine == "ray" else make_executor(engine, n_jobs=workers)
    )
    try:
        if engine == "ray":  # start the runtime outside the timed run, as a cluster would be
            executor._ray()  # type: ignore[attr-defined]
        start = time.perf_counter()
        corr = IterativeCorrector(_checker(checker), executor=executor, n_jobs=workers,
                                  random_state=seed).fit(X, noisy, groups=groups)
        seconds = time.perf_counter() - start
    finally:
        if hasattr(executor, "shutdown"):
            executor.shutdown()
    fit_s = sum(it["fit_seconds"] for it in corr.iterations_)
    return {
        "seconds": round(seconds, 2),
        "fit_seconds": round(fit_s, 2),
        "fits": corr.n_fits_,
        "fits_per_second": round(corr.n_fits_ / fit_s, 3),
        "labels": corr.labels_,
    }


#: The corrector options a run records (``IterativeCorrector()`` defaults at that commit).
PICO_KEYS = ("n_branches", "n_folds", "n_iterations", "history", "relabel_odds")


def describe(pico: dict[str, Any] | None) -> str:
    """The PICO configuration of a run, in words."""
    if not pico:  # runs recorded before the options were: the one-iteration vote
        return "4 branches x 5 folds, one iteration of the vote"
    return (
        f"{pico['n_branches']} branches x {pico['n_folds']} folds, up to "
        f"{pico['n_iterations']} iterations"
        + (" with the label-history model" if pico["history"] else " of the vote")
        + f", relabel odds {pico['relabel_odds']:g}"
    )


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    out = [
        "# Engines and checkers: speed on CLINC150",
        "",
        f"A default PICO run ({describe(meta.get('pico'))}) on "
        f"{meta.get('rows', '?')} rows of {meta.get('cell', '?')}, featurized once "
        "(not counted below), per engine and "
        "checker. Baseline in the same run: cleanlab `find_label_issues(filter_by='both')` "
        "on 5-fold cross-validated probabilities of scikit-learn's `LogisticRegression` "
        "(flagged rows relabeled to the argmax), one process with one BLAS thread like "
        "each PICO worker.",
        "",
        f"- Command: `{meta['command']}`",
        f"- Commit {meta['commit']}, {meta['date']}, {meta['machine'].get('cpu_count')} cores "
        f"({meta['machine'].get('processor') or 'cpu'}); GPU: {meta.get('gpu') or 'none'}"
        + (" — **quick mode: a subsample, not a measurement**" if meta["quick"] else ""),
        "",
        "| configuration | wall s | x cleanlab CV | checker fits | fits / s | label accuracy | "
        "damage |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = results["baseline"]
    out.append(
        f"| cleanlab both, sklearn LogisticRegression 5-fold CV | {base['seconds']:.1f} | 1.00 "
        f"| 5 | | {base['accuracy_after']:.4f} | {base['damage']} |"
    )
    for name, r in results["configs"].items():
        if "skipped" in r:
            out.append(f"| {name} | skipped: {r['skipped']} | | | | | |")
            continue
        mark = " (b)" if "run" in r else ""
        out.append(
            f"| {name}{mark} | {r['seconds']:.1f} | "
            f"{r['seconds'] / r.get('baseline_seconds', base['seconds']):.2f} | "
            f"{r['fits']} | {r['fits_per_second']:.2f} | {r['accuracy_after']:.4f} | "
            f"{r['damage']} |"
        )
    out += [
        "",
        f"Label accuracy before cleaning: {results['accuracy_before']:.4f}. "
        "`same labels as local, 1 worker`: "
        + ", ".join(
            f"{name} {'yes' if r.get('same_labels') else 'no'}"
            for name, r in results["configs"].items() if "skipped" not in r
        )
        + ".",
    ]
    later = {r["run"]["command"]: (r["run"], r["baseline_seconds"])
             for r in results["configs"].values() if "run" in r}
    for command, (run, seconds) in later.items():
        note = (
            f"(b) From a second run, `{command}` (commit {run['commit']}, {run['date']}), "
            f"ratio to that run's own cleanlab baseline ({seconds:.1f} s); its labels are "
            "compared with that run's local labels."
        )
        out += ["", note]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--doc", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true",
                        help="redraw the page from the JSON results, run nothing")
    parser.add_argument("--add", type=Path, nargs="+", default=[],
                        help="with --report-only: configurations of these later runs replace "
                        "or join the JSON's (each keeps the ratio to its own run's baseline)")
    args = parser.parse_args(argv)
    doc, json_path = args.doc or DEFAULT_DOC, args.json or DEFAULT_JSON
    if args.report_only:
        saved: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
        for extra in args.add:
            later = json.loads(extra.read_text(encoding="utf-8"))
            for name, r in later["configs"].items():
                if later["meta"].get("pico") != saved["meta"].get("pico"):
                    name = f"{name}, {describe(later['meta'].get('pico'))}"
                saved["configs"][name] = {
                    **r, "baseline_seconds": later["baseline"]["seconds"],
                    "run": later["meta"],
                }
        doc.write_text(render(saved), encoding="utf-8")
        log(f"wrote {doc}")
        return saved
    results: dict[str, Any] = {
        "meta": {
            "command": "python experiments/engines.py "
            + shlex.join(sys.argv[1:] if argv is None else argv),
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": code_version(),
            "quick": args.quick,
            "seed": args.seed,
            "machine": machine_info(),
            "pico": {key: getattr(IterativeCorrector(), key) for key in PICO_KEYS},
        },
        "configs": {},
    }
    if not datasets_available("clinc150"):
        log("[clinc150] skipped: dataset folder not found (set PICO_DATASETS)")
        return results
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        gpu = None
    results["meta"]["gpu"] = gpu
    dataset = prepare_dataset("clinc150", quick=args.quick, seed=args.seed, jobs=1)
    cell = cells_for(dataset, ["within-group"], [0.2], seed=args.seed)[0]
    start = time.perf_counter()
    X, _ = featurize(dataset, cell.rows, cell.subsample)
    results["meta"].update(
        rows=len(cell.rows), cell=cell.key,
        featurize_seconds=round(time.perf_counter() - start, 2),
    )
    shape = split_shape(len(cell.rows))  # what IterativeCorrector() runs on these rows
    results["meta"]["pico"].update(n_branches=shape[0], n_folds=shape[1])
    groups = text_groups(cell.texts)
    clean, noisy = cell.clean, cell.noisy
    results["accuracy_before"] = float(np.mean(noisy == clean))
    log("cleanlab both on 5-fold LogisticRegression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels, seconds = cleanlab_baseline(X, noisy, seed=args.seed)
    results["baseline"] = {"seconds": round(seconds, 2),
                           **correction_metrics(clean, noisy, labels)}
    log(f"  {seconds:.1f}s, accuracy {results['baseline']['accuracy_after']:.4f}")
    reference = None
    for name in args.configs:
        checker = CONFIGS[name][2]
        if checker == "torch-cuda" and gpu is None:
            results["configs"][name] = {"skipped": "no CUDA GPU on this machine"}
            log(f"{name}: skipped (no CUDA GPU)")
            continue
        log(name)
        r = run_config(name, X, noisy, groups, seed=args.seed)
        labels = r.pop("labels")
        if reference is None and CONFIGS[name][0] == "local" and checker == "softmax":
            reference = labels  # the first local numpy run: what the others must equal
        r["same_labels"] = bool(reference is not None and np.array_equal(labels, reference))
        r.update(correction_metrics(clean, noisy, labels))
        results["configs"][name] = r
        log(f"  {r['seconds']:.1f}s, {r['fits_per_second']:.2f} fits/s, accuracy "
            f"{r['accuracy_after']:.4f}")
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1, default=float) + "\n")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1, default=float) + "\n")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(results), encoding="utf-8")
    log(f"wrote {json_path} and {doc}")
    return results


if __name__ == "__main__":
    main()
