"""Data input and output: read and write tables, pick the text/feature and label columns."""

from __future__ import annotations

from pico.data.io import (
    FORMATS,
    PathLike,
    detect_format,
    read_table,
    same_file,
    select_columns,
    write_json,
    write_table,
    write_text,
)

__all__ = [
    "FORMATS",
    "PathLike",
    "detect_format",
    "read_table",
    "same_file",
    "select_columns",
    "write_json",
    "write_table",
    "write_text",
]
