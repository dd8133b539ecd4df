"""The Python API: :func:`clean` and the scikit-learn-style :class:`Cleaner`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from .corrector import STATUSES, IterativeCorrector
from .config import MAX_TEXT_CHARS, MIN_CLASS_RECALL
from .data.inputs import check_max_text_chars, label_variants, truncate_texts
from .executors import make_executor
from .exceptions import InvalidInputError
from .featurizers.tfidf import NumericFeaturizer, TfidfFeaturizer
from .report import build_summary

__all__ = ["CleanResult", "Cleaner", "clean", "missing_labels", "text_groups"]

@dataclass
class CleanResult:
    """What :func:`clean` returns; every array has one entry per input row, in order.

    Attributes
    ----------
    labels : ndarray of shape (N,)
        Corrected labels; skipped rows (no given label) keep their given value.
    confidence : ndarray of shape (N,)
        Probability that ``labels`` is right (NaN for skipped rows): among rows with
        confidence near p, about a fraction p are right (``confidence_scale``).
    status : ndarray of shape (N,)
        ``kept``, ``relabeled``, ``review`` or ``skipped``.
    suggested : ndarray of shape (N,)
        Most probable label under the final posterior (None for skipped rows); for
        ``review`` rows this is the label a person may want to consider.
    suggested_confidence : ndarray of shape (N,)
        Fitted posterior probability of ``suggested`` (NaN for skipped rows).
    given_confidence : ndarray of shape (N,)
        Fitted posterior probability of the given label (NaN for skipped rows). A row is
        relabeled when ``suggested_confidence`` reaches ``relabel_threshold`` and is at
        least ``relabel_odds`` times ``given_confidence``: stricter values keep the
        changes that pass both.
    history : ndarray of shape (N, T + 1)
        Label of each row before the first iteration (the given label) and after each
        iteration (None for skipped rows).
    summary : dict
        Counts, per-class changes, confused pairs, duplicates, options and timings.
    """

    labels: np.ndarray
    confidence: np.ndarray
    status: np.ndarray
    suggested: np.ndarray
    suggested_confidence: np.ndarray
    given_confidence: np.ndarray
    history: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> np.ndarray:
        """Boolean mask of the rows whose label was changed."""
        return self.status == "relabeled"  # type: ignore[no-any-return]


def missing_labels(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Mask of labels that are missing: None, NaN, or empty/whitespace strings.

    Examples
    --------
    >>> missing_labels(["a", "", None, float("nan"), " ", 0]).tolist()
    [False, True, True, True, True, False]
    """

    def missing(v: Any) -> bool:
        if v is None:
            return True
        if isinstance(v, (float, np.floating)):
            return bool(np.isnan(v))
        if isinstance(v, str):
            return not v.strip()
        return False

    return np.fromiter((missing(v) for v in labels), dtype=bool, count=len(labels))


def text_groups(texts: Sequence[str]) -> np.ndarray:
    """Group id per text: texts equal up to case and whitespace share an id.

    Examples
    --------
    >>> text_groups(["Hi there", "hi  there ", "bye"]).tolist()
    [0, 0, 1]
    """
    keys: dict[str, int] = {}
    out = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        out[i] = keys.setdefault(" ".join(str(t).casefold().split()), len(keys))
    return out


def _check_finite(data: Any) -> None:
    """Refuse NaN or infinite features with the rows that hold them."""
    values = data.data if sp.issparse(data) else np.asarray(data)
    if values.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(values)
    if bad.any():
        if sp.issparse(data):
            rows = np.unique(data.tocoo().row[~np.isfinite(data.tocoo().data)])
        else:
            rows = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))
        shown = ", ".join(str(r) for r in rows[:5].tolist()) + (" ..." if len(rows) > 5 else "")
        raise InvalidInputError(
            f"the features hold NaN or infinite values in {len(rows)} rows (rows {shown}); "
            "fill or drop them before cleaning"
        )


def _is_texts(data: Any) -> bool:
    if sp.issparse(data):
        return False
    if isinstance(data, np.ndarray):
        return data.ndim == 1 and data.dtype.kind in "OUS"
    if hasattr(data, "ndim") and getattr(data, "ndim", 2) == 1 and hasattr(data, "tolist"):
        return all(isinstance(v, str) for v in data.tolist()[:100])
    return isinstance(data, (list, tuple)) and len(data) > 0 and isinstance(data[0], str)


def clean(
    data: Any,
    labels: Sequence[Any] | np.ndarray,
    *,
    checker: Any = None,
    featurizer: Any = None,
    n_branches: int | None = None,
    n_folds: int | None = None,
    n_iterations: int = 3,
    relabel_threshold: float = 0.6,
    relabel_odds: float = 7.0,
    training_odds: float = 1.0,
    review_threshold: float = 0.5,
    top_k: int = 20,
    max_class_loss: float = 0.5,
    history: bool = True,
    confidence_scale: float = 0.7,
    protect: Sequence[Any] | None = None,
    catch_all: Any = "auto",
    min_class_recall: float = MIN_CLASS_RECALL,
    n_jobs: int = -1,
    engine: str = "local",
    ray_address: str | None = None,
    cpus_per_checker: float = 1.0,
    gpus_per_checker: float = 0.0,
    store: str = "memory",
    spark_master: str | None = None,
    store_dir: str | None = None,
    random_state: int | None = 0,
    merge_duplicates: bool = True,
    max_text_chars: int | None = MAX_TEXT_CHARS,
    trigger: bool = False,
    trigger_threshold: float = 0.03,
    checkpoint_dir: str | None = None,
    resume: bool = False,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
) -> CleanResult:
    """Find and correct wrong labels.

    Parameters
    ----------
    data : sequence of str, or array-like / sparse matrix of shape (N, D)
        Texts (featurized once with word and character TF-IDF) or numeric features
        (standardised).
    labels : sequence of shape (N,)
        Given labels. Missing ones (None, NaN, empty) are skipped: they keep their
        value, take no part in training and get status ``skipped``.
    checker : estimator with fit/predict_proba, optional
        Model trained on every split. Default: :class:`~pico.checkers.SoftmaxRegression`.
    featurizer : transformer, optional
        Replaces the default featurizer (``fit_transform(data)`` is called once).
    n_branches, n_folds : int, optional
        R random splits of F folds per iteration. Default: 2 x 10 from 1,000 labeled
        rows, 4 x 5 below (both 20 checkers; :func:`pico.corrector.split_shape`). The
        values used are in ``summary["options"]``.
    n_iterations : int, default=3
        At most T iterations.
    relabel_threshold : float, default=0.6
        Posterior needed to change a label.
    relabel_odds : float, default=7.0
        A new label must also be at least this many times as probable as the given one
        (the cost of damaging a correct label against the gain of fixing a wrong one;
        1 turns this off).
    training_odds : float, default=1.0
        The same odds for the labels the next iteration's checkers train on (the
        returned labels follow ``relabel_odds``).
    review_threshold : float, default=0.5
        Kept rows whose label's posterior is lower are marked ``review``.
    top_k : int, default=20
        Probabilities kept per row and checker.
    max_class_loss : float, default=0.5
        At most this fraction of a class's rows may move to other classes in one
        iteration (the most confident moves); the others go to ``review``.
    history : bool, default=True
        Combine every iteration's evidence with the label-history model (with
        ``n_iterations`` > 1) instead of voting on the last iteration alone.
        ``n_iterations=1, history=False`` is the one-iteration vote: about 40% of the
        time, less accurate on hard noise (docs/benchmarks.md).
    confidence_scale : float, default=0.7
        Factor on the vote's fitted evidence weights for ``confidence``: the fitted
        posterior is sharper than its accuracy, so the reported confidence comes from
        flatter weights (0.7 calibrates the moved rows on the evaluation suite;
        docs/algorithm.md, section 7). Decisions use the fitted posterior; 1 reports it.
    protect : sequence of labels, optional
        Classes whose rows are never moved automatically, only sent to review.
    catch_all : "auto", None or sequence of labels, default="auto"
        Catch-all (out-of-scope) classes: a move into or out of one is made only at a
        confidence of ``relabel_odds / (1 + relabel_odds)`` (7/8), others go to review.
        ``"auto"`` detects them by name (``oos``, ``out_of_scope``, ``nlu_fallback``,
        ``None``, ``NO_NODES_DETECTED``, ...); None: no catch-all.
    min_class_recall : float, default=0.5
        Moves out of a class that the checkers recognise less often than this
        (held-out recall of its rows: a few rows, or heterogeneous ones) go to review.
        0 turns this off.
    n_jobs : int, default=-1
        Local worker processes (-1: one per core, the fastest configuration of the
        engines benchmark; 1 keeps everything in this process). With ``engine="ray"``
        and no address,
        a value above 1 caps the local Ray runtime at that many CPUs.
    engine : {"local", "ray"}, default="local"
        Where checkers train: this machine's processes, or Ray tasks (a local Ray
        runtime started and stopped by the call, or the cluster at ``ray_address``;
        needs ``pip install 'pico-clean[ray]'``). Both give the same labels.
    ray_address : str, optional
        Address of an existing Ray cluster.
    cpus_per_checker, gpus_per_checker : float, default=1.0 and 0.0
        Resources each checker fit asks Ray for (fractions allowed).
    store : {"memory", "spark"}, default="memory"
        Where the soft predictions live: sparse top-k matrices in memory, or Parquet
        files read by Spark, which builds the vote's candidate evidence where the data
        lives (needs Java and ``pip install 'pico-clean[spark]'``). Both give the same
        labels and confidences.
    spark_master : str, optional
        Spark master URL (default: the active session, or ``local[*]``).
    store_dir : str, optional
        Folder of the Spark store's Parquet files (default: a temporary folder,
        deleted at the end).
    random_state : int or None, default=0
        Seed; the same seed gives the same result (on either engine).
    merge_duplicates : bool, default=True
        Texts equal up to case and whitespace share folds and one decision.
    max_text_chars : int or None, default=10000
        Texts longer than this are cut to it before featurizing (with a warning that
        counts them), which bounds the memory one row can take (about 180 bytes per
        character with the default features: docs/limits.md). None: no bound.
    trigger : bool, default=False
        Run :func:`pico.check` first: when its estimated noise rate is not above
        ``trigger_threshold`` nothing is cleaned (every label kept, ``confidence`` from
        the check); when the noise sits in a few classes only the rows labeled with
        those classes (and the classes they are confused with) are cleaned, the others
        are kept with the check's confidence. ``summary["trigger"]`` holds the check.
    trigger_threshold : float, default=0.03
        Estimated noise rate above which the trigger lets the clean run.
    checkpoint_dir : str, optional
        Folder where the state after each finished iteration is saved (no pickle:
        JSON and an ``.npz``; see :mod:`pico.checkpoint`).
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` (same data and options, or
        an error). Finished iterations are reused; the next one retrains its checkers
        from scratch, so a few labels may differ from an uninterrupted run's; a
        checkpoint of a finished run gives the same result exactly.
    progress : callable, optional
        ``progress(event, info)`` when an iteration starts and on each finished checker
        and iteration (see :class:`~pico.corrector.IterativeCorrector`).

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> texts = ["book a flight to paris", "book a flight to rome", "flight to berlin please",
    ...          "play some jazz", "play rock music", "put on some jazz music"] * 5
    >>> labels = ["travel", "travel", "travel", "music", "music", "music"] * 5
    >>> labels[2] = "music"  # a planted mistake
    >>> result = clean(texts, labels, n_branches=2, n_iterations=2, merge_duplicates=False)
    >>> str(result.labels[2]), str(result.status[2])
    ('travel', 'relabeled')
    """
    t0 = time.perf_counter()
    labels_arr = np.asarray(labels, dtype=object) if not isinstance(labels, np.ndarray) else labels
    n = len(labels_arr)
    if n == 0:
        raise InvalidInputError("no rows to clean: labels is empty")
    max_text_chars = check_max_text_chars(max_text_chars)
    if trigger:
        options = {
            "checker": checker, "featurizer": featurizer, "n_branches": n_branches,
            "n_folds": n_folds, "n_iterations": n_iterations,
            "relabel_threshold": relabel_threshold, "relabel_odds": relabel_odds,
            "training_odds": training_odds, "review_threshold": review_threshold,
            "top_k": top_k, "max_class_loss": max_class_loss, "history": history,
            "confidence_scale": confidence_scale, "protect": protect,
            "catch_all": catch_all, "min_class_recall": min_class_recall,
            "n_jobs": n_jobs, "engine": engine,
            "ray_address": ray_address,
            "cpus_per_checker": cpus_per_checker, "gpus_per_checker": gpus_per_checker,
            "store": store, "spark_master": spark_master, "store_dir": store_dir,
            "random_state": random_state,
            "merge_duplicates": merge_duplicates, "max_text_chars": max_text_chars,
            "progress": progress,
            "checkpoint_dir": checkpoint_dir, "resume": resume,
        }
        return _clean_with_trigger(data, labels_arr, trigger_threshold, options, t0)
    n_data = data.shape[0] if hasattr(data, "shape") else len(data)
    if n_data != n:
        raise InvalidInputError(f"data has {n_data} rows but labels has {n}; they must match")
    skipped = missing_labels(labels_arr)
    keep = np.flatnonzero(~skipped)
    texts = _is_texts(data)
    if featurizer is None:
        featurizer = TfidfFeaturizer() if texts else NumericFeaturizer()
    if texts:
        data_list, n_cut = truncate_texts(
            data.tolist() if hasattr(data, "tolist") else data, max_text_chars
        )
        X = featurizer.fit_transform(data_list)
        groups = text_groups(data_list) if merge_duplicates else None
    else:
        _check_finite(data)
        X = featurizer.fit_transform(data)
        groups = None
        n_cut = 0
    if hasattr(X, "tocsr"):
        X = X.tocsr()
    t_feat = time.perf_counter() - t0
    given = labels_arr[keep]
    variants = label_variants(given)
    if variants:
        shown = "; ".join(" / ".join(repr(v) for v in group) for group in variants[:5])
        logging.getLogger("pico").warning(
            "%d %s of labels differ only in case or spacing and are kept as separate "
            "classes: %s%s. If they are one class, write them alike",
            len(variants), "group" if len(variants) == 1 else "groups", shown,
            " ..." if len(variants) > 5 else "",
        )
    n_classes = len(set(given.tolist()))
    if n_classes < 2:
        raise InvalidInputError(
            f"need at least 2 classes among the labeled rows; found {n_classes}. "
            "Check the label column."
        )
    params: dict[str, Any] = {
        "n_branches": n_branches,
        "n_folds": n_folds,
        "n_iterations": n_iterations,
        "relabel_threshold": relabel_threshold,
        "relabel_odds": relabel_odds,
        "training_odds": training_odds,
        "review_threshold": review_threshold,
        "top_k": top_k,
        "max_class_loss": max_class_loss,
        "history": history,
        "confidence_scale": confidence_scale,
        "protect": list(protect) if protect is not None else None,
        "catch_all": catch_all if catch_all is None or isinstance(catch_all, str)
        else list(catch_all),
        "min_class_recall": min_class_recall,
        "n_jobs": n_jobs,
        "random_state": random_state,
    }
    executor = make_executor(
        engine, n_jobs=n_jobs, ray_address=ray_address, cpus_per_checker=cpus_per_checker,
        gpus_per_checker=gpus_per_checker,
    )
    store_factory, cleanup = _store_factory(store, spark_master, store_dir, top_k, history)
    corr = IterativeCorrector(
        checker, progress=progress, executor=executor, store_factory=store_factory,
        checkpoint_dir=checkpoint_dir, resume=resume, **params,
    )
    sub_groups = groups[keep] if groups is not None else None
    try:
        corr.fit(X if len(keep) == n else X[keep], given, groups=sub_groups)
    finally:
        if hasattr(executor, "shutdown"):
            executor.shutdown()
        cleanup()
    t_corr = time.perf_counter() - t0 - t_feat
    params["n_branches"], params["n_folds"] = corr.n_branches_, corr.n_folds_

    def spread(values: np.ndarray, fill: Any, dtype: Any = object) -> np.ndarray:
        """Per-row array over all N rows: ``values`` on labeled rows, ``fill`` elsewhere."""
        out = np.full((n, *values.shape[1:]), fill, dtype=dtype)
        out[keep] = values
        return out

    out_labels = labels_arr.copy()
    out_labels[keep] = corr.labels_
    confidence = spread(corr.confidence_, np.nan, float)
    status = spread(corr.status_, "skipped")
    suggested = spread(corr.suggested_, None)
    suggested_conf = spread(corr.suggested_confidence_, np.nan, float)
    given_conf = spread(corr.given_confidence_, np.nan, float)
    label_history = spread(corr.classes_[corr.history_], None)
    options = {
        "checker": type(checker).__name__ if checker is not None else "SoftmaxRegression",
        "featurizer": type(featurizer).__name__,
        **params,
        "engine": engine,
        "store": store,
        **({"spark_master": spark_master} if store == "spark" else {}),
        **(
            {"ray_address": ray_address, "cpus_per_checker": cpus_per_checker,
             "gpus_per_checker": gpus_per_checker}
            if engine == "ray" else {}
        ),
        "merge_duplicates": merge_duplicates,
        "max_text_chars": max_text_chars if texts else None,
    }
    summary = build_summary(
        given=labels_arr,
        labels=out_labels,
        status=status,
        corrector=corr,
        keep=keep,
        groups=sub_groups,
        options=options,
        timings={
            "featurize_seconds": round(t_feat, 3),
            "correct_seconds": round(t_corr, 3),
            "total_seconds": round(time.perf_counter() - t0, 3),
        },
        n_features=int(X.shape[1]),
    )
    summary["inputs"] = {"texts_cut": n_cut, "label_variants": variants}
    summary["review_reasons"] = dict(corr.review_reasons_)
    return CleanResult(
        out_labels, confidence, status, suggested, suggested_conf, given_conf, label_history,
        summary,
    )


def _store_factory(
    store: str, master: str | None, folder: str | None, top_k: int, history: bool
) -> tuple[Callable[[int, int], Any] | None, Callable[[], None]]:
    """The corrector's store factory for ``store`` and a cleanup to call at the end."""
    if store == "memory":
        if master is not None:
            raise InvalidInputError("spark_master was given with store='memory'; add store='spark'")
        return None, lambda: None
    if store != "spark":
        raise InvalidInputError(f"unknown store {store!r}; choose 'memory' or 'spark'")
    import shutil
    import tempfile

    from .store.spark import SparkStore, spark_session

    spark_session(master)  # fail early (no Java, no pyspark) and start Spark once
    path = folder or tempfile.mkdtemp(prefix="pico-store-")

    def factory(n: int, k: int) -> Any:
        return SparkStore(n, k, path=path, top_k=top_k, keep_iterations=None if history else 1,
                          master=master)

    def cleanup() -> None:
        if folder is None:
            shutil.rmtree(path, ignore_errors=True)

    return factory, cleanup


def _clean_with_trigger(
    data: Any, labels: np.ndarray, threshold: float, options: dict[str, Any], t0: float
) -> CleanResult:
    """:func:`clean` behind the trigger: check first, then clean nothing, a part, or all."""
    from .trigger import check

    found = check(
        data, labels, noise_threshold=threshold, checker=options["checker"],
        merge_duplicates=options["merge_duplicates"], n_jobs=options["n_jobs"],
        random_state=options["random_state"], max_text_chars=options["max_text_chars"],
        catch_all=options["catch_all"],
        featurizer=None if options["featurizer"] is None else clone(options["featurizer"], safe=False),
    )
    rec = found.recommendation
    n = len(labels)
    skipped = missing_labels(labels)
    given_conf = 1.0 - found.wrong
    if rec["clean"] and rec["everything"]:
        result = clean(data, labels, **options)
        result.summary["trigger"] = {**found.summary, "rows_cleaned": int((~skipped).sum())}
        result.summary["options"] = {
            **result.summary["options"], "trigger": True, "trigger_threshold": threshold
        }
        return result
    status = np.where(skipped, "skipped", "kept").astype(object)
    given = labels.astype(object).copy()
    given[skipped] = None
    suggested = given.copy()
    summary: dict[str, Any]
    if not rec["clean"]:
        history = given[:, None].copy()
        summary = {
            "rows": n,
            "labeled_rows": int((~skipped).sum()),
            "classes": len(found.classes),
            "changed": 0,
            "changed_fraction": 0.0,
            "estimated_noise_rate": found.noise_rate,
            "status_counts": {s: int((status == s).sum()) for s in STATUSES},
            "top_confused_pairs": [],
            "duplicates": {"conflicting_groups": 0, "conflicting_rows": 0},
            "iterations": [],
            "checker_fits": found.summary["checker_fits"],
            "trigger": {**found.summary, "rows_cleaned": 0},
            "options": {
                **{k: v for k, v in options.items() if k not in ("checker", "featurizer", "progress")},
                "trigger": True,
                "trigger_threshold": threshold,
            },
            "timings": {"total_seconds": round(time.perf_counter() - t0, 3)},
        }
        return CleanResult(
            labels.copy(), given_conf, status, suggested, given_conf.copy(), given_conf.copy(),
            history, summary,
        )
    focus = {str(c) for c in rec["focus"]}
    rows = np.flatnonzero(~skipped & np.array([str(v) in focus for v in labels], dtype=bool))
    part = _take(data, rows)
    sub = clean(part, labels[rows], **options)
    out_labels = labels.copy()
    out_labels[rows] = sub.labels
    confidence = given_conf.copy()
    confidence[rows] = sub.confidence
    status[rows] = sub.status
    suggested[rows] = sub.suggested
    suggested_conf = given_conf.copy()
    suggested_conf[rows] = sub.suggested_confidence
    given_confidence = given_conf.copy()
    given_confidence[rows] = sub.given_confidence
    history = np.repeat(given[:, None], sub.history.shape[1], axis=1)
    history[rows] = sub.history
    summary = dict(sub.summary)
    summary["rows"] = n
    summary["labeled_rows"] = int((~skipped).sum())
    summary["changed_fraction"] = int(summary["changed"]) / max(1, int((~skipped).sum()))
    summary["status_counts"] = {s: int((status == s).sum()) for s in STATUSES}
    summary["trigger"] = {**found.summary, "rows_cleaned": len(rows)}
    summary["timings"] = {
        **dict(summary.get("timings", {})), "total_seconds": round(time.perf_counter() - t0, 3)
    }
    return CleanResult(
        out_labels, confidence, status, suggested, suggested_conf, given_confidence, history,
        summary,
    )


def _take(data: Any, rows: np.ndarray) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        return data[rows]
    return [data[i] for i in rows.tolist()]


class Cleaner:
    """scikit-learn-style label cleaner for training scripts.

    Takes the options of :func:`clean`. ``fit(X, y)`` sets ``labels_``,
    ``confidence_``, ``status_`` and ``result_``; ``fit_resample(X, y)`` returns
    ``(X, corrected_y)`` for use before training a model.

    Examples
    --------
    >>> from pico.benchmarking import make_blobs_with_noise
    >>> X, y_true, y_noisy = make_blobs_with_noise(300, 3, rate=0.1, random_state=1)
    >>> cleaner = Cleaner(n_branches=2, n_iterations=2)
    >>> _, y_clean = cleaner.fit_resample(X, y_noisy)
    >>> bool((y_clean == y_true).mean() > (y_noisy == y_true).mean())
    True
    """

    def __init__(self, **options: Any) -> None:
        self.options = options

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Options passed to :func:`clean`."""
        return dict(self.options)

    def set_params(self, **params: Any) -> Cleaner:
        """Update options."""
        self.options.update(params)
        return self

    def fit(self, X: Any, y: Any) -> Cleaner:
        """Clean the labels ``y`` of ``X``."""
        self.result_ = clean(X, y, **self.options)
        labels = self.result_.labels
        if isinstance(y, np.ndarray) and y.dtype != object:
            labels = labels.astype(y.dtype)
        self.labels_ = labels
        self.confidence_ = self.result_.confidence
        self.status_ = self.result_.status
        return self

    def fit_resample(self, X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """Clean and return ``(X, corrected labels)``."""
        self.fit(X, y)
        return X, self.labels_
