"""Time of the vote over given sparse predictions, at 20,000 and 200,000 rows.

``pico.clean(labels=..., pred_probs=[...])`` trains nothing: it checks the matrices,
puts them in the vote's form and runs the Bayesian vote and the review rules. Here the
predictions are synthetic (:func:`experiments.scale.synthetic_iteration`): K = 100
classes, 2 checkers, each keeping its top 10 classes per row (scipy sparse), 10% of
the given labels wrong. The same vote runs on the first 20,000 rows and on all
200,000; for scale, ``pico.clean`` with its own training (defaults) runs on the demo
dataset (2,997 rows, 32 intents) in the same process. Everything on one worker
(``n_jobs=1``), each timed once after a small warm-up.

    python experiments/pred_probs_speed.py   # writes experiments/results/pred_probs_speed.json
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pico
from experiments.scale import synthetic_iteration
from experiments.suite.provenance import code_version

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo" / "intents.csv"
OUT = ROOT / "experiments" / "results" / "pred_probs_speed.json"

ROWS = (20_000, 200_000)
CLASSES = 100
TOP_K = 10
CHECKERS = 2
NOISE = 0.1
ACCURACY = 0.8
SEED = 0


def _vote(labels: np.ndarray, matrices: list, clean: np.ndarray) -> dict:
    start = time.perf_counter()
    result = pico.clean(labels=labels, pred_probs=matrices, top_k=TOP_K, progress=False)
    seconds = time.perf_counter() - start
    return {
        "rows": len(labels),
        "seconds": round(seconds, 2),
        "accuracy_given": round(float((labels == clean).mean()), 4),
        "accuracy_after": round(float((result.labels.astype(np.int64) == clean).mean()), 4),
        "relabeled": int((result.status == "relabeled").sum()),
        "review": int((result.status == "review").sum()),
    }


def main() -> None:
    rng = np.random.default_rng(SEED)
    n = max(ROWS)
    clean = rng.integers(0, CLASSES, n)
    flip = rng.random(n) < NOISE
    given = np.where(flip, (clean + rng.integers(1, 6, n)) % CLASSES, clean)
    matrices = [
        p.probs for p in synthetic_iteration(
            clean, CLASSES, n_branches=CHECKERS, top_k=TOP_K, accuracy=ACCURACY, rng=rng
        )
    ]
    # warm-up: imports and first calls
    _vote(given[:2000], [m[:2000] for m in matrices], clean[:2000])

    votes = [_vote(given[:rows], [m[:rows] for m in matrices], clean[:rows]) for rows in ROWS]

    frame = pd.read_csv(DEMO)
    start = time.perf_counter()
    demo = pico.clean(frame["text"].astype(str).tolist(), frame["label"].to_numpy(dtype=object),
                      n_jobs=1, progress=False)
    demo_seconds = time.perf_counter() - start

    small, big = votes
    result = {
        "experiment": "pred_probs_speed",
        "synthetic": {
            "classes": CLASSES, "top_k": TOP_K, "checkers": CHECKERS, "noise": NOISE,
            "checker_accuracy": ACCURACY, "format": "scipy.sparse CSR, float32",
        },
        "vote": votes,
        "demo_clean_with_training": {
            "rows": len(frame),
            "classes": int(frame["label"].nunique()),
            "seconds": round(demo_seconds, 2),
            "checker_fits": demo.summary["checker_fits"],
            "options": "defaults, n_jobs=1",
        },
        "ratios": {
            "vote_200k_over_vote_20k": round(big["seconds"] / small["seconds"], 2),
            "rows_200k_over_rows_20k": round(big["rows"] / small["rows"], 2),
            "vote_200k_over_demo_clean": round(big["seconds"] / demo_seconds, 2),
            "vote_20k_over_demo_clean": round(small["seconds"] / demo_seconds, 2),
        },
        "seed": SEED,
        "code_version": code_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "date": _dt.date.today().isoformat(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"vote": votes, "demo_seconds": round(demo_seconds, 2),
                      "ratios": result["ratios"]}, indent=1))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
