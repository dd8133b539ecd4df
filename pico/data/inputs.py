"""Checks on the inputs every entry point shares: text length and label spellings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import MAX_TEXT_CHARS
from ..exceptions import InvalidInputError

__all__ = ["MAX_TEXT_CHARS", "check_max_text_chars", "label_variants", "truncate_texts"]

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
