"""The trigger benchmark: ``pico.check``'s noise estimate against the truth and cleanlab.

For every noise model x rate of the evaluation suite (same datasets, same seeded noise)
it runs ``pico.check`` on the noisy labels and cleanlab's
``overall_label_health_score`` on 5-fold cross-validated probabilities of the same
checker, and compares both estimated noise rates (1 - health score for cleanlab) with
the injected one. On a few cells per dataset it also times a default ``pico.clean``,
so the check's cost is a ratio measured in the same run.

Usage::

    python experiments/trigger.py                      # both datasets, every cell
    python experiments/trigger.py --datasets banking77 --noise confusable
    python experiments/trigger.py --quick              # small subsamples (CI)

Writes docs/benchmarks-trigger.md and experiments/results/trigger.json (or --doc,
--json); the page ends with the comparisons of the check's settings that
``experiments/trigger_variants.py`` saved (``render_comparisons``).
``--report-only`` redraws the page from the saved results.
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

import pico
from experiments.loaders import datasets_available
from experiments.evaluate import QUICK_CELLS, log, machine_info, prepare_dataset
from experiments.suite import methods as M
from experiments.suite.provenance import code_version
from experiments.suite.scenarios import DATASETS, NOISE_MODELS, RATES, cells_for, featurize
from experiments.trigger_variants import render_comparisons

DEFAULT_DOC = REPO / "docs" / "benchmarks-trigger.md"
DEFAULT_JSON = REPO / "experiments" / "results" / "trigger.json"
#: Cells on which a default ``pico clean`` is timed (the check's cost ratio).
TIMED = ("none/0", "confusable/0.2", "generic-specific/0.2")
#: The acceptance tolerance of the estimate, in noise-rate units.
TOLERANCE = 0.03


def cleanlab_estimate(X: Any, noisy: np.ndarray, k: int, *, jobs: int, seed: int) -> float:
    """1 - cleanlab's overall label health score on 5-fold probabilities."""
    from cleanlab.dataset import overall_label_health_score

    probs = M.cross_val_probs(X, noisy, k, jobs=jobs, seed=seed)
    return 1.0 - float(overall_label_health_score(noisy, probs, verbose=False))


def run_cell(cell: Any, *, jobs: int, seed: int, time_clean: bool) -> dict[str, Any]:
    """Estimate the noise of one cell with both tools (and time a clean if asked)."""
    ds = cell.dataset
    names = ds.class_names[cell.noisy]
    true = float(np.mean(cell.noisy != cell.clean))
    start = time.perf_counter()
    found = pico.check(cell.texts, names, n_jobs=jobs, random_state=seed)
    check_s = time.perf_counter() - start
    start = time.perf_counter()
    X, _ = featurize(ds, cell.rows, cell.subsample)
    cl = cleanlab_estimate(X, cell.noisy, ds.n_classes, jobs=jobs, seed=seed)
    cleanlab_s = time.perf_counter() - start
    record: dict[str, Any] = {
        "key": cell.key,
        "rows": len(cell.rows),
        "true_rate": round(true, 4),
        "pico": {
            "estimate": round(found.noise_rate, 4),
            "interval": [round(v, 4) for v in found.interval],
            "error": round(found.noise_rate - true, 4),
            "upper": round(found.noise_rate_upper, 4),
            "upper_error": round(found.noise_rate_upper - true, 4),
            "lookalike_pairs": len(found.lookalike_pairs),
            "recommendation": found.recommendation["clean"],
            "focus_classes": len(found.recommendation["focus"]),
            "seconds": round(check_s, 2),
        },
        "cleanlab": {"estimate": round(cl, 4), "error": round(cl - true, 4),
                     "seconds": round(cleanlab_s, 2)},
    }
    if time_clean:
        start = time.perf_counter()
        pico.clean(cell.texts, names, n_jobs=jobs, random_state=seed)
        record["clean_seconds"] = round(time.perf_counter() - start, 2)
        record["check_to_clean"] = round(check_s / record["clean_seconds"], 4)
    p = record["pico"]
    log(
        f"  [{cell.key}] true {true:.3f}  pico {p['estimate']:.3f} "
        f"[{p['interval'][0]:.3f}, {p['interval'][1]:.3f}] upper {p['upper']:.3f} "
        f"({check_s:.1f}s)  cleanlab {cl:.3f} "
        f"({cleanlab_s:.1f}s)"
        + (f"  clean {record['clean_seconds']:.1f}s" if time_clean else "")
    )
    return record


def render(results: dict[str, Any], variants: list[str] | None = None) -> str:
    """The markdown page; ``variants``: the comparisons of the check's settings."""
    meta = results["meta"]
    cells = results["cells"]
    out = [
        "# The trigger: estimated noise rate vs the truth",
        "",
        "`pico check` (its light text features, one random split into 2 folds, the default "
        "softmax checker and a nearest-centroid checker on each, the Bayesian vote; see "
        "[the trigger](trigger.md)) "
        "beside cleanlab's `overall_label_health_score` (5-fold cross-validated "
        "probabilities of the softmax checker; its estimate is 1 - score), on the "
        "evaluation suite's noise models.",
        "",
        f"- Command: `{meta['command']}`",
        f"- Commit {meta['commit']}, {meta['date']}, {meta['machine'].get('cpu_count')} cores "
        f"({meta['machine'].get('processor') or 'cpu'}), jobs {meta['jobs']}"
        + (" — **quick mode: small subsamples, not a measurement**" if meta["quick"] else ""),
        f"- Total {meta.get('total_seconds', 0):.0f} s",
        "",
    ]
    if not cells:
        out.append("No cell ran (dataset folders not found).")
        return "\n".join(out) + "\n"
    within = sum(abs(c["pico"]["error"]) <= TOLERANCE for c in cells)
    within_cl = sum(abs(c["cleanlab"]["error"]) <= TOLERANCE for c in cells)
    with_upper = [c for c in cells if "upper" in c["pico"]]
    within_up = sum(abs(c["pico"]["upper_error"]) <= TOLERANCE for c in with_upper)
    timed = [c for c in cells if "clean_seconds" in c]
    out += [
        "## Summary",
        "",
        f"- Within {100 * TOLERANCE:g} points of the true rate: PICO check {within} of "
        f"{len(cells)} cells, cleanlab {within_cl} of {len(cells)}.",
        f"- Mean absolute error: PICO check "
        f"{100 * np.mean([abs(c['pico']['error']) for c in cells]):.1f} points, cleanlab "
        f"{100 * np.mean([abs(c['cleanlab']['error']) for c in cells]):.1f} points.",
    ]
    if with_upper:
        out.append(
            f"- The upper estimate (every look-alike pair counted as mislabeling): within "
            f"{100 * TOLERANCE:g} points in {within_up} of {len(with_upper)} cells, mean "
            f"absolute error "
            f"{100 * np.mean([abs(c['pico']['upper_error']) for c in with_upper]):.1f} points."
        )
    if timed:
        ratios = [c["check_to_clean"] for c in timed]
        out.append(
            f"- Time of `pico check` / default `pico clean` on the same data ({len(timed)} "
            f"cells timed): {100 * min(ratios):.1f}%-{100 * max(ratios):.1f}%. Both run in "
            "the benchmark's process after its worker processes have started."
        )
    out += ["", "## Every cell", ""]
    out += [
        "| cell | rows | true | PICO check [95% interval] | error | upper (look-alike pairs) "
        "| error | cleanlab | error | check s | cleanlab s | clean s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        p, cl = c["pico"], c["cleanlab"]
        out.append(
            f"| {c['key']}{' (b)' if 'run' in c else ''} | {c['rows']} | {c['true_rate']:.3f} | {p['estimate']:.3f} "
            f"[{p['interval'][0]:.3f}, {p['interval'][1]:.3f}] | {100 * p['error']:+.1f} | "
            + (f"{p['upper']:.3f} ({p['lookalike_pairs']}) | {100 * p['upper_error']:+.1f} | "
               if "upper" in p else " | | ")
            + f"{cl['estimate']:.3f} | {100 * cl['error']:+.1f} | {p['seconds']:.1f} | "
            f"{cl['seconds']:.1f} | {c.get('clean_seconds', '')} |"
        )
    out += [
        "",
        "Errors in points of noise rate (estimate - true). The interval covers which "
        "labels are wrong given the posterior, not the model's own error: the error "
        "column is that. The upper estimate adds the rows of the look-alike pairs "
        "(classes whose rows the checkers cannot tell apart, in brackets: how many "
        "pairs) beyond what the vote already counts for them; see [the trigger](trigger.md).",
    ]
    later = {c["run"]["command"]: c["run"] for c in cells if "run" in c}
    for command, run in later.items():
        out += [
            "",
            f"(b) From a later run, `{command}` (commit {run['commit']}, {run['date']}, "
            f"jobs {run['jobs']}): the cell's check, cleanlab estimate and clean time.",
        ]
    if variants:
        out += ["", *variants]
    return "\n".join(out) + "\n"


def comparisons(quick: bool) -> list[str] | None:
    """The comparisons of the check's settings (none in quick mode)."""
    return None if quick else render_comparisons()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--noise", nargs="+", choices=NOISE_MODELS, default=list(NOISE_MODELS))
    parser.add_argument("--rates", nargs="+", type=float, default=None)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small subsamples (CI)")
    parser.add_argument("--doc", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true",
                        help="redraw the page from the JSON results, run nothing")
    parser.add_argument("--add", type=Path, nargs="+", default=[],
                        help="with --report-only: the cells of these later runs replace the "
                        "same cells of the JSON (marked (b) on the page)")
    args = parser.parse_args(argv)
    doc = args.doc or DEFAULT_DOC
    json_path = args.json or DEFAULT_JSON
    if args.report_only:
        saved: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
        for extra in args.add:
            later = json.loads(extra.read_text(encoding="utf-8"))
            index = {c["key"]: i for i, c in enumerate(saved["cells"])}
            for cell in later["cells"]:
                record = {**cell, "run": later["meta"]}
                if cell["key"] in index:
                    saved["cells"][index[cell["key"]]] = record
                else:
                    saved["cells"].append(record)
        doc.write_text(render(saved, comparisons(bool(saved["meta"]["quick"]))),
                       encoding="utf-8")
        log(f"wrote {doc}")
        return saved
    rates = args.rates or list(RATES)
    results: dict[str, Any] = {
        "meta": {
            "command": "python experiments/trigger.py "
            + shlex.join(sys.argv[1:] if argv is None else argv),
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": code_version(),
            "quick": args.quick,
            "jobs": args.jobs,
            "seed": args.seed,
            "machine": machine_info(),
        },
        "cells": [],
        "skipped": [],
    }
    start = time.perf_counter()
    for name in args.datasets:
        if not datasets_available(name):
            log(f"[{name}] skipped: dataset folder not found (set PICO_DATASETS)")
            results["skipped"].append(name)
            continue
        dataset = prepare_dataset(name, quick=args.quick, seed=args.seed, jobs=args.jobs)
        # Start the worker processes (and their imports) before anything is timed: the
        # first parallel call of a process pays that once, a check and a clean alike.
        warm = np.random.default_rng(args.seed).choice(
            len(dataset.texts), size=min(1000, len(dataset.texts)), replace=False
        )
        pico.check([dataset.texts[i] for i in warm], dataset.class_names[dataset.clean[warm]],
                   n_jobs=args.jobs, random_state=args.seed)
        if args.quick:
            cells = [
                cell for noise, rate in QUICK_CELLS[name]
                for cell in cells_for(dataset, [noise], [rate], seed=args.seed)
            ]
        else:
            cells = cells_for(dataset, args.noise, rates, seed=args.seed)
        for i, cell in enumerate(cells):
            short = cell.key.split("/", 1)[1]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The least populated class")
                record = run_cell(
                    cell, jobs=args.jobs, seed=args.seed,
                    time_clean=(i == 0) if args.quick else short in TIMED,
                )
            results["cells"].append(record)
            results["meta"]["total_seconds"] = round(time.perf_counter() - start, 1)
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    results["meta"]["total_seconds"] = round(time.perf_counter() - start, 1)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(results, comparisons(args.quick)), encoding="utf-8")
    log(f"wrote {json_path} and {doc} in {time.perf_counter() - start:.0f}s")
    return results


if __name__ == "__main__":
    main()
