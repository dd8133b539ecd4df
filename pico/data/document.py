"""Chatbot platform data read as rows and written back with new intents, layout kept.

A *document* is an input whose own layout pico keeps: a Rasa NLU file or data folder
(:mod:`pico.data.rasa`), a Microsoft CLU project export (:mod:`pico.data.clu`), a
Dialogflow ES agent export (:mod:`pico.data.dialogflow`) or an Amazon Lex V2 bot
export (:mod:`pico.data.lex`). Every document offers the same two operations:

* ``frame()``: one row per training example, with at least the columns ``text`` (what
  the checkers see) and ``intent`` (the given label);
* ``render(intents)``: the document with each example under ``intents[i]`` (row order
  of ``frame()``): the bytes of the new file, or for a folder the bytes of each file by
  relative path. Everything the new intents do not change is written back as it was;
  with no change at all the original bytes come back.

:func:`read_document` reads one, :func:`write_document` writes one atomically (nothing
is written when rendering fails), and :func:`sniff_format` tells the platform of a file
or folder from its content.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pandas as pd

from ..exceptions import InvalidInputError
from .files import DOCUMENT_FORMATS, PathLike, write_bytes, write_folder

__all__ = [
    "DOCUMENT_FORMATS",
    "FORMAT_NAMES",
    "Document",
    "read_document",
    "sniff_format",
    "write_document",
]

#: A rendered document: a file's bytes, or a folder's files by relative path.
Rendered = bytes | dict[str, bytes]

#: How each document format is named in messages.
FORMAT_NAMES = {
    "rasa": "Rasa NLU",
    "clu": "Microsoft CLU project",
    "dialogflow": "Dialogflow ES agent",
    "lex": "Amazon Lex V2 bot",
}

_log = logging.getLogger("pico")


class Document(Protocol):
    """What every document module returns: rows out, the same layout back in."""

    format: ClassVar[str]  # one of DOCUMENT_FORMATS
    path: Path

    def frame(self) -> pd.DataFrame:
        """One row per training example: ``text``, ``intent`` and format columns."""

    def render(self, intents: Sequence[Any]) -> Rendered:
        """The document with each example under ``intents[i]``."""


def read_document(
    path: PathLike, fmt: str, *, encoding: str = "utf-8", language: str | None = None
) -> Document:
    """Read a document of format ``fmt`` (one of :data:`DOCUMENT_FORMATS`).

    Parameters
    ----------
    path : str or os.PathLike
        The file (or, for Rasa, a file or a data folder).
    fmt : str
        ``"rasa"``, ``"clu"``, ``"dialogflow"`` or ``"lex"``.
    encoding : str, default "utf-8"
        Text encoding of a Rasa or CLU file (platform zips are UTF-8).
    language : str, optional
        The language to read from a multilingual export (CLU, Dialogflow ES, Lex V2);
        by default the project's, agent's or bot's own (see each module).

    Raises
    ------
    InvalidInputError
        If the input is not of that format, or uses a layout pico does not rewrite
        (the message says how to fix it).
    """
    source = Path(os.fspath(path))
    if language is not None and fmt == "rasa":
        raise InvalidInputError(
            "--language applies to CLU, Dialogflow ES and Lex V2 exports; a Rasa NLU "
            "file has one language: leave --language out"
        )
    if fmt == "rasa":
        from .rasa import read_rasa, read_rasa_folder

        if source.is_dir():
            return read_rasa_folder(source, encoding=encoding)
        return read_rasa(source, _read_bytes(source), encoding=encoding)
    if source.is_dir():
        raise InvalidInputError(
            f"{source} is a folder; a {FORMAT_NAMES[fmt]} export is one "
            f"{'.json file' if fmt == 'clu' else '.zip file'}: pass that file"
        )
    data = _read_bytes(source)
    if fmt == "clu":
        from .clu import read_clu

        return read_clu(source, data, encoding=encoding, language=language)
    if fmt == "dialogflow":
        from .dialogflow import read_dialogflow

        return read_dialogflow(source, data, language=language)
    if fmt == "lex":
        from .lex import read_lex

        return read_lex(source, data, language=language)
    raise InvalidInputError(f"{fmt!r} is not a document format ({', '.join(DOCUMENT_FORMATS)})")


def _read_bytes(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except OSError as error:
        raise InvalidInputError(
            f"cannot read {source}: {error.strerror or error}. Check that it is readable."
        ) from error


def write_document(frame: pd.DataFrame, path: PathLike, fmt: str) -> None:
    """Write the document ``frame`` was read from, each example under its new intent.

    The intents come from the ``pico_label`` column, else from ``intent``. A file is
    replaced atomically; a folder is written next to the target and swapped in, so a
    failure leaves nothing half-written.

    Raises
    ------
    InvalidInputError
        If ``frame`` was not read from a document of format ``fmt``, if the new intents
        cannot be written in that format (the message says why), or if the target
        cannot be written.
    """
    doc = frame.attrs.get("pico_document")
    name = FORMAT_NAMES.get(fmt, fmt)
    if doc is None or doc.format != fmt:
        raise InvalidInputError(
            f"{path}: a {name} file can only be written from a {name} input (its layout is "
            "kept); choose a .csv, .tsv, .jsonl or .parquet output"
        )
    column = "pico_label" if "pico_label" in frame.columns else "intent"
    rendered = doc.render(frame[column].tolist())
    if isinstance(rendered, dict):
        write_folder(rendered, path, source=doc.path)
    else:
        write_bytes(rendered, path)


def check_count(intents: Sequence[Any], n_rows: int, path: Path) -> None:
    """Refuse a list of intents that does not have one entry per example."""
    if len(intents) != n_rows:
        raise InvalidInputError(f"{len(intents)} intents for {n_rows} examples of {path}")


# --------------------------------------------------------------------------- detection


_LEX_INTENT = re.compile(r"(?:^|/)Intents/[^/]+/Intent\.json$")


def sniff_format(path: PathLike) -> str | None:
    """The document format of ``path`` judged by its content, or None.

    A folder is a Rasa data folder; a zip holding ``agent.json`` is a Dialogflow agent
    (ES, or CX which the reader refuses), one holding ``.../Intents/NAME/Intent.json`` a
    Lex V2 bot; a JSON object with a ``projectKind`` is a CLU project, one with
    ``metadata.importType`` ``LEX`` a Lex V1 export (refused by the reader); a YAML
    file with a top-level ``nlu:`` is Rasa NLU.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "export"
    ...     _ = path.write_text('{"assets": {"projectKind": "Conversation"}}')
    ...     sniff_format(path)
    'clu'
    """
    source = Path(os.fspath(path))
    if source.is_dir():
        return "rasa"
    if not source.is_file():
        return None
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                return _sniff_zip(archive)
        with open(source, "rb") as handle:
            head = handle.read(1 << 16)
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        try:
            value = json.loads(source.read_bytes().decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return None
        return _sniff_json(value)
    if re.search(r"^nlu:", text, flags=re.MULTILINE):
        return "rasa"
    return None


def _sniff_zip(archive: zipfile.ZipFile) -> str | None:
    names = archive.namelist()
    if any(n == "agent.json" or n.endswith("/agent.json") for n in names):
        return "dialogflow"
    if any(_LEX_INTENT.search(n) for n in names):
        return "lex"
    jsons = [n for n in names if n.lower().endswith(".json")]
    if len(jsons) == 1:
        try:
            value = json.loads(archive.read(jsons[0]).decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, KeyError):
            return None
        return _sniff_json(value)
    return None


def _sniff_json(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    metadata = value.get("metadata")
    assets = value.get("assets")
    if isinstance(metadata, dict) and str(metadata.get("importType", "")).upper() == "LEX":
        return "lex"
    for part in (metadata, assets):
        if isinstance(part, dict) and "projectKind" in part:
            return "clu"
    return None
