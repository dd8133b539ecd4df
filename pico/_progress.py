"""Progress of a clean in Python: a tqdm bar per iteration (notebook-aware).

The bar reads the corrector's event stream, ``progress(event, info)`` (the one the
command line's progress line reads): ``start`` of an iteration, each finished
``checker`` and the finished ``iteration`` with its figures.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ProgressBar", "progress_callback"]

ProgressCallback = Callable[[str, dict[str, Any]], None]


def _interactive() -> bool:
    """A person is watching: a notebook kernel or a terminal, and not a test run."""
    if "PYTEST_CURRENT_TEST" in os.environ:
        return False
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
        if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
            return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class ProgressBar:
    """``progress(event, info)`` callback that draws one tqdm bar per iteration.

    Each bar counts the iteration's checker fits; when the iteration ends it shows the
    labels changed and how many differ from the given labels (the figures the command
    line prints) and stays on screen. ``tqdm.auto`` picks a notebook widget in
    Jupyter and a text bar elsewhere.

    Parameters
    ----------
    n_iterations : int or None
        Iterations at most (shown as ``iteration t/T``).
    file : file-like, optional
        Where a text bar is written (default: stderr).
    """

    def __init__(self, n_iterations: int | None = None, file: Any = None) -> None:
        self.n_iterations = n_iterations
        self.file = file
        self._bar: Any = None

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        from tqdm.auto import tqdm

        t = info.get("iteration")
        if event == "start":
            self._close()
            of = f"/{self.n_iterations}" if self.n_iterations else ""
            self._bar = tqdm(
                desc=f"pico iteration {t}{of}", unit="fit", file=self.file, leave=True,
                dynamic_ncols=True,
            )
        elif event == "checker" and self._bar is not None:
            if self._bar.total != info["total"]:
                self._bar.total = info["total"]
            self._bar.update(info["done"] - self._bar.n)
        elif event == "iteration" and self._bar is not None:
            self._bar.set_postfix(
                changed=info["changed"], differ_from_given=info["differ_from_given"],
                refresh=False,
            )
            self._close()


def progress_callback(progress: Any, n_iterations: int | None = None) -> ProgressCallback | None:
    """The callback for :func:`pico.clean`'s ``progress`` option.

    Parameters
    ----------
    progress : bool, callable or None
        None: a :class:`ProgressBar` when a person is watching (a notebook, a
        terminal; never under pytest); True: always a bar; False: nothing; a callable:
        itself, called as ``progress(event, info)``.
    n_iterations : int, optional

    Examples
    --------
    >>> progress_callback(False) is None
    True
    >>> type(progress_callback(True)).__name__
    'ProgressBar'
    """
    if progress is None:
        return ProgressBar(n_iterations) if _interactive() else None
    if progress is True:
        return ProgressBar(n_iterations)
    if progress is False:
        return None
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    from .exceptions import InvalidInputError

    raise InvalidInputError(
        "The 'progress' parameter must be None (a bar when a person is watching), True, "
        f"False or a callable progress(event, info). Got {progress!r} instead."
    )
