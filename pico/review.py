"""The review loop: which rows a person should look at, and merging their decisions.

``pico clean`` writes ``review.csv`` in the run directory: the rows marked ``review``
and the changes made with low confidence, the most useful look first. A person fills
its ``decision`` column (``accept`` the suggestion, ``reject`` it and keep the given
label, or write another label) and ``pico apply RUN_DIR review.csv`` merges the
decisions into the cleaned dataset and the label history. The given labels are never
overwritten: they stay in the input's label column and in the history's ``given``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InvalidInputError

__all__ = ["REVIEW_COLUMNS", "apply_decisions", "review_table"]

#: Columns of review.csv, in order.
REVIEW_COLUMNS = (
    "row", "text", "given", "pico_label", "suggested", "confidence", "status", "value",
    "decision",
)


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
    look can fix.

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
    table = pd.DataFrame(
        {
            "row": rows,
            "text": [str(text_list[i]) for i in rows.tolist()],
            "given": np.asarray(given, dtype=object)[rows],
            "pico_label": np.asarray(labels, dtype=object)[rows],
            "suggested": np.asarray(suggested, dtype=object)[rows],
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
