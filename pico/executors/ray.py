"""The Ray engine: every checker fit is a Ray task (the only module that imports ray).

``pico clean --engine ray`` starts a local Ray runtime by itself, or joins an existing
cluster with ``--ray-address`` (and leaves it running). The features go into Ray's
object store once and are shared by every task of every iteration; each task asks for
``cpus_per_task`` CPUs and ``gpus_per_task`` GPUs (fractions allowed); results are
yielded as tasks finish, so they stream into the prediction store; a task whose worker
dies is retried.

On a cluster the tasks run pico's own functions, imported on the nodes: before the
first task, one probe per alive node checks that it has the pico version of this
process (:class:`~pico.exceptions.MissingDependencyError` otherwise, naming the nodes).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._optional import require
from ..exceptions import InvalidInputError, MissingDependencyError

__all__ = ["RayExecutor"]

_log = logging.getLogger("pico")


def _run(
    fn: Callable[[Any, Any], Any], task: Any, is_tuple: bool, *shared: Any
) -> tuple[str, Any]:
    """Body of one Ray task: the node it ran on and ``fn(shared, task)``, one BLAS thread.

    The parts of ``shared`` arrive as separate arguments, so that Ray resolves each
    from the object store (numpy arrays without a copy).
    """
    import ray
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        out = fn(tuple(shared) if is_tuple else shared[0], task)
    return ray.get_runtime_context().get_node_id(), out


def node_version_problems(here: str, found: dict[str, str | None]) -> str | None:
    """What is wrong with the pico versions of a Ray cluster's nodes (None: nothing).

    Parameters
    ----------
    here : str
        The pico version of the driver.
    found : dict
        Each node (a name to show) mapped to its pico version, None where pico cannot
        be imported.

    Examples
    --------
    >>> node_version_problems("0.2.0", {"10.0.0.1": "0.2.0"}) is None
    True
    >>> print(node_version_problems("0.2.0", {"10.0.0.1": "0.2.0", "10.0.0.2": None}))
    1 of the Ray cluster's 2 nodes cannot run pico 0.2.0: 10.0.0.2 (no pico). Install \
pico-clean==0.2.0 into the Python environment that runs Ray on every node.
    """
    bad = {node: version for node, version in found.items() if version != here}
    if not bad:
        return None
    listed = ", ".join(
        f"{node} ({'no pico' if version is None else 'pico ' + version})"
        for node, version in sorted(bad.items())
    )
    return (
        f"{len(bad)} of the Ray cluster's {len(found)} nodes cannot run pico {here}: "
        f"{listed}. Install pico-clean=={here} into the Python environment that runs Ray "
        "on every node."
    )


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

    Attributes
    ----------
    tasks_per_node : collections.Counter
        Tasks finished on each Ray node (by node id), since the executor was made.

    Notes
    -----
    Each element of the ``shared`` tuple is put into the object store once and reused
    while the same object is passed again (the features, across iterations). Joining a
    cluster only connects this process to it: :meth:`shutdown` disconnects and leaves
    the cluster running. The nodes import pico: each needs the same pico version (and
    Python, as Ray itself requires) as this process.
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
        self.tasks_per_node: Counter[str] = Counter()
        self._started = False
        self._checked = False
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
                    "--ray-address (the head's host:port, as `ray start --head` printed "
                    "it); a cluster with token authentication also needs RAY_AUTH_MODE="
                    "token and its token (RAY_AUTH_TOKEN) here. Leave --ray-address out "
                    "to start a local Ray runtime"
                ) from e
            self._started = True
        if self.address is not None and not self._checked:
            self._check_nodes(ray)
            self._checked = True
        return ray

    def _check_nodes(self, ray: Any) -> None:
        """Raise if an alive node of the cluster lacks this process's pico version."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from .. import __version__

        def version() -> str | None:  # a local function: shipped by value, runs anywhere
            try:
                import pico
            except ImportError:
                return None
            return str(pico.__version__)

        probe = ray.remote(num_cpus=0, max_retries=0)(version)
        nodes = {n["NodeID"]: n for n in ray.nodes() if n.get("Alive")}
        refs = [
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
            ).remote()
            for node in nodes
        ]
        found = {
            f"{n['NodeManagerAddress']} (node {node[:8]})": v
            for (node, n), v in zip(nodes.items(), ray.get(refs, timeout=300))
        }
        problem = node_version_problems(__version__, found)
        if problem is not None:
            raise MissingDependencyError(problem)

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
                node, out = ray.get(done[0])
                self.tasks_per_node[node] += 1
                yield out
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def shutdown(self) -> None:
        """Stop the local Ray runtime this executor started (a cluster is left running).

        On a cluster, logs how many tasks ran on how many nodes.
        """
        self._refs = []
        if self.address is not None and self.tasks_per_node:
            counts = sorted(self.tasks_per_node.values(), reverse=True)
            _log.info(
                "Ray: %d tasks ran on %d nodes of the cluster (%s)", sum(counts),
                len(counts), " + ".join(map(str, counts)),
            )
        if self._started:
            require("ray", extra="ray").shutdown()
            self._started = False
