"""Data input and output: read and write tables (and Rasa NLU files), pick the columns."""

from __future__ import annotations

from pico.data.io import (
    ALL_FORMATS,
    FORMATS,
    PathLike,
    detect_format,
    read_table,
    remove_stale_temporaries,
    same_file,
    select_columns,
    write_json,
    write_table,
    write_text,
)

__all__ = [
    "ALL_FORMATS",
    "FORMATS",
    "PathLike",
    "detect_format",
    "read_table",
    "remove_stale_temporaries",
    "same_file",
    "select_columns",
    "write_json",
    "write_table",
    "write_text",
]
