"""The review loop: which rows a person should look at, and merging their decisions.

``pico clean`` writes ``review.csv`` in the run directory: the rows marked ``review``
and the changes made with low confidence, the most useful look first. A person fills
its ``decision`` column (``accept`` the suggestion, ``reject`` it and keep the given
label, or write another label) and ``pico apply RUN_DIR review.csv`` merges the
decisions into the cleaned dataset and the label history. The given labels are never
overwritten: they stay in the input's label column and in the history's ``given``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InvalidInputError

__all__ = [
    "REVIEW_COLUMNS", "apply_decisions", "decision_log", "from_spreadsheet", "review_table",
    "spreadsheet_safe",
]

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
