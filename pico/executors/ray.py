"""The Ray engine: every checker fit is a Ray task (the only module that imports ray).

``pico clean --engine ray`` starts a local Ray runtime by itself, or joins an existing
cluster with ``--ray-address``. The features go into Ray's object store once and are
shared by every task of every iteration; each task asks for ``cpus_per_task`` CPUs and
``gpus_per_task`` GPUs (fractions allowed); results are yielded as tasks finish, so
they stream into the prediction store; a task whose worker dies is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._optional import require
from ..exceptions import InvalidInputError

__all__ = ["RayExecutor"]


def _run(fn: Callable[[Any, Any], Any], task: Any, is_tuple: bool, *shared: Any) -> Any:
    """Body of one Ray task: ``fn(shared, task)`` with one BLAS thread.

    The parts of ``shared`` arrive as separate arguments, so that Ray resolves each
    from the object store (numpy arrays without a copy).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return fn(tuple(shared) if is_tuple else shared[0], task)


class RayExecutor:
    """Run tasks as Ray tasks, locally or on a cluster.

    Parameters
    ----------
    address : str, optional
        Address of a running Ray cluster (``ray://host:10001`` or ``host:6379``, or
        ``"auto"``). None starts a local Ray runtime on this machine (and stops it
        when :meth:`shutdown` is called).
    num_cpus : int, optional
        CPUs of the local runtime (default: every core). Ignored with ``address``.
    cpus_per_task : float, default=1.0
        CPUs each checker fit asks for.
    gpus_per_task : float, default=0.0
        GPUs each checker fit asks for (fractions share a GPU between fits).
    max_retries : int, default=3
        Times a task is retried when its worker process dies.

    Notes
    -----
    Each element of the ``shared`` tuple is put into the object store once and reused
    while the same object is passed again (the features, across iterations).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        cpus_per_task: float = 1.0,
        gpus_per_task: float = 0.0,
        max_retries: int = 3,
    ) -> None:
        if not cpus_per_task > 0 or gpus_per_task < 0:
            raise InvalidInputError(
                "cpus_per_task must be > 0 and gpus_per_task >= 0; got "
                f"{cpus_per_task!r} and {gpus_per_task!r}"
            )
        self.address = address
        self.num_cpus = num_cpus
        self.cpus_per_task = cpus_per_task
        self.gpus_per_task = gpus_per_task
        self.max_retries = max_retries
        self._started = False
        self._refs: list[tuple[Any, Any]] = []

    def _ray(self) -> Any:
        ray = require("ray", extra="ray", purpose="--engine ray")
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if self.address is None:
                kwargs["num_cpus"] = self.num_cpus
            try:
                ray.init(address=self.address, **kwargs)
            except ConnectionError as e:
                raise InvalidInputError(
                    f"cannot reach the Ray cluster at {self.address!r}: {e}. Check "
                    "--ray-address, or leave it out to start a local Ray runtime"
                ) from e
            self._started = True
        return ray

    def _put(self, ray: Any, value: Any) -> Any:
        for obj, ref in self._refs:
            if obj is value:
                return ref
        ref = ray.put(value)
        if hasattr(value, "shape") and getattr(value, "size", 0) > 1000:
            self._refs.append((value, ref))
        return ref

    def map_unordered(
        self, fn: Callable[[Any, Any], Any], shared: Any, tasks: Iterable[Any]
    ) -> Iterator[Any]:
        """Yield ``fn(shared, task)`` for each task, in completion order."""
        ray = self._ray()
        is_tuple = isinstance(shared, tuple)
        parts = shared if is_tuple else (shared,)
        refs = [self._put(ray, p) for p in parts]
        remote = ray.remote(
            num_cpus=self.cpus_per_task,
            num_gpus=self.gpus_per_task,
            max_retries=self.max_retries,
        )(_run)
        pending = [remote.remote(fn, task, is_tuple, *refs) for task in tasks]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def shutdown(self) -> None:
        """Stop the local Ray runtime this executor started (a cluster is left running)."""
        self._refs = []
        if self._started:
            require("ray", extra="ray").shutdown()
            self._started = False
