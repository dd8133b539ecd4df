"""What :func:`pico.clean` returns: :class:`CleanResult`, its issues table and Dataset."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .data.inputs import is_hf_dataset

__all__ = ["ISSUE_COLUMNS", "CheckEstimate", "CleanResult", "RunSummary", "runner_up_labels"]

#: Columns of :meth:`CleanResult.to_frame`, in order.
ISSUE_COLUMNS = (
    "given_label",
    "label",
    "status",
    "confidence",
    "label_quality",
    "runner_up",
    "runner_up_probability",
)


@dataclass
class RunSummary:
    """The summary of a clean: counts, per-class changes, the noise, options and timings.

    Built by :func:`pico.report.build_summary`; :meth:`to_dict` is
    ``CleanResult.summary`` and the run directory's ``summary.json`` (the optional
    fields only when set).

    Attributes
    ----------
    rows, labeled_rows, classes : int
        Rows, rows with a label, distinct given labels.
    status_counts : dict
        Rows per status (:data:`pico.corrector.STATUSES`).
    changed : int
        Labels changed; ``changed_fraction`` of the labeled rows.
    estimated_noise_rate : float
        The vote's estimate of the fraction of wrong given labels (the check's when the
        trigger cleaned nothing).
    iterations : list of dict
        Per iteration: rows changed, the vote's weights, seconds, ...
    checker_fits : int
    top_confused_pairs : list of dict
        ``from``, ``to``, ``count``: the most frequent changes.
    per_class : dict
        Per given class: ``given``, ``final``, ``relabeled_away``, ``relabeled_into``,
        ``review``, ``estimated_reliability`` (None without a vote).
    emptied_classes : list
        Classes left without rows.
    guarded_classes : dict
        Class -> rows the ``max_class_loss`` guard held back.
    noise_matrix : dict or None
        :func:`pico.report.noise_entries` of the fitted noise matrix (None without a vote).
    duplicates : dict
        Groups of identical texts, and those with conflicting labels.
    options, timings : dict
        The options used and the seconds taken.
    features : int, optional
        Width of the feature matrix.
    review_reasons : dict, optional
        Moves left to review, by reason.
    inputs : dict, optional
        ``texts_cut`` and ``label_variants``.
    trigger : dict, optional
        The trigger's check, with ``rows_cleaned``.
    """

    rows: int
    labeled_rows: int
    classes: int
    features: int | None
    status_counts: dict[str, int]
    changed: int
    changed_fraction: float
    estimated_noise_rate: float
    iterations: list[dict[str, Any]]
    checker_fits: int
    top_confused_pairs: list[dict[str, Any]]
    per_class: dict[str, dict[str, Any]]
    emptied_classes: list[str]
    guarded_classes: dict[str, int]
    noise_matrix: dict[str, Any] | None
    duplicates: dict[str, int]
    options: dict[str, Any]
    timings: dict[str, float]
    review_reasons: dict[str, int] | None = None
    inputs: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the order of the fields; the optional ones only when set."""
        optional = {"features", "review_reasons", "inputs", "trigger"}
        return {
            f.name: getattr(self, f.name) for f in fields(self)
            if f.name not in optional or getattr(self, f.name) is not None
        }


@dataclass
class CheckEstimate:
    """What :func:`pico.check` estimates, as numbers: the noise, where it is, what to clean.

    The check builds it from its vote; :func:`pico.report.check_reason` puts it in words
    and the check's summary holds both.

    Attributes
    ----------
    noise_rate : float
        Estimated fraction of the checked rows whose label is wrong (the vote's, plus the
        rows of ``collapsed_pairs`` it cannot count).
    interval : tuple of float
        Its 95% interval.
    noise_rate_upper : float
        The estimate if every look-alike pair is mislabeling.
    vote_noise_rate : float
        The vote's own estimate.
    expected_wrong_rows : float
        ``noise_rate`` times the rows that could be checked.
    n_classes : int
    noise_threshold : float
        The rate above which cleaning is recommended.
    classes, pairs, lookalike_pairs, collapsed_pairs, conflicting_duplicates : list of dict
        As in :class:`pico.trigger.CheckResult`.
    lookalike_excess : float
        Rows the look-alike pairs count beyond the vote's own rows for them.
    clean : bool
        Whether cleaning is recommended (``noise_rate`` above ``noise_threshold``).
    everything : bool
        Clean the whole dataset: the noise is spread over most classes.
    focus : list
        Otherwise the classes to clean (empty when not cleaning or cleaning everything).
    """

    noise_rate: float
    interval: tuple[float, float]
    noise_rate_upper: float
    vote_noise_rate: float
    expected_wrong_rows: float
    n_classes: int
    noise_threshold: float
    classes: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    lookalike_pairs: list[dict[str, Any]]
    collapsed_pairs: list[dict[str, Any]]
    lookalike_excess: float
    conflicting_duplicates: list[dict[str, Any]]
    clean: bool
    everything: bool
    focus: list[Any]

    @property
    def shown(self) -> dict[str, Any]:
        """The rates as the summary shows them (4 decimals); the reason quotes these."""
        low, high = self.interval
        return {
            "noise_rate": round(self.noise_rate, 4),
            "interval": [round(low, 4), round(high, 4)],
            "noise_rate_upper": round(self.noise_rate_upper, 4),
        }


@dataclass(repr=False, eq=False)
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
    label_quality : ndarray of shape (N,)
        Score of the given label for ranking (NaN for skipped rows): the vote's fitted
        posterior probability that it is right (``given_confidence``, the one the
        relabel rule reads and the benchmark pages rank by). Sort by it, lowest first,
        to read the likeliest mistakes first. It is sharper than ``confidence``, the
        calibrated probability of the final label.
    runner_up : ndarray of shape (N,)
        The most probable label other than ``labels`` among the row's candidates (the
        classes a checker ranked in its top ``top_k``, and the given label); None for
        skipped rows, or when no other candidate is known.
    runner_up_probability : ndarray of shape (N,)
        Its fitted posterior probability (NaN where ``runner_up`` is None).
    given : ndarray of shape (N,)
        The labels as given (names for a Hugging Face ``ClassLabel`` column).
    """

    labels: np.ndarray
    confidence: np.ndarray
    status: np.ndarray
    suggested: np.ndarray
    suggested_confidence: np.ndarray
    given_confidence: np.ndarray
    history: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)
    label_quality: np.ndarray | None = None
    runner_up: np.ndarray | None = None
    runner_up_probability: np.ndarray | None = None
    given: np.ndarray | None = None
    #: The input's row index (a DataFrame's), used by :meth:`to_frame`.
    index: Any = None
    #: The input table (a pandas DataFrame or a Hugging Face Dataset), for :meth:`to_dataset`.
    source: Any = None
    #: The input label column's Hugging Face feature (a ``ClassLabel``), if any.
    label_feature: Any = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.given is None:
            self.given = np.asarray(self.history[:, 0], dtype=object).copy()
        if self.label_quality is None:
            self.label_quality = np.asarray(self.given_confidence, dtype=float).copy()
        if self.runner_up is None:
            # Without the posterior over every candidate: the suggestion, where it differs.
            other = np.array(
                [s is not None and s != lab for s, lab in zip(self.suggested, self.labels)],
                dtype=bool,
            )
            self.runner_up = np.where(other, self.suggested, np.array(None)).astype(object)
            self.runner_up_probability = np.where(other, self.suggested_confidence, np.nan)
        elif self.runner_up_probability is None:
            self.runner_up_probability = np.full(n, np.nan)

    @property
    def changed(self) -> np.ndarray:
        """Boolean mask of the rows whose label was changed."""
        return self.status == "relabeled"  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        counts = {s: int(np.sum(self.status == s)) for s in ("relabeled", "review", "kept",
                                                              "skipped")}
        shown = ", ".join(f"{name}={count}" for name, count in counts.items() if count
                          or name != "skipped")
        noise = self.summary.get("estimated_noise_rate")
        extra = f", estimated_noise_rate={noise:.3f}" if isinstance(noise, float) else ""
        return f"CleanResult(rows={len(self)}, {shown}{extra})"

    def to_frame(self) -> Any:
        """The issues table: one row per input row, in input order.

        Columns (:data:`ISSUE_COLUMNS`): ``given_label``, ``label`` (pico's),
        ``status``, ``confidence`` (that ``label`` is right), ``label_quality`` (the
        posterior that ``given_label`` is right: sort by it to review the likeliest
        mistakes first),
        ``runner_up`` and ``runner_up_probability`` (the most probable other label).
        The index is the input DataFrame's (a RangeIndex otherwise), so
        ``df[["text"]].join(result.to_frame())`` puts them beside the input's texts.

        Returns
        -------
        pandas.DataFrame of shape (N, 7)

        Examples
        --------
        >>> texts = ["book a flight to paris", "book a flight to rome",
        ...          "flight to berlin please", "play some jazz", "play rock music",
        ...          "put on some jazz music"] * 5
        >>> labels = ["travel", "travel", "travel", "music", "music", "music"] * 5
        >>> labels[2] = "music"  # a planted mistake
        >>> import pico
        >>> result = pico.clean(texts, labels, n_branches=2, n_iterations=2,
        ...                     merge_duplicates=False, n_jobs=1)
        >>> issues = result.to_frame()
        >>> int(issues.sort_values("label_quality").index[0])
        2
        >>> issues.loc[2, ["given_label", "label", "status"]].tolist()
        ['music', 'travel', 'relabeled']
        """
        import pandas as pd

        columns = {
            "given_label": self.given,
            "label": self.labels,
            "status": self.status,
            "confidence": np.asarray(self.confidence, dtype=float),
            "label_quality": np.asarray(self.label_quality, dtype=float),
            "runner_up": self.runner_up,
            "runner_up_probability": np.asarray(self.runner_up_probability, dtype=float),
        }
        index = self.index if self.index is not None else pd.RangeIndex(len(self))
        return pd.DataFrame(columns, index=index)

    def to_dataset(self) -> Any:
        """A Hugging Face ``datasets.Dataset``: the input's rows with pico's columns.

        The columns of :meth:`to_frame` other than ``given_label``, prefixed ``pico_``
        (``pico_label``, ``pico_status``, ``pico_confidence``, ...), added to the input
        Dataset or DataFrame (to the issues table when the input was arrays). When the
        input's label column was a ``ClassLabel``, ``pico_label`` is one too, with the
        same names, so it can replace the label column for training.

        Needs ``pip install 'pico-clean[hf]'``.

        Returns
        -------
        datasets.Dataset
        """
        from ._optional import require

        hf = require("datasets", extra="hf", purpose="CleanResult.to_dataset()")
        issues = self.to_frame().drop(columns="given_label")
        issues.columns = [f"pico_{c}" for c in issues.columns]
        source = self.source
        if source is not None and is_hf_dataset(source):
            taken = sorted(set(issues.columns) & set(source.column_names))
            if taken:
                source = source.remove_columns(taken)
            for name in issues.columns:
                values = issues[name].to_numpy()
                feature = None
                if name == "pico_label" and isinstance(self.label_feature, hf.ClassLabel):
                    feature = self.label_feature
                    codes = {n: i for i, n in enumerate(feature.names)}
                    values = [codes.get(v, -1) if isinstance(v, str) else -1 for v in values]
                elif values.dtype == object:
                    values = [None if v is None else v for v in values.tolist()]
                source = source.add_column(name, values, feature=feature)
            return source
        if source is not None:  # a pandas DataFrame
            table = source.drop(columns=[c for c in issues.columns if c in source.columns])
            table = table.join(issues)
        else:
            table = self.to_frame()
        table = table.reset_index(drop=True)
        for name in table.columns:  # mixed objects (labels and None) as strings or None
            if table[name].dtype == object:
                table[name] = [None if v is None else v for v in table[name].tolist()]
        return hf.Dataset.from_pandas(table, preserve_index=False)


def runner_up_labels(
    model: Any, final: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Most probable candidate class other than ``final`` (codes) and its posterior.

    ``model`` is a fitted vote (its ``candidates_`` and ``candidate_posterior_``). None /
    NaN where the row has no other candidate, or where the posterior of the candidates
    stays with the rows (the Spark store).
    """
    n = len(final)
    names = np.full(n, None, dtype=object)
    probs = np.full(n, np.nan)
    candidates = getattr(model, "candidates_", None)
    if candidates is None or len(candidates) != n:
        return names, probs
    post = np.where(
        (candidates >= 0) & (candidates != final[:, None]), model.candidate_posterior_, -1.0
    )
    slot = post.argmax(axis=1)
    rows = np.arange(n)
    best = post[rows, slot]
    found = best >= 0
    names[found] = classes[candidates[rows[found], slot[found]]]
    probs[found] = best[found]
    return names, probs
