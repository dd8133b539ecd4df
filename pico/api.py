"""The Python API: :func:`clean` and the scikit-learn estimator :class:`Cleaner`."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from ._progress import progress_callback
from .config import DEFAULTS, FILE_DEFAULTS, TRAINING_OPTIONS, CleanOptions
from .corrector import STATUSES, IterativeCorrector
from .data.inputs import (
    check_labels,
    check_max_text_chars,
    check_rows,
    featurize,
    is_texts,
    label_array,
    label_codes,
    labeled_input,
    missing_labels,
    take_rows,
    text_groups,
)
from .exceptions import InvalidInputError
from .executors import make_executor
from .report import build_summary
from .results import CleanResult, runner_up_labels

__all__ = ["CleanResult", "Cleaner", "clean", "missing_labels", "text_groups"]

#: The names of :class:`~pico.config.CleanOptions`: the options of :func:`clean`.
_OPTION_NAMES = frozenset(DEFAULTS.to_dict())


def clean(
    data: Any = None,
    labels: Sequence[Any] | np.ndarray | None = None,
    *,
    text_column: str | None = "text",
    label_column: str = FILE_DEFAULTS.label_column,
    pred_probs: Any = None,
    classes: Sequence[Any] | None = None,
    checker: Any = DEFAULTS.checker,
    featurizer: Any = DEFAULTS.featurizer,
    n_branches: int | None = DEFAULTS.n_branches,
    n_folds: int | None = DEFAULTS.n_folds,
    n_iterations: int = DEFAULTS.n_iterations,
    relabel_threshold: float = DEFAULTS.relabel_threshold,
    relabel_odds: float = DEFAULTS.relabel_odds,
    training_odds: float = DEFAULTS.training_odds,
    review_threshold: float = DEFAULTS.review_threshold,
    top_k: int = DEFAULTS.top_k,
    max_class_loss: float = DEFAULTS.max_class_loss,
    history: bool = DEFAULTS.history,
    confidence_scale: float = DEFAULTS.confidence_scale,
    protect: Sequence[Any] | None = DEFAULTS.protect,
    catch_all: Any = DEFAULTS.catch_all,
    min_class_recall: float = DEFAULTS.min_class_recall,
    n_jobs: int = DEFAULTS.n_jobs,
    engine: str = DEFAULTS.engine,
    ray_address: str | None = DEFAULTS.ray_address,
    cpus_per_checker: float = DEFAULTS.cpus_per_checker,
    gpus_per_checker: float = DEFAULTS.gpus_per_checker,
    store: str = DEFAULTS.store,
    spark_master: str | None = DEFAULTS.spark_master,
    store_dir: str | None = DEFAULTS.store_dir,
    random_state: int | None = DEFAULTS.random_state,
    merge_duplicates: bool = DEFAULTS.merge_duplicates,
    max_text_chars: int | None = DEFAULTS.max_text_chars,
    trigger: bool = DEFAULTS.trigger,
    trigger_threshold: float = DEFAULTS.trigger_threshold,
    checkpoint_dir: str | None = DEFAULTS.checkpoint_dir,
    resume: bool = DEFAULTS.resume,
    progress: bool | Callable[[str, dict[str, Any]], None] | None = DEFAULTS.progress,
) -> CleanResult:
    """Find and correct wrong labels.

    Parameters
    ----------
    data : sequence of str, array-like / sparse matrix of shape (N, D), DataFrame or Dataset
        Texts (featurized once with word and character TF-IDF) or numeric features
        (standardised); or a table, a pandas DataFrame or a Hugging Face
        ``datasets.Dataset``, whose ``text_column`` holds the texts and
        ``label_column`` the labels (with ``text_column=None``, its other columns are
        numeric features). Optional with ``pred_probs``: texts given then only let
        identical texts share one decision (``merge_duplicates``).
    labels : sequence of shape (N,), optional
        Given labels (default with a table: its ``label_column``; a ``ClassLabel``
        column's labels are its names). Missing ones (None, NaN, empty) are skipped:
        they keep their value, take no part in training and get status ``skipped``.
    text_column : str or None, default="text"
        The text column of a table ``data``.
    label_column : str, default="label"
        The label column of a table ``data``.
    pred_probs : matrix, list of matrices, or list of lists of matrices, optional
        Bring your own predictions: out-of-fold probabilities of shape (N, K), dense
        (numpy; a DataFrame's columns name the classes) or scipy sparse (a few
        classes per row, top-k: the rest of each row's mass is spread over the other
        classes). Nothing is trained: the vote runs on them, and the relabel and
        review rules apply as after training. A list of matrices: several checkers;
        a list of lists: several iterations (for the label-history model, with
        ``history``; ``n_iterations`` does not apply). The options that train
        (``checker``, ``featurizer``, ``n_branches``, ``n_folds``, ``engine``,
        ``store``, ``trigger``, ``checkpoint_dir``) must be left out.
    classes : sequence, optional
        The class of each column of ``pred_probs``. Default: a DataFrame's column
        names, else the sorted distinct labels (cleanlab's convention; integer labels
        0..K-1 index the columns).
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
    progress : bool or callable, optional
        None (default): a progress bar (tqdm; a widget in a notebook) per iteration
        when a person is watching (a notebook or a terminal; never under pytest);
        True: always; False: nothing. A callable is called as
        ``progress(event, info)`` when an iteration starts (``"start"``), on each
        finished checker (``"checker"``: ``done``, ``total``) and iteration
        (``"iteration"``: ``changed``, ``differ_from_given``, ...; see
        :class:`~pico.corrector.IterativeCorrector`).

    Returns
    -------
    CleanResult
        ``result.to_frame()`` is the issues table; ``result.to_dataset()`` the input
        Dataset with pico's columns.

    Examples
    --------
    >>> texts = ["book a flight to paris", "book a flight to rome", "flight to berlin please",
    ...          "play some jazz", "play rock music", "put on some jazz music"] * 5
    >>> labels = ["travel", "travel", "travel", "music", "music", "music"] * 5
    >>> labels[2] = "music"  # a planted mistake
    >>> result = clean(texts, labels, n_branches=2, n_iterations=2, merge_duplicates=False)
    >>> str(result.labels[2]), str(result.status[2])
    ('travel', 'relabeled')

    A DataFrame in, the issues table out:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": texts, "label": labels})
    >>> result = clean(df, n_branches=2, n_iterations=2, merge_duplicates=False)
    >>> result.to_frame().loc[2, ["given_label", "label", "status"]].tolist()
    ['music', 'travel', 'relabeled']

    Your own out-of-fold probabilities (columns: the sorted labels), nothing trained:

    >>> P = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]] * 10)
    >>> y = ["a", "a", "b", "a"] * 10
    >>> clean(labels=y, pred_probs=P).labels[3]
    'b'
    """
    given = {name: value for name, value in locals().items() if name in _OPTION_NAMES}
    t0 = time.perf_counter()
    table = labeled_input(data, labels, text_column, label_column, pred_probs is not None)
    options = replace(
        CleanOptions(**given),
        progress=progress_callback(progress, n_iterations if pred_probs is None else None),
    )
    if pred_probs is not None:
        refused = [
            name for name in TRAINING_OPTIONS
            if getattr(options, name) is not getattr(DEFAULTS, name)
            and getattr(options, name) != getattr(DEFAULTS, name)
        ]
        if refused:
            raise InvalidInputError(
                f"{', '.join(refused)} {'sets' if len(refused) == 1 else 'set'} how checkers "
                "are trained, but pred_probs were given and nothing is trained; leave "
                f"{'it' if len(refused) == 1 else 'them'} out (or leave out pred_probs)"
            )
        result = _clean_given(table.inputs, table.labels, pred_probs, classes, options, t0)
    else:
        if table.inputs is None:
            raise InvalidInputError(
                "pass data (texts or features) to train checkers on, or pred_probs "
                "(out-of-fold probabilities made elsewhere)"
            )
        if classes is not None:
            raise InvalidInputError(
                "classes names the columns of pred_probs; pass pred_probs too, or leave "
                "classes out"
            )
        result = _clean_arrays(table.inputs, table.labels, options, t0)
    result.given = table.labels
    result.index, result.source, result.label_feature = (
        table.index, table.source, table.label_feature
    )
    return result


def _clean_arrays(
    data: Any, labels_arr: np.ndarray, options: CleanOptions, t0: float
) -> CleanResult:
    """:func:`clean` on texts or features and their labels: the checkers are trained."""
    n = len(labels_arr)
    if n == 0:
        raise InvalidInputError("no rows to clean: labels is empty")
    options = replace(options, max_text_chars=check_max_text_chars(options.max_text_chars))
    if options.trigger:
        return _clean_with_trigger(data, labels_arr, options, t0)
    check_rows(data, n)
    keep = np.flatnonzero(~missing_labels(labels_arr))
    features = featurize(
        data, options.featurizer, merge_duplicates=options.merge_duplicates,
        max_text_chars=options.max_text_chars,
    )
    X, groups = features.X, features.groups
    t_feat = time.perf_counter() - t0
    given = labels_arr[keep]
    variants = check_labels(given)
    params = _corrector_params(options)
    executor = make_executor(
        options.engine, n_jobs=options.n_jobs, ray_address=options.ray_address,
        cpus_per_checker=options.cpus_per_checker, gpus_per_checker=options.gpus_per_checker,
    )
    store_factory, cleanup = _store_factory(
        options.store, options.spark_master, options.store_dir, options.top_k, options.history
    )
    corr = IterativeCorrector(
        options.checker, progress=options.progress, executor=executor,
        store_factory=store_factory, checkpoint_dir=options.checkpoint_dir,
        resume=options.resume, **params,
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
    checker = options.checker
    recorded = {
        "checker": type(checker).__name__ if checker is not None else "SoftmaxRegression",
        "featurizer": type(features.featurizer).__name__,
        **params,
        "engine": options.engine,
        "store": options.store,
        **({"spark_master": options.spark_master} if options.store == "spark" else {}),
        **(
            {"ray_address": options.ray_address, "cpus_per_checker": options.cpus_per_checker,
             "gpus_per_checker": options.gpus_per_checker}
            if options.engine == "ray" else {}
        ),
        "merge_duplicates": options.merge_duplicates,
        "max_text_chars": options.max_text_chars if features.texts else None,
    }
    timings = {
        "featurize_seconds": round(t_feat, 3),
        "correct_seconds": round(t_corr, 3),
        "total_seconds": round(time.perf_counter() - t0, 3),
    }
    inputs = {"texts_cut": features.texts_cut, "label_variants": variants}
    return _result(corr, labels_arr, keep, sub_groups, recorded, timings, int(X.shape[1]), inputs)


def _corrector_params(options: CleanOptions) -> dict[str, Any]:
    """The options :class:`~pico.corrector.IterativeCorrector` takes, as recorded."""
    params = {
        key: getattr(options, key)
        for key in (
            "n_branches", "n_folds", "n_iterations", "relabel_threshold", "relabel_odds",
            "training_odds", "review_threshold", "top_k", "max_class_loss", "history",
            "confidence_scale", "min_class_recall", "n_jobs", "random_state",
        )
    }
    protect, catch_all = options.protect, options.catch_all
    params["protect"] = list(protect) if protect is not None else None
    params["catch_all"] = (
        catch_all if catch_all is None or isinstance(catch_all, str) else list(catch_all)
    )
    return params


def _result(
    corr: IterativeCorrector,
    labels_arr: np.ndarray,
    keep: np.ndarray,
    groups: np.ndarray | None,
    options: dict[str, Any],
    timings: dict[str, float],
    n_features: int,
    inputs: dict[str, Any],
) -> CleanResult:
    """The :class:`CleanResult` of a fitted corrector over the labeled rows ``keep``."""
    n = len(labels_arr)

    def spread(values: np.ndarray, fill: Any, dtype: Any = object) -> np.ndarray:
        """Per-row array over all N rows: ``values`` on labeled rows, ``fill`` elsewhere."""
        out = np.full((n, *values.shape[1:]), fill, dtype=dtype)
        out[keep] = values
        return out

    out_labels = labels_arr.copy()
    out_labels[keep] = corr.labels_
    status = spread(corr.status_, "skipped")
    runner_up, runner_up_p = runner_up_labels(corr.model_, corr.codes_, corr.classes_)
    summary = build_summary(
        given=labels_arr,
        labels=out_labels,
        status=status,
        corrector=corr,
        keep=keep,
        groups=groups,
        options=options,
        timings=timings,
        n_features=n_features,
    )
    summary.review_reasons = dict(corr.review_reasons_)
    summary.inputs = inputs
    return CleanResult(
        out_labels,
        spread(corr.confidence_, np.nan, float),
        status,
        spread(corr.suggested_, None),
        spread(corr.suggested_confidence_, np.nan, float),
        spread(corr.given_confidence_, np.nan, float),
        spread(corr.classes_[corr.history_], None),
        summary.to_dict(),
        label_quality=spread(corr.given_confidence_, np.nan, float),
        runner_up=spread(runner_up, None),
        runner_up_probability=spread(runner_up_p, np.nan, float),
    )


def _clean_given(
    data: Any,
    labels_arr: np.ndarray,
    pred_probs: Any,
    classes: Sequence[Any] | None,
    options: CleanOptions,
    t0: float,
) -> CleanResult:
    """:func:`clean` on predictions made elsewhere: the vote and the rules, no training."""
    from .predictions import as_predictions

    n = len(labels_arr)
    if n == 0:
        raise InvalidInputError("no rows to clean: labels is empty")
    groups = None
    if data is not None:
        check_rows(data, n)
        if is_texts(data) and options.merge_duplicates:
            groups = text_groups(data.tolist() if hasattr(data, "tolist") else data)
    keep = np.flatnonzero(~missing_labels(labels_arr))
    given = labels_arr[keep]
    variants = check_labels(given)
    label_classes, _ = label_codes(given)
    iterations = as_predictions(
        pred_probs, labels_arr, label_classes, classes=classes, rows=keep,
        top_k=options.top_k,
    )
    params = _corrector_params(options)
    params["n_iterations"] = len(iterations)
    corr = IterativeCorrector(progress=options.progress, **params)
    sub_groups = groups[keep] if groups is not None else None
    corr.fit_predictions(iterations, given, groups=sub_groups)
    recorded = {
        "pred_probs": True,
        "checkers": [len(block) for block in iterations],
        **{k: v for k, v in params.items() if k not in ("n_branches", "n_folds", "n_jobs")},
        "merge_duplicates": bool(options.merge_duplicates) and groups is not None,
    }
    timings = {
        "correct_seconds": round(time.perf_counter() - t0, 3),
        "total_seconds": round(time.perf_counter() - t0, 3),
    }
    inputs = {"texts_cut": 0, "label_variants": variants}
    return _result(corr, labels_arr, keep, sub_groups, recorded, timings, 0, inputs)


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
    data: Any, labels: np.ndarray, options: CleanOptions, t0: float
) -> CleanResult:
    """:func:`clean` behind the trigger: check first, then clean nothing, a part, or all."""
    from .trigger import check

    featurizer = options.featurizer
    found = check(
        data, labels, noise_threshold=options.trigger_threshold, checker=options.checker,
        merge_duplicates=options.merge_duplicates, n_jobs=options.n_jobs,
        random_state=options.random_state, max_text_chars=options.max_text_chars,
        catch_all=options.catch_all,
        featurizer=None if featurizer is None else clone(featurizer, safe=False),
    )
    behind = replace(options, trigger=False)  # the clean the trigger lets run
    triggered = {"trigger": True, "trigger_threshold": options.trigger_threshold}
    rec = found.recommendation
    n = len(labels)
    skipped = missing_labels(labels)
    given_conf = 1.0 - found.wrong
    if rec["clean"] and rec["everything"]:
        result = _clean_arrays(data, labels, behind, t0)
        result.summary["trigger"] = {**found.summary, "rows_cleaned": int((~skipped).sum())}
        result.summary["options"] = {**result.summary["options"], **triggered}
        return result
    status = np.where(skipped, "skipped", "kept").astype(object)
    given = labels.astype(object).copy()
    given[skipped] = None
    suggested = given.copy()
    if not rec["clean"]:
        history = given[:, None].copy()
        keep = np.flatnonzero(~skipped)
        summary = build_summary(
            given=labels, labels=labels, status=status, keep=keep, groups=None,
            options={
                **{k: v for k, v in options.to_dict().items()
                   if k not in ("checker", "featurizer", "progress")},
                **triggered,
            },
            timings={"total_seconds": round(time.perf_counter() - t0, 3)},
            classes=label_codes(labels[keep])[0], estimated_noise_rate=found.noise_rate,
            checker_fits=found.summary["checker_fits"],
        )
        summary.trigger = {**found.summary, "rows_cleaned": 0}
        return CleanResult(
            labels.copy(), given_conf, status, suggested, given_conf.copy(), given_conf.copy(),
            history, summary.to_dict(), label_quality=given_conf.copy(),
            runner_up=np.full(n, None, dtype=object), runner_up_probability=np.full(n, np.nan),
        )
    focus = {str(c) for c in rec["focus"]}
    rows = np.flatnonzero(~skipped & np.array([str(v) in focus for v in labels], dtype=bool))
    part = take_rows(data, rows)
    sub = _clean_arrays(part, labels[rows], behind, t0)
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
    merged = dict(sub.summary)  # the focus classes' run, counted over every row
    merged["rows"] = n
    merged["labeled_rows"] = int((~skipped).sum())
    merged["changed_fraction"] = int(merged["changed"]) / max(1, int((~skipped).sum()))
    merged["status_counts"] = {s: int((status == s).sum()) for s in STATUSES}
    merged["trigger"] = {**found.summary, "rows_cleaned": len(rows)}
    merged["options"] = {**merged["options"], **triggered}
    merged["timings"] = {
        **dict(merged.get("timings", {})), "total_seconds": round(time.perf_counter() - t0, 3)
    }
    label_quality = given_conf.copy()
    label_quality[rows] = sub.label_quality
    runner_up = np.full(n, None, dtype=object)
    runner_up[rows] = sub.runner_up
    runner_up_p = np.full(n, np.nan)
    runner_up_p[rows] = sub.runner_up_probability
    return CleanResult(
        out_labels, confidence, status, suggested, suggested_conf, given_confidence, history,
        merged, label_quality=label_quality, runner_up=runner_up,
        runner_up_probability=runner_up_p,
    )


class Cleaner(BaseEstimator):  # type: ignore[misc]
    """Label cleaner for training scripts: a scikit-learn estimator and an imbalanced-learn sampler.

    Takes the options of :func:`clean` (the same names and defaults) and validates them
    in :meth:`fit`. ``fit(X, y)`` cleans the labels ``y`` of ``X`` (texts, or numeric
    features) and sets ``labels_``, ``confidence_``, ``status_``, ``label_quality_``
    and ``result_`` (the :class:`CleanResult`); ``fit_resample(X, y)`` returns
    ``(X, corrected_y)`` for use before training a model.

    It is a relabeler: it changes ``y``, not ``X``. A scikit-learn ``Pipeline`` passes
    only ``X`` from step to step, so it cannot hold a relabeler (or any resampler) as an
    intermediate step: it raises a ``TypeError`` naming this step when it is fitted.
    Use ``imblearn.pipeline.Pipeline`` (``pip install imbalanced-learn``), which calls
    :meth:`fit_resample` of such a step during ``fit`` (and skips it when predicting),
    or call :meth:`fit_resample` before the scikit-learn pipeline. ``clone``,
    ``get_params``/``set_params`` and grid searches over its options work as for any
    estimator.

    Examples
    --------
    >>> from pico.benchmarking import make_blobs_with_noise
    >>> X, y_true, y_noisy = make_blobs_with_noise(300, 3, rate=0.1, random_state=1)
    >>> cleaner = Cleaner(n_branches=2, n_iterations=2)
    >>> _, y_clean = cleaner.fit_resample(X, y_noisy)
    >>> bool((y_clean == y_true).mean() > (y_noisy == y_true).mean())
    True

    In an imbalanced-learn pipeline, before the model::

        from imblearn.pipeline import make_pipeline
        model = make_pipeline(Cleaner(), LogisticRegression()).fit(X, y_noisy)
    """

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - _OPTION_NAMES)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword arguments {', '.join(unknown)}; "
                "it takes the options of pico.clean"
            )
        for name, default in DEFAULTS.to_dict().items():
            setattr(self, name, options.get(name, default))

    # scikit-learn reads the parameters off the signature: the options of clean, whose
    # defaults come from pico.config.
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
            for name, default in DEFAULTS.to_dict().items()
        ]
    )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # the labels to clean
        tags.input_tags.sparse = True
        tags.input_tags.string = True  # a sequence of texts is featurized
        return tags

    def fit(self, X: Any, y: Any) -> Cleaner:
        """Clean the labels ``y`` of ``X``.

        Parameters
        ----------
        X : sequence of str, or {array-like, sparse matrix} of shape (N, D)
            Texts, or numeric features (a DataFrame's columns are features here).
        y : array-like of shape (N,)
            Given labels; missing ones (None, NaN, empty) are skipped.

        Returns
        -------
        self : Cleaner
        """
        from sklearn.utils.validation import validate_data

        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        if not is_texts(X):
            X = validate_data(self, X, accept_sparse="csr", ensure_min_samples=2)
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        self.result_ = clean(X, label_array(y), **self.get_params(deep=False))
        labels = self.result_.labels
        if isinstance(y, np.ndarray) and y.dtype != object:
            labels = labels.astype(y.dtype)
        self.labels_ = labels
        self.confidence_ = self.result_.confidence
        self.status_ = self.result_.status
        self.label_quality_ = self.result_.label_quality
        return self

    def fit_resample(self, X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """Clean and return ``(X, corrected labels)``: ``X`` as given, the labels of :meth:`fit`.

        Rows stay (skipped rows keep their label; rows left to review keep theirs):
        drop ``status_ == "review"`` rows yourself to train on the confident ones only.
        """
        self.fit(X, y)
        return X, self.labels_
