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
    python experiments/scale.py --stores          # memory vs Spark store, docs/benchmarks-spark.md

``--stores`` runs the same step through both prediction stores on the same synthetic
evidence (10 checkers: 2 iterations x 5 branches): in memory, and on a local Spark
session, where the predictions are written to Parquet one branch at a time
(``SparkStore.add_sparse``), the candidate rows are built and cached on Spark
(``SparkStore.candidate_rows``) and the EM runs there (``fit_rows``). Spark's memory is
the peak of the summed resident memory of the driver, the JVM and the Python workers,
sampled every 0.2 s.

Results go to experiments/results/scale.json (``--stores``: spark.json);
``experiments/pages.py`` draws the pages from them once they are committed.
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
# (N, K, iterations, branches per iteration): 10 checkers, through both stores.
STORES = [(100_000, 1_000, 2, 5), (1_000_000, 1_000, 2, 5)]
STORES_QUICK = [(3_000, 50, 2, 2)]


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


def synthetic_labels(config: dict) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """The seeded generator, the clean labels and the given labels (``noise`` of them wrong)."""
    n, k = config["rows"], config["classes"]
    rng = np.random.default_rng(config["seed"])
    clean = rng.integers(0, k, n)
    flip = rng.random(n) < config["noise"]
    return rng, clean, np.where(flip, (clean + rng.integers(1, 6, n)) % k, clean)


def run_one(config: dict, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """Build inputs, run the step, report times and peak memory (in a child process)."""
    from threadpoolctl import threadpool_limits

    from pico.history import LabelHistoryModel
    from pico.vote.candidates import candidate_evidence

    n, k, t_max = config["rows"], config["classes"], config["iterations"]
    rng, clean, given = synthetic_labels(config)
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


def _tree_rss_mb(pid: int) -> float:
    """Summed resident memory (MB) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 2**20


class _PeakMemory:
    """Samples :func:`_tree_rss_mb` of this process in a thread; ``peak`` in MB."""

    def __init__(self, every: float = 0.2) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_mb(os.getpid()))
            self._stop.wait(every)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss_mb(os.getpid()))


def run_store(config: dict, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """The step through one prediction store (in a child process): times and peak memory."""
    import shutil
    import tempfile

    from threadpoolctl import threadpool_limits

    from pico.history import LabelHistoryModel
    from pico.store import MemoryStore
    from pico.store.spark import SparkStore, spark_session

    n, k, t_max = config["rows"], config["classes"], config["iterations"]
    rng, clean, given = synthetic_labels(config)
    spark = config["store"] == "spark"
    folder = Path(tempfile.mkdtemp(prefix="pico-scale-"))
    with _PeakMemory() as peak, threadpool_limits(1):
        if spark:
            spark_session(f"local[{config['cores']}]")
            store = SparkStore(n, k, path=folder / "p", top_k=config["top_k"],
                               partitions=config["partitions"])
        else:
            store = MemoryStore(n, k, top_k=config["top_k"])
        trained_on, labels = [], given
        start = time.perf_counter()
        for t in range(1, t_max + 1):
            for b in range(config["branches"]):  # one branch at a time, as checkers finish
                (pred,) = synthetic_iteration(
                    clean, k, n_branches=1, top_k=config["top_k"],
                    accuracy=config["accuracy"], rng=rng,
                )
                store.add_sparse(t, b, pred)
                del pred
            trained_on.append(labels)
            labels = np.where(rng.random(n) < 0.5, clean, labels)
        write = time.perf_counter() - start
        model = LabelHistoryModel(random_state=0)
        start = time.perf_counter()
        if spark:
            rows = store.candidate_rows(list(range(1, t_max + 1)), trained_on=trained_on,
                                        labels=given)
            build = time.perf_counter() - start
            model.fit_rows(rows)
            rows.close()
        else:
            build = float("nan")
            model.fit([list(store.branches(t)) for t in range(1, t_max + 1)], given,
                      trained_on=trained_on, n_classes=k)
        step = time.perf_counter() - start
        best, _ = model.best()
        stored = (
            sum(f.stat().st_size for f in (folder / "p").rglob("*.parquet")) if spark
            else store.nbytes
        )
        if spark:
            spark_session().stop()
    shutil.rmtree(folder, ignore_errors=True)
    queue.put({
        **config,
        "write_s": write,
        "build_s": build,
        "step_s": step,
        "em_steps": len(model.log_likelihood_),
        "stored_mb": stored / 2**20,
        "peak_mb": peak.peak,
        "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "accuracy_given": float(np.mean(given == clean)),
        "accuracy_after": float(np.mean(best == clean)),
    })


def render_stores(results: list[dict], meta: dict) -> str:
    """The markdown page of the memory vs Spark store runs."""
    lines = [
        "# The prediction stores at scale: memory vs Spark",
        "",
        (
            f"Generated by `{meta['command']}` at commit {meta['commit']} on {meta['date']}; "
            f"{meta['machine']}. Synthetic evidence as in the scale benchmark (top-"
            f"{meta['top_k']} probabilities per row and checker, {int(meta['noise'] * 100)}% "
            "wrong given labels); *checkers*: iterations x branches (2 x 5 by default, 2 x 2 "
            "with --quick), through the vote + label-history step (`LabelHistoryModel`). "
            "*Write*: the checkers' "
            "predictions into the store, one branch at a time (Parquet through pyarrow for "
            "Spark). *Step*: the candidate columns and the EM (for Spark: the candidate "
            "rows built and cached on Spark, *build*, then the EM passes on Spark). "
            "*Peak*: the peak of the summed resident memory of the benchmark's process and "
            "all its children (for Spark: the driver, the JVM and the Python workers), "
            "sampled every 0.2 s, the inputs included; *driver*: the benchmark's own "
            "process alone (its peak resident set: for Spark, what the driver held). "
            "*Dense*: one N x K float64 matrix per checker, what the predictions would "
            "take unsparsified."
        ),
        "",
        "| N | K | checkers | store | write s | build s | step s | EM steps | stored MB "
        "| peak MB | driver MB | dense MB | accuracy given -> after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        checkers = r["iterations"] * r["branches"]
        dense = r["rows"] * r["classes"] * checkers * 8 / 2**20
        build = "" if r["build_s"] != r["build_s"] else f"{r['build_s']:.1f}"
        lines.append(
            f"| {r['rows']:,} | {r['classes']:,} | {checkers} | {r['store']} | "
            f"{r['write_s']:.1f} | {build} | {r['step_s']:.1f} | {r['em_steps']} | "
            f"{r['stored_mb']:.0f} | {r['peak_mb']:,.0f} | "
            f"{_mb(r.get('driver_peak_mb'))} | {dense:,.0f} | "
            f"{r['accuracy_given']:.3f} -> {r['accuracy_after']:.3f} |"
        )
    runs = sorted({(r.get("commit", meta["commit"]), r.get("command", meta["command"]))
                   for r in results})
    if len(runs) > 1:
        lines += ["", "Rows from more than one run: " + "; ".join(
            f"`{command}` at {commit}" for commit, command in runs) + "."]
    lines += ["", *_stores_reading(results), ""]
    return "\n".join(lines)


def _stores_reading(results: list[dict]) -> list[str]:
    """What the largest size run through both stores says, and the 10x projection."""
    both = [n for n in {r["rows"] for r in results}
            if {r["store"] for r in results if r["rows"] == n} == {"memory", "spark"}]
    if not both:
        return []
    n = max(both)
    mem, spk = (next(r for r in results if r["rows"] == n and r["store"] == s)
                for s in ("memory", "spark"))
    same = (mem["accuracy_after"], mem["em_steps"]) == (spk["accuracy_after"], spk["em_steps"])
    per_row = spk["step_s"] / n * 1e3
    out = [
        f"At {n:,} rows the memory store's process (its driver) peaked at "
        f"{mem['peak_mb'] / 1024:.1f} GiB"
        + (f" and the Spark driver at {spk['driver_peak_mb'] / 1024:.1f} GiB; the rest of "
           f"Spark's {spk['peak_mb'] / 1024:.1f} GiB is the JVM's cache of the candidate rows "
           "and the Python workers, which a cluster spreads over its machines"
           if spk.get("driver_peak_mb") else "")
        + ". "
        + ("Both stores end with the same accuracy after the same number of EM steps. "
           if same else "The two stores' outcomes differ. ")
        + f"Per row on this machine: {per_row:.2f} ms for the Spark step and "
        f"{spk['write_s'] / n * 1e3:.2f} ms for writing the predictions (the memory store: "
        f"{mem['step_s'] / n * 1e3:.2f} ms). Ten times as many rows would take about "
        f"{per_row * 10 * n / 1e3 / 60:.0f} minutes for the Spark step here, in local mode "
        f"on the one machine whose memory the executors shared "
        f"({(spk['peak_mb'] - spk.get('driver_peak_mb', 0)) / 1024:.1f} GiB at {n:,} rows)."
    ]
    return out


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


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
    parser.add_argument("--stores", action="store_true",
                        help="memory vs Spark store (docs/benchmarks-spark.md)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="with --stores: the row counts to run (default 100000 1000000)")
    parser.add_argument("--report-only", action="store_true",
                        help="with --stores: redraw the page from the JSON, run nothing")
    parser.add_argument("--only", choices=["memory", "spark"], default=None,
                        help="with --stores --sizes: run one store (the other's rows stay)")
    parser.add_argument("--partitions", type=int, default=8,
                        help="with --stores: Spark partitions of the vote")
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
    if args.stores:
        run_stores(args, meta, out_dir, ctx)
        return
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


def run_stores(args: argparse.Namespace, meta: dict, out_dir: Path, ctx: object) -> None:
    """The memory vs Spark grid: each size through both stores, the page after each run."""
    grid = STORES_QUICK if args.quick else STORES
    if args.sizes:
        grid = [(n, 1_000, 2, 5) for n in args.sizes]
    doc = args.doc or (out_dir / "benchmarks-spark.md" if args.quick
                       else ROOT / "docs" / "benchmarks-spark.md")
    json_path = args.json or out_dir / "spark.json"
    meta = {**meta, "command": "python experiments/scale.py --stores"
            + (" --quick" if args.quick else "")
            + (" --sizes " + " ".join(map(str, args.sizes)) if args.sizes else "")
            + (f" --only {args.only}" if args.only else "")}
    stores = [args.only] if args.only else ["memory", "spark"]
    if args.report_only:
        saved = json.loads(json_path.read_text())
        doc.write_text(render_stores(saved["results"], saved["meta"]))
        print(f"wrote {doc}")
        return
    results: list[dict] = []
    if json_path.exists() and args.sizes:  # more sizes added to an earlier run's page
        results = [r for r in json.loads(json_path.read_text())["results"]
                   if r["rows"] not in args.sizes or r["store"] not in stores]
    for n, k, t, b in grid:
        for store in stores:
            config = {
                "rows": n, "classes": k, "iterations": t, "branches": b, "store": store,
                "top_k": args.top_k, "noise": args.noise, "accuracy": args.accuracy,
                "seed": args.seed, "cores": os.cpu_count() or 1,
                "partitions": args.partitions,
            }
            queue = ctx.Queue()  # type: ignore[attr-defined]
            proc = ctx.Process(target=run_store, args=(config, queue))  # type: ignore[attr-defined]
            proc.start()
            result = queue.get()
            proc.join()
            results.append({**result, "commit": meta["commit"], "command": meta["command"]})
            results.sort(key=lambda r: (r["rows"], r["store"]))
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
            doc.parent.mkdir(parents=True, exist_ok=True)
            doc.write_text(render_stores(results, meta))
            print(
                f"N={n:>10,} {store:6s}: write {result['write_s']:.1f}s, step "
                f"{result['step_s']:.1f}s ({result['em_steps']} EM steps), peak "
                f"{result['peak_mb']:,.0f} MB, accuracy {result['accuracy_given']:.3f} -> "
                f"{result['accuracy_after']:.3f}",
                flush=True,
            )
    print(f"wrote {doc} and {json_path}")


if __name__ == "__main__":
    main()
