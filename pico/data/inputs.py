"""The input layer every entry point shares: validation, grouping, featurization.

:func:`pico.clean`, :func:`pico.check`, :class:`pico.Cleaner` and the command line
read their inputs through these functions: a table is split into inputs and labels
(:func:`labeled_input`), missing labels are found (:func:`missing_labels`), identical
texts grouped (:func:`text_groups`), labels coded (:func:`label_codes`) and checked
(:func:`check_labels`), and texts or numeric features turned into one feature matrix
(:func:`featurize`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..config import MAX_TEXT_CHARS
from ..exceptions import InvalidInputError

__all__ = [
    "MAX_TEXT_CHARS",
    "Features",
    "LabeledInput",
    "check_finite",
    "check_labels",
    "check_max_text_chars",
    "check_rows",
    "featurize",
    "is_hf_dataset",
    "is_texts",
    "label_array",
    "label_codes",
    "label_variants",
    "labeled_input",
    "missing_labels",
    "n_rows",
    "take_rows",
    "text_groups",
    "texts_of",
    "truncate_texts",
]

_log = logging.getLogger("pico")


def check_max_text_chars(value: Any) -> int | None:
    """``max_text_chars`` validated: a positive integer, or None (no bound)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(
            f"The 'max_text_chars' parameter must be a positive integer or None. Got "
            f"{value!r} instead."
        )
    return int(value)


def truncate_texts(texts: Sequence[str], max_chars: int | None) -> tuple[list[str], int]:
    """Texts cut to ``max_chars`` characters, and how many were cut.

    A warning on the ``pico`` logger names the count, so a run never cuts silently.

    Examples
    --------
    >>> truncate_texts(["short", "a much longer text"], 6)
    (['short', 'a much'], 1)
    >>> truncate_texts(["anything"], None)
    (['anything'], 0)
    """
    out = [t if isinstance(t, str) else str(t) for t in texts]
    if max_chars is None:
        return out, 0
    cut = 0
    for i, text in enumerate(out):
        if len(text) > max_chars:
            out[i] = text[:max_chars]
            cut += 1
    if cut:
        _log.warning(
            "%d %s longer than %d characters %s cut to that length before featurizing "
            "(max_text_chars; --max-text-chars on the command line)",
            cut, "text" if cut == 1 else "texts", max_chars, "was" if cut == 1 else "were",
        )
    return out, cut


def label_variants(labels: Sequence[Any] | np.ndarray) -> list[list[str]]:
    """Groups of distinct labels that differ only in case or surrounding spaces.

    They are kept as separate classes (pico cannot know that ``Greet`` and ``greet``
    are one intent), so each group is worth a look; the entry points warn about them.

    Examples
    --------
    >>> label_variants(["greet", "Greet", " greet", "bye", None])
    [[' greet', 'Greet', 'greet']]
    """
    spellings: dict[str, set[str]] = {}
    for value in labels:
        if not isinstance(value, str):
            continue
        key = " ".join(value.split()).casefold()
        if key:
            spellings.setdefault(key, set()).add(value)
    return sorted(sorted(group) for group in spellings.values() if len(group) > 1)


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


def check_finite(data: Any) -> None:
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


def is_texts(data: Any) -> bool:
    """Whether ``data`` is a sequence of texts (a list, a 1-d array or Series of str)."""
    if sp.issparse(data):
        return False
    if isinstance(data, np.ndarray):
        return data.ndim == 1 and data.dtype.kind in "OUS"
    if hasattr(data, "ndim") and getattr(data, "ndim", 2) == 1 and hasattr(data, "tolist"):
        return all(isinstance(v, str) for v in data.tolist()[:100])
    return isinstance(data, (list, tuple)) and len(data) > 0 and isinstance(data[0], str)


def take_rows(data: Any, rows: np.ndarray) -> Any:
    """The ``rows`` of ``data``: a DataFrame's, an array's or matrix's, or a list's."""
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        return data[rows]
    return [data[i] for i in rows.tolist()]


def n_rows(data: Any) -> int:
    """How many rows ``data`` holds (an array's or matrix's first axis, else its length)."""
    return int(data.shape[0]) if hasattr(data, "shape") else len(data)


def check_rows(data: Any, n_labels: int, *, what: str = "data", labels: str = "labels") -> None:
    """Refuse ``data`` whose row count is not ``n_labels``, naming both."""
    n_data = n_rows(data)
    if n_data != n_labels:
        raise InvalidInputError(
            f"{what} has {n_data} rows but {labels} has {n_labels}; they must match"
        )


def texts_of(data: Any) -> list[str]:
    """A sequence of texts (a list, an array, a Series) as a list of str."""
    return [str(t) for t in (data.tolist() if hasattr(data, "tolist") else data)]


@dataclass
class Features:
    """What :func:`featurize` returns.

    Attributes
    ----------
    X : sparse matrix (CSR) or ndarray of shape (N, D)
    groups : ndarray of shape (N,) or None
        Texts equal up to case and whitespace share an id (None for numeric features, or
        without ``merge_duplicates``).
    texts : bool
        Whether the inputs were texts.
    texts_cut : int
        Texts cut to ``max_text_chars``.
    featurizer : transformer
        The featurizer used (fitted).
    """

    X: Any
    groups: np.ndarray | None
    texts: bool
    texts_cut: int
    featurizer: Any


def featurize(
    data: Any, featurizer: Any = None, *, merge_duplicates: bool = True,
    max_text_chars: int | None = None,
) -> Features:
    """Texts or numeric features as one feature matrix, validated, and the text groups.

    Texts are cut to ``max_text_chars`` (with a warning that counts them) and
    featurized with ``featurizer`` (default: :class:`~pico.featurizers.TfidfFeaturizer`);
    numeric features must be finite (default: standardised by
    :class:`~pico.featurizers.NumericFeaturizer`). A sparse result is CSR.

    Examples
    --------
    >>> found = featurize(["hi there", "Hi  there", "bye"])
    >>> found.X.shape[0], found.groups.tolist(), found.texts
    (3, [0, 0, 1], True)
    """
    from ..featurizers.tfidf import NumericFeaturizer, TfidfFeaturizer

    texts = is_texts(data)
    if featurizer is None:
        featurizer = TfidfFeaturizer() if texts else NumericFeaturizer()
    if texts:
        data_list, n_cut = truncate_texts(
            data.tolist() if hasattr(data, "tolist") else data, max_text_chars
        )
        X = featurizer.fit_transform(data_list)
        groups = text_groups(data_list) if merge_duplicates else None
    else:
        check_finite(data)
        X = featurizer.fit_transform(data)
        groups = None
        n_cut = 0
    if hasattr(X, "tocsr"):
        X = X.tocsr()
    return Features(X, groups, texts, n_cut, featurizer)


def label_codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and each row's code.

    Raises
    ------
    InvalidInputError
        If the labels mix types that cannot be ordered (numbers and strings).

    Examples
    --------
    >>> classes, codes = label_codes(np.array(["b", "a", "b"]))
    >>> classes.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    try:
        classes, codes = np.unique(labels, return_inverse=True)
    except TypeError as e:
        kinds = sorted({type(v).__name__ for v in np.asarray(labels, dtype=object).tolist()})
        raise InvalidInputError(
            f"the labels mix {', '.join(kinds)} values (such as 1 and '1'), which cannot be "
            "told apart or ordered; convert them to one type (e.g. all strings)"
        ) from e
    return classes, codes.ravel().astype(np.int64)


def check_labels(given: np.ndarray) -> list[list[str]]:
    """Warn about labels that differ only in spelling; refuse fewer than 2 classes."""
    variants = label_variants(given)
    if variants:
        shown = "; ".join(" / ".join(repr(v) for v in group) for group in variants[:5])
        _log.warning(
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
    return variants


def is_hf_dataset(data: Any) -> bool:
    """Whether ``data`` is a Hugging Face ``datasets.Dataset`` (without importing it)."""
    kind = type(data)
    return any(
        cls.__name__ == "Dataset" and cls.__module__.startswith("datasets.")
        for cls in kind.__mro__
    )


@dataclass
class LabeledInput:
    """The inputs and labels of :func:`pico.clean`'s arguments, and where they came from."""

    inputs: Any
    labels: np.ndarray
    index: Any = None
    source: Any = None
    label_feature: Any = None


def label_array(labels: Any) -> np.ndarray:
    """``labels`` as an array; a pandas Series' missing values as None."""
    if labels is None:
        raise InvalidInputError(
            "pass labels (one per row), or a DataFrame or Dataset with a label column as data"
        )
    if isinstance(labels, np.ndarray):
        return labels
    if hasattr(labels, "to_numpy"):  # a pandas Series: missing values as None
        import pandas as pd

        values = labels.to_numpy(dtype=object)
        values[pd.isna(labels).to_numpy()] = None
        if not any(v is None for v in values.tolist()) and labels.dtype != object:
            return labels.to_numpy()  # type: ignore[no-any-return]
        return values  # type: ignore[no-any-return]
    return np.asarray(list(labels), dtype=object)


def labeled_input(
    data: Any, labels: Any, text_column: str | None, label_column: str, given_probs: bool
) -> LabeledInput:
    """Split ``data`` into inputs and labels: a DataFrame's or Dataset's columns."""
    kind = type(data)
    if kind.__module__.startswith("datasets.") and kind.__name__ in (
        "DatasetDict", "IterableDataset", "IterableDatasetDict"
    ):
        raise InvalidInputError(
            f"data is a {kind.__name__}; pass one split as a Dataset, e.g. "
            "data['train'] (an iterable dataset: .take(n) or Dataset.from_generator)"
        )
    hf = is_hf_dataset(data)
    if not hf and not (hasattr(data, "columns") and hasattr(data, "iloc")):
        if data is None and not given_probs:
            raise InvalidInputError(
                "pass data (texts, features, a DataFrame or a Dataset), or pred_probs"
            )
        return LabeledInput(data, label_array(labels))
    columns = list(data.column_names if hf else data.columns)
    if labels is None and label_column not in columns:
        raise InvalidInputError(
            f"data has no label column {label_column!r}; its columns are "
            f"{', '.join(map(str, columns[:20]))}. Pass label_column=NAME (or labels=...)"
        )
    if text_column is not None and text_column not in columns and not given_probs:
        raise InvalidInputError(
            f"data has no text column {text_column!r}; its columns are "
            f"{', '.join(map(str, columns[:20]))}. Pass text_column=NAME, or "
            "text_column=None to use the other columns as numeric features"
        )
    label_feature = None
    if hf:
        wanted = [c for c in (text_column, label_column) if c in columns]
        if text_column is None:
            wanted = columns
        label_feature = data.features.get(label_column) if labels is None else None
        frame = data.select_columns(wanted).to_pandas()
        index = None
    else:
        frame = data
        index = data.index
    if labels is None:
        values = frame[label_column]
        names = getattr(label_feature, "names", None)
        if names is not None:  # a ClassLabel: its names; -1 is a missing label
            label_arr = np.array(
                [names[v] if 0 <= v < len(names) else None for v in values.tolist()],
                dtype=object,
            )
        else:
            label_arr = label_array(values)
    else:
        label_arr = label_array(labels)
    if text_column is None:
        features = frame.drop(columns=[label_column]) if labels is None else frame
        try:
            inputs: Any = features.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as e:
            bad = [c for c in features.columns if features[c].dtype.kind not in "biuf"]
            raise InvalidInputError(
                f"with text_column=None the other columns are numeric features, but "
                f"{', '.join(map(str, bad[:5]))} {'is' if len(bad) == 1 else 'are'} not "
                "numeric; pass text_column=NAME for a text column"
            ) from e
    elif text_column in frame.columns:
        import pandas as pd

        inputs = ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
                  for v in frame[text_column].tolist()]
    else:
        inputs = None
    return LabeledInput(inputs, label_arr, index=index, source=data, label_feature=label_feature)
