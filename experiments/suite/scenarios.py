"""Datasets and noise cells of the evaluation suite.

A *cell* is one (dataset, noise model, rate): the training texts with their clean
labels, the noisy labels every method receives, and the clean test split on which a
classifier trained on each method's corrected labels is scored.

Noise models (all seeded; ``rate`` is the fraction of rows whose label is changed):

- ``uniform``: a flipped row takes any other class, uniformly.
- ``within-group``: another class of the same group (CLINC150: its domain; BANKING77:
  its topic from :func:`experiments.loaders.banking77_topic`).
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

Beyond the grid, :data:`EXTRA_DATASETS` are one cell each, built by :func:`extra_cell`
(``--datasets hint3-curekart ...`` in ``experiments/evaluate.py``; their own page):

- ``hint3-curekart/real``, ``hint3-sofmattress/real`` (:func:`real_cell`): REAL noise.
  A HINT3 bot's train and test files concatenated (curekart 1,590 rows, 36 wrong
  labels; sofmattress 725 rows, 39); the published (v1) label is what every method
  receives, the corrected (v2) label the truth. ``NO_NODES_DETECTED`` is the catch-all.
  No clean test split: the downstream test accuracy is not applicable (None).
- ``clinc150-fewshot/within-group/0.1`` (:func:`fewshot_cell`): CLINC150's training
  rows, with ``FEWSHOT_CLASSES`` (20) intents drawn at random (seeded), each cut to
  a random subset of its rows whose size is drawn uniformly in
  ``FEWSHOT_MIN_ROWS..FEWSHOT_MAX_ROWS`` (3..10); then ``within-group`` noise
  at 10% of the whole subsample (exactly ``round(0.1 * N)`` rows flipped, each to
  another intent of its domain drawn uniformly, so the tiny intents receive about as
  many wrong rows as the others). ``info["small_classes"]`` names the cut intents.
- ``clinc150-catchall/catch-all/0.1`` (:func:`catch_all_cell`): CLINC150's 15,000
  training rows plus all 1,200 rows of ``oos.csv`` (its train, valid and test splits
  alike) under the one label ``oos``: 16,200 rows, 151 classes. Exactly
  ``n = round(0.1 * N)`` rows are relabeled (1,620): ``ceil(n / 2)`` in-scope rows,
  drawn uniformly without replacement, get ``oos``, and ``floor(n / 2)`` ``oos`` rows,
  drawn the same way, each get an in-scope intent drawn uniformly from the 150 (so
  810 of the 1,200 ``oos`` rows leave it, and 810 of the 1,200 rows labeled ``oos``
  are in-scope). The test split is CLINC150's in-scope test split (every ``oos`` row
  is in the training cell).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.loaders import (
    HINT3_CATCH_ALL,
    banking77_topic,
    clinc150_oos_available,
    datasets_available,
    hint3_available,
    load_banking77,
    load_clinc150,
    load_clinc150_oos,
    load_hint3,
)
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

#: The cells beyond the grid (one each; see the module docstring).
EXTRA_DATASETS = ("hint3-curekart", "hint3-sofmattress", "clinc150-fewshot", "clinc150-catchall")
#: The few-shot cell: how many intents are cut, to how many rows (both included),
#: and its noise model and rate.
FEWSHOT_CLASSES, FEWSHOT_MIN_ROWS, FEWSHOT_MAX_ROWS = 20, 3, 10
FEWSHOT_NOISE, FEWSHOT_RATE = "within-group", 0.1
#: ``--quick``: intents cut in the quick subsample (10 intents of 20 rows).
FEWSHOT_QUICK_CLASSES = 3
#: The catch-all cell: the catch-all label, its noise model and the fraction relabeled.
CATCH_ALL_LABEL, CATCH_ALL_NOISE, CATCH_ALL_RATE = "oos", "catch-all", 0.1
#: ``--quick``: ``oos`` rows added to the quick CLINC150 subsample.
CATCH_ALL_QUICK_ROWS = 40
#: Classes with at most this many rows under the clean labels are *small*: the page of
#: the extra cells reports what each method does to them (the few-shot cell's cut
#: intents, HINT3's tiny intents).
SMALL_CLASS_ROWS = 10


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
    #: Label codes the rows were published with, for real noise (HINT3); None when the
    #: noise is injected.
    given: np.ndarray | None = None
    #: Name of the out-of-scope (catch-all) class, if the dataset has one.
    catch_all: str | None = None

    @property
    def n_classes(self) -> int:
        """K."""
        return len(self.class_names)

    @property
    def has_test(self) -> bool:
        """Whether a clean test split exists (for the downstream test accuracy)."""
        return len(self.test_texts) > 0

    @property
    def catch_all_code(self) -> int | None:
        """Code of :attr:`catch_all` in :attr:`class_names` (None without one)."""
        if self.catch_all is None:
            return None
        return int(np.flatnonzero(self.class_names == self.catch_all)[0])


@dataclass
class Cell:
    """One (dataset, noise model, rate) with the labels every method receives."""

    dataset: Dataset
    noise: str
    rate: float
    rows: np.ndarray
    noisy: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    #: Name of the cell's row subset when it is neither ``full`` nor ``imbalanced``.
    sample: str | None = None

    @property
    def key(self) -> str:
        """``dataset/noise/rate`` (``dataset/real`` for real noise): the cell's id."""
        if self.noise == "real":
            return f"{self.dataset.name}/real"
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
        """``full``, ``imbalanced`` or :attr:`sample`: which rows the cell uses."""
        if self.sample is not None:
            return self.sample
        return "imbalanced" if self.noise.startswith("imbalanced") else "full"

    @property
    def small_classes(self) -> np.ndarray:
        """Codes of the classes with at most :data:`SMALL_CLASS_ROWS` clean rows here."""
        sizes = np.bincount(self.clean, minlength=self.dataset.n_classes)
        return np.flatnonzero((sizes > 0) & (sizes <= SMALL_CLASS_ROWS))


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
    """TF-IDF of the training rows (fitted on them) and of the test split, cached by key.

    The test features are None when the dataset has no test split.
    """
    if key not in dataset.features:
        feat = TfidfFeaturizer()
        X = feat.fit_transform([dataset.texts[i] for i in rows])
        X_test = feat.transform(dataset.test_texts) if dataset.has_test else None
        dataset.features[key] = (X, X_test)
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


# --- the cells beyond the grid: real noise, few-shot intents, the catch-all ----------


def extra_available(name: str) -> bool:
    """Whether the files that the extra dataset ``name`` needs are present."""
    if name.startswith("hint3-"):
        return hint3_available(name.split("-", 1)[1])
    if name == "clinc150-fewshot":
        return datasets_available("clinc150")
    if name == "clinc150-catchall":
        return datasets_available("clinc150") and clinc150_oos_available()
    raise ValueError(f"unknown extra dataset {name!r}; choose from {EXTRA_DATASETS}")


def load_extra(name: str, *, quick: bool = False, seed: int = 0) -> Dataset:
    """The dataset of one of :data:`EXTRA_DATASETS` (``quick``: CLINC150's quick subsample).

    A HINT3 bot is always read whole (it is small); its rows carry their published
    labels in :attr:`Dataset.given` and it has no test split.
    """
    if name.startswith("hint3-"):
        bot = name.split("-", 1)[1]
        frame = load_hint3(bot)
        names = np.unique(
            np.concatenate([frame["noisy_label"].to_numpy(), frame["clean_label"].to_numpy()])
        ).astype(str)
        _, clean = _encode(frame["clean_label"], names)
        _, given = _encode(frame["noisy_label"], names)
        return Dataset(
            name=name,
            texts=frame["text"].astype(str).tolist(),
            class_names=names,
            clean=clean,
            class_group=np.full(len(names), "hint3", dtype=object),
            test_texts=[],
            test_clean=np.zeros(0, dtype=np.int64),
            given=given,
            catch_all=HINT3_CATCH_ALL if HINT3_CATCH_ALL in set(names.tolist()) else None,
        )
    if name == "clinc150-fewshot":
        base = load_dataset("clinc150", quick=quick, seed=seed)
        return dataclasses.replace(base, name=name, features={})
    if name == "clinc150-catchall":
        return _with_catch_all(load_dataset("clinc150", quick=quick, seed=seed), quick, seed)
    raise ValueError(f"unknown extra dataset {name!r}; choose from {EXTRA_DATASETS}")


def _with_catch_all(base: Dataset, quick: bool, seed: int) -> Dataset:
    """CLINC150 plus every ``oos.csv`` row (a seeded few with ``quick``) as ``oos``."""
    label = CATCH_ALL_LABEL
    oos = load_clinc150_oos()
    if quick:
        pick = np.random.default_rng(seed).choice(len(oos), CATCH_ALL_QUICK_ROWS, replace=False)
        oos = oos.iloc[np.sort(pick)]
    names = np.array(sorted([*base.class_names.tolist(), label]))
    recode = np.searchsorted(names, base.class_names)
    group = {c: g for c, g in zip(base.class_names.tolist(), base.class_group.tolist())}
    code = int(np.flatnonzero(names == label)[0])
    return Dataset(
        name="clinc150-catchall",
        texts=base.texts + oos["text"].astype(str).tolist(),
        class_names=names,
        clean=np.concatenate([recode[base.clean], np.full(len(oos), code)]).astype(np.int64),
        class_group=np.array([group.get(c, label) for c in names.tolist()], dtype=object),
        test_texts=base.test_texts,
        test_clean=recode[base.test_clean].astype(np.int64),
        catch_all=label,
    )


def real_cell(dataset: Dataset) -> Cell:
    """The real-noise cell: every row, its published labels (``dataset.given``).

    ``info`` (with a catch-all): its true rows, the in-scope rows published with the
    catch-all label, and the catch-all rows published with an intent.
    """
    if dataset.given is None:
        raise ValueError(f"{dataset.name} carries no published labels (dataset.given)")
    rows = np.arange(len(dataset.clean))
    given, clean = dataset.given, dataset.clean
    wrong = given != clean
    info: dict[str, Any] = {}
    code = dataset.catch_all_code
    if code is not None:
        info = {
            "catch_all": dataset.catch_all,
            "catch_all_rows": int(np.sum(clean == code)),
            "in_scope_given_catch_all": int(np.sum(wrong & (given == code))),
            "catch_all_given_in_scope": int(np.sum(wrong & (clean == code))),
        }
    return Cell(dataset, "real", float(wrong.mean()), rows, given.copy(), info)


def fewshot_cell(
    dataset: Dataset,
    *,
    seed: int,
    n_classes: int = FEWSHOT_CLASSES,
    min_rows: int = FEWSHOT_MIN_ROWS,
    max_rows: int = FEWSHOT_MAX_ROWS,
    rate: float = FEWSHOT_RATE,
) -> Cell:
    """Few-shot intents: cut ``n_classes`` intents to ``min_rows..max_rows`` rows, add noise.

    With ``rng = np.random.default_rng(seed)``: ``n_classes`` classes are drawn without
    replacement among those with more than ``max_rows`` rows; each gets a size drawn
    uniformly in ``min_rows..max_rows`` (both included) and keeps that many of its rows,
    drawn without replacement; every other class keeps all its rows. Then
    ``within-group`` noise (:func:`pico.benchmarking.noise.within_group_noise`, seed
    ``seed``) flips exactly ``round(rate * N)`` rows of the whole subsample, each to
    another class of its group drawn uniformly (a cut intent is as likely a target as a
    full one). ``info``: the cut classes, their sizes, and how many rows carry a cut
    class's label after the noise (and how many of those are wrong).
    """
    k = dataset.n_classes
    sizes_all = np.bincount(dataset.clean, minlength=k)
    eligible = np.flatnonzero(sizes_all > max_rows)
    if n_classes > eligible.size:
        raise ValueError(
            f"{dataset.name}: {n_classes} classes to cut, but only {eligible.size} have more "
            f"than {max_rows} rows"
        )
    rng = np.random.default_rng(seed)
    cut = np.sort(rng.choice(eligible, size=n_classes, replace=False))
    sizes = rng.integers(min_rows, max_rows + 1, size=n_classes)
    keep = np.ones(len(dataset.clean), dtype=bool)
    for c, m in zip(cut, sizes):
        idx = np.flatnonzero(dataset.clean == c)
        keep[idx] = False
        keep[rng.choice(idx, size=int(m), replace=False)] = True
    rows = np.flatnonzero(keep)
    clean = dataset.clean[rows]
    noisy = within_group_noise(clean, rate=rate, groups=dataset.class_group, random_state=seed)
    given_small = np.isin(noisy, cut)
    info = {
        "small_classes": dataset.class_names[cut].tolist(),
        "small_sizes": [int(m) for m in sizes],
        "rows_labeled_small": int(given_small.sum()),
        "rows_labeled_small_wrong": int(np.sum(given_small & (noisy != clean))),
    }
    return Cell(dataset, FEWSHOT_NOISE, rate, rows, noisy, info, sample="fewshot")


def catch_all_cell(
    dataset: Dataset, *, seed: int, rate: float = CATCH_ALL_RATE
) -> Cell:
    """Noise into and out of the catch-all class ``dataset.catch_all``.

    With ``rng = np.random.default_rng(seed)`` and ``n = round(rate * N)``:
    ``ceil(n / 2)`` rows whose clean label is not the catch-all, drawn uniformly without
    replacement, are labeled the catch-all; then ``floor(n / 2)`` rows whose clean label
    is the catch-all, drawn the same way, each get a class drawn uniformly among the
    other (in-scope) classes. Exactly ``n`` labels differ from the clean ones. Raises
    ValueError when the catch-all has fewer than ``floor(n / 2)`` rows.
    """
    code = dataset.catch_all_code
    if code is None:
        raise ValueError(f"{dataset.name} has no catch-all class")
    clean = dataset.clean
    n = round(rate * len(clean))
    n_in, n_out = math.ceil(n / 2), n // 2
    in_scope = np.flatnonzero(clean != code)
    catch_all = np.flatnonzero(clean == code)
    if n_out > catch_all.size or n_in > in_scope.size:
        raise ValueError(
            f"{dataset.name}: {n} flips need {n_out} catch-all and {n_in} in-scope rows; "
            f"it has {catch_all.size} and {in_scope.size}"
        )
    rng = np.random.default_rng(seed)
    to_catch_all = rng.choice(in_scope, size=n_in, replace=False)
    from_catch_all = rng.choice(catch_all, size=n_out, replace=False)
    targets = np.setdiff1d(np.arange(dataset.n_classes), [code])
    noisy = clean.copy()
    noisy[to_catch_all] = code
    noisy[from_catch_all] = rng.choice(targets, size=n_out)
    info = {
        "catch_all": dataset.catch_all,
        "catch_all_rows": int(catch_all.size),
        "in_scope_to_catch_all": int(n_in),
        "catch_all_to_in_scope": int(n_out),
    }
    return Cell(dataset, CATCH_ALL_NOISE, rate, np.arange(len(clean)), noisy, info)


def extra_cell(dataset: Dataset, *, seed: int, quick: bool = False) -> Cell:
    """The one cell of an extra dataset (see the module docstring)."""
    if dataset.name.startswith("hint3-"):
        return real_cell(dataset)
    if dataset.name == "clinc150-fewshot":
        n = FEWSHOT_QUICK_CLASSES if quick else FEWSHOT_CLASSES
        return fewshot_cell(dataset, seed=seed, n_classes=n)
    if dataset.name == "clinc150-catchall":
        return catch_all_cell(dataset, seed=seed)
    raise ValueError(f"unknown extra dataset {dataset.name!r}; choose from {EXTRA_DATASETS}")
