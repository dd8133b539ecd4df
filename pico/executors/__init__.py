"""Executors run checker-training tasks: in-process, on a local pool, or on Ray."""

from __future__ import annotations

from .base import Executor
from .local import LocalExecutor
from .ray import RayExecutor

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "make_executor"]

#: Engines ``make_executor`` knows.
ENGINES = ("local", "ray")


def make_executor(
    engine: str = "local",
    *,
    n_jobs: int = 1,
    ray_address: str | None = None,
    cpus_per_checker: float = 1.0,
    gpus_per_checker: float = 0.0,
) -> Executor:
    """The executor of an engine name (what ``--engine`` selects).

    ``n_jobs`` is the local pool's workers; with ``"ray"`` and no address, a value above
    1 caps the local Ray runtime at that many CPUs (otherwise it takes every core).
    """
    from ..exceptions import InvalidInputError

    if engine == "local":
        if ray_address is not None:
            raise InvalidInputError(
                "a Ray address was given with the local engine; add --engine ray "
                "(engine='ray') to use the cluster"
            )
        return LocalExecutor(n_jobs=n_jobs)
    if engine == "ray":
        return RayExecutor(
            ray_address,
            num_cpus=n_jobs if n_jobs > 1 else None,
            cpus_per_task=cpus_per_checker,
            gpus_per_task=gpus_per_checker,
        )
    raise InvalidInputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
