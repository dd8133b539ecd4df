"""Ranking the demo's planted mistakes: pico's label_quality against cleanlab's self-confidence.

On ``datasets/demo/intents.csv`` (``label`` holds the planted mistakes, ``clean_label``
the truth), one stratified 5-fold cross-validation of the default checker
(:class:`~pico.checkers.SoftmaxRegression` on the default TF-IDF features) gives
out-of-fold probabilities. On those same probabilities:

- cleanlab: ``cleanlab.rank.get_label_quality_scores(method="self_confidence")``, the
  out-of-fold probability of the given label;
- pico: ``pico.clean(labels=..., pred_probs=P)`` (nothing trained: the Bayesian vote
  and the review rules), ``label_quality`` of its issues table (the vote's posterior
  probability of the given label).

Each ranks the rows from the lowest score up; the average precision of finding the
planted mistakes is reported (the share of wrong labels is what a random order gets).
For reference, ``pico.clean`` with its own training (defaults) is ranked the same way.

    python experiments/pred_probs_ranking.py   # writes experiments/results/pred_probs_ranking.json
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
from experiments.suite.methods import cross_val_probs
from experiments.suite.provenance import code_version
from pico.benchmarking.metrics import ranking_average_precision
from pico.featurizers.tfidf import TfidfFeaturizer

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo" / "intents.csv"
OUT = ROOT / "experiments" / "results" / "pred_probs_ranking.json"
SEED = 0


def main() -> None:
    from cleanlab.rank import get_label_quality_scores

    frame = pd.read_csv(DEMO)
    texts = frame["text"].astype(str).tolist()
    given = frame["label"].to_numpy(dtype=object)
    wrong = given != frame["clean_label"].to_numpy(dtype=object)
    classes, codes = np.unique(given, return_inverse=True)

    start = time.perf_counter()
    X = TfidfFeaturizer().fit_transform(texts)
    P = cross_val_probs(X, codes, len(classes), jobs=1, seed=SEED)
    cv_seconds = time.perf_counter() - start

    self_confidence = get_label_quality_scores(codes, P, method="self_confidence")

    start = time.perf_counter()
    voted = pico.clean(labels=given, pred_probs=P, classes=list(classes), progress=False)
    vote_seconds = time.perf_counter() - start
    issues = voted.to_frame()

    start = time.perf_counter()
    trained = pico.clean(texts, given, n_jobs=1, random_state=SEED, progress=False)
    clean_seconds = time.perf_counter() - start

    def ap(scores: np.ndarray) -> float:
        value = ranking_average_precision(wrong, scores)
        assert value is not None
        return round(value, 4)

    result = {
        "experiment": "pred_probs_ranking",
        "dataset": str(DEMO.relative_to(ROOT)),
        "rows": len(given),
        "classes": len(classes),
        "wrong_labels": int(wrong.sum()),
        "random_order_ap": round(float(wrong.mean()), 4),
        "folds": 5,
        "checker": "SoftmaxRegression()",
        "features": "TfidfFeaturizer()",
        "average_precision": {
            "cleanlab_self_confidence": ap(self_confidence),
            "pico_label_quality_same_pred_probs": ap(issues["label_quality"].to_numpy()),
            "pico_label_quality_own_training": ap(trained.label_quality),
        },
        "pico_same_pred_probs": {
            "relabeled": int((voted.status == "relabeled").sum()),
            "relabeled_right": int(
                ((voted.status == "relabeled")
                 & (voted.labels == frame["clean_label"].to_numpy(dtype=object))).sum()
            ),
            "review": int((voted.status == "review").sum()),
        },
        "seconds": {
            "cross_validation": round(cv_seconds, 2),
            "pico_vote_on_pred_probs": round(vote_seconds, 2),
            "pico_clean_with_training": round(clean_seconds, 2),
        },
        "seed": SEED,
        "code_version": code_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "date": _dt.date.today().isoformat(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["average_precision"], indent=1))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
