"""Data input and output: read and write tables and chatbot platform data, pick the columns.

The public names are those of :mod:`pico.data.io` (``read_table``, ``write_table``,
``select_columns``, ``FORMATS``, ...). They are loaded on first use, so the light
modules of this package (:mod:`pico.data.files`, whose format list the command line
reads) import no pandas.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    io = importlib.import_module(".io", __name__)
    if name == "__all__" or name in io.__all__:
        value = getattr(io, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__getattr__("__all__")))
