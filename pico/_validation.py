"""Checks of parameter values shared by the estimators and entry points."""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import InvalidInputError

__all__ = ["check_fraction", "check_int"]


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, refused unless it is an integer of at least ``minimum``.

    Examples
    --------
    >>> check_int("n_folds", 3, 2)
    3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(
            f"The {name!r} parameter must be an integer >= {minimum}. Got {value!r} instead."
        )
    return int(value)


def check_fraction(name: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` as a float, refused unless it is a number in ``[low, high]``.

    Examples
    --------
    >>> check_fraction("tol", 0.5)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
        low <= value <= high
    ):
        raise InvalidInputError(
            f"The {name!r} parameter must be a number in [{low}, {high}]. Got {value!r} instead."
        )
    return float(value)
