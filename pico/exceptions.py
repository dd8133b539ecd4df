"""Exceptions raised by pico.

Every error says what was wrong and how to fix it. The CLI maps :class:`PicoError`
to a one-line message and exit code 2.
"""

from __future__ import annotations

__all__ = ["InvalidInputError", "MissingDependencyError", "PicoError"]


class PicoError(Exception):
    """Base class of every error pico raises on purpose."""


class InvalidInputError(PicoError, ValueError):
    """The input data or an option is unusable; the message names the fix."""


class MissingDependencyError(PicoError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""
