"""In-process and local-pool execution (the default engine)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from threadpoolctl import threadpool_limits

from ..exceptions import InvalidInputError

__all__ = ["LocalExecutor"]


def _single_threaded(fn: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    with threadpool_limits(limits=1):
        return fn(shared, task)


class LocalExecutor:
    """Run tasks on this machine.

    Parameters
    ----------
    n_jobs : int, default=1
        Workers (processes, or threads with ``prefer="threads"``). 1 runs everything
        in this process; -1 uses every core.
        Every fit runs with one BLAS thread (in a worker or in this process), which
        is faster than many threads for the small fits pico runs.
    prefer : {"processes", "threads"}, default="processes"
        What the workers are. Threads start at once and share the inputs without
        copying, and the heavy parts of a fit (sparse products, BLAS) release the
        GIL; worker processes cost a start-up of a few seconds per process that
        repays itself over many fits. The check, with its few fits, uses threads.

    Examples
    --------
    >>> ex = LocalExecutor(n_jobs=1)
    >>> sorted(ex.map_unordered(lambda s, t: s + t, 10, [1, 2, 3]))
    [11, 12, 13]
    """

    def __init__(self, n_jobs: int = 1, prefer: str = "processes") -> None:
        if prefer not in ("processes", "threads"):
            raise InvalidInputError(
                f"prefer must be 'processes' or 'threads', not {prefer!r}"
            )
        self.n_jobs = n_jobs
        self.prefer = prefer

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

        n = min(workers, len(tasks))
        if self.prefer == "threads":
            # One BLAS thread for the whole pool, set once: a per-task limit would be
            # lifted by one thread while another still computes.
            with threadpool_limits(limits=1):
                pool = Parallel(n_jobs=n, prefer="threads", return_as="generator_unordered")
                yield from pool(delayed(fn)(shared, task) for task in tasks)
            return
        parallel = Parallel(n_jobs=n, return_as="generator_unordered")
        yield from parallel(delayed(_single_threaded)(fn, shared, task) for task in tasks)
