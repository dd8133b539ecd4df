"""The Spark store's vote on a Spark standalone cluster: time and memory at scale.

Starts a Spark standalone master and two workers as separate processes on this machine
(Spark's own launcher from the pyspark package, loopback addresses only), then runs the
step of ``experiments/scale.py --stores`` against it: synthetic top-k predictions of N
rows x K classes (10 checkers: 2 iterations x 5 branches, 20% wrong given labels) are
written through :class:`pico.store.spark.SparkStore` one branch at a time, the
candidate rows are built and cached on the executors, and the label-history model's EM
runs there (``fit_rows``). The cluster is stopped at the end.

Memory is sampled every 0.2 s from /proc: the driver (this process), the driver's JVM,
and the cluster (master, workers, their executors and Python workers), each summed over
its process tree; the peaks are recorded.

    python experiments/cluster_scale.py                          # 1,000,000 x 1,000
    python experiments/cluster_scale.py --rows 100000            # a smaller size

Writes experiments/results/cluster_scale.json (one entry per size, kept across runs).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.scale import synthetic_iteration, synthetic_labels
from experiments.suite.provenance import code_version

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results" / "cluster_scale.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _process_table() -> tuple[dict[int, list[int]], dict[int, int]]:
    """Children of each process and each process's resident bytes, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * page
    return children, rss


def _tree_mb(roots: list[int], children: dict[int, list[int]], rss: dict[int, int]) -> float:
    """Summed resident memory (MB) of the processes ``roots`` and their descendants."""
    total, todo = 0, list(roots)
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 2**20


class Memory:
    """Peak resident memory (MB) of the driver, its JVM and the cluster, sampled."""

    def __init__(self, cluster: list[int], every: float = 0.2) -> None:
        self.cluster = cluster
        self.peak = {"driver_mb": 0.0, "driver_jvm_mb": 0.0, "cluster_mb": 0.0,
                     "total_mb": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def sample(self) -> None:
        children, rss = _process_table()
        me = os.getpid()
        cluster = set(self.cluster)
        jvm = [pid for pid in children.get(me, []) if pid not in cluster]
        now = {
            "driver_mb": rss.get(me, 0) / 2**20,
            "driver_jvm_mb": _tree_mb(jvm, children, rss),
            "cluster_mb": _tree_mb(self.cluster, children, rss),
        }
        now["total_mb"] = sum(now.values())
        for key, value in now.items():
            self.peak[key] = max(self.peak[key], value)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(every)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class StandaloneCluster:
    """A Spark master and ``workers`` workers of one core each, as process groups."""

    def __init__(self, folder: Path, *, workers: int, worker_memory: str) -> None:
        self.folder = folder
        self.spark_home = Path(__import__("pyspark").__file__).parent
        self.env = {**os.environ, "SPARK_HOME": str(self.spark_home),
                    "SPARK_LOCAL_IP": "127.0.0.1",
                    "SPARK_LOCAL_DIRS": str(folder / "spark-local"),
                    "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}
        self.procs: list[subprocess.Popen[bytes]] = []
        port = _free_port()
        self.url = f"spark://127.0.0.1:{port}"
        cls = str(self.spark_home / "bin" / "spark-class")
        self._start("master", [cls, "org.apache.spark.deploy.master.Master", "--host",
                               "127.0.0.1", "--port", str(port), "--webui-port", "0"])
        ui = self._wait(lambda: re.search(r"'MasterUI' on port (\d+)", self._log("master")))
        self.ui = f"http://127.0.0.1:{ui.group(1)}"
        for i in range(1, workers + 1):
            self._start(f"worker-{i}", [
                cls, "org.apache.spark.deploy.worker.Worker", self.url, "--host",
                "127.0.0.1", "--cores", "1", "--memory", worker_memory, "--webui-port", "0",
                "--work-dir", str(folder / f"worker-{i}"),
            ])
        self._wait(lambda: self._alive() == workers)

    def _start(self, name: str, args: list[str]) -> None:
        with open(self.folder / f"{name}.log", "wb") as log:
            self.procs.append(subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            ))

    def _log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _alive(self) -> int:
        try:
            with urllib.request.urlopen(f"{self.ui}/json/", timeout=5) as response:
                return int(json.loads(response.read())["aliveworkers"])
        except OSError:
            return 0

    def _wait(self, ready: Any, limit: float = 120) -> Any:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            value = ready()
            if value:
                return value
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the Spark cluster did not start; logs in {self.folder}")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One size on a fresh cluster: times and peaks."""
    from threadpoolctl import threadpool_limits

    from pico.history import LabelHistoryModel
    from pico.store.spark import SparkStore, spark_session

    config = {"rows": args.rows, "classes": args.classes, "iterations": 2, "branches": 5,
              "top_k": args.top_k, "noise": 0.2, "accuracy": 0.85, "seed": args.seed,
              "workers": args.workers, "executor_memory": args.executor_memory}
    n, k, t_max = args.rows, args.classes, 2
    folder = Path(tempfile.mkdtemp(prefix="pico-cs-"))
    os.environ["PYSPARK_SUBMIT_ARGS"] = (
        f"--conf spark.executor.memory={args.executor_memory} "
        f"--conf spark.driver.memory={args.driver_memory} pyspark-shell"
    )
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    start = time.perf_counter()
    cluster = StandaloneCluster(folder, workers=args.workers,
                                worker_memory=args.executor_memory)
    cluster_s = time.perf_counter() - start
    threadpool_limits(1)  # one BLAS thread in the driver, as in experiments/scale.py
    memory = Memory(cluster.pids)
    memory.start()
    try:
        start = time.perf_counter()
        spark = spark_session(cluster.url)
        session_s = time.perf_counter() - start
        rng, clean, given = synthetic_labels(config)
        store = SparkStore(n, k, path=folder / "predictions", top_k=args.top_k,
                           master=cluster.url)
        trained_on, labels = [], given
        start = time.perf_counter()
        for t in range(1, t_max + 1):
            for b in range(config["branches"]):
                (pred,) = synthetic_iteration(clean, k, n_branches=1, top_k=args.top_k,
                                              accuracy=0.85, rng=rng)
                store.add_sparse(t, b, pred)
                del pred
            trained_on.append(labels)
            labels = np.where(rng.random(n) < 0.5, clean, labels)
        write_s = time.perf_counter() - start
        model = LabelHistoryModel(random_state=0)
        start = time.perf_counter()
        rows = store.candidate_rows([1, 2], trained_on=trained_on, labels=given)
        build_s = time.perf_counter() - start
        partitions = rows.frame.rdd.getNumPartitions()
        model.fit_rows(rows)
        step_s = time.perf_counter() - start
        rows.close()
        best, _ = model.best()
        stored = sum(f.stat().st_size for f in (folder / "predictions").rglob("*.parquet"))
        apps = json.loads(urllib.request.urlopen(f"{cluster.ui}/json/", timeout=5).read())
        executors_cores = sum(a["cores"] for a in apps["activeapps"] if a["name"] == "pico")
        spark.stop()
    finally:
        memory.stop()
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        **config,
        "cluster_start_s": round(cluster_s, 1),
        "session_s": round(session_s, 1),
        "write_s": round(write_s, 1),
        "build_s": round(build_s, 1),
        "step_s": round(step_s, 1),
        "em_steps": len(model.log_likelihood_),
        "partitions": partitions,
        "executor_cores": executors_cores,
        "stored_mb": round(stored / 2**20, 1),
        **{key: round(value) for key, value in memory.peak.items()},
        "driver_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "accuracy_given": round(float(np.mean(given == clean)), 4),
        "accuracy_after": round(float(np.mean(best == clean)), 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=1_000)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executor-memory", default="6g",
                        help="each worker's memory and its executor's heap")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args)
    result.update(
        command="python experiments/cluster_scale.py" + "".join(
            f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        commit=code_version(), date=_dt.date.today().isoformat(),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        load_average_at_end=[round(x, 2) for x in os.getloadavg()],
    )
    saved = json.loads(args.json.read_text())["results"] if args.json.exists() else []
    saved = [r for r in saved if (r["rows"], r["classes"]) != (args.rows, args.classes)]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"results": [*saved, result]}, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
