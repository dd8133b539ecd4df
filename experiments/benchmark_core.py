"""Core benchmark: pico against cleanlab on CLINC150 and BANKING77, in one run.

Every method sees the same texts, the same features (:class:`TfidfFeaturizer`) and the
same checker (:class:`SoftmaxRegression` with its defaults), so differences come from
how the checkers' predictions are turned into label corrections:

- ``pico``: ``pico.clean(texts, noisy_labels, random_state=seed, n_jobs=jobs)`` with its
  defaults (R branches x F folds x T iterations, Bayesian vote, relabel threshold).
- ``cleanlab (prune_by_noise_rate)``: 5-fold stratified out-of-fold ``predict_proba``,
  ``cleanlab.filter.find_label_issues(..., filter_by='prune_by_noise_rate')``, flagged
  rows relabeled to the argmax of the out-of-fold probabilities.
- ``cleanlab (both)``: the same out-of-fold probabilities with ``filter_by='both'``.

Scenarios (``--scenarios``):

- ``clinc-within20``: CLINC150 train, 20% of labels moved to another intent of the
  same domain.
- ``clinc-clean``: CLINC150 train as published (no injected noise): every change is
  either a fix of a real annotation error or damage; measured against the given labels.
- ``banking-confusable20``: BANKING77 train, 20% of labels moved to one of the 3
  intents a checker trained on the clean labels confuses them with most.

Metrics per (scenario, method), against the clean labels: label accuracy before and
after, rows changed, precision of the changes, damage (correct labels made wrong),
fixed (wrong labels made right), wall seconds; for pico also the ratio of its wall time
to the baseline's cross-validation and to the whole baseline, its checker fits and its
status counts.

Usage::

    python experiments/benchmark_core.py                 # full run, writes docs/benchmarks.md
    python experiments/benchmark_core.py --quick         # small smoke run (< 2 minutes)
    python experiments/benchmark_core.py --scenarios clinc-clean --jobs 4

Raw results go to ``experiments/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cleanlab
from cleanlab.filter import find_label_issues
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

import pico
from datasets.loaders import (
    datasets_available,
    load_banking77,
    load_clinc150,
)
from pico.benchmarking.noise import confusable_noise, within_group_noise
from pico.checkers.linear import SoftmaxRegression
from pico.featurizers.tfidf import TfidfFeaturizer

SCENARIOS = ("clinc-within20", "clinc-clean", "banking-confusable20")
NOISE_RATE = 0.2
CV_FOLDS = 5
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
PICO = "pico"
CLEANLAB_PRUNE = "cleanlab (prune_by_noise_rate)"
CLEANLAB_BOTH = "cleanlab (both)"
DEFAULT_DOC = REPO / "docs" / "benchmarks.md"
QUICK_DOC = REPO / "experiments" / "results" / "benchmarks-quick.md"
DEFAULT_JSON = REPO / "experiments" / "results" / "benchmark_core.json"
QUICK_JSON = REPO / "experiments" / "results" / "benchmark_core-quick.json"

#: Subsample sizes of ``--quick``: (classes, rows per class) and CLINC150 domains.
QUICK_CLINC = {"domains": 2, "classes": 20, "rows": 30}
QUICK_BANKING = {"classes": 15, "rows": 30}
QUICK_PICO = {"n_branches": 2, "n_iterations": 1}


def log(message: str) -> None:
    """Print a progress line at once (runs are long; output may be piped)."""
    print(message, flush=True)


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """One dataset with clean and noisy labels, ready for every method.

    ``clean`` and ``noisy`` are integer codes into ``class_names``.
    """

    name: str
    dataset: str
    description: str
    texts: list[str]
    class_names: np.ndarray
    clean: np.ndarray
    noisy: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        """K, the number of classes."""
        return len(self.class_names)


def encode(labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sorted class names and the integer code of each label."""
    names, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return names, codes.astype(np.int64)


def subsample_classes(
    frame: pd.DataFrame, *, n_classes: int, rows: int, rng: np.random.Generator
) -> pd.DataFrame:
    """``rows`` random rows of each of ``n_classes`` random classes of ``frame``."""
    pool = np.unique(frame["label"])
    chosen = rng.choice(pool, size=min(n_classes, len(pool)), replace=False)
    parts = []
    for c in sorted(chosen.tolist()):
        idx = np.flatnonzero(frame["label"].to_numpy() == c)
        parts.append(rng.choice(idx, size=min(rows, idx.size), replace=False))
    return frame.iloc[np.sort(np.concatenate(parts))].reset_index(drop=True)


def quick_clinc(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """CLINC150 quick subsample: classes split evenly over a few random domains."""
    domains = rng.choice(np.unique(frame["domain"]), size=QUICK_CLINC["domains"], replace=False)
    per_domain = QUICK_CLINC["classes"] // QUICK_CLINC["domains"]
    parts = []
    for d in sorted(domains.tolist()):
        sub = frame[frame["domain"] == d]
        parts.append(
            subsample_classes(sub, n_classes=per_domain, rows=QUICK_CLINC["rows"], rng=rng)
        )
    return pd.concat(parts, ignore_index=True)


def load_clinc_scenario(name: str, *, noisy: bool, quick: bool, seed: int) -> Scenario:
    """CLINC150 train, with 20% within-domain noise or as published."""
    frame = load_clinc150("train")
    if quick:
        frame = quick_clinc(frame, np.random.default_rng(seed))
    names, clean = encode(frame["label"])
    domain_of = frame.groupby("label")["domain"].first()
    groups = domain_of.loc[names].to_numpy()
    if noisy:
        labels = within_group_noise(clean, rate=NOISE_RATE, groups=groups, random_state=seed)
        desc = (
            f"CLINC150 train, {NOISE_RATE:.0%} of labels moved to another intent of the "
            "same domain"
        )
    else:
        labels = clean.copy()
        desc = "CLINC150 train as published, no injected noise (scored against the given labels)"
    return Scenario(
        name, "clinc150", desc, frame["text"].tolist(), names, clean, labels,
        {"domains": len(np.unique(groups))},
    )


def confusion_scores(y: np.ndarray, pred_probs: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) confusion scores: out-of-fold probability mass per true class, zero diagonal.

    ``scores[i, j]`` is the sum of ``p(j | x)`` over the rows whose true class is ``i``.
    """
    scores = np.zeros((n_classes, n_classes))
    np.add.at(scores, y, pred_probs)
    np.fill_diagonal(scores, 0.0)
    return scores


def load_banking_scenario(name: str, *, quick: bool, seed: int, jobs: int) -> Scenario:
    """BANKING77 train with 20% confusable-pair noise from a clean-label checker."""
    frame = load_banking77("train")
    if quick:
        frame = subsample_classes(
            frame,
            n_classes=QUICK_BANKING["classes"],
            rows=QUICK_BANKING["rows"],
            rng=np.random.default_rng(seed),
        )
    names, clean = encode(frame["label"])
    texts = frame["text"].tolist()
    X = TfidfFeaturizer().fit_transform(texts)
    log(f"  [{name}] out-of-fold probabilities on the clean labels for the confusion matrix")
    probs, seconds = out_of_fold_pred_probs(X, clean, len(names), jobs=jobs, seed=seed)
    conf = confusion_scores(clean, probs, len(names))
    noisy = confusable_noise(clean, rate=NOISE_RATE, confusion=conf, top=3, random_state=seed)
    desc = (
        f"BANKING77 train, {NOISE_RATE:.0%} of labels moved to one of the 3 intents a checker "
        "trained on the clean labels confuses them with most"
    )
    return Scenario(
        name, "banking77", desc, texts, names, clean, noisy,
        {"confusion_cv_seconds": round(seconds, 3)},
    )


def build_scenario(name: str, *, quick: bool, seed: int, jobs: int) -> Scenario | None:
    """The scenario called ``name``, or None (with a message) when its data is missing."""
    dataset = "banking77" if name.startswith("banking") else "clinc150"
    if not datasets_available(dataset):
        log(f"[{name}] skipped: dataset folder '{dataset}' not found (set PICO_DATASETS)")
        return None
    if name == "clinc-within20":
        return load_clinc_scenario(name, noisy=True, quick=quick, seed=seed)
    if name == "clinc-clean":
        return load_clinc_scenario(name, noisy=False, quick=quick, seed=seed)
    if name == "banking-confusable20":
        return load_banking_scenario(name, quick=quick, seed=seed, jobs=jobs)
    raise ValueError(f"unknown scenario {name!r}; choose from {SCENARIOS}")


# --------------------------------------------------------------------------- methods


def _fit_fold(
    X: Any,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    single_thread: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Train the default checker on ``train`` and return (test rows, (n_test, K) probs)."""

    def run() -> tuple[np.ndarray, np.ndarray]:
        clf = SoftmaxRegression().fit(X[train], y[train])
        probs = np.zeros((len(test), n_classes))
        probs[:, clf.classes_] = clf.predict_proba(X[test])
        return test, probs

    if single_thread:
        with threadpool_limits(limits=1):
            return run()
    return run()


def out_of_fold_pred_probs(
    X: Any, y: np.ndarray, n_classes: int, *, jobs: int, seed: int, n_folds: int = CV_FOLDS
) -> tuple[np.ndarray, float]:
    """Stratified ``n_folds``-fold out-of-fold probabilities (N, K) and the seconds spent.

    Folds run in ``jobs`` joblib workers with one BLAS thread each (as pico's local
    executor does), or in this process when ``jobs == 1``.
    """
    start = time.perf_counter()
    splits = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, y))
    if jobs == 1:
        parts = [_fit_fold(X, y, tr, te, n_classes, False) for tr, te in splits]
    else:
        parts = Parallel(n_jobs=min(jobs, len(splits)))(
            delayed(_fit_fold)(X, y, tr, te, n_classes, True) for tr, te in splits
        )
    probs = np.zeros((len(y), n_classes))
    for test, p in parts:
        probs[test] = p
    return probs, time.perf_counter() - start


def run_pico(scn: Scenario, *, jobs: int, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """Run ``pico.clean`` on the noisy string labels; return new codes, timing and summary."""

    def progress(event: str, info: dict[str, Any]) -> None:
        if event == "iteration":
            log(
                f"    pico iteration {info['iteration']}: {info['changed']} changed, "
                f"{info['differ_from_given']} differ from given, {info['seconds']:.1f}s"
            )

    given = scn.class_names[scn.noisy]
    start = time.perf_counter()
    result = pico.clean(
        scn.texts, given, random_state=seed, n_jobs=jobs, progress=progress, **options
    )
    wall = time.perf_counter() - start
    index = {c: i for i, c in enumerate(scn.class_names.tolist())}
    new = np.array([index[str(v)] for v in result.labels], dtype=np.int64)
    suggested = np.array([index[str(v)] for v in result.suggested], dtype=np.int64)
    sweep = []
    for threshold in THRESHOLDS:
        # With one iteration the final decision is exactly "suggested if its posterior
        # reaches the threshold", so every threshold is read off the same run.
        moved = np.where(result.suggested_confidence >= threshold, suggested, scn.noisy)
        sweep.append({"threshold": threshold, **label_metrics(scn.clean, scn.noisy, moved)})
    summary = result.summary
    return {
        "labels": new,
        "wall_seconds": wall,
        "extra": {
            "checker_fits": int(summary["checker_fits"]),
            "status_counts": dict(summary["status_counts"]),
            "iterations": len(summary["iterations"]),
            "estimated_noise_rate": summary["estimated_noise_rate"],
            "timings": summary["timings"],
            "options": {**summary["options"]},
            "threshold_sweep": sweep if len(summary["iterations"]) == 1 else [],
        },
    }


def run_cleanlab(scn: Scenario, *, jobs: int, seed: int) -> dict[str, dict[str, Any]]:
    """The cleanlab baseline: features, 5-fold CV, then both filters on the same probs.

    Returns one entry per method name, each with new codes and timings. The
    ``prune_by_noise_rate`` wall time covers features, CV and its filter; the ``both``
    wall time covers features, the same CV and its own filter.
    """
    start = time.perf_counter()
    X = TfidfFeaturizer().fit_transform(scn.texts)
    feat_seconds = time.perf_counter() - start
    probs, cv_seconds = out_of_fold_pred_probs(X, scn.noisy, scn.n_classes, jobs=jobs, seed=seed)
    argmax = probs.argmax(axis=1)
    out: dict[str, dict[str, Any]] = {}
    for method, filter_by in ((CLEANLAB_PRUNE, "prune_by_noise_rate"), (CLEANLAB_BOTH, "both")):
        t0 = time.perf_counter()
        issues = find_label_issues(scn.noisy, probs, filter_by=filter_by, n_jobs=jobs)
        filter_seconds = time.perf_counter() - t0
        new = np.where(issues, argmax, scn.noisy)
        out[method] = {
            "labels": new,
            "wall_seconds": feat_seconds + cv_seconds + filter_seconds,
            "extra": {
                "flagged": int(issues.sum()),
                "featurize_seconds": round(feat_seconds, 3),
                "cv_seconds": round(cv_seconds, 3),
                "filter_seconds": round(filter_seconds, 3),
            },
        }
    return out


def warm_up_workers(jobs: int) -> None:
    """Start the joblib worker pool (and import the checker there) before any timing."""
    if jobs != 1:
        Parallel(n_jobs=jobs)(delayed(_import_checker)() for _ in range(max(jobs, 1) * 2))


def _import_checker() -> str:
    from pico.checkers.linear import SoftmaxRegression as checker

    return checker.__name__


# --------------------------------------------------------------------------- metrics


def label_metrics(clean: np.ndarray, noisy: np.ndarray, new: np.ndarray) -> dict[str, Any]:
    """Accuracy before/after, changes, precision of the changes, damage and fixes."""
    changed = new != noisy
    n_changed = int(changed.sum())
    right_before = noisy == clean
    right_after = new == clean
    return {
        "rows": len(clean),
        "accuracy_before": float(right_before.mean()),
        "accuracy_after": float(right_after.mean()),
        "changed": n_changed,
        "precision": float(right_after[changed].mean()) if n_changed else None,
        "damage": int((right_before & ~right_after).sum()),
        "fixed": int((~right_before & right_after).sum()),
    }


def evaluate(
    scn: Scenario, *, jobs: int, seed: int, pico_options: dict[str, Any]
) -> dict[str, Any]:
    """Run every method on one scenario and return its JSON-ready record."""
    log(f"  [{scn.name}] cleanlab baseline: features + {CV_FOLDS}-fold CV + find_label_issues")
    baseline = run_cleanlab(scn, jobs=jobs, seed=seed)
    prune = baseline[CLEANLAB_PRUNE]
    log(
        f"    cleanlab: CV {prune['extra']['cv_seconds']:.1f}s, whole baseline "
        f"{prune['wall_seconds']:.1f}s, flagged {prune['extra']['flagged']} (prune) / "
        f"{baseline[CLEANLAB_BOTH]['extra']['flagged']} (both)"
    )
    log(f"  [{scn.name}] pico.clean")
    pico_run = run_pico(scn, jobs=jobs, seed=seed, options=pico_options)
    cv = prune["extra"]["cv_seconds"]
    pico_run["extra"]["ratio_to_cleanlab_cv"] = pico_run["wall_seconds"] / max(cv, 1e-9)
    pico_run["extra"]["ratio_to_cleanlab_total"] = pico_run["wall_seconds"] / max(
        prune["wall_seconds"], 1e-9
    )
    log(
        f"    pico: {pico_run['wall_seconds']:.1f}s = "
        f"{pico_run['extra']['ratio_to_cleanlab_cv']:.1f}x the cleanlab CV, "
        f"{pico_run['extra']['checker_fits']} checker fits"
    )
    methods = {}
    for method, run in ((PICO, pico_run), *baseline.items()):
        metrics = label_metrics(scn.clean, scn.noisy, run["labels"])
        metrics["wall_seconds"] = round(run["wall_seconds"], 3)
        methods[method] = {**metrics, **run["extra"]}
        log(
            f"    {method}: accuracy {metrics['accuracy_before']:.4f} -> "
            f"{metrics['accuracy_after']:.4f}, changed {metrics['changed']}, "
            f"damage {metrics['damage']}, fixed {metrics['fixed']}"
        )
    return {
        "scenario": scn.name,
        "dataset": scn.dataset,
        "description": scn.description,
        "rows": len(scn.texts),
        "classes": scn.n_classes,
        "injected_noise_rate": float(np.mean(scn.noisy != scn.clean)),
        "info": scn.info,
        "methods": methods,
    }


# --------------------------------------------------------------------------- report


def machine_info() -> dict[str, Any]:
    """Cores, processor name and Python version of this machine."""
    processor = platform.processor()
    if not processor:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    processor = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
    return {
        "cpu_count": os.cpu_count(),
        "processor": processor or platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "cleanlab": cleanlab.__version__,
        "pico": getattr(pico, "__version__", "unknown"),
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _fmt_ratio(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}x"


def scenario_table(record: dict[str, Any]) -> list[str]:
    """Markdown table of one scenario's metrics, one row per method."""
    lines = [
        "| method | accuracy before | accuracy after | changed | precision of changes "
        "| damage | fixed | wall s | pico / cleanlab CV | pico / whole cleanlab "
        "| checker fits | status counts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, m in record["methods"].items():
        status = m.get("status_counts")
        status_txt = ", ".join(f"{k} {v}" for k, v in status.items() if v) if status else ""
        fits = str(m["checker_fits"]) if "checker_fits" in m else f"{CV_FOLDS}"
        lines.append(
            f"| {method} | {_pct(m['accuracy_before'])} | {_pct(m['accuracy_after'])} "
            f"| {m['changed']} | {_pct(m['precision'])} | {m['damage']} | {m['fixed']} "
            f"| {m['wall_seconds']:.1f} | {_fmt_ratio(m.get('ratio_to_cleanlab_cv'))} "
            f"| {_fmt_ratio(m.get('ratio_to_cleanlab_total'))} | {fits} | {status_txt} |"
        )
    return lines


def sweep_table(record: dict[str, Any]) -> list[str]:
    """pico's relabel-threshold trade-off, read off the same run (one iteration)."""
    sweep = record["methods"][PICO].get("threshold_sweep") or []
    if not sweep:
        return []
    lines = [
        "pico's relabel threshold (`--threshold`, default 0.6), read off the same run: a "
        "row is relabeled when its most probable label's posterior reaches the threshold.",
        "",
        "| threshold | accuracy after | changed | precision of changes | damage | fixed |",
        "|---|---|---|---|---|---|",
    ]
    for m in sweep:
        lines.append(
            f"| {m['threshold']:.2f} | {_pct(m['accuracy_after'])} | {m['changed']} "
            f"| {_pct(m['precision'])} | {m['damage']} | {m['fixed']} |"
        )
    return ["", *lines]


def _best(methods: dict[str, dict[str, Any]], key: str, highest: bool) -> list[str]:
    values = {name: m[key] for name, m in methods.items()}
    target = max(values.values()) if highest else min(values.values())
    return [name for name, v in values.items() if v == target]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def scenario_verdict(record: dict[str, Any]) -> str:
    """One generated sentence: who has the higher accuracy and the lower damage."""
    methods = record["methods"]
    acc = _best(methods, "accuracy_after", highest=True)
    dmg = _best(methods, "damage", highest=False)
    acc_txt = ", ".join(f"{n} {_pct(m['accuracy_after'])}" for n, m in methods.items())
    dmg_txt = ", ".join(f"{n} {m['damage']}" for n, m in methods.items())
    tie_acc = " (tied)" if len(acc) > 1 else ""
    tie_dmg = " (tied)" if len(dmg) > 1 else ""
    sentence = (
        f"Highest accuracy after cleaning: {_join(acc)}{tie_acc} ({acc_txt}); "
        f"lowest damage: {_join(dmg)}{tie_dmg} ({dmg_txt} rows)."
    )
    p = methods.get(PICO, {})
    if "ratio_to_cleanlab_cv" in p:
        sentence += (
            f" pico took {p['ratio_to_cleanlab_cv']:.1f}x the time of cleanlab's "
            f"{CV_FOLDS}-fold cross-validation ({p['ratio_to_cleanlab_total']:.1f}x the whole "
            f"baseline) with {p['checker_fits']} checker fits."
        )
    return sentence


def render_markdown(results: dict[str, Any]) -> str:
    """The whole benchmark page, regenerated from ``results``."""
    meta = results["meta"]
    mach = meta["machine"]
    cmd = "python experiments/benchmark_core.py" + (" --quick" if meta["quick"] else "")
    out = [
        "# Benchmarks: pico vs cleanlab",
        "",
        f"Generated by `{cmd}` (arguments: `{' '.join(meta['argv']) or 'none'}`) on "
        f"{meta['date']}. Do not edit by hand: rerun the command to regenerate this page.",
        "",
        f"- Machine: {mach['cpu_count']} cores ({mach['processor']}), Python {mach['python']}, "
        f"{mach['platform']}",
        f"- Versions: pico {mach['pico']}, cleanlab {mach['cleanlab']}, numpy {mach['numpy']}",
        f"- Workers: `--jobs {meta['jobs']}` for pico and the baseline's folds; seed "
        f"{meta['seed']}.",
        "- Same features (`TfidfFeaturizer`) and checker (`SoftmaxRegression()` defaults) "
        "for every method. pico runs `pico.clean` with "
        + (
            ", ".join(f"`{k}={v}`" for k, v in meta["pico_options"].items())
            if meta["pico_options"]
            else "its defaults"
        )
        + f". cleanlab uses {CV_FOLDS}-fold stratified out-of-fold probabilities, "
        "`find_label_issues`, and relabels flagged rows to the argmax; its `both` "
        "variant reuses the same probabilities.",
        "- Metrics are against the clean labels. *Precision of changes*: fraction of "
        "changed rows whose new label is the clean one. *Damage*: rows whose given label "
        "was right and is now wrong. *Fixed*: wrong rows made right. *Wall s*: pico's "
        "whole `clean` call (featurization included); cleanlab's features + CV + filter.",
    ]
    if meta["quick"]:
        out += ["", "**Quick mode**: small subsamples, a smoke test, not a measurement."]
    for record in results["scenarios"]:
        out += [
            "",
            f"## {record['scenario']}",
            "",
            f"{record['description']}. {record['rows']} rows, {record['classes']} classes, "
            f"{_pct(record['injected_noise_rate'])} of labels differ from the clean ones.",
            "",
            *scenario_table(record),
            "",
            scenario_verdict(record),
            *sweep_table(record),
        ]
    for name in results.get("skipped", []):
        out += ["", f"## {name}", "", "Skipped: dataset not found."]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS),
        help="scenarios to run (default: all)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of noise, folds, pico")
    parser.add_argument(
        "--quick", action="store_true",
        help="small subsamples and n_branches=2, n_iterations=1 for pico (smoke test)",
    )
    parser.add_argument(
        "--doc", type=Path, default=None,
        help=f"markdown output (default {DEFAULT_DOC.relative_to(REPO)}, "
        f"or {QUICK_DOC.relative_to(REPO)} with --quick)",
    )
    parser.add_argument(
        "--json", type=Path, default=None,
        help=f"raw results (default {DEFAULT_JSON.relative_to(REPO)}, "
        f"or {QUICK_JSON.relative_to(REPO)} with --quick)",
    )
    return parser.parse_args(argv)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    log(f"wrote {path}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the selected scenarios, write the JSON results and the markdown page."""
    args = parse_args(argv)
    doc = args.doc or (QUICK_DOC if args.quick else DEFAULT_DOC)
    json_path = args.json or (QUICK_JSON if args.quick else DEFAULT_JSON)
    pico_options = dict(QUICK_PICO) if args.quick else {}
    results: dict[str, Any] = {
        "meta": {
            "argv": sys.argv[1:] if argv is None else list(argv),
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "quick": args.quick,
            "jobs": args.jobs,
            "seed": args.seed,
            "pico_options": pico_options,
            "machine": machine_info(),
        },
        "scenarios": [],
        "skipped": [],
    }
    log(f"benchmark_core: scenarios {args.scenarios}, jobs {args.jobs}, quick {args.quick}")
    warm_up_workers(args.jobs)
    start = time.perf_counter()
    for name in args.scenarios:
        log(f"[{name}] loading")
        scn = build_scenario(name, quick=args.quick, seed=args.seed, jobs=args.jobs)
        if scn is None:
            results["skipped"].append(name)
            continue
        log(
            f"[{name}] {len(scn.texts)} rows, {scn.n_classes} classes, "
            f"noise {np.mean(scn.noisy != scn.clean):.3f}"
        )
        record = evaluate(scn, jobs=args.jobs, seed=args.seed, pico_options=pico_options)
        results["scenarios"].append(record)
    results["meta"]["total_seconds"] = round(time.perf_counter() - start, 3)
    write(json_path, json.dumps(_jsonable(results), indent=2) + "\n")
    write(doc, render_markdown(results))
    log(f"done in {results['meta']['total_seconds']:.1f}s")
    return results


if __name__ == "__main__":
    main()
