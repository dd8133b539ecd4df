"""The Spark prediction store (``--store spark``): the only module that imports pyspark.

Each checker's held-out predictions are kept as top-k rows ``(row_id, indices, values,
residual)`` and written with pyarrow to Parquet under ``path/iteration=T/branch=B/``:
no Python object per row, and nothing of them stays in the driver's memory. The vote
reads them back on Spark: rows are partitioned by duplicate group, and each partition
builds its rows' candidate evidence (:func:`~pico.vote.candidates.candidate_evidence`,
the same code as in memory) where the data lives, kept cached on the executors
(:class:`SparkRows`). The vote's and the label history's EM runs there too: each EM
pass sends the fitted parameters (noise matrix, class prior, weights, stay) to every
partition, which returns sums over its rows (:func:`~pico.vote.bayes.em_pass`: the
likelihood and the noise-matrix count statistics, one number per noise-matrix cell its
rows reach); the driver adds them and takes the M-step. The driver holds the
parameters (the noise matrix kept sparse, :mod:`pico.vote.noise`), a sample of rows for
the tempering (``max_rows_for_beta``, 20,000) and, at the end, four numbers per row (best
class, its probability, the given label's probability, expected changes): never N x K,
nor N x W. Same code, same sums: the labels and confidences equal the memory store's
to float tolerance.

Spark runs locally (``local[*]``) unless a master is given; it needs Java (17 or
newer) and ``pip install 'pico-clean[spark]'``. On a cluster (``spark://host:7077``)
the executors read the Parquet files at the driver's path, so the folder must be on a
filesystem that every worker mounts there; their Python workers run ``PYSPARK_PYTHON``
(default: this interpreter's path), which must import the same pico.
"""

from __future__ import annotations

import os
import re
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

__all__ = ["SparkRows", "SparkStore", "spark_session"]


def spark_session(master: str | None = None, *, driver_memory: str | None = None) -> Any:
    """A quiet Spark session: the running one, or a new one on ``master`` (default local).

    ``driver_memory`` caps the driver JVM's heap (``spark.driver.memory``), which in
    local mode also runs the executors; default for a local master: half of this
    machine's memory (Spark's own default, 1g, is too small for the cached candidate
    rows of a million rows).
    """
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
    master = master or "local[*]"
    if driver_memory is None and master.startswith("local"):
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        driver_memory = f"{max(1, ram // 2**31)}g"
    builder = SparkSession.builder.master(master)
    if driver_memory is not None:
        builder = builder.config("spark.driver.memory", driver_memory)
    builder = (
        builder
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_log4j()}")
        .appName("pico")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):  # on a cluster: the executors' cores (_vote_partitions)
        builder = builder.config(
            "spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2))
        )
    spark = builder.getOrCreate()
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
        Folder for the Parquet files (created if missing). The store writes
        ``iteration=T/branch=B/part-<hex>.parquet`` files and only ever deletes such
        part files (and its own ``.part-<hex>.parquet.tmp``), and their folders when
        they are left empty: any other file in the folder is left alone. Before its
        first write to a branch of an iteration it deletes that branch's part files
        left by an earlier run, so a run reads only what it wrote (or restored).
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
        # absolute: Spark's JVM resolves a relative path from its own working folder
        self.path = Path(path).absolute()
        self.top_k = top_k
        self.keep_iterations = keep_iterations
        self.master = master
        self.partitions = partitions
        # the part files written (or restored) per (iteration, branch), in order
        self._files: dict[tuple[int, int], list[str]] = {}
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise InvalidInputError(
                f"the Spark store's folder {self.path} is a file; pass another folder"
            ) from e

    @property
    def _keys(self) -> list[tuple[int, int]]:
        return sorted(self._files)

    def _dir(self, iteration: int, branch: int) -> Path:
        return self.path / f"iteration={iteration}" / f"branch={branch}"

    def _paths(self, key: tuple[int, int]) -> list[Path]:
        folder = self._dir(*key)
        return [folder / name for name in self._files[key]]

    def add(self, iteration: int, branch: int, rows: np.ndarray, probs: np.ndarray) -> None:
        """Write dense predictions ``probs`` (n, K) for ``rows`` of one branch as top-k rows."""
        idx, vals, res = sparsify_topk(np.asarray(probs, dtype=np.float64), self.top_k)
        n, k = idx.shape
        self._write(
            iteration, branch, np.asarray(rows, dtype=np.int64),
            np.arange(0, n * k + 1, k), idx.ravel(), vals.ravel(), res,
        )

    def add_sparse(self, iteration: int, branch: int, pred: SparsePredictions) -> None:
        """Write a branch's predictions of every row, already kept sparse (top-k rows)."""
        csr = pred.probs.tocsr()
        if csr.shape != (self.n_rows, self.n_classes):
            raise InvalidInputError(
                f"predictions of shape {csr.shape}; this store holds "
                f"({self.n_rows}, {self.n_classes})"
            )
        self._write(
            iteration, branch, np.arange(self.n_rows, dtype=np.int64), csr.indptr,
            csr.indices, csr.data, np.asarray(pred.residual, dtype=np.float64),
        )

    def _write(
        self,
        iteration: int,
        branch: int,
        rows: np.ndarray,
        offsets: np.ndarray,
        indices: np.ndarray,
        values: np.ndarray,
        residual: np.ndarray,
    ) -> None:
        """One Parquet file of rows ``(row_id, indices, values, residual)``, atomically."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        off = pa.array(np.asarray(offsets, dtype=np.int32))
        table = pa.Table.from_arrays(
            [
                pa.array(rows),
                pa.ListArray.from_arrays(off, pa.array(np.asarray(indices, dtype=np.int32))),
                pa.ListArray.from_arrays(off, pa.array(np.asarray(values, dtype=np.float32))),
                pa.array(np.asarray(residual, dtype=np.float64)),
            ],
            schema=_schema(),
        )
        key = (iteration, branch)
        folder = self._dir(iteration, branch)
        if key not in self._files:  # first write here: drop what an earlier run left
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.iterdir():
                if _PART.fullmatch(stale.name) or _TEMP.fullmatch(stale.name):
                    _remove_file(stale)
            self._files[key] = []
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = folder / f".{name}.tmp"
        try:
            pq.write_table(table, tmp)
            tmp.replace(folder / name)  # readers never see a half-written file
        finally:
            tmp.unlink(missing_ok=True)
        self._files[key].append(name)
        if self.keep_iterations is not None:
            for old in [k for k in self._files if k[0] <= iteration - self.keep_iterations]:
                self._forget(old)

    def _forget(self, key: tuple[int, int]) -> None:
        """Delete the part files of ``key`` this store wrote; then its empty folders."""
        for path in self._paths(key):
            _remove_file(path)
        del self._files[key]
        _remove_empty(self._dir(*key))
        _remove_empty(self._dir(*key).parent)

    def n_branches(self, iteration: int) -> int:
        """Number of branches recorded for ``iteration``."""
        return sum(1 for key in self._keys if key[0] == iteration)

    def branches(self, iteration: int) -> Iterator[SparsePredictions]:
        """Read one branch at a time back into the driver (small data and tests)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        for it, br in [key for key in self._keys if key[0] == iteration]:
            table = pa.concat_tables([pq.read_table(path) for path in self._paths((it, br))])
            yield _to_sparse(table, self.n_rows, self.n_classes, f"branch {br} of iteration {it}")

    def candidate_rows(
        self,
        iterations: Sequence[int],
        *,
        trained_on: Sequence[np.ndarray],
        labels: np.ndarray,
        groups: np.ndarray | None = None,
        max_candidates: int | None = 64,
    ) -> SparkRows:
        """Candidate evidence of ``iterations``, built and cached on Spark.

        Rows are partitioned by duplicate group (a group's candidates are the union of
        its rows'); each partition computes its rows' candidate columns with
        :func:`~pico.vote.candidates.candidate_evidence`. The result stays on the
        executors: :meth:`~pico.vote.BayesianVote.fit_rows` runs the EM on it.
        """
        import pandas as pd
        import pyarrow as pa
        from pyspark import StorageLevel
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
        b_trained = sc.broadcast([np.asarray(a, dtype=np.int64) for a in trained_on])
        keys = spark.createDataFrame(
            pd.DataFrame({"row_id": np.arange(n), "pico_group": group, "label": labels})
        )
        files = [str(p) for key in self._keys if key[0] in its for p in self._paths(key)]
        preds = (  # this run's files only: never another file in the folder
            spark.read.option("basePath", str(self.path)).parquet(*files)
            .where(F.col("iteration").isin(its))
            .join(keys, "row_id")
        )
        parts = self.partitions or _vote_partitions(spark)
        max_c, k_all, iters, grouped = max_candidates, k, its, groups is not None

        def build(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            table = pa.Table.from_batches(list(batches))
            if table.num_rows == 0:
                return
            row_col = table.column("row_id").to_numpy()
            rows, first = np.unique(row_col, return_index=True)
            m = len(rows)
            row_labels = table.column("label").to_numpy()[first]
            row_groups = table.column("pico_group").to_numpy()[first]
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
            cand = candidate_evidence(
                per_it, b_trained.value, row_labels, n_classes=k_all,  # global P_t
                groups=row_groups if grouped else None, max_candidates=max_c,
            )
            yield _rows_batch(rows, row_labels, row_groups, cand)

        frame = (
            preds.repartition(parts, "pico_group")
            .mapInArrow(build, _ROWS_SCHEMA)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            built = frame.count()
        except Exception as e:
            frame.unpersist()
            if not _file_not_found(e):
                raise
            raise InvalidInputError(
                f"Spark's executors cannot read the prediction files in {self.path} "
                f"({_first_line(e)}). On a cluster every Spark worker must see that folder "
                "at the same path: put the run directory (--run-dir) on a filesystem that "
                "the driver and every worker mount, or use --store memory"
            ) from e
        finally:
            b_trained.unpersist()
        if built != n:
            frame.unpersist()
            raise ValueError(f"the Spark vote built {built} of {n} rows")
        return SparkRows(
            frame, n, k, np.asarray(sizes, dtype=np.float64), grouped=groups is not None
        )

    def close(self) -> None:
        """Delete the Parquet files this store wrote, and their folders left empty.

        Any other file (a user's, another run's) stays, and so do the folders holding it.
        """
        for key in self._keys:
            self._forget(key)

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The keys written and their part files; no arrays (the Parquet files are kept).

        Returns
        -------
        meta : dict
            ``n_rows``, ``n_classes``, ``top_k`` and ``keys``: ``[iteration, branch,
            [part file names]]`` for every branch held.
        arrays : dict
            Empty.
        """
        meta = {
            "n_rows": int(self.n_rows),
            "n_classes": int(self.n_classes),
            "top_k": int(self.top_k),
            "keys": [[t, b, list(self._files[(t, b)])] for t, b in self._keys],
        }
        return meta, {}

    def restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Reopen the branches of a :meth:`state` from their Parquet files (not rewritten).

        Every listed file must be in this store's folder and hold, with the branch's
        other files, one row per row of the data. Without ``keep_iterations`` all of
        them must be there; with it, the branches that the next iteration's first write
        would forget may be gone (a run killed after that write).

        Raises
        ------
        InvalidInputError
            If the metadata is of another shape, arrays are given, a file name is not
            one this store writes, or a branch's files are missing or incomplete.
        """
        import pyarrow.parquet as pq

        n, k = self.n_rows, self.n_classes
        if meta.get("n_rows") != n or meta.get("n_classes") != k:
            raise InvalidInputError(
                f"the stored predictions are of {meta.get('n_rows')!r} rows and "
                f"{meta.get('n_classes')!r} classes; this store holds {n} and {k}"
            )
        if arrays:
            raise InvalidInputError(
                f"the Spark store keeps no arrays in a checkpoint; got {min(arrays)!r}"
            )
        keys = meta.get("keys")
        if not isinstance(keys, list) or not all(_is_key(key) for key in keys):
            raise InvalidInputError(
                "the stored predictions' keys are not [iteration, branch, [part files]]"
            )
        files = {(int(t), int(b)): list(names) for t, b, names in keys}
        if len(files) != len(keys):
            raise InvalidInputError("the stored predictions list a branch twice")
        last = max((t for t, _ in files), default=0)
        restored: dict[tuple[int, int], list[str]] = {}
        for (t, b), names in sorted(files.items()):
            folder = self._dir(t, b)
            present = [name for name in names if (folder / name).is_file()]
            forgettable = (
                self.keep_iterations is not None and t <= last + 1 - self.keep_iterations
            )
            if len(present) < len(names) and forgettable:
                continue  # already forgotten by the next iteration's first write
            if not names or len(present) < len(names):
                raise InvalidInputError(
                    f"the predictions of branch {b} of iteration {t} are missing from "
                    f"{folder}; resume with the same store folder"
                )
            try:
                rows = sum(pq.read_metadata(folder / name).num_rows for name in names)
            except (OSError, ValueError) as e:
                raise InvalidInputError(
                    f"a Parquet file of branch {b} of iteration {t} in {folder} cannot be "
                    f"read ({' '.join(str(e).split())})"
                ) from e
            if rows != n:
                raise InvalidInputError(
                    f"the Parquet files of branch {b} of iteration {t} in {folder} hold "
                    f"{rows} rows; {n} expected"
                )
            restored[(t, b)] = names
        self._files = restored


def _file_not_found(error: BaseException) -> bool:
    """Whether a failed Spark job failed because a task could not find an input file."""
    text = str(error)
    return any(mark in text for mark in
               ("FAILED_READ_FILE.FILE_NOT_EXIST", "java.io.FileNotFoundException"))


def _first_line(error: BaseException) -> str:
    """The line of a Spark error that names the failure (Spark's own, not py4j's)."""
    lines = [line.strip(": ") for line in str(error).splitlines()]
    named = [line for line in lines if "Exception" in line or "[" in line]
    return (named or lines or [type(error).__name__])[0][:300]


def _vote_partitions(spark: Any) -> int:
    """Partitions of the vote: ``spark.sql.shuffle.partitions`` where it is set (as
    :func:`spark_session` does for a local master, from this machine's cores), else twice
    the cores of the cluster's executors.

    Spark's own default (200) would split every EM pass into many tiny tasks, and a
    count taken from the driver's cores would leave most of a larger cluster idle.
    """
    configured = spark.conf.get("spark.sql.shuffle.partitions", None)
    if configured is not None:
        return int(configured)
    return max(2, 2 * int(spark.sparkContext.defaultParallelism))


_PART = re.compile(r"part-[0-9a-f]{32}\.parquet")
_TEMP = re.compile(r"\.part-[0-9a-f]{32}\.parquet\.tmp")


def _is_key(key: Any) -> bool:
    """Whether ``key`` is ``[iteration, branch, [part file names]]``."""
    return (
        isinstance(key, list) and len(key) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in key[:2])
        and isinstance(key[2], list)
        and all(isinstance(name, str) and _PART.fullmatch(name) for name in key[2])
    )


def _remove_file(path: Path) -> None:
    """Delete one of the store's own files (a link or folder of that name is left)."""
    if path.is_file() and not path.is_symlink():
        path.unlink(missing_ok=True)


def _remove_empty(folder: Path) -> None:
    """Remove ``folder`` if it is empty."""
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty, or already gone


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
    mat = sp.csr_matrix(
        (
            val_col.flatten().to_numpy(),
            idx_col.flatten().to_numpy(),
            idx_col.offsets.to_numpy() - idx_col.offsets[0].as_py(),
        ),
        shape=(n, k),
    )[order]  # rows may keep different numbers of classes
    res = table.column("residual").to_numpy()[order]
    return SparsePredictions(mat, res.astype(np.float64))


_ROWS_SCHEMA = (
    "row_id long, label long, pico_group long, classes array<long>, valid array<boolean>, "
    "evidence array<double>, width int"
)


def _rows_batch(
    rows: np.ndarray, labels: np.ndarray, groups: np.ndarray, cand: CandidateEvidence
) -> Any:
    """Candidate evidence of some rows as one Arrow batch of :data:`_ROWS_SCHEMA`."""
    import pyarrow as pa

    m, w = len(rows), cand.width
    n_iter = cand.evidence.shape[0]
    per_row = n_iter * (w + 1)
    slots = pa.array(np.arange(0, m * w + 1, w, dtype=np.int32))
    return pa.RecordBatch.from_arrays(
        [
            pa.array(rows.astype(np.int64)),
            pa.array(labels.astype(np.int64)),
            pa.array(groups.astype(np.int64)),
            pa.ListArray.from_arrays(slots, pa.array(cand.classes.ravel())),
            pa.ListArray.from_arrays(slots, pa.array(cand.valid.ravel())),
            pa.ListArray.from_arrays(
                pa.array(np.arange(0, m * per_row + 1, per_row, dtype=np.int32)),
                pa.array(cand.evidence.transpose(1, 0, 2).ravel()),
            ),
            pa.array(np.full(m, w, dtype=np.int32)),
        ],
        names=["row_id", "label", "pico_group", "classes", "valid", "evidence", "width"],
    )


def _assemble(
    table: Any, positions: np.ndarray, n: int, k: int, sizes: np.ndarray
) -> CandidateEvidence:
    """Rows of candidate columns (table row j goes to row ``positions[j]``), padded to the widest."""
    n_iter = len(sizes)
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
        r = positions[sel]
        classes[r, :width] = cls_flat[take]
        valid[r, :width] = val_flat[take]
        ev = ev_flat[ev_off[sel][:, None] + np.arange(n_iter * (width + 1))]
        ev = ev.reshape(len(sel), n_iter, width + 1).transpose(1, 0, 2)
        evidence[:, r, :width] = ev[:, :, :width]
        evidence[:, r, w] = ev[:, :, width]  # the rest column goes last
    return CandidateEvidence(classes, valid, evidence, sizes, k)


def _partition(
    batches: Iterator[Any], k: int, sizes: np.ndarray, grouped: bool
) -> tuple[np.ndarray, CandidateEvidence, np.ndarray, np.ndarray | None] | None:
    """One partition's rows: ids, candidate evidence, labels, groups (None if empty)."""
    import pyarrow as pa

    table = pa.Table.from_batches(list(batches))
    m = table.num_rows
    if m == 0:
        return None
    cand = _assemble(table, np.arange(m), m, k, sizes)
    groups = table.column("pico_group").to_numpy() if grouped else None
    return table.column("row_id").to_numpy(), cand, table.column("label").to_numpy(), groups


class SparkRows:
    """Candidate evidence cached on Spark, for :meth:`~pico.vote.BayesianVote.fit_rows`.

    Made by :meth:`SparkStore.candidate_rows`; partitioned by duplicate group. Every
    method runs one Spark job over the cached rows; the driver receives sums (one per
    noise-matrix cell the rows reach), a sample of rows, or four numbers per row.
    """

    def __init__(
        self, frame: Any, n: int, k: int, sizes: np.ndarray, *, grouped: bool
    ) -> None:
        self.frame = frame
        self.n = n
        self.k = k
        self.sizes = sizes
        self.grouped = grouped

    def _spark(self) -> Any:
        return self.frame.sparkSession

    def _map(self, work: Any, payload: Any, schema: str) -> Any:
        """``work(ids, cand, labels, groups, payload)`` on every partition; its batches here."""
        import pyarrow as pa

        k, sizes, grouped = self.k, self.sizes, self.grouped
        shipped = self._spark().sparkContext.broadcast(payload)

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            part = _partition(batches, k, sizes, grouped)
            if part is not None:
                yield work(*part, shipped.value)

        try:
            return self.frame.mapInArrow(run, schema).toArrow()
        finally:
            shipped.unpersist()

    def em_pass(self, model: Any, state: dict[str, Any], what: str) -> dict[str, Any]:
        """:func:`~pico.vote.bayes.em_pass` on every partition, the sums added here."""
        import pickle

        from ..vote.bayes import add_passes

        table = self._map(_sums_batch, (_bare(model), state, what), "sums binary")
        total: dict[str, Any] | None = None
        for blob in table.column("sums").to_pylist():
            total = add_passes(total, pickle.loads(blob))
        if total is None:
            raise ValueError("the Spark vote has no rows")
        return total

    def take(
        self, rows: np.ndarray
    ) -> tuple[CandidateEvidence, np.ndarray, np.ndarray | None]:
        """The candidate evidence, labels and groups of ``rows`` (sorted), collected here."""
        import pandas as pd
        from pyspark.sql import functions as F

        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == self.n:
            table = self.frame.toArrow()
        else:
            wanted = self._spark().createDataFrame(pd.DataFrame({"row_id": rows}))
            table = self.frame.join(F.broadcast(wanted), "row_id").toArrow()
        ids = table.column("row_id").to_numpy()
        if len(ids) != len(rows):
            raise ValueError(f"the Spark vote returned {len(ids)} of {len(rows)} rows")
        positions = np.searchsorted(rows, ids)
        cand = _assemble(table, positions, len(rows), self.k, self.sizes)
        labels = np.empty(len(rows), dtype=np.int64)
        labels[positions] = table.column("label").to_numpy()
        groups = None
        if self.grouped:
            groups = np.empty(len(rows), dtype=np.int64)
            groups[positions] = table.column("pico_group").to_numpy()
        return cand, labels, groups

    def finish(self, model: Any, state: dict[str, Any]) -> None:
        """Each row's outcome (best class and probability, given label's, confidences,
        changes)."""
        table = self._map(_outcome_batch, (_bare(model), state), _OUTCOME_SCHEMA)
        ids = table.column("row_id").to_numpy()
        if len(ids) != self.n or len(np.unique(ids)) != self.n:
            raise ValueError(f"the Spark vote returned {len(np.unique(ids))} of {self.n} rows")
        summary: dict[str, np.ndarray] = {}
        for key in ("labels", "best", "best_p", "given_p", "best_c", "given_c", "changes"):
            col = table.column(key).to_numpy()
            full = np.empty(self.n, dtype=col.dtype)
            full[ids] = col
            summary[key] = full
        model._keep_summary(summary)

    def close(self) -> None:
        """Drop the cached rows."""
        self.frame.unpersist()


def _bare(model: Any) -> Any:
    """The model's parameters without its fitted arrays (what the partitions need)."""
    return type(model)(**model.get_params())


def _sums_batch(
    ids: np.ndarray, cand: CandidateEvidence, labels: np.ndarray, groups: np.ndarray | None,
    payload: tuple[Any, dict[str, Any], str],
) -> Any:
    """One partition's EM sums, pickled (the noise-matrix cells its rows reach only)."""
    import pickle

    import pyarrow as pa

    from ..vote.bayes import em_pass

    model, state, what = payload
    sums = em_pass(model, cand, labels, groups, state, what)
    return pa.RecordBatch.from_arrays(
        [pa.array([pickle.dumps(sums, protocol=pickle.HIGHEST_PROTOCOL)])], names=["sums"]
    )


_OUTCOME_SCHEMA = (
    "row_id long, labels long, best long, best_p double, given_p double, best_c double, "
    "given_c double, changes double"
)


def _outcome_batch(
    ids: np.ndarray, cand: CandidateEvidence, labels: np.ndarray, groups: np.ndarray | None,
    payload: tuple[Any, dict[str, Any]],
) -> Any:
    """One partition's row outcomes (:func:`~pico.vote.bayes.row_outcome`)."""
    import pyarrow as pa

    from ..vote.bayes import row_outcome

    model, state = payload
    out = row_outcome(model, cand, labels, groups, state)
    keys = ("best", "best_p", "given_p", "best_c", "given_c", "changes")
    return pa.RecordBatch.from_arrays(
        [pa.array(ids), pa.array(labels)] + [pa.array(out[key]) for key in keys],
        names=["row_id", "labels", *keys],
    )

