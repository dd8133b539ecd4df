"""Defaults shared by more than one entry point, each written once.

This module imports nothing heavy, so the command line can read its defaults without
loading numpy or pandas.
"""

from __future__ import annotations

__all__ = ["MAX_TEXT_CHARS"]

#: Default longest text featurized, in characters. The default featurizer's character
#: n-grams take about 180 bytes of memory per character of a text (docs/limits.md), so a
#: pasted transcript of 50 MB in one cell would need 9 GB; 10,000 characters (a few
#: pages, far beyond any utterance) bound one row at about 2 MB.
MAX_TEXT_CHARS = 10_000
