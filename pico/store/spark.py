"""The Spark prediction store (``--store spark``): the only module that imports pyspark.

Each checker's held-out predictions are kept as top-k rows ``(row_id, indices, values,
residual)`` and written with pyarrow to Parquet under ``path/iteration=T/branch=B/``:
no Python object per row, and nothing of them stays in the driver's memory. The vote
reads them back on Spark: rows are partitioned by duplicate group, and each partition
builds its rows' candidate evidence (:func:`~pico.vote.candidates.candidate_evidence`,
the same code as in memory) where the data lives. The driver receives each row's
candidate columns only (N x W numbers for W candidate classes, not N x K) and runs the
EM on them, so the labels and confidences equal the memory store's.

Spark runs locally (``local[*]``) unless a master is given; it needs Java (17 or
newer) and ``pip install 'pico-clean[spark]'``.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._optional import require
from ..exceptions import InvalidInputError, MissingDependencyError
from ..vote.candidates import CandidateEvidence, candidate_evidence
from .base import SparsePredictions, sparsify_topk

__all__ = ["SparkStore", "spark_session"]


def spark_session(master: str | None = None) -> Any:
    """A quiet Spark session: the running one, or a new one on ``master`` (default local)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise MissingDependencyError(
            "--store spark needs Java (17 or newer) but no `java` is on PATH and JAVA_HOME "
            "is not set. Install a JDK (e.g. `apt install openjdk-17-jre-headless`) or "
            "set JAVA_HOME."
        )
    require("pyspark", extra="spark", purpose="--store spark")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    # Spark's Python workers run this interpreter (and so see pico and its packages).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master or "local[*]")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_log4j()}")
        .appName("pico")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
"""


def _quiet_log4j() -> str:
    """A log4j2 configuration that lets only Spark's errors through."""
    import tempfile

    path = Path(tempfile.gettempdir()) / "pico-spark-log4j2.properties"
    if not path.exists() or path.read_text() != _LOG4J:
        path.write_text(_LOG4J)
    return str(path)


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("row_id", pa.int64()),
            ("indices", pa.list_(pa.int32())),
            ("values", pa.list_(pa.float32())),
            ("residual", pa.float64()),
        ]
    )


class SparkStore:
    """Top-k predictions in Parquet, candidate evidence computed on Spark.

    Parameters
    ----------
    n_rows, n_classes : int
        N and K.
    path : str or Path
        Folder for the Parquet files (created; its old predictions are replaced).
    top_k : int, default=20
        Probabilities kept per row and branch.
    keep_iterations : int or None, default=None
        Keep only this many most recent iterations on disk (None keeps all).
    master : str, optional
        Spark master URL (``spark://host:7077``, ``local[4]``...); default: the active
        session, or ``local[*]``.
    partitions : int, optional
        Partitions of the vote's Spark job (default: Spark's shuffle partitions).
    """

    def __init__(
        self,
        n_rows: int,
        n_classes: int,
        *,
        path: str | Path,
        top_k: int = 20,
        keep_iterations: int | None = None,
        master: str | None = None,
        partitions: int | None = None,
    ) -> None:
        self.n_rows = n_rows
        self.n_classes = n_classes
        self.path = Path(path)
        self.top_k = top_k
        self.keep_iterations = keep_iterations
        self.master = master
        self.partitions = partitions
        self._keys: set[tuple[int, int]] = set()
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)

    def _dir(self, iteration: int, branch: int) -> Path:
        return self.path / f"iteration={iteration}" / f"branch={branch}"

    def add(self, iteration: int, branch: int, rows: np.ndarray, probs: np.ndarray) -> None:
        """Write dense predictions ``probs`` (n, K) for ``rows`` of one branch as top-k rows."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        idx, vals, res = sparsify_topk(np.asarray(probs, dtype=np.float64), self.top_k)
        n, k = idx.shape
        offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
        table = pa.Table.from_arrays(
            [
                pa.array(np.asarray(rows, dtype=np.int64)),
                pa.ListArray.from_arrays(offsets, pa.array(idx.ravel().astype(np.int32))),
                pa.ListArray.from_arrays(offsets, pa.array(vals.ravel().astype(np.float32))),
                pa.array(res.astype(np.float64)),
            ],
            schema=_schema(),
        )
        folder = self._dir(iteration, branch)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".part-{uuid.uuid4().hex}.parquet.tmp"
        pq.write_table(table, tmp)
        tmp.replace(folder / tmp.name[1:-4])  # readers never see a half-written file
        self._keys.add((iteration, branch))
        if self.keep_iterations is not None:
            for it, br in [key for key in self._keys if key[0] <= iteration - self.keep_iterations]:
                shutil.rmtree(self._dir(it, br), ignore_errors=True)
                self._keys.discard((it, br))

    def n_branches(self, iteration: int) -> int:
        """Number of branches recorded for ``iteration``."""
        return sum(1 for key in self._keys if key[0] == iteration)

    def branches(self, iteration: int) -> Iterator[SparsePredictions]:
        """Read one branch at a time back into the driver (small data and tests)."""
        import pyarrow.parquet as pq

        for it, br in sorted(key for key in self._keys if key[0] == iteration):
            table = pq.read_table(self._dir(it, br))
            yield _to_sparse(table, self.n_rows, self.n_classes, f"branch {br} of iteration {it}")

    def candidate_evidence(
        self,
        iterations: Sequence[int],
        *,
        trained_on: Sequence[np.ndarray],
        labels: np.ndarray,
        groups: np.ndarray | None = None,
        max_candidates: int | None = 64,
    ) -> CandidateEvidence:
        """:func:`~pico.vote.candidates.candidate_evidence` of ``iterations``, on Spark.

        Rows are partitioned by duplicate group (a group's candidates are the union of
        its rows'); each partition computes its rows' candidate columns; the driver
        collects N x W values and pads them to the widest row.
        """
        import pandas as pd
        import pyarrow as pa
        from pyspark.sql import functions as F

        spark = spark_session(self.master)
        n, k = self.n_rows, self.n_classes
        labels = np.asarray(labels, dtype=np.int64)
        group = np.asarray(groups, dtype=np.int64) if groups is not None else np.arange(n)
        its = [int(t) for t in iterations]
        sizes = [self.n_branches(t) for t in its]
        if not its or min(sizes) == 0:
            raise InvalidInputError(f"no predictions stored for iterations {its}")
        sc = spark.sparkContext
        b_labels = sc.broadcast(labels)
        b_group = sc.broadcast(group if groups is not None else None)
        b_trained = sc.broadcast([np.asarray(a, dtype=np.int64) for a in trained_on])
        keys = spark.createDataFrame(pd.DataFrame({"row_id": np.arange(n), "pico_group": group}))
        preds = (
            spark.read.parquet(str(self.path))
            .where(F.col("iteration").isin(its))
            .join(keys, "row_id")
        )
        parts = self.partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
        out_schema = (
            "row_id long, classes array<long>, valid array<boolean>, evidence array<double>, "
            "width int"
        )
        max_c, k_all, iters = max_candidates, k, its

        def build(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            table = pa.Table.from_batches(list(batches))
            if table.num_rows == 0:
                return
            rows = np.unique(table.column("row_id").to_numpy())
            m = len(rows)
            per_it: list[list[SparsePredictions]] = []
            it_col = table.column("iteration").to_numpy()
            br_col = table.column("branch").to_numpy()
            for t in iters:
                branches = []
                for b in sorted(set(br_col[it_col == t].tolist())):
                    sel = table.filter(pa.array((it_col == t) & (br_col == b)))
                    branches.append(
                        _to_sparse(sel, m, k_all, f"branch {b} of iteration {t}", rows)
                    )
                per_it.append(branches)
            g = b_group.value
            cand = candidate_evidence(
                per_it, b_trained.value, b_labels.value[rows], n_classes=k_all,
                groups=None if g is None else g[rows], max_candidates=max_c,
            )
            w = cand.width
            per_row = len(iters) * (w + 1)
            slots = pa.array(np.arange(0, m * w + 1, w, dtype=np.int32))
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(rows.astype(np.int64)),
                    pa.ListArray.from_arrays(slots, pa.array(cand.classes.ravel())),
                    pa.ListArray.from_arrays(slots, pa.array(cand.valid.ravel())),
                    pa.ListArray.from_arrays(
                        pa.array(np.arange(0, m * per_row + 1, per_row, dtype=np.int32)),
                        pa.array(cand.evidence.transpose(1, 0, 2).ravel()),
                    ),
                    pa.array(np.full(m, w, dtype=np.int32)),
                ],
                names=["row_id", "classes", "valid", "evidence", "width"],
            )

        result = preds.repartition(parts, "pico_group").mapInArrow(build, out_schema).toArrow()
        for b in (b_labels, b_group, b_trained):
            b.unpersist()
        return _assemble(result, n, k, len(its), np.asarray(sizes, dtype=np.float64))

    def close(self) -> None:
        """Delete the Parquet files."""
        shutil.rmtree(self.path, ignore_errors=True)


def _to_sparse(
    table: Any, n: int, k: int, what: str, ids: np.ndarray | None = None
) -> SparsePredictions:
    """One branch's rows of a Parquet table as (n, K) SparsePredictions.

    ``ids`` (sorted) maps global row ids to local rows 0..n-1 (default: the ids are
    already 0..n-1).
    """
    rows = table.column("row_id").to_numpy()
    if ids is not None:
        rows = np.searchsorted(ids, rows)
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    if len(rows) != n or np.any(rows != np.arange(n)):
        raise ValueError(f"{what} covers {len(np.unique(rows))} of {n} rows; every row must be "
                         "predicted exactly once per branch")
    idx_col = table.column("indices").combine_chunks()
    val_col = table.column("values").combine_chunks()
    width = len(idx_col.flatten()) // max(n, 1)
    idx = idx_col.flatten().to_numpy().reshape(n, width)[order]
    vals = val_col.flatten().to_numpy().reshape(n, width)[order]
    res = table.column("residual").to_numpy()[order]
    mat = sp.csr_matrix(
        (vals.ravel(), idx.ravel(), np.arange(0, n * width + 1, width)), shape=(n, k)
    )
    return SparsePredictions(mat, res.astype(np.float64))


def _assemble(table: Any, n: int, k: int, n_iter: int, sizes: np.ndarray) -> CandidateEvidence:
    """Rows of candidate columns from the partitions, padded to the widest, in row order."""
    rows = table.column("row_id").to_numpy()
    if len(rows) != n or len(np.unique(rows)) != n:
        raise ValueError(f"the Spark vote returned {len(np.unique(rows))} of {n} rows")
    widths = table.column("width").to_numpy()
    w = int(widths.max(initial=1))
    classes = np.zeros((n, w), dtype=np.int64)
    valid = np.zeros((n, w), dtype=bool)
    evidence = np.zeros((n_iter, n, w + 1))
    cls_col = table.column("classes").combine_chunks()
    val_col = table.column("valid").combine_chunks()
    ev_col = table.column("evidence").combine_chunks()
    cls_flat = cls_col.flatten().to_numpy()
    val_flat = val_col.flatten().to_numpy(zero_copy_only=False)
    ev_flat = ev_col.flatten().to_numpy()
    cls_off = cls_col.offsets.to_numpy()
    ev_off = ev_col.offsets.to_numpy()
    for width in np.unique(widths).tolist():  # rows of one partition width at a time
        sel = np.flatnonzero(widths == width)
        starts = cls_off[sel]
        take = starts[:, None] + np.arange(width)
        r = rows[sel]
        classes[r, :width] = cls_flat[take]
        valid[r, :width] = val_flat[take]
        ev = ev_flat[ev_off[sel][:, None] + np.arange(n_iter * (width + 1))]
        ev = ev.reshape(len(sel), n_iter, width + 1).transpose(1, 0, 2)
        evidence[:, r, :width] = ev[:, :, :width]
        evidence[:, r, w] = ev[:, :, width]  # the rest column goes last
    return CandidateEvidence(classes, valid, evidence, sizes, k)
