"""Lazy imports of optional dependencies with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from .exceptions import MissingDependencyError

__all__ = ["require"]


def require(module: str, *, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` with the fix.

    Parameters
    ----------
    module : str
        Importable module name, e.g. ``"ray"``.
    extra : str
        The pico extra that installs it, e.g. ``"ray"``.
    purpose : str, optional
        What needs the module, shown in the message.

    Examples
    --------
    >>> require("json", extra="none").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        what = f" for {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"{module!r} is needed{what} but is not installed. "
            f"Install it with: pip install 'pico-clean[{extra}]'"
        ) from e
