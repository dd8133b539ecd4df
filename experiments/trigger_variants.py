"""The check's estimate over the suite's cells, for variants of the check's settings.

Runs ``pico.check`` alone (no cleanlab, no clean) on every cell of the trigger
benchmark, once per variant, and prints each cell's error and, per variant, how many
cells are within 3 points and the mean absolute error. It is how the check's own
settings were compared; the comparisons are drawn on docs/benchmarks-trigger.md
(:data:`COMPARISONS`, :func:`render_comparisons`), the acceptance numbers come from
``experiments/trigger.py``.

Every variant is a set of keyword arguments of ``pico.check`` (:data:`VARIANTS`): a
parameter of the check (``featurizer``, ``centroid``) or its tuned settings,
``settings=pico.trigger.check.CheckSettings(...)``, whose defaults are the check's own.

- ``default``: ``pico.check`` as shipped;
- ``clean-features``: the check with a clean's default featurizer
  (``TfidfFeaturizer()``) instead of its light one;
- ``char-3-4``: character 3-4-grams in at least 3 rows instead of the check's
  4-grams; ``word-features``: word n-grams alone (no character n-grams);
- ``softmax-only``: ``centroid=False``;
- ``no-collapse``, ``collapse-1x``, ``collapse-2x``: ``collapse_ratio`` infinite (no
  collapsed pairs: the vote's estimate alone), 1 or 2 instead of the check's 3;
- ``collapse-best-bin``, ``collapse-median-b``, ``collapse-median``: ``collapse_count``
  that counts collapses as look-alike pairs are counted (the best-bin threshold on
  ``p_b``), at the median on ``p_b`` alone, or at the median on ``p_b / (p_a + p_b)``,
  instead of at 1/2 on ``p_b / (p_a + p_b)``;
- ``vote-10-steps``: the vote's EM stopped at 10 steps instead of 20.

Usage::

    python experiments/trigger_variants.py --variant default clean-features --seed 0

Writes the per-cell numbers as JSON (``--json``, default
experiments/results/trigger_variants.json).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pico
from experiments.evaluate import log, machine_info, prepare_dataset
from experiments.loaders import datasets_available
from experiments.suite.provenance import code_version
from experiments.suite.scenarios import DATASETS, NOISE_MODELS, RATES, cells_for
from pico.featurizers import TfidfFeaturizer
from pico.trigger.check import VOTE, CheckSettings

RESULTS = REPO / "experiments" / "results"
DEFAULT_JSON = RESULTS / "trigger_variants.json"
TOLERANCE = 0.03

#: Keyword arguments of ``pico.check`` per variant (built per call: a featurizer is fitted).
VARIANTS: dict[str, Callable[[], dict[str, Any]]] = {
    "default": dict,
    "clean-features": lambda: {"featurizer": TfidfFeaturizer()},
    "char-3-4": lambda: {"featurizer": TfidfFeaturizer(char_ngrams=(3, 4), min_df=3)},
    "word-features": lambda: {"featurizer": TfidfFeaturizer(char_ngrams=None, min_df=3)},
    "softmax-only": lambda: {"centroid": False},
    "no-collapse": lambda: {"settings": CheckSettings(collapse_ratio=float("inf"))},
    "collapse-1x": lambda: {"settings": CheckSettings(collapse_ratio=1.0)},
    "collapse-2x": lambda: {"settings": CheckSettings(collapse_ratio=2.0)},
    "collapse-best-bin": lambda: {
        "settings": CheckSettings(collapse_count={"count": "best-bin", "pairwise": False})
    },
    "collapse-median-b": lambda: {
        "settings": CheckSettings(collapse_count={"count": "median", "pairwise": False})
    },
    "collapse-median": lambda: {
        "settings": CheckSettings(collapse_count={"count": "median", "pairwise": True})
    },
    "vote-10-steps": lambda: {"settings": CheckSettings(vote={**VOTE, "max_iter": 10})},
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the variants on the suite's cells; write and return the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--variant", nargs="+", choices=sorted(VARIANTS), default=["default"])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="threads of the check's fits")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "meta": {
            "command": "python experiments/trigger_variants.py "
            + shlex.join(sys.argv[1:] if argv is None else argv),
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": code_version(),
            "seed": args.seed,
            "jobs": args.jobs,
            "machine": machine_info(),
            "check_arguments": {
                name: {key: repr(value) for key, value in VARIANTS[name]().items()}
                for name in args.variant
            },
        },
        "variants": {name: [] for name in args.variant},
    }
    for name in args.datasets:
        if not datasets_available(name):
            log(f"[{name}] skipped: dataset folder not found (set PICO_DATASETS)")
            continue
        dataset = prepare_dataset(name, quick=False, seed=args.seed, jobs=args.jobs)
        warm = np.arange(min(1000, len(dataset.texts)))
        pico.check([dataset.texts[i] for i in warm], dataset.class_names[dataset.clean[warm]],
                   n_jobs=args.jobs, random_state=args.seed)
        for cell in cells_for(dataset, list(NOISE_MODELS), list(RATES), seed=args.seed):
            names = dataset.class_names[cell.noisy]
            true = float(np.mean(cell.noisy != cell.clean))
            for variant in args.variant:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="The least populated class")
                    found = pico.check(cell.texts, names, n_jobs=args.jobs,
                                       random_state=args.seed, **VARIANTS[variant]())
                seconds = time.perf_counter() - start
                results["variants"][variant].append({
                    "key": cell.key, "true_rate": round(true, 4),
                    "estimate": round(found.noise_rate, 4),
                    "error": round(found.noise_rate - true, 4),
                    "seconds": round(seconds, 2),
                })
                log(f"  [{cell.key}] {variant}: true {true:.3f} estimate "
                    f"{found.noise_rate:.3f} ({100 * (found.noise_rate - true):+.1f}) "
                    f"{seconds:.1f}s")
    for variant, cells in results["variants"].items():
        if not cells:
            continue
        errors = np.array([c["error"] for c in cells])
        within = int(np.sum(np.abs(errors) <= TOLERANCE))
        results["meta"][variant] = {
            "within": within, "cells": len(cells),
            "mean_abs_error": round(float(np.mean(np.abs(errors))), 4),
            "seconds": round(float(sum(c["seconds"] for c in cells)), 1),
        }
        log(f"{variant}: {within} of {len(cells)} within {100 * TOLERANCE:g} points, mean "
            f"absolute error {100 * np.mean(np.abs(errors)):.2f}, checks "
            f"{results['meta'][variant]['seconds']:.0f}s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return results


# --- the comparisons drawn on docs/benchmarks-trigger.md ------------------------------


@dataclass(frozen=True)
class Row:
    """One variant of one saved run: ``variant`` of ``file``, shown as ``label``.

    ``baseline`` names the row (by label) the per-cell moves are read against.
    """

    label: str
    file: str
    variant: str
    baseline: str | None = None


@dataclass(frozen=True)
class Comparison:
    """A table of variants of one setting, with what it compares and what was kept."""

    title: str
    text: str
    rows: tuple[Row, ...]


_F = "trigger_variants_{}.json".format

#: Every comparison of the check's settings on the benchmark page, from committed results.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "Text features",
        "The check's light features (`TEXT_FEATURES`: word 1-2-grams and character "
        "4-grams within word boundaries, in at least 3 rows; kept) against a clean's "
        "default (`TfidfFeaturizer()`: character 2-4-grams in at least 2 rows), which "
        "stores more entries per row for the softmax fits to read; then character "
        "3-4-grams and word n-grams alone. The first two runs predate the collapsed "
        "pairs; the last two are compared with the check's features of a run of the "
        "same period.",
        (
            Row("the check's features (kept)", _F("seed0"), "default"),
            Row("a clean's features", _F("seed0"), "clean-features",
                "the check's features (kept)"),
            Row("the check's features (kept), seed 1", _F("seed1"), "default"),
            Row("a clean's features, seed 1", _F("seed1"), "clean-features",
                "the check's features (kept), seed 1"),
            Row("the check's features, with collapsed pairs", _F("collapse_rule_seed0"),
                "default"),
            Row("character 3-4-grams", _F("features_seed0"), "char-3-4",
                "the check's features, with collapsed pairs"),
            Row("word n-grams alone", _F("features_seed0"), "word-features",
                "the check's features, with collapsed pairs"),
        ),
    ),
    Comparison(
        "Two checkers against the softmax checker alone",
        "The check's two checkers (the softmax regression and the nearest centroid; "
        "kept) against the softmax checker alone (`centroid=False`), before the "
        "collapsed pairs and the vote's 20 EM steps.",
        (
            Row("softmax + centroid (kept)", _F("seed0"), "default"),
            Row("softmax alone", _F("softmax_seed0"), "softmax-only",
                "softmax + centroid (kept)"),
        ),
    ),
    Comparison(
        "The vote's EM steps",
        "The check's vote (`VOTE`) searches the tempering on 2,000 rows with 10 EM steps "
        "per weight tried, then runs its EM up to a clean's 20 steps (kept) or, before, "
        "10. Collapses were then counted at the median.",
        (
            Row("20 steps (kept)", _F("vote_steps_seed0"), "default"),
            Row("10 steps", _F("vote_steps_seed0"), "vote-10-steps", "20 steps (kept)"),
            Row("20 steps (kept), seed 1", _F("vote_steps_seed1"), "default"),
            Row("10 steps, seed 1", _F("vote_steps_seed1"), "vote-10-steps",
                "20 steps (kept), seed 1"),
        ),
    ),
    Comparison(
        "Collapsed pairs: the ratio",
        "A centroid look-alike pair is a collapse when it counts more than `COLLAPSE_RATIO` "
        "times the rows still labeled like it: none (the vote alone), 1, 2 or 3 (kept). "
        "Collapses were then counted with the best-bin threshold, and the vote's EM "
        "stopped at 10 steps.",
        (
            Row("more than 3 x (kept)", _F("collapse_rule_seed0"), "default"),
            Row("none (the vote alone)", _F("collapse_rule_seed0"), "no-collapse",
                "more than 3 x (kept)"),
            Row("more than 1 x", _F("collapse_rule_seed0"), "collapse-1x",
                "more than 3 x (kept)"),
            Row("more than 2 x", _F("collapse_rule_seed0"), "collapse-2x",
                "more than 3 x (kept)"),
            Row("more than 3 x (kept), seed 1", _F("collapse_rule_seed1"), "default"),
            Row("none, seed 1", _F("collapse_rule_seed1"), "no-collapse",
                "more than 3 x (kept), seed 1"),
            Row("more than 1 x, seed 1", _F("collapse_rule_seed1"), "collapse-1x",
                "more than 3 x (kept), seed 1"),
            Row("more than 2 x, seed 1", _F("collapse_rule_seed1"), "collapse-2x",
                "more than 3 x (kept), seed 1"),
        ),
    ),
    Comparison(
        "Collapsed pairs: how their rows are counted",
        "`COLLAPSE_COUNT`: a collapse's rows counted at one threshold, each row's "
        "preference `p_b / (p_a + p_b)` at 1/2 (the a-b boundary; kept), against the "
        "median preference of the rows left in `b`; with the vote's 20 EM steps. Before "
        "(10 EM steps, the median then the default): the look-alike pairs' best-bin "
        "threshold on `p_b`, and the median on `p_b` alone.",
        (
            Row("boundary, p_b / (p_a + p_b) at 1/2 (kept)", _F("collapse_boundary_seed0"),
                "default"),
            Row("median on p_b / (p_a + p_b)", _F("collapse_boundary_seed0"),
                "collapse-median", "boundary, p_b / (p_a + p_b) at 1/2 (kept)"),
            Row("boundary (kept), seed 1", _F("collapse_boundary_seed1"), "default"),
            Row("median on p_b / (p_a + p_b), seed 1", _F("collapse_boundary_seed1"),
                "collapse-median", "boundary (kept), seed 1"),
            Row("10 steps: median on p_b / (p_a + p_b)", _F("collapse_count_seed0"),
                "default"),
            Row("10 steps: best-bin on p_b", _F("collapse_count_seed0"),
                "collapse-best-bin", "10 steps: median on p_b / (p_a + p_b)"),
            Row("10 steps: median on p_b", _F("collapse_median_b_seed0"),
                "collapse-median-b", "10 steps: median on p_b / (p_a + p_b)"),
            Row("10 steps: median on p_b / (p_a + p_b), seed 1", _F("collapse_count_seed1"),
                "default"),
            Row("10 steps: best-bin on p_b, seed 1", _F("collapse_count_seed1"),
                "collapse-best-bin", "10 steps: median on p_b / (p_a + p_b), seed 1"),
            Row("10 steps: median on p_b, seed 1", _F("collapse_median_b_seed1"),
                "collapse-median-b", "10 steps: median on p_b / (p_a + p_b), seed 1"),
        ),
    ),
    Comparison(
        "Other noise seeds",
        "The check as shipped at the time of each run on other draws of the noise, the "
        "generic/specific pairs and the folds.",
        (
            Row("seed 1", _F("collapse_boundary_seed1"), "default"),
            Row("seed 2", _F("default_seed2"), "default"),
        ),
    ),
)

#: Per-cell moves smaller than this (in noise-rate units) are not listed.
MOVE = 0.005


def cited_files() -> list[str]:
    """The result files :data:`COMPARISONS` read, in order of first use."""
    return list(dict.fromkeys(row.file for c in COMPARISONS for row in c.rows))


def _points(error: float) -> str:
    return f"{100 * error:+.1f}"


def render_comparisons(results: Path = RESULTS) -> list[str]:
    """The comparisons of :data:`COMPARISONS` as markdown, from the files in ``results``."""
    saved = {name: json.loads((results / name).read_text(encoding="utf-8"))
             for name in cited_files()}

    def errors(row: Row) -> dict[str, float]:
        return {c["key"]: c["error"] for c in saved[row.file]["variants"][row.variant]}

    out = [
        "## How the check's settings were chosen",
        "",
        ("`python experiments/trigger_variants.py` runs the check alone on the same 34 "
         "cells, once per variant of a setting (`--variant`, each a set of `pico.check` "
         "arguments; the tuned settings through `settings=CheckSettings(...)`), and saves "
         "the per-cell estimates. Each table row is one variant in one saved run; "
         "*seconds*: the check's time over the 34 cells in that run. The settings were "
         "chosen on the cells they are measured on: the variants beside each show how much "
         "the cells move with it. Under each table, per variant, the cells whose error "
         f"moved by more than {100 * MOVE:g} point against the row named (its error in "
         "brackets), and the cells more than 3 points off. Errors in points of noise rate "
         "(estimate - true)."),
    ]
    for comparison in COMPARISONS:
        out += [
            "",
            f"### {comparison.title}",
            "",
            comparison.text,
            "",
            "| variant | seed | within 3 points | mean absolute error | seconds | commit |",
            "|---|---:|---:|---:|---:|---|",
        ]
        by_label = {row.label: row for row in comparison.rows}
        notes = []
        for row in comparison.rows:
            run = saved[row.file]
            summary = run["meta"][row.variant]
            out.append(
                f"| {row.label} | {run['meta']['seed']} | {summary['within']} of "
                f"{summary['cells']} | {100 * summary['mean_abs_error']:.2f} | "
                f"{summary['seconds']:.0f} | {run['meta']['commit']} |"
            )
            mine = errors(row)
            off = ", ".join(f"{key} {_points(e)}" for key, e in mine.items()
                            if abs(e) > TOLERANCE) or "none"
            if row.baseline is None:
                notes.append(f"- *{row.label}*: off by more than 3 points: {off}.")
                continue
            before = errors(by_label[row.baseline])
            moved = ", ".join(
                f"{key} {_points(e)} ({_points(before[key])})" for key, e in mine.items()
                if key in before and abs(e - before[key]) > MOVE
            ) or "none"
            notes.append(f"- *{row.label}*: moved against *{row.baseline}*: {moved}; off by "
                         f"more than 3 points: {off}.")
        out += ["", *notes]
    commands = sorted({saved[name]["meta"]["command"] for name in cited_files()})
    out += ["", "The runs (raw results in `experiments/results/`):", ""]
    out += [f"- `{command}`" for command in commands]
    return out


if __name__ == "__main__":
    main()
