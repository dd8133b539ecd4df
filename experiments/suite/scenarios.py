"""Datasets and noise cells of the evaluation suite.

A *cell* is one (dataset, noise model, rate): the training texts with their clean
labels, the noisy labels every method receives, and the clean test split on which a
classifier trained on each method's corrected labels is scored.

Noise models (all seeded; ``rate`` is the fraction of rows whose label is changed):

- ``uniform``: a flipped row takes any other class, uniformly.
- ``within-group``: another class of the same group (CLINC150: its domain; BANKING77:
  its topic from :func:`datasets.loaders.banking77_topic`).
- ``confusable``: one of the 3 classes a checker trained on the clean labels confuses
  it with most (out-of-fold probability mass), chosen in proportion to that mass.
- ``generic-specific``: disjoint pairs of sibling classes (same group); about half of
  the "specific" class of each pair is relabeled as its "generic" sibling. The number
  of pairs follows the rate (a fifth of the classes as specific at 10% on balanced
  data) and the fraction moved is set so that the rate is met; when the groups allow
  too few pairs, every pair is used and more than half of each class moves.
- ``imbalanced-confusable``: a class-imbalanced subsample (class sizes spaced
  geometrically from all rows down to 10% of them), then ``confusable`` noise.

Rate 0 is the same data for every balanced model, so it is one cell (``none``), and
one more for the imbalanced subsample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from datasets.loaders import banking77_topic, load_banking77, load_clinc150
from pico.benchmarking.noise import (
    confusable_noise,
    generic_specific_noise,
    imbalanced_subsample,
    sibling_pairs,
    uniform_noise,
    within_group_noise,
)
from pico.featurizers.tfidf import TfidfFeaturizer

DATASETS = ("clinc150", "banking77")
NOISE_MODELS = ("uniform", "within-group", "confusable", "generic-specific", "imbalanced-confusable")
RATES = (0.0, 0.1, 0.2, 0.4)
GENERIC_FRACTION = 0.5
IMBALANCE_MIN_FRACTION = 0.1
CONFUSABLE_TOP = 3

#: ``--quick`` subsample: classes and rows per class (CLINC150 classes come from 2
#: domains so that within-domain noise has siblings).
QUICK = {"classes": 10, "rows": 20, "test_rows": 6, "domains": 2}


@dataclass
class Dataset:
    """One dataset, featurized once: training and test texts, codes and groups."""

    name: str
    texts: list[str]
    class_names: np.ndarray
    clean: np.ndarray
    class_group: np.ndarray
    test_texts: list[str]
    test_clean: np.ndarray
    confusion: np.ndarray | None = None
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        """K."""
        return len(self.class_names)


@dataclass
class Cell:
    """One (dataset, noise model, rate) with the labels every method receives."""

    dataset: Dataset
    noise: str
    rate: float
    rows: np.ndarray
    noisy: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``dataset/noise/rate``: the cell's id in the results."""
        return f"{self.dataset.name}/{self.noise}/{self.rate:g}"

    @property
    def texts(self) -> list[str]:
        """Training texts of the cell's rows."""
        return [self.dataset.texts[i] for i in self.rows]

    @property
    def clean(self) -> np.ndarray:
        """Clean label codes of the cell's rows."""
        return self.dataset.clean[self.rows]

    @property
    def subsample(self) -> str:
        """``full`` or ``imbalanced``: which rows the cell uses."""
        return "imbalanced" if self.noise.startswith("imbalanced") else "full"


def _encode(labels: pd.Series, names: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    if names is None:
        names = np.unique(labels.astype(str).to_numpy())
    index = {c: i for i, c in enumerate(names.tolist())}
    return names, np.array([index[c] for c in labels.astype(str)], dtype=np.int64)


def _quick_rows(
    frame: pd.DataFrame, classes: np.ndarray, rows: int, rng: np.random.Generator
) -> pd.DataFrame:
    parts = []
    for c in classes:
        idx = np.flatnonzero(frame["label"].to_numpy() == c)
        parts.append(rng.choice(idx, size=min(rows, idx.size), replace=False))
    return frame.iloc[np.sort(np.concatenate(parts))].reset_index(drop=True)


def load_dataset(name: str, *, quick: bool = False, seed: int = 0) -> Dataset:
    """CLINC150 (train/test, domains as groups) or BANKING77 (train/test, topics)."""
    if name == "clinc150":
        train, test = load_clinc150("train"), load_clinc150("test")
        domain_of = train.groupby("label")["domain"].first()
    elif name == "banking77":
        train, test = load_banking77("train"), load_banking77("test")
        domain_of = pd.Series({c: banking77_topic(c) for c in train["label"].unique()})
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from {DATASETS}")
    if quick:
        rng = np.random.default_rng(seed)
        groups = domain_of.to_numpy()
        chosen_groups = rng.choice(np.unique(groups), size=QUICK["domains"], replace=False)
        pool = np.array(sorted(domain_of.index[np.isin(groups, chosen_groups)]))
        classes = np.sort(rng.choice(pool, size=min(QUICK["classes"], pool.size), replace=False))
        train = _quick_rows(train, classes, QUICK["rows"], rng)
        test = _quick_rows(test, classes, QUICK["test_rows"], rng)
    names, clean = _encode(train["label"])
    _, test_clean = _encode(test["label"], names)
    return Dataset(
        name=name,
        texts=train["text"].astype(str).tolist(),
        class_names=names,
        clean=clean,
        class_group=domain_of.loc[names].to_numpy(),
        test_texts=test["text"].astype(str).tolist(),
        test_clean=test_clean,
    )


def featurize(dataset: Dataset, rows: np.ndarray, key: str) -> tuple[Any, Any]:
    """TF-IDF of the training rows (fitted on them) and of the test split, cached by key."""
    if key not in dataset.features:
        feat = TfidfFeaturizer()
        X = feat.fit_transform([dataset.texts[i] for i in rows])
        dataset.features[key] = (X, feat.transform(dataset.test_texts))
    cached: tuple[Any, Any] = dataset.features[key]
    return cached


def _generic_pairs(
    clean: np.ndarray, groups: np.ndarray, rate: float, seed: int
) -> tuple[list[tuple[int, int]], float]:
    """Sibling pairs and the fraction to move so that about ``rate`` of rows flip."""
    k = len(groups)
    present = np.bincount(clean, minlength=k)
    max_pairs = sum(int(np.sum(groups == g)) // 2 for g in np.unique(groups))
    mean_size = float(present.mean())
    wanted = max(1, round(rate * len(clean) / (GENERIC_FRACTION * mean_size)))
    n_pairs = min(wanted, max_pairs)
    pairs = sibling_pairs(groups, n_pairs=n_pairs, random_state=seed)
    specific_rows = sum(int(present[s]) for s, _ in pairs)
    fraction = min(0.9, rate * len(clean) / max(specific_rows, 1))
    return pairs, fraction


def make_cell(dataset: Dataset, noise: str, rate: float, *, seed: int) -> Cell:
    """Apply ``noise`` at ``rate`` to ``dataset`` (a seeded, reproducible cell)."""
    rows = np.arange(len(dataset.clean))
    if noise.startswith("imbalanced"):
        rows = imbalanced_subsample(
            dataset.clean, min_fraction=IMBALANCE_MIN_FRACTION, random_state=seed
        )
    clean = dataset.clean[rows]
    k = dataset.n_classes
    info: dict[str, Any] = {}
    if rate == 0:
        noisy = clean.copy()
    elif noise == "uniform":
        noisy = uniform_noise(clean, rate=rate, n_classes=k, random_state=seed)
    elif noise == "within-group":
        noisy = within_group_noise(clean, rate=rate, groups=dataset.class_group, random_state=seed)
    elif noise in ("confusable", "imbalanced-confusable"):
        if dataset.confusion is None:
            raise RuntimeError("confusable noise needs dataset.confusion (clean-label checker)")
        noisy = confusable_noise(
            clean, rate=rate, confusion=dataset.confusion, top=CONFUSABLE_TOP, random_state=seed
        )
    elif noise == "generic-specific":
        pairs, fraction = _generic_pairs(clean, dataset.class_group, rate, seed)
        noisy = generic_specific_noise(clean, pairs=pairs, fraction=fraction, random_state=seed)
        info = {"pairs": len(pairs), "fraction_moved": round(fraction, 3)}
    else:
        raise ValueError(f"unknown noise model {noise!r}; choose from {NOISE_MODELS}")
    return Cell(dataset, noise if rate > 0 or noise.startswith("imbalanced") else "none", rate,
                rows, noisy, info)


def cells_for(dataset: Dataset, noises: list[str], rates: list[float], *, seed: int) -> list[Cell]:
    """Every requested (noise, rate) cell of ``dataset``; rate 0 once per subsample."""
    cells: list[Cell] = []
    seen: set[str] = set()
    for noise in noises:
        for rate in rates:
            cell = make_cell(dataset, noise, rate, seed=seed)
            if cell.key not in seen:
                seen.add(cell.key)
                cells.append(cell)
    return cells
