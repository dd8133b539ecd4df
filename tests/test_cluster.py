"""pico on real clusters: a Spark standalone master with two workers and a Ray head with
a second node, each a separate process on this machine (on loopback addresses only).

``pico clean --engine ray --ray-address ... --store spark --spark-master spark://...``
must give the labels of the local run, with its checker fits on both Ray nodes and its
vote on both Spark workers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pico.cli import cli
from pico.executors.ray import node_version_problems

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo" / "intents.csv"
BIN = Path(sys.executable).parent
RAY = str(BIN / "ray") if (BIN / "ray").exists() else shutil.which("ray")

pytest.importorskip("pyspark")
pytest.importorskip("ray")
pytestmark = [
    pytest.mark.spark,
    pytest.mark.ray,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java"),
    pytest.mark.skipif(RAY is None, reason="the `ray` command is not installed"),
]

# Ray turns 127.0.0.1 into this machine's outside address; 127.0.0.2 stays on loopback.
RAY_HOST = "127.0.0.2"
WAIT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (zombies aside)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


class Processes:
    """Processes started in their own process groups, all of them ended by :meth:`stop`."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.started.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for(self, what: str, ready: Any, names: list[str]) -> Any:
        """Poll ``ready()`` until it returns a true value; fail with the logs if it never does."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            value = ready()
            if value:
                return value
            dead = [n for n, p in self.started if n in names and p.poll() is not None]
            if dead:
                break
            time.sleep(0.3)
        tails = "\n".join(f"--- {n}:\n{self.log(n)[-3000:]}" for n in names)
        pytest.fail(f"{what} did not come up in {WAIT_S} s\n{tails}")

    def stop(self) -> None:
        """SIGTERM to every group, then SIGKILL to what is left of them."""
        for _, proc in reversed(self.started):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(
            _group_alive(p.pid) for _, p in self.started
        ):
            time.sleep(0.2)
        for _, proc in self.started:
            if _group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="module")
def clusters() -> Iterator[dict[str, Any]]:
    """A Spark standalone cluster (master, 2 workers of 1 core) and a Ray cluster (head,
    1 more node, 1 CPU each), started side by side; both stopped and removed after."""
    root = Path(tempfile.mkdtemp(prefix="pico-clu-"))  # short: Ray's socket paths
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SPARK_HOME": str(Path(__import__("pyspark").__file__).parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(root / "spark-local"),
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        "PYSPARK_PYTHON": sys.executable,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    procs = Processes(root, env)
    spark_class = str(Path(env["SPARK_HOME"]) / "bin" / "spark-class")
    spark_port, gcs_port = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{spark_port}"
    ray_address = f"{RAY_HOST}:{gcs_port}"
    ray_common = ["--block", "--num-cpus", "1", "--object-store-memory", str(100 * 2**20),
                  "--node-ip-address", RAY_HOST, "--disable-usage-stats"]
    try:
        procs.start("spark-master", [
            spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
            "--port", str(spark_port), "--webui-port", "0",
        ])
        procs.start("ray-head", [
            str(RAY), "start", "--head", "--port", str(gcs_port),
            "--temp-dir", str(root / "ray"), "--include-dashboard", "false",
            "--dashboard-port", str(_free_port()),
            "--dashboard-agent-listen-port", str(_free_port()), *ray_common,
        ])
        ui = procs.wait_for(
            "the Spark master",
            lambda: re.search(r"'MasterUI' on port (\d+)", procs.log("spark-master")),
            ["spark-master"],
        )
        master_ui = f"http://127.0.0.1:{ui.group(1)}"
        workers = [root / "spark-worker-1", root / "spark-worker-2"]
        for i, work in enumerate(workers, 1):
            procs.start(f"spark-worker-{i}", [
                spark_class, "org.apache.spark.deploy.worker.Worker", master_url,
                "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                "--webui-port", "0", "--work-dir", str(work),
            ])
        procs.wait_for("the Ray head", lambda: _listening(RAY_HOST, gcs_port), ["ray-head"])
        procs.start("ray-node", [
            str(RAY), "start", "--address", ray_address,
            "--dashboard-agent-listen-port", str(_free_port()), *ray_common,
        ])

        def spark_workers() -> int:
            try:
                alive = _get_json(f"{master_ui}/json/")["aliveworkers"]
            except OSError:
                return 0
            return int(alive) if alive == 2 else 0

        procs.wait_for("2 Spark workers", spark_workers,
                       ["spark-master", "spark-worker-1", "spark-worker-2"])
        # A driver of its own waits for the second Ray node and reports the nodes.
        nodes = subprocess.run(
            [sys.executable, "-c", _WAIT_FOR_RAY_NODES, ray_address, "2", str(WAIT_S)],
            check=False, env=env, capture_output=True, text=True, timeout=WAIT_S + 60,
        )
        if nodes.returncode != 0:
            pytest.fail(f"the Ray cluster did not get 2 nodes:\n{nodes.stderr[-3000:]}\n"
                        f"{procs.log('ray-head')[-2000:]}\n{procs.log('ray-node')[-2000:]}")
        yield {
            "env": env,
            "master_url": master_url,
            "master_ui": master_ui,
            "spark_workers": workers,
            "ray_address": ray_address,
            "ray_nodes": json.loads(nodes.stdout.strip().splitlines()[-1]),
            "root": root,
        }
    finally:
        procs.stop()
        shutil.rmtree(root, ignore_errors=True)


_WAIT_FOR_RAY_NODES = """
import json, sys, time
import ray
address, wanted, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ray.init(address=address, log_to_driver=False, configure_logging=False)
deadline = time.monotonic() + limit
while True:
    alive = [n for n in ray.nodes() if n["Alive"]]
    if len(alive) >= wanted or time.monotonic() > deadline:
        break
    time.sleep(0.3)
print(json.dumps([{"id": n["NodeID"], "ip": n["NodeManagerAddress"],
                   "cpus": n["Resources"].get("CPU", 0)} for n in alive]))
ray.shutdown()
sys.exit(0 if len(alive) >= wanted else 1)
"""


@pytest.fixture(scope="module")
def noisy_intents(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """400 rows of the demo intents (their planted label noise kept), texts and labels."""
    frame = pd.read_csv(DEMO).sample(400, random_state=0).reset_index(drop=True)
    path = tmp_path_factory.mktemp("data") / "intents.csv"
    frame[["text", "label"]].to_csv(path, index=False)
    return path, frame


def test_node_version_problems_name_the_nodes() -> None:
    assert node_version_problems("0.3.0", {"a": "0.3.0", "b": "0.3.0"}) is None
    message = node_version_problems("0.3.0", {"a": "0.3.0", "b": None, "c": "0.2.0"})
    assert message is not None
    assert "2 of the Ray cluster's 3 nodes" in message
    assert "b (no pico), c (pico 0.2.0)" in message
    assert "pico-clean==0.3.0" in message


def test_a_worker_that_cannot_see_the_store_folder_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql import DataFrameReader

    from pico.exceptions import InvalidInputError
    from pico.store.spark import SparkStore, spark_session

    spark = spark_session("local[1]")
    try:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 4, 60)
        store = SparkStore(60, 4, path=tmp_path / "p", top_k=2)
        store.add(1, 0, np.arange(60), rng.dirichlet(np.ones(4), size=60))
        read = DataFrameReader.parquet

        def listed_then_gone(self: Any, *paths: str, **options: Any) -> Any:
            frame = read(self, *paths, **options)
            for path in paths:  # the driver listed the files; the executors cannot see them
                Path(path).unlink()
            return frame

        monkeypatch.setattr(DataFrameReader, "parquet", listed_then_gone)
        with pytest.raises(InvalidInputError, match=r"every Spark worker must see .*--run-dir"):
            store.candidate_rows([1], trained_on=[labels], labels=labels)
    finally:
        spark.stop()


def test_clusters_give_the_local_labels(
    clusters: dict[str, Any], noisy_intents: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    data, frame = noisy_intents
    assert len(clusters["ray_nodes"]) == 2
    assert {n["ip"] for n in clusters["ray_nodes"]} == {RAY_HOST}
    common = ["clean", str(data), "--text-column", "text", "--branches", "2",
              "--iterations", "1", "--seed", "3"]
    local = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "local.csv"),
                                     "--run-dir", str(tmp_path / "local"), "-q"])
    assert local.exit_code == 0, local.output

    run = tmp_path / "cluster"
    on_clusters = subprocess.run(
        [sys.executable, "-m", "pico", *common, "-o", str(tmp_path / "cluster.csv"),
         "--run-dir", str(run),
         "--engine", "ray", "--ray-address", clusters["ray_address"],
         "--store", "spark", "--spark-master", clusters["master_url"]],
        check=False, env=clusters["env"], capture_output=True, text=True, timeout=600,
    )
    assert on_clusters.returncode == 0, on_clusters.stderr[-5000:]

    a, b = pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "cluster.csv")
    assert list(a["pico_label"]) == list(b["pico_label"])
    assert list(a["pico_status"]) == list(b["pico_status"])
    np.testing.assert_allclose(a["pico_confidence"], b["pico_confidence"], atol=2e-4)
    # the planted noise: the cleaned labels are closer to the clean ones
    fixed = (b["pico_label"] == frame["clean_label"]).mean()
    assert (b["pico_label"] != frame["label"]).sum() > 0
    assert fixed > (frame["label"] == frame["clean_label"]).mean()

    summary = json.loads((run / "summary.json").read_text())
    assert summary["options"]["engine"] == "ray" and summary["options"]["store"] == "spark"
    assert summary["options"]["spark_master"] == clusters["master_url"]
    assert list((run / "predictions").glob("iteration=1/branch=*/part-*.parquet"))

    # Ray: the 10 checker fits ran on both nodes (pico counts them per node).
    assert re.search(r"Ray: 10 tasks ran on 2 nodes of the cluster \(\d+ \+ \d+\)",
                     on_clusters.stderr), on_clusters.stderr[-3000:]

    # Spark: the master ran pico's application, with an executor on each worker that
    # ran tasks of it.
    master = _get_json(f"{clusters['master_ui']}/json/")
    apps = [app for app in master["completedapps"] + master["activeapps"]
            if app["name"] == "pico"]
    assert len(apps) == 1 and apps[0]["cores"] == 2
    for work in clusters["spark_workers"]:
        logs = list((work / apps[0]["id"]).glob("*/stderr"))
        assert logs and any("Finished task" in log.read_text() for log in logs), work
