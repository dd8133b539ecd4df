"""Exceptions raised by pico.

Every error says what was wrong and how to fix it. The CLI maps :class:`PicoError`
to a one-line message and exit code 2.
"""

from __future__ import annotations

__all__ = ["InvalidInputError", "MissingDependencyError", "PicoError", "UnknownIntentError"]


class PicoError(Exception):
    """Base class of every error pico raises on purpose."""


class InvalidInputError(PicoError, ValueError):
    """The input data or an option is unusable; the message names the fix."""


class MissingDependencyError(PicoError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""


class UnknownIntentError(InvalidInputError):
    """A review decision names an intent the data does not have (a typo, or a word).

    ``unknown`` maps each such name to the closest existing intents.
    """

    def __init__(self, message: str, unknown: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.unknown = unknown
