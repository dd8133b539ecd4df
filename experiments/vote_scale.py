"""Time and peak memory of the vote as the number of classes grows (same rows, same evidence).

The same 200,000 rows at 100, 1,000 and 10,000 classes: synthetic checkers keep their
top-20 probabilities per row (the generator of ``experiments/scale.py``: the true class
with probability about ``--accuracy``, the tail from a neighbourhood of similar classes
and a few random ones), 20% of the given labels are wrong (planted: moved to a near
class). The step measured is what the corrector runs after an iteration's checkers,
:meth:`pico.history.LabelHistoryModel.fit` over the iterations so far (with one
iteration, the Bayesian vote): candidate columns, the EM of the noise matrix, prior and
tempering, and each row's outcome. Each size runs in its own process: its time, the
peak resident memory of the fit above what the process held before it (the inputs),
and the process's whole peak. One BLAS thread.

    python experiments/vote_scale.py                      # 100, 1,000, 10,000 classes
    python experiments/vote_scale.py --classes 100 1000   # some sizes
    python experiments/vote_scale.py --rows 20000         # smaller, for a smoke test
    python experiments/vote_scale.py --classes 1000 --dense-noise-classes 1000
                                                          # every cell on its own

Writes experiments/results/vote_scale.json (``--output``), with the ratios of the
largest size to the smallest. The noise matrix is what changes with K: it is kept as
a diagonal, the cells the rows reach, and one shared value per row
(:mod:`pico.vote.noise`).

``--clean`` runs the whole ``pico clean`` CLI instead (``--jobs 2``) on synthetic intent
texts: 10,000 rows of 2,000 classes (5 rows each; each class has four words of its
own, a row says two or three of them among shared filler words), 10% of the labels
moved to another class at random. It records the wall time, the peak resident memory
of the process and its workers together (sampled every 0.2 s), the time of each
iteration's checkers against the rest of the iteration (the vote), and how many
planted wrong labels were put right; the result goes under ``clean`` in the same JSON.

    python experiments/vote_scale.py --clean                        # 10,000 x 2,000
    python experiments/vote_scale.py --clean --clean-size 3000 300  # smaller
    python experiments/vote_scale.py --clean --checker centroid     # nearest-centroid checker
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_now_mb() -> float:
    """This process's resident memory now (MB)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(config: dict) -> dict:
    """Build the synthetic evidence and fit the vote on it (in this process)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import pico  # before experiments.scale, which puts the repository first on the path
    from pico.history import LabelHistoryModel

    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    from experiments.scale import synthetic_iteration, synthetic_labels

    n, k, t_max = config["rows"], config["classes"], config["iterations"]
    rng, clean, given = synthetic_labels(config)
    iterations, trained_on = [], []
    labels = given
    for _ in range(t_max):
        iterations.append(synthetic_iteration(
            clean, k, n_branches=config["branches"], top_k=config["top_k"],
            accuracy=config["accuracy"], rng=rng,
        ))
        trained_on.append(labels)
        labels = np.where(rng.random(n) < 0.5, clean, labels)  # later checkers: partly corrected
    before = _rss_now_mb()
    with threadpool_limits(1):
        start = time.perf_counter()
        options = {} if config["dense_noise_classes"] is None else {
            "dense_noise_classes": config["dense_noise_classes"]
        }
        model = LabelHistoryModel(random_state=0, **options).fit(
            iterations, given, trained_on=trained_on, n_classes=k
        )
        seconds = time.perf_counter() - start
    peak = _peak_mb()
    best, _ = model.best()
    wrong = given != clean
    noise = getattr(model, "noise_matrix_", None)
    return {
        **config,
        "pico": str(Path(pico.__file__).parent),
        "fit_s": round(seconds, 2),
        "em_steps": len(model.log_likelihood_),
        "inputs_rss_mb": round(before, 1),
        "fit_peak_rise_mb": round(peak - before, 1),
        "peak_rss_mb": round(peak, 1),
        "noise_matrix_cells": None if noise is None else int(len(noise.keys) + k),
        "noise_matrix_mb": round((noise.nbytes if noise is not None else 8 * k * k) / 2**20, 2),
        "accuracy_given": round(float(np.mean(given == clean)), 4),
        "accuracy_best": round(float(np.mean(best == clean)), 4),
        "planted_fixed": round(float(np.mean(best[wrong] == clean[wrong])), 4),
        "clean_kept": round(float(np.mean(best[~wrong] == given[~wrong])), 4),
    }


def _tree_rss_mb(pid: int) -> float:
    """Resident memory (MB) of a process and its descendants together, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * page
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 2**20


def synthetic_intents(rows: int, classes: int, *, rate: float, seed: int) -> tuple:
    """Texts, clean labels and given labels (``rate`` of them moved) of synthetic intents."""
    import numpy as np

    from pico.benchmarking import uniform_noise

    rng = np.random.default_rng(seed)
    syllables = [a + b for a in "bdfgklmnprstvz" for b in "aeiou"]  # 70
    own = set()
    words = []
    while len(words) < 4 * classes:  # four words of its own per class, 2-3 syllables
        word = "".join(rng.choice(syllables, rng.integers(2, 4)))
        if word not in own:
            own.add(word)
            words.append(word)
    filler = ["please", "can", "you", "i", "want", "to", "the", "my", "a", "for", "now",
              "help", "me", "with", "need", "how", "do", "what", "is", "it", "today", "again"]
    clean = np.arange(rows) % classes
    rng.shuffle(clean)
    texts = []
    for c in clean:
        said = rng.choice(words[4 * c: 4 * c + 4], rng.integers(2, 4), replace=False)
        sentence = list(said) + list(rng.choice(filler, rng.integers(2, 6)))
        rng.shuffle(sentence)
        texts.append(" ".join(sentence))
    given = uniform_noise(clean, rate=rate, n_classes=classes, random_state=seed)
    return texts, clean, given


def clean_child(config: dict) -> None:
    """``pico.clean`` with another checker (the API under ``pico clean``), its outputs
    written as ``pico clean`` writes them (``pico_label`` column, ``summary.json``)."""
    import csv

    import pico
    from pico.checkers.linear import NearestCentroid

    with open(config["data"], newline="") as fh:
        table = list(csv.DictReader(fh))
    result = pico.clean(
        [row["text"] for row in table], [row["label"] for row in table],
        checker={"centroid": NearestCentroid}[config["checker"]](), n_jobs=config["jobs"],
    )
    Path(config["run"]).mkdir()
    Path(config["run"], "summary.json").write_text(json.dumps(result.summary, default=str))
    with open(config["output"], "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["pico_label"])
        writer.writerows([label] for label in result.labels)


def clean_benchmark(
    rows: int, classes: int, *, jobs: int, rate: float, seed: int, checker: str = "softmax"
) -> dict:
    """``pico clean`` on synthetic intents: time, peak memory, planted noise put right.

    ``checker`` other than the default softmax runs ``pico.clean`` with that checker.
    """
    import csv
    import tempfile
    import threading

    import numpy as np

    texts, clean, given = synthetic_intents(rows, classes, rate=rate, seed=seed)
    names = np.array([f"intent_{c:05d}" for c in range(classes)])
    with tempfile.TemporaryDirectory() as tmp:
        data, out, run = Path(tmp, "intents.csv"), Path(tmp, "out.csv"), Path(tmp, "run")
        with data.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"])
            writer.writerows(zip(texts, names[given]))
        command = [
            str(Path(sys.executable).with_name("pico")), "clean", str(data),
            "--text-column", "text", "--label-column", "label", "--output", str(out),
            "--run-dir", str(run), "--jobs", str(jobs),
        ] if checker == "softmax" else [
            sys.executable, __file__, "--clean-child", json.dumps({
                "data": str(data), "output": str(out), "run": str(run), "jobs": jobs,
                "checker": checker,
            }),
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        peak = [0.0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        log, _ = proc.communicate()
        seconds = time.perf_counter() - start
        sampler.join()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"pico clean failed ({proc.returncode}):\n{log}")
        summary = json.loads(Path(run, "summary.json").read_text())
        with out.open(newline="") as fh:
            final = np.array([row["pico_label"] for row in csv.DictReader(fh)])
    wrong = given != clean
    truth = names[clean]
    moved = final != names[given]
    iterations = summary["iterations"]
    checkers = sum(it["fit_seconds"] for it in iterations)
    return {
        "rows": rows, "classes": classes, "jobs": jobs, "noise": rate, "checker": checker,
        "command": "pico clean intents.csv --text-column text --label-column label "
                   f"--output out.csv --run-dir run --jobs {jobs}" if checker == "softmax"
                   else f"pico.clean(texts, labels, checker={checker}, n_jobs={jobs})",
        "wall_s": round(seconds, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(peak[0], 1),
        "featurize_s": summary["timings"].get("featurize_seconds"),
        "iterations": len(iterations),
        "checkers_s": round(checkers, 1),
        "vote_and_rest_s": round(sum(it["seconds"] for it in iterations) - checkers, 1),
        "per_iteration": [
            {"checkers_s": it["fit_seconds"], "rest_s": round(it["seconds"] - it["fit_seconds"], 2)}
            for it in iterations
        ],
        "status_counts": summary["status_counts"],
        "planted_wrong": int(wrong.sum()),
        "planted_put_right": int((final[wrong] == truth[wrong]).sum()),
        "planted_moved_elsewhere": int((moved[wrong] & (final[wrong] != truth[wrong])).sum()),
        "clean_rows_moved": int(moved[~wrong].sum()),
        "label_accuracy_given": round(float(np.mean(~wrong)), 4),
        "label_accuracy_after": round(float(np.mean(final == truth)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--classes", type=int, nargs="*", default=[100, 1_000, 10_000])
    parser.add_argument("--iterations", type=int, default=1,
                        help="iterations of evidence (1: the Bayesian vote)")
    parser.add_argument("--branches", type=int, default=2,
                        help="branches per iteration (the corrector's default at this size)")
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--accuracy", type=float, default=0.85)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dense-noise-classes", type=int, default=None,
                        help="the vote's dense_noise_classes (default: its own default)")
    parser.add_argument("--output", type=Path, default=ROOT / "experiments/results/vote_scale.json")
    parser.add_argument("--clean", action="store_true",
                        help="run pico clean on synthetic intents instead of the vote alone")
    parser.add_argument("--clean-size", type=int, nargs=2, default=[10_000, 2_000],
                        metavar=("ROWS", "CLASSES"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--checker", choices=["softmax", "centroid"], default="softmax",
                        help="with --clean: the checker (softmax: the default, through the CLI)")
    parser.add_argument("--one", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--clean-child", type=str, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(json.loads(args.one))))
        return
    if args.clean_child is not None:
        clean_child(json.loads(args.clean_child))
        return
    if args.clean:
        result = clean_benchmark(*args.clean_size, jobs=args.jobs, rate=0.1, seed=args.seed,
                                 checker=args.checker)
        print(json.dumps(result))
        record = json.loads(args.output.read_text()) if args.output.exists() else {}
        record["clean" if args.checker == "softmax" else f"clean_{args.checker}"] = {
            "command": "python experiments/vote_scale.py " + " ".join(sys.argv[1:]),
            "date": _dt.date.today().isoformat(),
            **result,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(record, indent=2) + "\n")
        return
    results = []
    for k in args.classes:  # one process per size: its peak memory is its own
        config = {
            "rows": args.rows, "classes": k, "iterations": args.iterations,
            "branches": args.branches, "top_k": args.top_k, "accuracy": args.accuracy,
            "noise": args.noise, "seed": args.seed,
            "dense_noise_classes": args.dense_noise_classes,
        }
        out = subprocess.run(
            [sys.executable, __file__, "--one", json.dumps(config)],
            check=True, capture_output=True, text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    small, large = results[0], results[-1]
    ratios = {
        "classes": f"{large['classes']} vs {small['classes']}",
        "time": round(large["fit_s"] / small["fit_s"], 2),
        "fit_peak_rise": round(large["fit_peak_rise_mb"] / max(small["fit_peak_rise_mb"], 1.0), 2),
        "peak_rss": round(large["peak_rss_mb"] / small["peak_rss_mb"], 2),
    }
    try:
        from experiments.suite.provenance import code_version

        version = code_version()
    except ImportError:
        version = "unknown"
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    record = {
        "command": "python experiments/vote_scale.py " + " ".join(sys.argv[1:]),
        "code": version,
        "date": _dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, one BLAS thread",
        "results": results,
        "ratio_largest_vs_smallest": ratios,
        **{key: value for key, value in previous.items() if key.startswith("clean")},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
