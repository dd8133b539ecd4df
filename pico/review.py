"""The review loop: which rows a person should look at, and merging their decisions.

``pico clean`` writes ``review.csv`` in the run directory: the rows marked ``review``
and the changes made with low confidence, the most useful look first. A person fills
its ``decision`` column (``accept`` the suggestion, ``reject`` it and keep the given
label, or write an existing label) and ``pico apply RUN_DIR review.csv`` merges the
decisions into the cleaned dataset and the label history (:mod:`pico.decisions` reads
the run and writes the files; ``pico review`` fills the column from a local page). The
given labels are never overwritten: they stay in the input's label column and in the
history's ``given``. This module holds the pure parts: the table, the merge, the log,
the checks of decision names and the one-line "why" of a change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InvalidInputError

__all__ = [
    "KEYWORDS", "REVIEW_COLUMNS", "apply_decisions", "closest_labels", "count_blank",
    "decision_log", "explain", "from_spreadsheet", "review_order", "review_table",
    "spreadsheet_safe", "unknown_labels",
]

#: Decisions that are not label names: take the suggestion, or keep the given label.
KEYWORDS = ("accept", "reject")

#: Columns of review.csv, in order.
REVIEW_COLUMNS = (
    "row", "text", "given", "pico_label", "suggested", "confidence", "status", "value",
    "decision",
)


#: First characters that make a spreadsheet read a cell as a formula (and the quote
#: that escapes them, so that escaping can be undone exactly).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """A cell that a spreadsheet shows as text, never runs as a formula.

    Strings starting with ``= + - @``, a tab or a carriage return get a leading
    apostrophe (spreadsheets hide it and show the text); strings already starting with
    an apostrophe get one more, so :func:`from_spreadsheet` undoes it exactly. Plain
    numbers (``-1``, ``+2.5``) are left as they are; other values pass through.

    Examples
    --------
    >>> spreadsheet_safe("=1+2"), spreadsheet_safe("-1"), spreadsheet_safe("ok")
    ("'=1+2", '-1', 'ok')
    >>> from_spreadsheet(spreadsheet_safe("'quoted")) == "'quoted"
    True
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def from_spreadsheet(value: Any) -> Any:
    """Undo :func:`spreadsheet_safe`: drop one leading apostrophe from a string."""
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def review_table(
    texts: Any,
    given: np.ndarray,
    labels: np.ndarray,
    confidence: np.ndarray,
    status: np.ndarray,
    suggested: np.ndarray,
    *,
    max_confidence: float = 0.8,
) -> pd.DataFrame:
    """Rows worth a person's look, most valuable first.

    A row is listed when its status is ``review`` or it was relabeled with confidence
    below ``max_confidence``. Its ``value`` is ``1 - confidence`` of the label it now
    carries: the chance that label is wrong, so the expected number of wrong labels a
    look can fix. Text and label cells are :func:`spreadsheet_safe` (the file is meant
    to be opened in a spreadsheet); :func:`apply_decisions` reads them back.

    Examples
    --------
    >>> t = review_table(["a", "b", "c"], np.array(["x", "x", "y"]), np.array(["x", "y", "y"]),
    ...                  np.array([0.4, 0.7, 0.99]), np.array(["review", "relabeled", "kept"]),
    ...                  np.array(["y", "y", "y"]))
    >>> t["row"].tolist(), t["value"].round(2).tolist()
    ([0, 1], [0.6, 0.3])
    """
    status = np.asarray(status, dtype=object)
    conf = np.asarray(confidence, dtype=np.float64)
    pick = (status == "review") | ((status == "relabeled") & (conf < max_confidence))
    rows = np.flatnonzero(pick)
    text_list = list(texts) if texts is not None else [""] * len(status)

    def cells(values: Any) -> list[Any]:
        return [spreadsheet_safe(v) for v in values]

    table = pd.DataFrame(
        {
            "row": rows,
            "text": cells(str(text_list[i]) for i in rows.tolist()),
            "given": cells(np.asarray(given, dtype=object)[rows]),
            "pico_label": cells(np.asarray(labels, dtype=object)[rows]),
            "suggested": cells(np.asarray(suggested, dtype=object)[rows]),
            "confidence": np.round(conf[rows], 4),
            "status": status[rows],
            "value": np.round(1.0 - conf[rows], 4),
            "decision": "",
        },
        columns=list(REVIEW_COLUMNS),
    )
    return table.sort_values(["value", "row"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def apply_decisions(
    given: np.ndarray, labels: np.ndarray, review: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Merge a filled review table into the labels.

    Parameters
    ----------
    given, labels : ndarray of shape (N,)
        The given labels and the labels after cleaning.
    review : DataFrame
        ``review.csv`` with its ``decision`` column filled: ``accept`` (take
        ``suggested``), ``reject`` (keep the given label), another label, or empty (no
        decision: the row is left as it is).

    Returns
    -------
    labels : ndarray of shape (N,)
        The labels with the decisions applied.
    decided : ndarray of bool, shape (N,)
        Rows a person decided.
    log : DataFrame
        One row per decision: row, given, before, after, decision.

    Raises
    ------
    InvalidInputError
        If a column is missing, a row number is out of range, or a row's ``given``
        does not match the dataset (the review file belongs to another run).

    Examples
    --------
    >>> review = pd.DataFrame({"row": [0, 1, 2], "given": ["a", "a", "b"],
    ...                        "suggested": ["b", "b", "c"], "decision": ["accept", "reject", ""]})
    >>> new, decided, _ = apply_decisions(np.array(["a", "a", "b"]), np.array(["a", "b", "b"]),
    ...                                   review)
    >>> new.tolist(), decided.tolist()
    (['b', 'a', 'b'], [True, True, False])
    """
    missing = [c for c in ("row", "given", "suggested", "decision") if c not in review.columns]
    if missing:
        raise InvalidInputError(
            f"the review file has no column {', '.join(map(repr, missing))}; use the "
            "review.csv that pico clean wrote, with its decision column filled"
        )
    n = len(labels)
    out = np.asarray(labels, dtype=object).copy()
    decided = np.zeros(n, dtype=bool)
    log = []
    for rec in review.to_dict("records"):
        rec = {key: from_spreadsheet(value) for key, value in rec.items()}
        decision = "" if pd.isna(rec["decision"]) else str(rec["decision"]).strip()
        if not decision:
            continue
        try:
            row = int(rec["row"])
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"review row {rec['row']!r} is not a row number") from e
        if not 0 <= row < n:
            raise InvalidInputError(f"review row {row} is outside the dataset's {n} rows")
        if str(rec["given"]) != str(given[row]):
            raise InvalidInputError(
                f"row {row} was given {given[row]!r} but the review file says "
                f"{rec['given']!r}: the review file belongs to another dataset or run"
            )
        lowered = decision.lower()
        if lowered == "accept":
            new = rec["suggested"]
        elif lowered == "reject":
            new = given[row].item() if hasattr(given[row], "item") else given[row]
        else:
            new = decision
        log.append({"row": row, "given": given[row], "before": out[row], "after": new,
                    "decision": decision})
        out[row] = new
        decided[row] = True
    return out, decided, pd.DataFrame(log, columns=["row", "given", "before", "after", "decision"])


#: Columns of decisions.csv, in order.
LOG_COLUMNS = ("row", "given", "before", "after", "decision", "run_id")


def decision_log(
    old: pd.DataFrame | None, new: pd.DataFrame, *, run_id: str
) -> tuple[pd.DataFrame, int]:
    """decisions.csv with ``new`` appended, each decision logged once.

    A decision is not logged again when the row's latest entry of the same run already
    says the same (applying one review file twice, or again after a killed apply).

    Parameters
    ----------
    old : DataFrame or None
        The log so far (read as text), or None when there is none.
    new : DataFrame
        The decisions just applied (:func:`apply_decisions`'s ``log``).
    run_id : str
        The run the decisions belong to.

    Returns
    -------
    log : DataFrame
        The whole log, as text.
    n_new : int
        Entries added.

    Examples
    --------
    >>> new = pd.DataFrame({"row": [3], "given": ["a"], "before": ["a"], "after": ["b"],
    ...                     "decision": ["accept"]})
    >>> log, n = decision_log(None, new, run_id="r1")
    >>> n, decision_log(log, new, run_id="r1")[1], decision_log(log, new, run_id="r2")[1]
    (1, 0, 1)
    """
    columns = list(LOG_COLUMNS)
    entries = new.astype(str).assign(run_id=run_id).reindex(columns=columns)
    if old is None or not len(old):
        return entries.reset_index(drop=True), len(entries)
    old = old.astype(str)
    if "run_id" not in old.columns:
        old = old.assign(run_id="")
    latest = {
        (rec["run_id"], rec["row"]): (rec["after"], rec["decision"])
        for rec in old.to_dict("records")
    }
    fresh = [
        (rec["run_id"], rec["row"]) not in latest
        or latest[(rec["run_id"], rec["row"])] != (rec["after"], rec["decision"])
        for rec in entries.to_dict("records")
    ]
    added = entries[np.asarray(fresh, dtype=bool)] if len(entries) else entries
    log = pd.concat([old.reindex(columns=columns), added], ignore_index=True)
    return log, len(added)


def _decision(value: Any) -> str:
    """A decision cell as text: blank for a missing value, spreadsheet quoting undone."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(from_spreadsheet(value)).strip()


def count_blank(review: pd.DataFrame) -> int:
    """Rows of a review table with no decision (blank cells are skipped by apply).

    Examples
    --------
    >>> count_blank(pd.DataFrame({"decision": ["accept", "", None, "  "]}))
    3
    """
    if "decision" not in review.columns:
        return len(review)
    return sum(not _decision(v) for v in review["decision"].tolist())


def closest_labels(name: str, labels: Iterable[Any], n: int = 3) -> list[str]:
    """The existing labels closest to ``name`` (difflib ratio, ignoring case), best first.

    Examples
    --------
    >>> closest_labels("reset_pasword", ["reset_password", "set_password", "weather"])
    ['reset_password', 'set_password']
    >>> closest_labels("Weather", ["weather", "music"])
    ['weather']
    """
    by_lower: dict[str, str] = {}
    for label in sorted(str(v) for v in labels):
        by_lower.setdefault(label.lower(), label)
    found = difflib.get_close_matches(str(name).lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[f] for f in found]


def unknown_labels(review: pd.DataFrame, labels: Iterable[Any]) -> dict[str, list[int]]:
    """Decisions that name a label not in ``labels``: each name with its review rows.

    ``accept`` and ``reject`` (any case) and blank cells are not label names.

    Examples
    --------
    >>> review = pd.DataFrame({"row": [0, 1, 2, 3],
    ...                        "decision": ["accept", "weather", "yes", "reset_pasword"]})
    >>> unknown_labels(review, ["weather", "reset_password"])
    {'yes': [2], 'reset_pasword': [3]}
    """
    known = {str(v) for v in labels}
    rows = review["row"].tolist() if "row" in review.columns else list(range(len(review)))
    out: dict[str, list[int]] = {}
    for row, value in zip(rows, review["decision"].tolist()):
        decision = _decision(value)
        if not decision or decision.lower() in KEYWORDS or decision in known:
            continue
        try:
            where = int(row)
        except (TypeError, ValueError):
            where = -1
        out.setdefault(decision, []).append(where)
    return out


def review_order(status: Any, confidence: Any) -> np.ndarray:
    """Positions in the order a person should look: ``review`` rows first, then the
    others, each by ascending confidence (the least sure first; ties by position).

    Examples
    --------
    >>> review_order(["relabeled", "review", "relabeled", "review"],
    ...              [0.7, 0.9, 0.5, 0.2]).tolist()
    [3, 1, 2, 0]
    """
    st = np.asarray(status, dtype=object)
    conf = pd.to_numeric(pd.Series(list(confidence), dtype=object), errors="coerce")
    conf = conf.fillna(-1.0).to_numpy(dtype=np.float64)
    return np.lexsort((np.arange(len(st)), conf, st != "review"))


def _p(value: float) -> str:
    return "<0.01" if 0 < value < 0.005 else f"{value:.2f}"


def explain(
    *,
    given: str,
    label: str,
    suggested: str,
    status: str,
    confidence: float,
    suggested_confidence: float | None = None,
    given_confidence: float | None = None,
    path: list[str] | None = None,
    runner_up: str | None = None,
    runner_up_confidence: float | None = None,
) -> str:
    """One line saying why pico changed a row's label, or left it to a person.

    The vote's evidence when the run recorded it (the fitted posterior of the
    suggested and of the given label, and the runner-up when it is a third label), else
    the confidence alone, and where the label moved across iterations (``path``: the
    given label, then each iteration's).

    Examples
    --------
    >>> explain(given="music", label="weather", suggested="weather", status="relabeled",
    ...         confidence=0.93, suggested_confidence=0.93, given_confidence=0.02,
    ...         path=["music", "weather", "weather"])
    'the vote: weather 0.93, music (given) 0.02, 46x as likely; moved in iteration 1'
    >>> explain(given="a", label="b", suggested="b", status="relabeled", confidence=0.7)
    'confidence 0.70'
    """
    parts = []
    p_new = np.nan if suggested_confidence is None else float(suggested_confidence)
    p_given = np.nan if given_confidence is None else float(given_confidence)
    if not np.isnan(p_new) and suggested != given and not np.isnan(p_given):
        line = f"the vote: {suggested} {_p(p_new)}, {given} (given) {_p(p_given)}"
        if p_new >= p_given:
            ratio = p_new / p_given if p_given > 0 else np.inf
            line += (", over 100x as likely" if ratio > 100
                     else f", {ratio:.0f}x as likely" if ratio >= 10
                     else f", {ratio:.1f}x as likely")
        p_third = np.nan if runner_up_confidence is None else float(runner_up_confidence)
        if runner_up and runner_up not in (given, suggested, "None", "nan") \
                and not np.isnan(p_third):
            line += f"; runner-up {runner_up} {_p(p_third)}"
        parts.append(line)
    elif not np.isnan(p_new):
        parts.append(f"the vote: {suggested} {_p(p_new)}")
    elif not np.isnan(confidence):
        parts.append(f"confidence {confidence:.2f}")
    if path and len(path) > 1:
        moves = [t for t in range(1, len(path)) if path[t] != path[t - 1]]
        if len(moves) >= 2:
            parts.append("its label changed in iterations " + ", ".join(map(str, moves)))
        elif moves:
            parts.append(f"moved in iteration {moves[0]}"
                         + ("" if label != given else ", then held back"))
    if status == "review":
        parts.append("left to a person")
    return "; ".join(parts)
