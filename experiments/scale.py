"""Time and peak memory of the vote + label-history step on synthetic evidence.

Synthetic checkers stand in for trained ones: N rows, K classes, 20% of the given
labels wrong, every branch of every iteration keeps its top-k probabilities per row
(the true class with probability drawn around ``--accuracy``, the others from a
neighbourhood of similar classes, as a real checker's tail would be). The step that is
measured is what the corrector runs after each iteration's checkers:
:meth:`pico.history.LabelHistoryModel.fit` over every iteration so far (building the
candidate columns, :func:`pico.vote.candidates.candidate_evidence`, the EM, and the
smoothing of the label histories); the build is also timed on its own.
Each configuration runs in its own process, so that its peak resident memory
(``ru_maxrss``) is its own.

    python experiments/scale.py                   # the grid below, writes docs/benchmarks-scale.md
    python experiments/scale.py --quick           # small, for a smoke test

The page is included in docs/benchmarks.md by ``experiments/evaluate.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.suite.provenance import code_version

ROOT = Path(__file__).resolve().parents[1]

# (N, K, iterations): 1M x 1000 with 1 and 3 iterations, and 100k rows with 100, 1000
# and 10000 classes: what the cost grows with.
GRID = [
    (1_000_000, 1_000, 1),
    (1_000_000, 1_000, 3),
    (100_000, 1_000, 1),
    (100_000, 1_000, 3),
    (100_000, 100, 3),
    (100_000, 10_000, 3),
]
QUICK = [(20_000, 200, 1), (20_000, 200, 3)]


def synthetic_iteration(
    clean: np.ndarray, n_classes: int, *, n_branches: int, top_k: int, accuracy: float,
    rng: np.random.Generator,
) -> list:
    """One iteration's branches of top-k predictions (SparsePredictions)."""
    from pico.store.base import SparsePredictions

    n = len(clean)
    branches = []
    for _ in range(n_branches):
        right = rng.random(n) < accuracy
        # the checker's favourite: the true class, or a near neighbour when it errs
        top = np.where(right, clean, (clean + rng.integers(1, 6, n)) % n_classes)
        # the tail: classes near the true one (shared by branches) and a few random ones
        offsets = rng.integers(-12, 13, size=(n, top_k - 1))
        offsets[:, -3:] = rng.integers(0, n_classes, size=(n, 3))
        tail = (clean[:, None] + offsets) % n_classes
        cols = np.concatenate([top[:, None], tail], axis=1)
        vals = rng.dirichlet(np.linspace(3.0, 0.2, top_k), size=n) * 0.97
        vals[:, 0] = np.maximum(vals[:, 0], vals.max(axis=1))  # the favourite ranks first
        # duplicate columns in a row: keep the first (CSR sums them otherwise)
        order = np.argsort(cols, axis=1, kind="stable")
        sorted_cols = np.take_along_axis(cols, order, axis=1)
        dup = np.zeros_like(cols, dtype=bool)
        dup_sorted = np.zeros_like(dup)
        dup_sorted[:, 1:] = sorted_cols[:, 1:] == sorted_cols[:, :-1]
        np.put_along_axis(dup, order, dup_sorted, axis=1)
        vals[dup] = 0.0
        vals /= vals.sum(axis=1, keepdims=True) / 0.97
        keep = ~dup
        rows = np.repeat(np.arange(n), keep.sum(axis=1))
        probs = sp.csr_matrix(
            (vals[keep].astype(np.float32), (rows, cols[keep])), shape=(n, n_classes)
        )
        branches.append(SparsePredictions(probs, np.full(n, 0.03)))
    return branches


def run_one(config: dict, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """Build inputs, run the step, report times and peak memory (in a child process)."""
    from threadpoolctl import threadpool_limits

    from pico.history import LabelHistoryModel
    from pico.vote.candidates import candidate_evidence

    n, k, t_max = config["rows"], config["classes"], config["iterations"]
    rng = np.random.default_rng(config["seed"])
    clean = rng.integers(0, k, n)
    flip = rng.random(n) < config["noise"]
    given = np.where(flip, (clean + rng.integers(1, 6, n)) % k, clean)
    iterations, trained_on = [], []
    labels = given
    for t in range(t_max):
        iterations.append(
            synthetic_iteration(
                clean, k, n_branches=config["branches"], top_k=config["top_k"],
                accuracy=config["accuracy"], rng=rng,
            )
        )
        trained_on.append(labels)
        # later iterations' checkers learn from partly corrected labels
        labels = np.where(rng.random(n) < 0.5, clean, labels)
    stored = sum(b.probs.data.nbytes + b.probs.indices.nbytes for it in iterations for b in it)
    rss_inputs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with threadpool_limits(config["threads"]):
        start = time.perf_counter()
        cand = candidate_evidence(iterations, trained_on, given, n_classes=k)
        build = time.perf_counter() - start
        width, mean_candidates = cand.width, float(cand.valid.sum(axis=1).mean())
        del cand
        start = time.perf_counter()
        model = LabelHistoryModel(random_state=0).fit(
            iterations, given, trained_on=trained_on, n_classes=k
        )
        fit = time.perf_counter() - start
    best, _ = model.best()
    queue.put({
        **config,
        "width": width,
        "mean_candidates": mean_candidates,
        "stored_mb": stored / 2**20,
        "build_s": build,
        "fit_s": fit,
        "em_steps": len(model.log_likelihood_),
        "rss_inputs_mb": rss_inputs,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "accuracy_given": float(np.mean(given == clean)),
        "accuracy_after": float(np.mean(best == clean)),
    })


def render(results: list[dict], meta: dict) -> str:
    """The markdown page."""
    lines = [
        "# Scale of the vote + label-history step",
        "",
        (
            f"Generated by `{meta['command']}` at commit {meta['commit']} on {meta['date']}; "
            f"{meta['machine']}, one BLAS thread. Synthetic evidence: {meta['branches']} "
            f"branches per iteration, top-{meta['top_k']} probabilities per row, "
            f"{int(meta['noise'] * 100)}% wrong given labels, checker accuracy "
            f"{meta['accuracy']}. Measured: `LabelHistoryModel.fit` over every iteration "
            "(with 1 iteration: the Bayesian vote): building each row's candidate columns "
            "(also timed alone), the EM, and the smoothing of the label histories. Peak "
            "memory is the process's peak resident set, the inputs (the stored top-k "
            "predictions of every branch and iteration) included."
        ),
        "",
        (
            "| N | K | iterations | candidate columns (mean / max) | build s | fit s "
            "| EM steps | stored top-k MB | peak RSS MB | dense N x K x T float64 MB "
            "| accuracy given -> after |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        dense = r["rows"] * r["classes"] * r["iterations"] * 8 / 2**20
        lines.append(
            f"| {r['rows']:,} | {r['classes']:,} | {r['iterations']} | "
            f"{r['mean_candidates']:.1f} / {r['width']} | {r['build_s']:.1f} | "
            f"{r['fit_s']:.1f} | {r['em_steps']} | {r['stored_mb']:.0f} | "
            f"{r['rss_peak_mb']:.0f} | {dense:,.0f} | "
            f"{r['accuracy_given']:.3f} -> {r['accuracy_after']:.3f} |"
        )
    lines += [
        "",
        (
            "The cost grows with N times the candidate columns (at most `max_candidates`, "
            "64 by default) and the iterations, not with K; the dense column is the memory "
            "one (N, K) float64 evidence array per iteration would take."
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the grid, print one line per configuration, write the page and the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two small configurations")
    parser.add_argument("--branches", type=int, default=4)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--accuracy", type=float, default=0.85)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--doc", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    out_dir = ROOT / "experiments" / "results" / ("quick" if args.quick else "")
    doc = args.doc or (out_dir / "benchmarks-scale.md" if args.quick
                       else ROOT / "docs" / "benchmarks-scale.md")
    json_path = args.json or out_dir / "scale.json"
    grid = QUICK if args.quick else GRID
    meta = {
        "command": "python experiments/scale.py" + (" --quick" if args.quick else ""),
        "commit": code_version(),
        "date": _dt.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "branches": args.branches, "top_k": args.top_k, "noise": args.noise,
        "accuracy": args.accuracy,
    }
    results = []
    ctx = mp.get_context("spawn")
    for n, k, t in grid:
        config = {
            "rows": n, "classes": k, "iterations": t, "branches": args.branches,
            "top_k": args.top_k, "noise": args.noise, "accuracy": args.accuracy,
            "seed": args.seed, "threads": 1,
        }
        queue = ctx.Queue()
        proc = ctx.Process(target=run_one, args=(config, queue))
        proc.start()
        result = queue.get()
        proc.join()
        results.append(result)
        # the page and the JSON after every configuration: a long grid can be stopped
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(render(results, meta))
        print(
            f"N={n:>9,} K={k:>6,} T={t}: columns {result['mean_candidates']:.1f}/"
            f"{result['width']}, build {result['build_s']:.1f}s, fit {result['fit_s']:.1f}s "
            f"({result['em_steps']} steps), peak {result['rss_peak_mb']:.0f} MB, accuracy "
            f"{result['accuracy_given']:.3f} -> {result['accuracy_after']:.3f}",
            flush=True,
        )
    print(f"wrote {doc} and {json_path}")


if __name__ == "__main__":
    main()
