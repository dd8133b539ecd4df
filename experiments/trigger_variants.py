"""The check's estimate over the suite's cells, for variants of the check's settings.

Runs ``pico.check`` alone (no cleanlab, no clean) on every cell of the trigger
benchmark, once per variant, and prints each cell's error and, per variant, how many
cells are within 3 points and the mean absolute error. It is how the check's own
settings were compared (see docs/trigger.md); the acceptance numbers come from
``experiments/trigger.py``.

Variants (``--variant NAME``, several allowed):

- ``default``: ``pico.check`` as shipped;
- ``clean-features``: the check with a clean's default featurizer
  (``TfidfFeaturizer()``) instead of its light one;
- ``char-3-4``: character 3-4-grams in at least 3 rows instead of the check's
  4-grams; ``word-features``: word n-grams alone (no character n-grams);
- ``softmax-only``: ``centroid=False``;
- ``no-collapse``, ``collapse-1x``, ``collapse-2x``: the check with
  ``pico.trigger.check.COLLAPSE_RATIO`` set to infinity (no collapsed pairs: the vote's
  estimate alone), 1 or 2 instead of its value;
- ``collapse-best-bin``, ``collapse-median-b``, ``collapse-median``:
  ``pico.trigger.check.COLLAPSE_COUNT`` set to count collapses as look-alike pairs are
  counted (the best-bin threshold on ``p_b``), at the median on ``p_b`` alone, or at the
  median on ``p_b / (p_a + p_b)``, instead of at 1/2 on ``p_b / (p_a + p_b)``;
- ``vote-10-steps``: ``pico.trigger.check.VOTE`` with 10 EM steps instead of 20.

Usage::

    python experiments/trigger_variants.py --variant default clean-features --seed 0

Writes the per-cell numbers as JSON (``--json``, default
experiments/results/trigger_variants.json).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import json
import shlex
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pico
from datasets.loaders import datasets_available
from experiments.evaluate import log, machine_info, prepare_dataset
from experiments.suite.provenance import code_version
from experiments.suite.scenarios import DATASETS, NOISE_MODELS, RATES, cells_for
from pico.featurizers import TfidfFeaturizer

DEFAULT_JSON = REPO / "experiments" / "results" / "trigger_variants.json"
TOLERANCE = 0.03

#: Keyword arguments of ``pico.check`` per variant (callables: built per call).
VARIANTS: dict[str, Any] = {
    "default": dict,
    "clean-features": lambda: {"featurizer": TfidfFeaturizer()},
    "char-3-4": lambda: {"featurizer": TfidfFeaturizer(char_ngrams=(3, 4), min_df=3)},
    "word-features": lambda: {"featurizer": TfidfFeaturizer(char_ngrams=None, min_df=3)},
    "softmax-only": lambda: {"centroid": False},
    "no-collapse": dict,
    "collapse-1x": dict,
    "collapse-2x": dict,
    "collapse-best-bin": dict,
    "collapse-median-b": dict,
    "vote-10-steps": dict,
    "collapse-median": dict,
}

#: Module constants of ``pico.trigger.check`` set for the call, per variant.
CONSTANTS: dict[str, dict[str, Any]] = {
    "no-collapse": {"COLLAPSE_RATIO": float("inf")},
    "collapse-1x": {"COLLAPSE_RATIO": 1.0},
    "collapse-2x": {"COLLAPSE_RATIO": 2.0},
    "collapse-best-bin": {"COLLAPSE_COUNT": {"count": "best-bin", "pairwise": False}},
    "collapse-median-b": {"COLLAPSE_COUNT": {"count": "median", "pairwise": False}},
    "vote-10-steps": {"VOTE": {"profile_rows": 2000, "profile_steps": 10, "max_iter": 10}},
    "collapse-median": {"COLLAPSE_COUNT": {"count": "median", "pairwise": True}},
}


@contextlib.contextmanager
def constants(variant: str) -> Iterator[None]:
    """Set the variant's constants of ``pico.trigger.check``, then restore them."""
    module = importlib.import_module("pico.trigger.check")
    saved = {name: getattr(module, name) for name in CONSTANTS.get(variant, {})}
    try:
        for name, value in CONSTANTS.get(variant, {}).items():
            setattr(module, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
                with warnings.catch_warnings(), constants(variant):
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


if __name__ == "__main__":
    main()
