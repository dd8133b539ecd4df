"""Read and write the tables pico works on (CSV, TSV, JSON Lines, Parquet).

Chatbot platform data (Rasa NLU files and folders, Microsoft CLU, Dialogflow ES and
Lex V2 exports) is read into the same kind of table and written back in its own layout
by :mod:`pico.data.document`; :func:`detect_format` tells them apart by extension and
content.

The input layer reads a whole file into a :class:`pandas.DataFrame` and turns every
problem it can detect into one :class:`~pico.exceptions.InvalidInputError` whose message
names the problem and the fix. CSV and TSV cells are read as the exact strings written
in the file, so a table that is read and written back comes out unchanged. JSON Lines
and Parquet keep their native types.

The output layer writes atomically: the data goes to a temporary file in the target's
directory, is flushed and synced to disk, and only then renamed onto the target. A
failed write leaves an existing target untouched and no temporary file behind.

:func:`select_columns` picks the text (or feature) column(s) and the label column out
of a table and validates them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import fnmatch
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pico.exceptions import InvalidInputError

from .files import (
    ALL_FORMATS,
    DOCUMENT_FORMATS,
    FORMATS,
    PathLike,
    atomic_open,
    decode_bytes,
    remove_stale_temporaries,
    same_file,
    write_bytes,
    write_text,
)

__all__ = [
    "ALL_FORMATS",
    "DOCUMENT_FORMATS",
    "FORMATS",
    "PathLike",
    "LabeledTable",
    "decode_bytes",
    "detect_format",
    "document_columns",
    "output_format",
    "read_labeled",
    "read_table",
    "remove_stale_temporaries",
    "same_file",
    "select_columns",
    "write_bytes",
    "write_json",
    "write_table",
    "write_text",
]

# Extensions whose format is told by the file's content (see detect_format).
_CONTENT_EXTENSIONS = (".json", ".zip")

# File extension (lower case) -> format.
_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".yml": "rasa",
    ".yaml": "rasa",
}

_DELIMITERS: dict[str, str] = {"csv": ",", "tsv": "\t"}

# Largest CSV field accepted (the csv module default of 128 KiB is too small for long
# documents). 2**31 - 1 fits the C long of every platform.
_CSV_FIELD_LIMIT = 2**31 - 1

# Characters that make a --feature-columns entry a glob pattern.
_GLOB_CHARS = frozenset("*?[")

# Option names used in error messages, keyed by the select_columns parameter.
_OPTION_NAMES = {
    "text_column": "--text-column",
    "label_column": "--label-column",
    "feature_columns": "--feature-columns",
}


# --------------------------------------------------------------------------- formats


def detect_format(path: PathLike, format: str | None = None) -> str:
    """Return the format of `path`, from `format`, else its extension, else its content.

    Parameters
    ----------
    path : str or os.PathLike
        The file name. Its extension (case-insensitive) names the table formats:
        ``.csv``; ``.tsv`` or ``.tab``; ``.jsonl`` or ``.ndjson``; ``.parquet`` or
        ``.pq``; and ``.yml`` or ``.yaml`` is Rasa NLU. An existing folder is a Rasa
        data folder. For ``.json``, ``.zip`` and any other extension of an existing
        file the content decides (:func:`pico.data.document.sniff_format`): a CLU
        project export (JSON with ``projectKind``), a Dialogflow ES agent zip
        (``agent.json``), a Lex V2 bot zip (``.../Intents/NAME/Intent.json``) or Rasa
        NLU YAML (``nlu:``).
    format : str, optional
        An explicit format, one of :data:`ALL_FORMATS` (case-insensitive). It wins over the
        extension.

    Returns
    -------
    str
        One of :data:`ALL_FORMATS`.

    Raises
    ------
    InvalidInputError
        If `format` is not one of :data:`ALL_FORMATS`, or if it is None and neither the
        extension nor the content tells the format.

    Examples
    --------
    >>> detect_format("data/intents.CSV")
    'csv'
    >>> detect_format("dump.txt", format="tsv")
    'tsv'
    """
    if format is not None:
        normalized = str(format).strip().lower()
        if normalized not in ALL_FORMATS:
            raise InvalidInputError(
                f"unknown format {format!r}; pass --format with one of "
                f"{', '.join(ALL_FORMATS)}."
            )
        return normalized
    source = Path(os.fspath(path))
    suffix = source.suffix.lower()
    if source.is_dir() and _EXTENSIONS.get(suffix) not in FORMATS:
        return _folder_format(source)
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    from .document import sniff_format

    sniffed = sniff_format(source)
    if sniffed is not None:
        return sniffed
    known = ", ".join(_EXTENSIONS)
    shown = repr(suffix) if suffix else "no extension"
    if suffix == ".json" and source.is_file():
        raise InvalidInputError(
            f"{source} is not a Microsoft CLU project export (no \"projectKind\"); pico reads "
            "JSON tables as JSON Lines (.jsonl, one object per line). Pass --format with one "
            f"of {', '.join(ALL_FORMATS)}."
        )
    if suffix == ".zip" and source.is_file():
        raise InvalidInputError(
            f"{source} is neither a Dialogflow ES agent export (agent.json, intents/) nor a "
            "Lex V2 bot export (BotLocales/LOCALE/Intents/NAME/Intent.json); pass the "
            "platform's export .zip as downloaded"
        )
    raise InvalidInputError(
        f"cannot tell the format of {os.fspath(path)} from its extension ({shown}) or "
        f"content; known extensions: {known} (and {', '.join(_CONTENT_EXTENSIONS)} by "
        f"content). Pass --format with one of {', '.join(ALL_FORMATS)}."
    )


def _folder_format(source: Path) -> str:
    """A folder is a Rasa data folder; an unzipped platform export is refused."""
    if (source / "agent.json").is_file():
        raise InvalidInputError(
            f"{source} is an unzipped Dialogflow ES agent; pass the agent's export .zip "
            "(or zip the folder's contents: agent.json, package.json, intents/, entities/)"
        )
    if next(source.glob("**/Intents/*/Intent.json"), None) is not None:
        raise InvalidInputError(
            f"{source} is an unzipped Lex V2 bot; pass the bot's export .zip"
        )
    return "rasa"


def output_format(path: PathLike, input_format: str) -> str:
    """The format to write `path` in, for an input of format `input_format`.

    A table extension (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet``, ...) chooses that
    table format and ``.yml``/``.yaml`` Rasa NLU; any other name keeps a document input's
    own format (a CLU export to ``.json``, a Lex or Dialogflow export to ``.zip``, a Rasa
    folder to a folder); for a table input it is an error.

    Examples
    --------
    >>> output_format("out.csv", "clu"), output_format("out.json", "clu")
    ('csv', 'clu')
    """
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if input_format in DOCUMENT_FORMATS:
        return input_format
    return detect_format(path)


# --------------------------------------------------------------------------- reading


def read_table(
    path: PathLike,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    language: str | None = None,
) -> pd.DataFrame:
    """Read a whole table file into a DataFrame; the file is never modified.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    format : str, optional
        One of :data:`ALL_FORMATS`; by default it is detected from the extension or the
        content (see :func:`detect_format`).
    encoding : str, default "utf-8"
        Text encoding of CSV, TSV, JSON Lines, Rasa and CLU files (any Python codec
        name, such as ``"latin-1"`` or ``"cp949"``). With UTF-8 a leading byte order
        mark is dropped. Ignored for Parquet and the platform zips (UTF-8).
    language : str, optional
        The language to read from a multilingual CLU, Dialogflow ES or Lex V2 export
        (by default the export's own); an error for other formats.

    Returns
    -------
    pandas.DataFrame
        One row per data row, with the default ``RangeIndex``.

        * CSV/TSV: every column holds the cells as the exact strings written in the
          file (``object`` dtype; an empty cell is ``""``, nothing is turned into NaN).
          Standard CSV quoting applies: a quoted field may contain the delimiter,
          doubled quotes and line breaks. Blank lines are skipped.
        * JSON Lines: one JSON object per line; blank lines are skipped. Columns are
          the keys in order of first appearance; a key missing from a row, or a
          ``null``, is a missing value. A column of integers stays integer (``int64``,
          or the nullable ``Int64`` if values are missing), booleans likewise
          (``bool``/``boolean``), numbers with a fraction are ``float64``, and anything
          else (strings, mixed values, nested lists and objects) is an ``object``
          column of the Python values, with None for missing values.
        * Parquet: read with pyarrow, types as pyarrow converts them.
        * Documents (:data:`DOCUMENT_FORMATS`): one row per training example, with the
          columns ``text`` and ``intent`` and a few that say where the example is; the
          parsed document is kept in ``frame.attrs["pico_document"]`` so that
          :func:`write_table` can write it back in its own layout.

    Raises
    ------
    InvalidInputError
        If the file does not exist or is a directory; if it is empty, has only a
        header, or has no columns; if its bytes cannot be decoded with `encoding`; if a
        CSV/TSV row has more or fewer fields than the header; if a JSON Lines line is
        not a JSON object; if column names repeat; or if a Parquet file cannot be read.
        Row errors name the line number (counting from 1, header included).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "data.csv"
    ...     _ = path.write_text('text,label\\n"hi, there",greeting\\nbye,farewell\\n')
    ...     frame = read_table(path)
    >>> frame["text"].tolist()
    ['hi, there', 'bye']
    """
    fmt = detect_format(path, format)
    source = Path(os.fspath(path))
    if not source.exists():
        raise InvalidInputError(
            f"input file not found: {source}. Check the path (relative paths start from "
            f"the current directory {Path.cwd()})."
        )
    if fmt in DOCUMENT_FORMATS:
        from .document import read_document

        doc = read_document(source, fmt, encoding=encoding, language=language)
        frame = doc.frame()
        frame.attrs["pico_document"] = doc
        return frame
    if language is not None:
        raise InvalidInputError(
            f"--language applies to CLU, Dialogflow ES and Lex V2 exports, not to {fmt} "
            "tables; leave it out"
        )
    if source.is_dir():
        raise InvalidInputError(
            f"input path is a directory, not a file: {source}. Pass the path of a "
            f"{', '.join(FORMATS)} file (a folder is read as Rasa NLU data with --format "
            "rasa)."
        )
    if fmt == "parquet":
        frame = _read_parquet(source)
    else:
        text = _decode(source, encoding)
        if fmt == "jsonl":
            frame = _read_jsonl(source, text)
        else:
            frame = _read_delimited(source, text, _DELIMITERS[fmt])
    return frame


def _decode(source: Path, encoding: str) -> str:
    """Read `source` as bytes and decode it, explaining any decoding failure."""
    try:
        codecs.lookup(encoding)  # an unknown encoding is named before the file is read
    except LookupError:
        raise InvalidInputError(
            f"unknown encoding {encoding!r}; pass --encoding with a Python codec name such "
            f"as utf-8, latin-1, cp1252 or cp949."
        ) from None
    try:
        data = source.read_bytes()
    except OSError as error:
        raise InvalidInputError(
            f"cannot read {source}: {error.strerror or error}. Check that the file is "
            f"readable."
        ) from error
    return decode_bytes(data, source, encoding)


def _check_unique(source: Path, columns: Sequence[Any]) -> None:
    """Raise if a column name appears more than once."""
    seen: set[Any] = set()
    duplicates: list[Any] = []
    for name in columns:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        names = ", ".join(repr(name) for name in duplicates)
        raise InvalidInputError(
            f"{source} has duplicate column names: {names}. Rename the columns so that "
            f"every name is unique."
        )


def _read_delimited(source: Path, text: str, delimiter: str) -> pd.DataFrame:
    """Parse CSV/TSV `text` into a DataFrame of strings."""
    if not text.strip():
        raise InvalidInputError(
            f"input file is empty: {source} has no header and no data rows. Pass a file "
            f"with a header line and at least one row."
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    header: list[str] | None = None
    rows: list[list[str]] = []
    previous_line = 0
    old_limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        while True:
            start_line = previous_line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise InvalidInputError(
                    f"{source} line {start_line}: cannot parse the row ({error}). Check "
                    f"the quoting of this row."
                ) from None
            previous_line = reader.line_num
            if not row:
                continue  # a blank line
            if header is None:
                header = row
                _check_unique(source, header)
                continue
            if len(row) != len(header):
                raise InvalidInputError(
                    f"{source} line {start_line}: expected {len(header)} fields (as in the "
                    f"header) but found {len(row)}. Quote fields that contain the delimiter "
                    f"{delimiter!r}, a quote or a line break, or pass the right --format."
                )
            rows.append(row)
    finally:
        csv.field_size_limit(old_limit)
    if header is None:
        raise InvalidInputError(
            f"input file is empty: {source} has no header and no data rows. Pass a file "
            f"with a header line and at least one row."
        )
    if not rows:
        shown = delimiter.join(header)
        raise InvalidInputError(
            f"{source} has no data rows (only the header line {shown!r}). Add rows below "
            f"the header."
        )
    columns = list(zip(*rows))
    data = {name: np.array(values, dtype=object) for name, values in zip(header, columns)}
    return pd.DataFrame(data, columns=header, copy=False)


class _DuplicateKeyError(ValueError):
    """A JSON object repeats a key (internal to the JSON Lines reader)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that refuses repeated keys."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


def _read_jsonl(source: Path, text: str) -> pd.DataFrame:
    """Parse JSON Lines `text` into a DataFrame keeping native types."""
    decoder = json.JSONDecoder(object_pairs_hook=_unique_object)
    records: list[dict[str, Any]] = []
    columns: dict[str, None] = {}  # ordered set of keys, in order of first appearance
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = decoder.decode(line)
        except _DuplicateKeyError as error:
            raise InvalidInputError(
                f"{source} line {number}: key {error.key!r} appears more than once in the "
                f"same object. Keep one value per key."
            ) from None
        except json.JSONDecodeError as error:
            raise InvalidInputError(
                f"{source} line {number} is not valid JSON ({error.msg} at column "
                f"{error.colno}). Each line must hold one JSON object."
            ) from None
        if not isinstance(record, dict):
            kind = _json_kind(record)
            raise InvalidInputError(
                f"{source} line {number} holds a JSON {kind}, not an object. Each line must "
                f'hold one JSON object, like {{"text": "...", "label": "..."}}.'
            )
        for key in record:
            if key not in columns:
                columns[key] = None
        records.append(record)
    if not records:
        raise InvalidInputError(
            f"input file is empty: {source} has no data rows. Pass a file with at least "
            f"one JSON object per line."
        )
    if not columns:
        raise InvalidInputError(
            f"{source} has no columns: every object is empty. Each line must hold one JSON "
            f"object with the text and label fields."
        )
    data = {name: _json_column([record.get(name) for record in records]) for name in columns}
    return pd.DataFrame(data, columns=list(columns), copy=False)


def _json_kind(value: Any) -> str:
    """Name the JSON type of a decoded value."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _json_column(values: list[Any]) -> Any:
    """Turn decoded JSON values (None = missing) into a column with a fitting dtype."""
    present = [value for value in values if value is not None]
    has_missing = len(present) != len(values)
    if present and all(isinstance(value, bool) for value in present):
        if has_missing:
            return pd.array(values, dtype="boolean")
        return np.array(values, dtype=bool)
    if present and all(isinstance(value, int) and not isinstance(value, bool) for value in present):
        if all(-(2**63) <= value < 2**63 for value in present):
            if has_missing:
                return pd.array(values, dtype="Int64")
            return np.array(values, dtype=np.int64)
    elif present and all(
        isinstance(value, (int, float)) and not isinstance(value, bool) for value in present
    ):
        return np.array([math.nan if value is None else value for value in values], dtype=float)
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _read_parquet(source: Path) -> pd.DataFrame:
    """Read a Parquet file with pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(source)
        if len(schema) == 0:
            raise InvalidInputError(
                f"{source} has no columns and no data rows. Pass a table with a text and a "
                f"label column."
            )
        _check_unique(source, schema.names)
        table = pq.read_table(source)
    except (pa.ArrowException, OSError) as error:
        raise InvalidInputError(
            f"cannot read {source} as Parquet ({_first_line(error)}). Check that it is a "
            f"Parquet file, or pass --format with its real format."
        ) from None
    if table.num_rows == 0:
        raise InvalidInputError(
            f"{source} has no data rows (columns: {', '.join(table.column_names)}). Pass a "
            f"table with at least one row."
        )
    frame = table.to_pandas()
    if not isinstance(frame.index, pd.RangeIndex):
        # A frame written with its index keeps it as columns elsewhere; here we only
        # need positional rows.
        frame = frame.reset_index(drop=True)
    return frame


def _first_line(error: BaseException) -> str:
    """The first line of an exception message (pyarrow messages can be multi-line)."""
    message = str(error).strip() or type(error).__name__
    return message.splitlines()[0]


# --------------------------------------------------------------------------- writing


def write_table(frame: pd.DataFrame, path: PathLike, *, format: str | None = None) -> None:
    """Write a DataFrame to `path` atomically, in the given or detected format.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is not written. Column names must be unique.
    path : str or os.PathLike
        The output file. Its directory must exist. An existing file is replaced only
        once the new content is completely written; if writing fails it is untouched.
        Refusing to overwrite the input file is the caller's job (see :func:`same_file`).
    format : str, optional
        One of :data:`ALL_FORMATS`; by default it is detected from the extension (a frame
        read from a document, written to a name without a table extension, keeps the
        document's format). A document format (:data:`DOCUMENT_FORMATS`) writes the document `frame` was read
        from, each example under its ``pico_label`` (see
        :func:`pico.data.document.write_document`).

    Notes
    -----
    * CSV/TSV: UTF-8, ``\\n`` line endings, minimal quoting (pandas ``to_csv`` with the
      csv module rules); missing values are written as empty cells. A CSV or TSV file
      read with :func:`read_table` is written back byte for byte if it was UTF-8,
      minimally quoted, with ``\\n`` line endings and a final newline.
    * JSON Lines: UTF-8 (not escaped), one object per line, keys in column order.
      Missing values and non-finite floats are written as ``null``; numpy scalars
      become JSON numbers and booleans, so integer columns stay integers.
    * Parquet: via pyarrow, keeping the column dtypes.

    Raises
    ------
    InvalidInputError
        If the output directory is missing or not writable, the path is a directory,
        column names repeat, or a column cannot be stored in Parquet.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"text": ["hi", "bye"], "label": [1, 2]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "out.jsonl"
    ...     write_table(frame, path)
    ...     print(path.read_text(), end="")
    {"text": "hi", "label": 1}
    {"text": "bye", "label": 2}
    """
    doc = frame.attrs.get("pico_document")
    if format is None and doc is not None:
        fmt = output_format(path, doc.format)  # a document goes back in its own format
    else:
        fmt = detect_format(path, format)
    _check_unique(Path(os.fspath(path)), list(frame.columns))
    if fmt in DOCUMENT_FORMATS:
        from .document import write_document

        write_document(frame, path, fmt)
        return
    if fmt == "parquet":
        table = _to_arrow(frame, Path(os.fspath(path)))
        import pyarrow.parquet as pq

        with atomic_open(path) as handle:
            pq.write_table(table, handle)
        return
    with atomic_open(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        try:
            if fmt == "jsonl":
                _write_jsonl(frame, text)
            else:
                # "\r\n" makes the csv module quote fields holding a lone "\r" (with "\n"
                # it would not, and the file would not read back); _RowEndWriter then
                # turns every row end into "\n".
                frame.to_csv(
                    _RowEndWriter(text),
                    sep=_DELIMITERS[fmt],
                    index=False,
                    lineterminator="\r\n",
                    quoting=csv.QUOTE_MINIMAL,
                    quotechar='"',
                    doublequote=True,
                )
            text.flush()
        finally:
            text.detach()  # leave `handle` open for _atomic_open to sync and close


class _RowEndWriter(io.TextIOBase):
    """Text sink that rewrites the ``"\r\n"`` ending each written row as ``"\n"``.

    The csv module (under pandas ``to_csv``) writes one row per ``write`` call, so a
    trailing ``"\r\n"`` is the row terminator, while a ``"\r\n"`` inside a row can only
    be part of a quoted field and is kept.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text.endswith("\r\n"):
            text = text[:-2] + "\n"
        return self._stream.write(text)


def _to_arrow(frame: pd.DataFrame, target: Path) -> Any:
    """Convert `frame` to a pyarrow Table, explaining conversion failures."""
    import pyarrow as pa

    renamed = frame.rename(columns=str) if not all(isinstance(c, str) for c in frame) else frame
    try:
        return pa.Table.from_pandas(renamed, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise InvalidInputError(
            f"cannot write {target} as Parquet ({_first_line(error)}). Give the column one "
            f"type (for example convert it with .astype(str)), or write csv or jsonl."
        ) from None


def _write_jsonl(frame: pd.DataFrame, text: IO[str]) -> None:
    """Write `frame` as JSON Lines to an open text stream."""
    names = [str(name) for name in frame.columns]
    columns = [_json_values(frame.iloc[:, position]) for position in range(frame.shape[1])]
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default).encode
    for values in zip(*columns):
        line = dumps(dict(zip(names, values)))
        if "\u2028" in line or "\u2029" in line:
            # Valid JSON either way, but escaped they cannot split the line for readers
            # that use str.splitlines or JavaScript-style line breaks.
            line = line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        text.write(line)
        text.write("\n")


def _json_values(series: pd.Series) -> list[Any]:
    """Convert one column to JSON-ready Python values (None for missing)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        values: list[Any] = series.to_numpy().tolist()
        return values
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [value if math.isfinite(value) else None for value in series.to_numpy().tolist()]
    return [_json_value(value) for value in series.to_numpy(dtype=object)]


def _json_value(value: Any) -> Any:
    """Convert one cell to a JSON-ready Python value (None for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        return [_json_value(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return _json_default(value)


def _json_default(value: Any) -> Any:
    """``json`` fallback: numpy scalars and arrays, dates, paths, sets; else ``str``."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def write_json(obj: Any, path: PathLike) -> None:
    """Write `obj` as indented JSON (UTF-8) to `path` atomically.

    Parameters
    ----------
    obj : object
        Anything :mod:`json` can encode; numpy integers, floats, booleans and arrays
        become JSON numbers, booleans and lists, NaN, infinities and pandas missing
        values become ``null``, dates become ISO strings, sets become sorted lists,
        dictionary keys become strings, and any other object becomes its ``str``. Keys
        keep their order.
    path : str or os.PathLike
        The output file; see :func:`write_table` for the atomic replacement.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "summary.json"
    ...     write_json({"changed": np.int64(3), "rate": np.float32(0.5)}, path)
    ...     print(path.read_text(), end="")
    {
      "changed": 3,
      "rate": 0.5
    }
    """
    text = json.dumps(
        _json_value(obj),
        indent=2,
        sort_keys=False,
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    write_text(text + "\n", path)


# --------------------------------------------------------------------------- columns


def select_columns(
    frame: pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str,
    feature_columns: str | Sequence[str] | None = None,
) -> tuple[list[str] | npt.NDArray[np.float64], npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Pick and validate the inputs (texts or features) and the labels of a table.

    Exactly one of `text_column` and `feature_columns` must be given.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, as returned by :func:`read_table`.
    text_column : str, optional
        The column holding the text of each example.
    label_column : str
        The column holding the given (possibly wrong) label of each example.
    feature_columns : str or sequence of str, optional
        The numeric feature columns, as a list of names or one comma-separated string
        (``"f1,f2,f3"``). Each entry may be a glob pattern (:func:`fnmatch.fnmatchcase`:
        ``*``, ``?``, ``[...]``), e.g. ``"f*"`` for every column whose name starts
        with ``f`` or ``"emb_[0-9]*"``; a pattern's matches are taken in table order
        and never include the label or text column. Repeated columns are used once.

    Returns
    -------
    texts_or_features : list of str or numpy.ndarray of float64, shape (N, D)
        The texts (a missing text becomes ``""`` and non-strings are converted with
        ``str``), or the features as a float64 array of N rows and D columns.
    raw_labels : numpy.ndarray of object, shape (N,)
        The labels as strings with surrounding whitespace stripped. Integers, and
        floats with an integral value, are written without a fraction (``3`` and
        ``3.0`` both become ``"3"``); other values use ``str``. Missing labels are
        ``""``.
    label_missing_mask : numpy.ndarray of bool, shape (N,)
        True where the label is missing: None, NaN, empty or only whitespace.

    Raises
    ------
    InvalidInputError
        If a named column is missing (the message lists the available columns and the
        option to fix), if both or neither of `text_column` and `feature_columns` are
        given, if the label column is also an input column, or if a feature column
        holds a non-numeric, missing or infinite value (the message names the column
        and the first bad data row, counting from 1 without the header).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"text": ["hi", None], "label": [" 3 ", ""]})
    >>> texts, labels, missing = select_columns(frame, text_column="text", label_column="label")
    >>> texts, labels.tolist(), missing.tolist()
    (['hi', ''], ['3', ''], [False, True])
    >>> frame = pd.DataFrame({"f1": ["1", "2"], "f2": [0.5, 1.5], "y": [1, 2]})
    >>> features, labels, _ = select_columns(frame, feature_columns="f*", label_column="y")
    >>> features
    array([[1. , 0.5],
           [2. , 1.5]])
    """
    if (text_column is None) == (feature_columns is None):
        given = "both" if text_column is not None else "neither"
        raise InvalidInputError(
            f"pass exactly one of --text-column (a text column) and --feature-columns "
            f"(numeric feature columns); got {given}."
        )
    _require_column(frame, label_column, "label_column")
    if text_column is not None:
        _require_column(frame, text_column, "text_column")
        if text_column == label_column:
            raise InvalidInputError(
                f"--text-column and --label-column both name {text_column!r}; pass "
                f"different columns. Available columns: {_listing(list(frame.columns))}."
            )
        inputs: list[str] | npt.NDArray[np.float64] = _texts(frame[text_column])
    else:
        names = _resolve_features(frame, feature_columns or [], label_column)
        inputs = _features(frame, names)
    labels, missing = _labels(frame[label_column])
    return inputs, labels, missing


def document_columns(
    fmt: str, text_column: str | None, label_column: str
) -> tuple[str | None, str]:
    """The text and label columns for ``fmt``: documents are read as ``text``, ``intent``.

    Rasa, CLU, Dialogflow and Lex data become tables with the columns ``text`` and
    ``intent`` (:mod:`pico.data.document`); those are their defaults.

    Examples
    --------
    >>> document_columns("rasa", None, "label"), document_columns("csv", None, "label")
    (('text', 'intent'), (None, 'label'))
    """
    if fmt in DOCUMENT_FORMATS:
        return text_column or "text", "intent" if label_column == "label" else label_column
    return text_column, label_column


@dataclass
class LabeledTable:
    """A table read by :func:`read_labeled`: the rows, their inputs and their labels.

    Attributes
    ----------
    frame : pandas.DataFrame
        Every row and column as read.
    inputs : list of str or ndarray of shape (N, D)
        The texts or the numeric features (:func:`select_columns`).
    labels : ndarray of object, shape (N,)
        The labels as strings, None where missing.
    missing : ndarray of bool, shape (N,)
        Where the label is missing.
    format, text_column, label_column
        The format read and the columns used (a document's defaults filled in).
    """

    frame: pd.DataFrame
    inputs: Any
    labels: npt.NDArray[np.object_]
    missing: npt.NDArray[np.bool_]
    format: str
    text_column: str | None
    label_column: str


def read_labeled(
    path: PathLike,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    text_column: str | None = None,
    label_column: str = "label",
    feature_columns: str | Sequence[str] | None = None,
    language: str | None = None,
) -> LabeledTable:
    """Read a labeled table: :func:`read_table`, then :func:`select_columns`.

    Raises
    ------
    InvalidInputError
        If neither a text column nor feature columns are named, or the file or its
        columns are not what was asked for.
    """
    fmt = detect_format(path, format)
    text_column, label_column = document_columns(fmt, text_column, label_column)
    if text_column is None and feature_columns is None:
        raise InvalidInputError(
            "say which column holds the inputs: pass --text-column NAME for text, or "
            "--feature-columns A,B,... for numeric features"
        )
    frame = read_table(path, format=fmt, encoding=encoding, language=language)
    inputs, raw_labels, missing = select_columns(
        frame, text_column=text_column, label_column=label_column,
        feature_columns=feature_columns,
    )
    labels = raw_labels.copy()
    labels[missing] = None
    return LabeledTable(frame, inputs, labels, missing, fmt, text_column, label_column)


def _listing(columns: Sequence[Any]) -> str:
    """Column names for an error message."""
    return ", ".join(str(name) for name in columns) if columns else "(none)"


def _require_column(frame: pd.DataFrame, name: Any, parameter: str) -> None:
    """Raise if `name` is not a column of `frame`."""
    if name not in frame.columns:
        raise InvalidInputError(
            f"column {name!r} not found; available columns: {_listing(list(frame.columns))}. "
            f"Pass {_OPTION_NAMES[parameter]} with one of them."
        )


def _resolve_features(
    frame: pd.DataFrame, feature_columns: str | Sequence[str], label_column: str
) -> list[Any]:
    """Expand the names and glob patterns of `feature_columns` into column names."""
    if isinstance(feature_columns, str):
        entries = [entry.strip() for entry in feature_columns.split(",")]
    else:
        entries = [str(entry).strip() for entry in feature_columns]
    entries = [entry for entry in entries if entry]
    if not entries:
        raise InvalidInputError(
            f"--feature-columns names no column; pass names or patterns such as 'f*'. "
            f"Available columns: {_listing(list(frame.columns))}."
        )
    columns = list(frame.columns)
    chosen: dict[Any, None] = {}
    for entry in entries:
        if _GLOB_CHARS.intersection(entry):
            matches = [
                column
                for column in columns
                if column != label_column and fnmatch.fnmatchcase(str(column), entry)
            ]
            if not matches:
                raise InvalidInputError(
                    f"feature column pattern {entry!r} matched no column; available "
                    f"columns: {_listing(columns)}. Pass --feature-columns with names or "
                    f"patterns that match them."
                )
            chosen.update(dict.fromkeys(matches))
            continue
        _require_column(frame, entry, "feature_columns")
        if entry == label_column:
            raise InvalidInputError(
                f"--feature-columns includes the label column {label_column!r}; the "
                f"features must not contain the label. Remove it from --feature-columns."
            )
        chosen[entry] = None
    return list(chosen)


def _features(frame: pd.DataFrame, names: list[Any]) -> npt.NDArray[np.float64]:
    """Stack the feature columns into a finite float64 (N, D) array."""
    matrix = np.empty((len(frame), len(names)), dtype=np.float64)
    for position, name in enumerate(names):
        matrix[:, position] = _numeric_column(frame[name], name)
        finite = np.isfinite(matrix[:, position])
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise InvalidInputError(
                f"feature column {name!r} has {bad.size} missing or infinite value(s) "
                f"(first in data row {bad[0] + 1}). Impute or drop them before running pico."
            )
    return matrix


def _numeric_column(series: pd.Series, name: Any) -> npt.NDArray[np.float64]:
    """Convert one column to float64 (NaN for missing); raise on non-numeric values."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        converted: npt.NDArray[np.float64] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return converted
    values = series.to_numpy(dtype=object)
    result = np.empty(len(values), dtype=np.float64)
    for row, value in enumerate(values):
        if _is_missing(value) or (isinstance(value, str) and not value.strip()):
            result[row] = np.nan
            continue
        try:
            if isinstance(value, (str, bool, int, float, np.number, np.bool_)):
                result[row] = float(value)
                continue
        except (TypeError, ValueError):
            pass
        raise InvalidInputError(
            f"feature column {name!r} has a non-numeric value {value!r} in data row {row + 1}. "
            f"Pass only numeric columns to --feature-columns, or use --text-column for text."
        )
    return result


def _is_missing(value: Any) -> bool:
    """True for None, NaN, pd.NA and NaT."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _texts(series: pd.Series) -> list[str]:
    """The text column as strings; missing values become ``""``."""
    return [
        value if isinstance(value, str) else "" if _is_missing(value) else str(value)
        for value in series.to_numpy(dtype=object)
    ]


def _label_text(value: Any) -> str:
    """One label as a stripped string (``""`` when missing)."""
    if isinstance(value, str):
        return value.strip()
    if _is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return str(int(number))
        return str(number)
    return str(value).strip()


def _labels(series: pd.Series) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """The label column as stripped strings, plus the mask of missing labels."""
    values = series.to_numpy(dtype=object)
    labels = np.empty(len(values), dtype=object)
    labels[:] = [_label_text(value) for value in values]
    missing = labels == ""
    return labels, np.asarray(missing, dtype=bool)
