"""The executor interface: map a pure function over independent tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

__all__ = ["Executor"]


class Executor(Protocol):
    """Runs ``fn(shared, task)`` for every task and yields the results as they finish.

    ``shared`` is sent to the workers once (the features and labels); each task is small
    (row indices, a seed, a checker).
    """

    def map_unordered(
        self, fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any]
    ) -> Iterator[Any]:
        """Yield ``fn(shared, task)`` for each task, in completion order."""
