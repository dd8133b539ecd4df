"""In-process and local-pool execution (the default engine)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from threadpoolctl import threadpool_limits

__all__ = ["LocalExecutor"]


def _single_threaded(fn: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    with threadpool_limits(limits=1):
        return fn(shared, task)


class LocalExecutor:
    """Run tasks on this machine.

    Parameters
    ----------
    n_jobs : int, default=1
        Worker processes. 1 runs everything in this process; -1 uses every core.
        Every fit runs with one BLAS thread (in a worker or in this process), which
        is faster than many threads for the small fits pico runs.

    Examples
    --------
    >>> ex = LocalExecutor(n_jobs=1)
    >>> sorted(ex.map_unordered(lambda s, t: s + t, 10, [1, 2, 3]))
    [11, 12, 13]
    """

    def __init__(self, n_jobs: int = 1) -> None:
        self.n_jobs = n_jobs

    def _workers(self) -> int:
        n = int(self.n_jobs)
        if n < 0:
            n = max((os.cpu_count() or 1) + 1 + n, 1)
        return max(n, 1)

    def map_unordered(
        self, fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any]
    ) -> Iterator[Any]:
        """Yield ``fn(shared, task)`` for each task, in completion order."""
        workers = self._workers()
        tasks = list(tasks)
        if workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield _single_threaded(fn, shared, task)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=min(workers, len(tasks)), return_as="generator_unordered")
        yield from parallel(delayed(_single_threaded)(fn, shared, task) for task in tasks)
