"""Which rows the one-iteration vote would move, and how often those moves are right.

For each evaluation-suite cell given, runs ``IterativeCorrector`` with one iteration of
the vote (``history=False``) and reads off its posterior:

- the moves the vote proposes (rows whose most probable class is not the given label),
  binned by that class's posterior: how many, the share whose new class is right and the
  share whose given label was right (a move there is damage);
- the label accuracy and damage under every pair of ``relabel_threshold`` and
  ``relabel_odds`` (with one iteration a row moves exactly when both hold, so every pair
  can be read off one run).

This is the measurement behind the default ``relabel_odds``.

    python experiments/relabel_rule.py [--cells clinc150/within-group/0.2 ...] [--jobs 2]

It writes the tables to docs/benchmarks-relabel-rule.md (``--doc``).

With ``--defaults`` it runs ``pico.clean`` with its defaults instead (three iterations,
the label-history model, checkers trained on the likeliest labels), beside cleanlab
(``both``, on the same checker's 5-fold probabilities) in the same run, and reads off
the final posterior:

- the same bins of proposed moves;
- ``pico_confidence`` against accuracy, separately for the rows whose label moved and
  the rows that kept it (calibration);
- accuracy and damage for each ``relabel_odds`` at the default threshold. The returned
  labels do not feed back into what the checkers train on (``training_odds`` decides
  that), so every odds can be read off one run; the read-off leaves out the class-loss
  guard and the stopping test, and the table also shows the run's own labels.

    python experiments/relabel_rule.py --defaults --cells banking77/within-group/0.2 ...

which writes docs/benchmarks-relabel-defaults.md (``--doc``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pico
from experiments.evaluate import prepare_dataset
from experiments.suite import methods as M
from experiments.suite.provenance import code_version
from experiments.suite.scenarios import Cell, featurize, make_cell
from pico import IterativeCorrector
from pico.api import text_groups
from pico.corrector import relabel_mask

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
ODDS = (1.0, 3.0, 5.0, 7.0, 10.0, 30.0)
BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)
CONFIDENCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)


def read_off(
    clean: np.ndarray, noisy: np.ndarray, best: np.ndarray, best_p: np.ndarray,
    given_p: np.ndarray,
) -> tuple[list[str], list[str]]:
    """The bins of proposed moves and the threshold x odds grid, as table rows."""
    move = best != noisy
    bins = []
    for lo, hi in itertools.pairwise(BINS):
        rows = move & (best_p >= lo) & (best_p < hi)
        n = int(rows.sum())
        right = float(np.mean(best[rows] == clean[rows])) if n else float("nan")
        was_right = float(np.mean(noisy[rows] == clean[rows])) if n else float("nan")
        bins.append(f"| {lo:.2f}-{min(hi, 1.0):.2f} | {n} | {right:.3f} | {was_right:.3f} |")
    grid = []
    for t in THRESHOLDS:
        cols = []
        for r in ODDS:
            new = np.where(relabel_mask(best_p, given_p, t, r), best, noisy)
            damage = int(np.sum((noisy == clean) & (new != clean)))
            cols.append(f"{100 * np.mean(new == clean):.2f}% / {damage}")
        grid.append(f"| {t:.2f} | " + " | ".join(cols) + " |")
    return bins, grid


def _score(clean: np.ndarray, noisy: np.ndarray, new: np.ndarray) -> str:
    damage = int(np.sum((noisy == clean) & (new != clean)))
    return f"{100 * np.mean(new == clean):.2f}% / {damage}"


def calibration_rows(
    clean: np.ndarray, noisy: np.ndarray, new: np.ndarray, confidence: np.ndarray
) -> list[str]:
    """Confidence bins of the final labels: moved rows and kept rows side by side."""
    moved = new != noisy
    out = []
    for lo, hi in itertools.pairwise(CONFIDENCE_BINS):
        cells = []
        for part in (moved, ~moved):
            rows = part & (confidence >= lo) & (confidence < hi)
            n = int(rows.sum())
            cells.append(
                f"{n} | {confidence[rows].mean():.3f} | {np.mean(new[rows] == clean[rows]):.3f}"
                if n else "0 | | "
            )
        out.append(f"| {lo:.2f}-{min(hi, 1.0):.2f} | " + " | ".join(cells) + " |")
    return out


def defaults_section(key: str, cell: Cell, X: Any, *, jobs: int, seed: int) -> list[str]:
    """``pico.clean`` with its defaults and cleanlab ``both`` on one cell, as tables."""
    names = cell.dataset.class_names
    clean, noisy = cell.clean, cell.noisy
    k = len(names)
    baseline = M.run_cleanlab(X, noisy, k, jobs=jobs, seed=seed)[M.CLEANLAB_BOTH]
    start = time.perf_counter()
    result = pico.clean(cell.texts, names[noisy], random_state=seed, n_jobs=jobs)
    seconds = time.perf_counter() - start
    index = {c: i for i, c in enumerate(names.tolist())}
    used = result.summary["options"]

    def codes(values: Any) -> np.ndarray:
        return np.array([index[str(v)] for v in values], dtype=np.int64)

    new, best = codes(result.labels), codes(result.suggested)
    best_p = np.asarray(result.suggested_confidence, dtype=np.float64)
    given_p = np.asarray(result.given_confidence, dtype=np.float64)
    confidence = np.asarray(result.confidence, dtype=np.float64)
    threshold = float(used["relabel_threshold"])
    bins, _ = read_off(clean, noisy, best, best_p, given_p)
    odds = [
        _score(clean, noisy, np.where(relabel_mask(best_p, given_p, threshold, r), best, noisy))
        for r in ODDS
    ]
    print(f"{key}: {seconds:.0f}s", flush=True)
    return [
        "",
        f"## {key}",
        "",
        f"{len(clean)} rows, {np.mean(noisy != clean):.1%} of labels wrong; pico.clean "
        f"(R={used['n_branches']} x F={used['n_folds']}, odds {used['relabel_odds']:g}) took "
        f"{seconds:.0f} s ({len(result.summary['iterations'])} iterations). Label accuracy / "
        f"damage: **PICO defaults {_score(clean, noisy, new)}**, cleanlab both "
        f"{_score(clean, noisy, baseline.labels)}.",
        "",
        "| posterior of the new class | proposed moves | right | given was right |",
        "|---|---|---|---|",
        *bins,
        "",
        f"Read off at threshold {threshold:g}:",
        "",
        "| | " + " | ".join(f"odds {r:g}" for r in ODDS) + " |",
        "|---|" + "---|" * len(ODDS),
        "| accuracy / damage | " + " | ".join(odds) + " |",
        "",
        "| pico_confidence | moved: rows | mean confidence | right | kept: rows | mean "
        "confidence | right |",
        "|---|---|---|---|---|---|---|",
        *calibration_rows(clean, noisy, new, confidence),
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the vote on each cell and write the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--cells", nargs="+",
        default=["clinc150/within-group/0.2", "banking77/within-group/0.2"],
        help="dataset/noise/rate of evaluation-suite cells",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--defaults", action="store_true",
        help="run pico.clean with its defaults (and cleanlab both) instead of the vote",
    )
    parser.add_argument(
        "--doc", type=Path, default=None,
        help="page to write (default: docs/benchmarks-relabel-rule.md, or "
        "docs/benchmarks-relabel-defaults.md with --defaults)",
    )
    args = parser.parse_args(argv)
    if args.doc is None:
        page = "benchmarks-relabel-defaults.md" if args.defaults else "benchmarks-relabel-rule.md"
        args.doc = Path(__file__).resolve().parents[1] / "docs" / page
    commit = code_version()
    flag = " --defaults" if args.defaults else ""
    out = [
        "# The relabel rule: threshold and odds" + (" (PICO defaults)" if args.defaults else ""),
        "",
        f"Generated by `python experiments/relabel_rule.py{flag} --cells {' '.join(args.cells)} "
        f"--jobs {args.jobs} --seed {args.seed}` on "
        f"{_dt.datetime.now().astimezone().isoformat(timespec='seconds')} (code at commit "
        f"{commit}); machine: {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        (
            "`pico.clean` with its defaults (3 iterations, the label-history model; the split "
            "shape and odds each cell's line names) and cleanlab `both` (5-fold probabilities "
            "of the same checker, relabeled to the argmax) on evaluation-suite cells (same "
            "noise, seed and features as `experiments/evaluate.py`); the bins and the odds "
            "row are read off the final posterior, leaving out the class-loss guard. "
            if args.defaults else
            "One iteration of the vote (`IterativeCorrector(n_branches=4, n_folds=5, "
            "n_iterations=1, history=False)`) on evaluation-suite cells (same noise, seed and "
            "features as `experiments/evaluate.py`). "
        ) + "*Proposed moves*: rows whose most probable class is "
        "not the given label, by that class's posterior; *right*: the share whose new "
        "class is the clean label; *given was right*: the share that a move would damage. "
        "*Grid*: label accuracy after cleaning / damage when a row moves only if its new "
        "class's posterior reaches the threshold and is at least *odds* times the given "
        "label's posterior."
        + (
            " *Calibration*: rows by their final `pico_confidence`, those whose label moved "
            "and those that kept it, with the share whose final label is right."
            if args.defaults else ""
        ),
    ]
    datasets: dict[str, object] = {}
    for key in args.cells:
        name, noise, rate = key.split("/")
        if name not in datasets:
            datasets[name] = prepare_dataset(name, quick=False, seed=args.seed, jobs=args.jobs)
        ds = datasets[name]
        cell = make_cell(ds, noise, float(rate), seed=args.seed)  # type: ignore[arg-type]
        X, _ = featurize(cell.dataset, cell.rows, cell.subsample)
        if args.defaults:
            out += defaults_section(key, cell, X, jobs=args.jobs, seed=args.seed)
            continue
        start = time.perf_counter()
        corr = IterativeCorrector(
            n_branches=4, n_folds=5, n_iterations=1, history=False, n_jobs=args.jobs,
            random_state=args.seed,
        ).fit(X, cell.noisy, groups=text_groups(cell.texts))
        seconds = time.perf_counter() - start
        bins, grid = read_off(
            cell.clean, cell.noisy, corr.suggested_, corr.suggested_confidence_,
            corr.given_confidence_,
        )
        print(f"{key}: {seconds:.0f}s", flush=True)
        out += [
            "",
            f"## {key}",
            "",
            f"{len(cell.clean)} rows, {np.mean(cell.noisy != cell.clean):.1%} of labels "
            f"wrong; the vote took {seconds:.0f} s.",
            "",
            "| posterior of the new class | proposed moves | right | given was right |",
            "|---|---|---|---|",
            *bins,
            "",
            "| threshold | " + " | ".join(f"odds {r:g}" for r in ODDS) + " |",
            "|---|" + "---|" * len(ODDS),
            *grid,
        ]
    args.doc.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
