"""The run layer: what the commands do with files, callable from Python.

:func:`clean_to_directory` reads a file, cleans it with :func:`pico.clean` and writes
the cleaned file and a run directory (``pico clean``); :func:`resume_in_directory`
continues a killed run (``pico clean --resume``); :func:`check_file` checks a file
(``pico check``); :func:`read_run` reads a finished run (``pico apply``, ``pico
review``, ``pico report``). The command line only parses options and prints.

A run directory holds what one clean wrote: ``run.json`` (absolute paths, SHA-256 of
the input and of the output, every option), ``summary.json``, ``history.csv``,
``review.csv``, ``decisions.csv``, ``report.html`` and ``checkpoints/``. The rules:

- pico writes only into a folder it created (it holds the marker file
  :data:`MARKER`) or an empty one, which it then marks; any other folder is refused;
- a run directory may not hold the run's input or output file;
- one process at a time: a run holds an exclusive lock (:data:`LOCK`) for as long as
  it writes there; a second one is refused;
- default names are unique: ``pico-runs/NAME-TIME`` is created with an exclusive
  ``mkdir`` (``-2``, ``-3``, ... when two runs start in the same second);
- ``pico apply`` and ``--resume`` check the paths and SHA-256 recorded in
  ``run.json`` and refuse on any mismatch.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import DEFAULTS, FILE_DEFAULTS, cli_name
from .exceptions import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

_log = logging.getLogger("pico")

__all__ = [
    "CHECKERS",
    "CLEAN_OPTIONS",
    "EXECUTION_OPTIONS",
    "FEATURES",
    "LOCK",
    "MARKER",
    "OUTPUT_COLUMNS",
    "PATH_OPTIONS",
    "READ_OPTIONS",
    "RUN_RECORD_VERSION",
    "RunData",
    "RunDirectory",
    "RunOutcome",
    "check_file",
    "check_output_columns",
    "clean_to_directory",
    "default_output",
    "file_digest",
    "history_table",
    "load_summary",
    "make_checker",
    "output_table",
    "read_json_file",
    "read_run",
    "resume_in_directory",
]

#: Marker file: this folder was created (or adopted while empty) by pico.
MARKER = ".pico-run"
#: Lock file held (flock) by the process writing into the run directory.
LOCK = ".pico-lock"
#: Version of run.json's layout (absolute paths and both digests from version 2; from
#: version 3 its options are those of :func:`clean_to_directory`, by their names).
RUN_RECORD_VERSION = 3
#: Layouts of run.json this pico reads (``apply``, ``review``, ``report``); only runs of
#: :data:`RUN_RECORD_VERSION` can be resumed.
_READABLE_RECORD_VERSIONS = (2, RUN_RECORD_VERSION)
#: Most numbered names tried for a default run directory started in one second.
_MAX_DEFAULT_TRIES = 1000


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, as hex; for a folder (a Rasa data folder), of its files.

    A folder's digest covers every file under it: each one's path relative to the
    folder and the SHA-256 of its bytes, in sorted order. Adding, removing, renaming or
    changing any file changes it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> file_digest(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
    """
    if os.path.isdir(path):
        folder = Path(path)
        h = hashlib.sha256()
        for name in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                           if p.is_file()):
            h.update(f"{name}\0{file_digest(folder / name)}\n".encode())
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_json_file(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``, or one line naming the damage and the fix.

    ``what`` names the file's role in the message (for example ``"the run's summary"``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InvalidInputError(f"{path} is missing ({what})") from e
    except UnicodeDecodeError as e:
        raise InvalidInputError(
            f"{path} ({what}) is damaged: not UTF-8 text. Run pico clean again to rewrite it"
        ) from e
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInputError(
            f"{path} ({what}) is damaged: not valid JSON ({e.msg} at line {e.lineno}, "
            f"column {e.colno}). Run pico clean again to rewrite it"
        ) from e
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"{path} ({what}) is damaged: it holds a JSON {type(value).__name__}, not an "
            "object. Run pico clean again to rewrite it"
        )
    return value


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class RunDirectory:
    """A run directory that pico may write into (see the module's rules).

    Use :meth:`create` for a new run and :meth:`open` for an existing one (``--resume``,
    ``apply``, ``report``); :meth:`lock` before writing.

    Parameters
    ----------
    path : Path
        The folder; kept as an absolute, resolved path.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    # ------------------------------------------------------------------ creation

    @classmethod
    def create(
        cls, path: Path | None, *, name: str, keep_out: dict[str, Path] | None = None
    ) -> RunDirectory:
        """The run directory for a new run, created or adopted, and marked.

        Parameters
        ----------
        path : Path or None
            The folder asked for (``--run-dir``); None: a new unique
            ``pico-runs/NAME-TIME`` under the working directory.
        name : str
            Stem of the default name (the input's file name without extension).
        keep_out : dict of str to Path, optional
            Files that must not lie inside the run directory, by role (``input``,
            ``output``).

        Raises
        ------
        InvalidInputError
            If the folder holds files pico did not write, is a file, cannot be
            created, or would hold one of ``keep_out``.
        """
        if path is None:
            run = cls._create_default(Path("pico-runs"), name)
        else:
            run = cls(path)
            run._adopt()
        run.keep_out(keep_out or {})
        return run

    @classmethod
    def _create_default(cls, root: Path, name: str) -> RunDirectory:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InvalidInputError(
                f"cannot create {root}: {e.strerror}. Pass --run-dir DIR in a writable folder"
            ) from e
        for i in range(1, _MAX_DEFAULT_TRIES + 1):
            candidate = root / (f"{name}-{stamp}" if i == 1 else f"{name}-{stamp}-{i}")
            try:
                os.mkdir(candidate)  # exclusive: two runs never share a folder
            except FileExistsError:
                continue
            except OSError as e:
                raise InvalidInputError(
                    f"cannot create the run directory {candidate}: {e.strerror}. Pass "
                    "--run-dir DIR in a writable folder"
                ) from e
            run = cls(candidate)
            run._mark()
            return run
        raise InvalidInputError(
            f"{_MAX_DEFAULT_TRIES} run directories named {name}-{stamp}* exist already in "
            f"{root}; pass --run-dir DIR"
        )

    def _adopt(self) -> None:
        path = self.path
        if path.exists() and not path.is_dir():
            raise InvalidInputError(
                f"--run-dir {path} is a file, not a folder; pass a new or empty folder"
            )
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.mkdir(path)
            except FileExistsError:
                pass  # created meanwhile by another process: checked below like any folder
            except OSError as e:
                raise InvalidInputError(
                    f"cannot create the run directory {path}: {e.strerror}. Pass --run-dir "
                    "DIR in a writable folder"
                ) from e
        if self.is_marked():
            return
        try:
            foreign = sorted(p.name for p in path.iterdir())
        except OSError as e:
            raise InvalidInputError(f"cannot read the run directory {path}: {e.strerror}") from e
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise InvalidInputError(
                f"--run-dir {path} holds files pico did not write ({shown}); pico writes "
                "only into a new or empty folder, or one of its own run directories. Pass "
                "another --run-dir"
            )
        self._mark()

    def _mark(self) -> None:
        try:
            (self.path / MARKER).write_text(
                "This folder is a pico run directory: pico writes and replaces its own "
                "files here.\n",
                encoding="utf-8",
            )
        except OSError as e:
            raise InvalidInputError(
                f"cannot write into the run directory {self.path}: {e.strerror}. Pass "
                "--run-dir DIR in a writable folder"
            ) from e

    def keep_out(self, files: dict[str, Path]) -> None:
        """Refuse when one of ``files`` (by role: input, output) lies inside the run directory."""
        for role, file in files.items():
            resolved = Path(file).resolve()
            if _inside(resolved, self.path):
                raise InvalidInputError(
                    f"the {role} file {resolved} lies inside the run directory {self.path}, "
                    f"where pico writes its own files; put the {role} elsewhere or pass "
                    "another --run-dir"
                )

    # ------------------------------------------------------------------ existing runs

    @classmethod
    def open(cls, path: Path) -> RunDirectory:
        """An existing run directory (for ``--resume``, ``apply``, ``report``).

        Raises
        ------
        InvalidInputError
            If ``path`` is not a folder that pico created.
        """
        run = cls(path)
        if not run.path.is_dir():
            raise InvalidInputError(
                f"{path} is not a folder; pass the run directory of a pico clean (its --run-dir)"
            )
        if not run.is_marked():
            raise InvalidInputError(
                f"{path} is not a pico run directory (no {MARKER} marker); pass the folder "
                "pico clean wrote (its --run-dir), or run pico clean again if it was made "
                "by an older pico"
            )
        return run

    def is_marked(self) -> bool:
        """Whether pico created (or adopted) this folder."""
        return (self.path / MARKER).is_file()

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # ------------------------------------------------------------------ locking

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run's exclusive lock; refuse when another process holds it.

        The lock is released when the block ends or the process dies (so a killed run
        can be resumed at once).
        """
        path = self.path / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise InvalidInputError(
                f"cannot lock the run directory {self.path}: {e.strerror}"
            ) from e
        try:
            if not _try_lock(fd):
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                raise InvalidInputError(
                    f"another pico process (pid {holder}) is using the run directory "
                    f"{self.path}; wait for it to finish or pass another --run-dir"
                )
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                _unlock(fd)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ run.json

    def new_record(
        self, *, data: Path, output: Path, options: dict[str, Any], version: str
    ) -> dict[str, Any]:
        """run.json for a new run: absolute paths, the input's SHA-256, every option."""
        return {
            "format": RUN_RECORD_VERSION,
            "pico": version,
            "run_id": uuid.uuid4().hex,
            "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "run_dir": str(self.path),
            "input": str(Path(data).resolve()),
            "input_sha256": file_digest(data),
            "output": str(Path(output).resolve()),
            "output_sha256": None,
            "options": options,
        }

    def record(self) -> dict[str, Any]:
        """run.json, checked to be a run record of this pico's layout."""
        path = self.path / "run.json"
        if not path.exists():
            raise InvalidInputError(
                f"{self.path} holds no run (no run.json); pass the --run-dir of a pico clean"
            )
        record = read_json_file(path, "the run's record")
        if record.get("format") not in _READABLE_RECORD_VERSIONS:
            raise InvalidInputError(
                f"{path} was written by another pico version (record format "
                f"{record.get('format')!r}, this pico reads "
                f"{' and '.join(map(str, _READABLE_RECORD_VERSIONS))}); run pico clean again"
            )
        for key in ("input", "input_sha256", "output", "options"):
            if key not in record:
                raise InvalidInputError(
                    f"{path} is damaged: it has no {key!r}. Run pico clean again"
                )
        for key in ("input", "output"):
            if not Path(record[key]).is_absolute():
                raise InvalidInputError(
                    f"{path} is damaged: its {key} path {record[key]!r} is not absolute. "
                    "Run pico clean again"
                )
        return record

    def verify_input(self, record: dict[str, Any], *, doing: str) -> Path:
        """The run's input, checked against its recorded SHA-256."""
        source = Path(record["input"])
        if not source.exists():
            raise InvalidInputError(
                f"cannot {doing}: the run's input {source} is gone (moved or deleted)"
            )
        if file_digest(source) != record["input_sha256"]:
            raise InvalidInputError(
                f"cannot {doing}: the run's input {source} changed since the run in "
                f"{self.path} started (its SHA-256 differs); start a new run"
            )
        return source

    def verify_output(self, record: dict[str, Any], *, doing: str) -> Path:
        """The run's cleaned output, checked against the SHA-256 pico recorded for it."""
        cleaned = Path(record["output"])
        known = {d for d in (record.get("output_sha256"), record.get("pending_output_sha256")) if d}
        if not known:
            raise InvalidInputError(
                f"cannot {doing}: the run in {self.path} did not finish writing its output; "
                "finish it with pico clean --resume first"
            )
        if not cleaned.exists():
            raise InvalidInputError(
                f"cannot {doing}: the run's output {cleaned} is gone (moved or deleted); "
                "pass -o PATH to write the result elsewhere, or run pico clean again"
            )
        if file_digest(cleaned) not in known:
            raise InvalidInputError(
                f"cannot {doing}: {cleaned} is not the file this run wrote (it changed since; "
                "its SHA-256 differs). pico will not overwrite a file it did not write; run "
                "pico clean again"
            )
        return cleaned


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------- finished runs


def load_summary(run_dir: Path) -> dict[str, Any]:
    """The summary.json of a run directory, or an error saying what RUN_DIR must be."""
    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise InvalidInputError(
            f"{run_dir} holds no finished run (no summary.json); pass the folder a finished "
            "pico clean wrote (its --run-dir), or finish the run with pico clean --resume"
        )
    summary = read_json_file(path, "the run's summary")
    if not isinstance(summary.get("options"), dict):
        raise InvalidInputError(
            f"{path} is damaged: it has no options. Run pico clean again to rewrite it"
        )
    return summary


@dataclass
class RunData:
    """A finished run as read from its run directory (see :func:`read_run`).

    Attributes
    ----------
    run : RunDirectory
    record : dict
        ``run.json``.
    summary : dict
        ``summary.json``.
    history : DataFrame
        ``history.csv`` as text: given, iteration_1..T, final, status, confidence,
        suggested (and the vote's ``suggested_confidence``/``given_confidence`` when the
        run recorded them).
    source : DataFrame or None
        The run's input, when it is still the file the run read.
    texts : list of str or None
        The text of every row (from ``source``).
    lines : list of int or None
        The line of every row in the input file, for formats whose reader knows it
        (Rasa NLU YAML).
    """

    run: RunDirectory
    record: dict[str, Any]
    summary: dict[str, Any]
    history: pd.DataFrame
    source: pd.DataFrame | None = None
    texts: list[str] | None = None
    lines: list[int] | None = None

    @property
    def intents(self) -> list[str]:
        """Every intent of the data: the given labels and the current ones, sorted."""
        names: set[str] = set()
        for column in ("given", "final"):
            if column in self.history.columns:
                names.update(str(v) for v in self.history[column].tolist() if str(v).strip())
        return sorted(names)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.summary.get("options", {}))


def read_run(
    run_dir: str | os.PathLike[str] | RunDirectory, *, encoding: str | None = None,
    texts: bool = True,
) -> RunData:
    """Read a finished run (no lock; nothing is written).

    The texts (and Rasa line numbers) come from the run's input when it is still the
    file the run read (same SHA-256), read with ``encoding`` (default: the run's own);
    otherwise a warning says why they are missing.

    Raises
    ------
    InvalidInputError
        If ``run_dir`` is not a finished pico run directory.
    """
    from .data.io import read_table

    run = run_dir if isinstance(run_dir, RunDirectory) else RunDirectory.open(Path(run_dir))
    record = run.record()
    summary = load_summary(run.path)
    history = read_table(run / "history.csv", format="csv")
    data = RunData(run, record, summary, history)
    options = data.options
    column = options.get("text_column")
    if not texts or not column:
        return data
    try:
        source_path = run.verify_input(record, doing="show the texts")
    except InvalidInputError as e:
        _log.warning("%s; the texts are not shown", e)
        return data
    fmt = options.get("format")
    frame = read_table(
        source_path, format=fmt, encoding=encoding or options.get("encoding") or "utf-8",
        language=options.get("language"),
    )
    if len(frame) != len(history):
        return data
    data.source = frame
    if column in frame.columns:
        data.texts = frame[column].astype(str).tolist()
    if fmt == "rasa" and "line" in frame.columns:
        data.lines = [int(v) for v in frame["line"].tolist()]
    return data


# ---------------------------------------------------------------------------- cleaning a file

#: Columns pico adds to a run's output.
OUTPUT_COLUMNS = ("pico_label", "pico_confidence", "pico_status")

#: ``checker`` names of a run and the checkers they build (module, class, parameters).
CHECKERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "softmax": ("pico.checkers.linear", "SoftmaxRegression", {}),
    "torch-softmax": ("pico.checkers.torch", "TorchChecker", {}),
    "torch-mlp": ("pico.checkers.torch", "TorchChecker", {"hidden": 256}),
}

#: ``features`` names of a run: word and character TF-IDF, or sentence embeddings.
FEATURES = ("tfidf", "embeddings")

#: The options of :func:`pico.clean` a run sets itself: the checker (by name), the
#: featurizer (from ``features``), the Spark store's folder and the checkpoints (in the
#: run directory), resuming and progress. A run takes every other one.
_SET_BY_RUN = frozenset(
    {"checker", "featurizer", "store_dir", "checkpoint_dir", "resume", "progress"}
)

#: The options of :func:`pico.clean` that :func:`clean_to_directory` takes, in order.
CLEAN_OPTIONS = tuple(name for name in DEFAULTS.to_dict() if name not in _SET_BY_RUN)

#: Options that change how a run executes, not its result: they may differ on resume.
EXECUTION_OPTIONS = frozenset(
    {"n_jobs", "engine", "ray_address", "cpus_per_checker", "gpus_per_checker",
     "spark_master", "keep_checkpoints"}
)

#: The options that say how to read a run's input (:func:`pico.data.io.read_labeled`).
READ_OPTIONS = ("text_column", "label_column", "feature_columns", "format", "encoding",
                "language")

#: Options that name files: compared as resolved paths on resume.
PATH_OPTIONS = ("data", "output", "run_dir")

#: A document's own extension, for a default output name when its input has none.
_DOCUMENT_SUFFIXES = {"rasa": ".yml", "clu": ".json", "dialogflow": ".zip", "lex": ".zip"}


def make_checker(name: str) -> Any:
    """The checker a run's ``checker`` name builds (:data:`CHECKERS`)."""
    import importlib

    if name not in CHECKERS:
        raise InvalidInputError(
            f"unknown checker {name!r}; choose one of {', '.join(CHECKERS)}"
        )
    module, cls, params = CHECKERS[name]
    return getattr(importlib.import_module(module), cls)(**params)


def default_output(path: Path, fmt: str) -> Path:
    """``DATA.cleaned`` beside the input, in its format (a Rasa folder: a folder beside it)."""
    from .data.files import FORMATS

    if path.is_dir():  # a Rasa data folder: a folder beside it
        return path.resolve().with_name(f"{path.resolve().name}.cleaned")
    ext = f".{fmt}" if fmt in FORMATS else path.suffix or _DOCUMENT_SUFFIXES[fmt]
    return path.with_name(f"{_stem(path)}.cleaned{ext}")


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def check_output_columns(text_column: str | None, label_column: str) -> None:
    """Refuse input columns that the output's own columns would overwrite."""
    for option, column in (("--label-column", label_column), ("--text-column", text_column)):
        if column in OUTPUT_COLUMNS:
            raise InvalidInputError(
                f"{option} {column} is a column pico writes ({', '.join(OUTPUT_COLUMNS)}): the "
                "output would overwrite it. Rename that column in the input (for example to "
                "label or text) and pass the new name"
            )


def _check_input_folder(data: Path, run_dir: Path | None, output: Path) -> None:
    """Refuse a run directory or an output inside an input folder (it would change it)."""
    if not data.is_dir():
        return
    folder = data.resolve()
    run = (run_dir if run_dir is not None else Path("pico-runs")).resolve()
    for what, path, fix in (("the run directory", run, "--run-dir"),
                            ("--output", output.resolve(), "--output")):
        if path == folder or folder in path.parents or path in folder.parents:
            raise InvalidInputError(
                f"{what} {path} would lie inside the input folder {folder} (or holds it); "
                f"pico never writes into its input. Pass {fix} outside it"
            )


@dataclass
class RunOutcome:
    """What :func:`clean_to_directory` did.

    Attributes
    ----------
    run : RunDirectory
        The run directory (``run.json``, ``summary.json``, ``history.csv``,
        ``review.csv``).
    output : Path
        The cleaned file (or Rasa folder).
    result : CleanResult
        What :func:`pico.clean` returned.
    summary : dict
        ``summary.json``.
    review_rows : int
        Rows in ``review.csv``.
    """

    run: RunDirectory
    output: Path
    result: Any
    summary: dict[str, Any]
    review_rows: int


def clean_to_directory(
    data: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = FILE_DEFAULTS.output,
    run_dir: str | os.PathLike[str] | None = FILE_DEFAULTS.run_dir,
    text_column: str | None = FILE_DEFAULTS.text_column,
    label_column: str = FILE_DEFAULTS.label_column,
    feature_columns: str | None = FILE_DEFAULTS.feature_columns,
    format: str | None = FILE_DEFAULTS.format,
    encoding: str = FILE_DEFAULTS.encoding,
    language: str | None = FILE_DEFAULTS.language,
    pred_probs: str | os.PathLike[str] | None = FILE_DEFAULTS.pred_probs,
    features: str = FILE_DEFAULTS.features,
    checker: str = FILE_DEFAULTS.checker,
    keep_checkpoints: bool = FILE_DEFAULTS.keep_checkpoints,
    resume: bool = False,
    progress: Any = None,
    **options: Any,
) -> RunOutcome:
    """Clean a file into a run directory: what ``pico clean`` does, callable from Python.

    Reads ``data``, runs :func:`pico.clean` on it and writes the cleaned file (every
    input row and column, plus :data:`OUTPUT_COLUMNS`) and the run directory:
    ``run.json`` (paths, digests and every option, for ``pico apply`` and resuming),
    ``summary.json``, ``history.csv`` and ``review.csv``. Each finished iteration is
    checkpointed in the run directory's ``checkpoints/`` (removed at the end unless
    ``keep_checkpoints``): :func:`resume_in_directory` continues a killed run.

    Parameters
    ----------
    data : path
        The input file (CSV, TSV, JSON Lines, Parquet, or a chatbot platform's data: a
        Rasa NLU file or folder, a CLU, Dialogflow ES or Lex V2 export).
    output : path, optional
        The cleaned file; its extension sets its format (default: ``DATA.cleaned``, in
        the input's format).
    run_dir : path, optional
        A new or empty folder, or an earlier run directory (default: a new
        ``pico-runs/NAME-TIME``).
    text_column, label_column, feature_columns, format, encoding, language
        How to read ``data`` (:func:`pico.data.io.read_labeled`).
    pred_probs : path, optional
        Out-of-fold probabilities made elsewhere (:func:`pico.predictions.read_pred_probs`):
        nothing is trained.
    features : {"tfidf", "embeddings"}, default="tfidf"
        Text features (:data:`FEATURES`); embeddings are cached in the run directory.
    checker : str, default="softmax"
        A name of :data:`CHECKERS`.
    keep_checkpoints : bool, default=False
        Keep ``checkpoints/`` after a successful run.
    resume : bool, default=False
        Continue the run in ``run_dir`` (use :func:`resume_in_directory`, which checks
        the options against the run's own first).
    progress : callable, optional
        As for :func:`pico.clean`.
    **options
        The other options of :func:`pico.clean` (:data:`CLEAN_OPTIONS`), by its names.

    Returns
    -------
    RunOutcome
    """
    unknown = sorted(set(options) - set(CLEAN_OPTIONS))
    if unknown:
        raise TypeError(
            f"clean_to_directory() got unexpected options {', '.join(unknown)}; it takes "
            f"the options of pico.clean other than {', '.join(sorted(_SET_BY_RUN))}"
        )
    from . import __version__
    from .api import clean
    from .checkpoint import remove_checkpoint
    from .data.io import (
        detect_format,
        document_columns,
        output_format,
        read_labeled,
        same_file,
        write_json,
        write_table,
    )
    from .review import review_table

    data = Path(data)
    output = Path(output) if output is not None else None
    run_path = Path(run_dir) if run_dir is not None else None
    settings = {name: options.get(name, getattr(DEFAULTS, name)) for name in CLEAN_OPTIONS}
    recorded: dict[str, Any] = {
        "data": str(data), "output": None if output is None else str(output),
        "run_dir": None if run_path is None else str(run_path),
        "text_column": text_column, "label_column": label_column,
        "feature_columns": feature_columns, "format": format, "encoding": encoding,
        "language": language, "pred_probs": None if pred_probs is None else str(pred_probs),
        "features": features, "checker": checker, "keep_checkpoints": keep_checkpoints,
        **settings,
    }
    fmt = detect_format(data, format)
    text_column, label_column = document_columns(fmt, text_column, label_column)
    check_output_columns(text_column, label_column)
    table = read_labeled(
        data, format=fmt, encoding=encoding, text_column=text_column,
        label_column=label_column, feature_columns=feature_columns, language=language,
    )
    given_probs, probs_classes = None, None
    if pred_probs is not None:
        from .predictions import read_pred_probs

        given_probs, probs_classes = read_pred_probs(Path(pred_probs))
    out_path = output or default_output(data, fmt)
    out_fmt = output_format(output, fmt) if output else fmt
    _check_input_folder(data, run_path, out_path)
    if out_path.exists() and same_file(out_path, data):
        raise InvalidInputError(
            f"--output {out_path} is the input file; pico never overwrites its input. "
            "Pass another --output path."
        )
    if not (~table.missing).any():
        raise InvalidInputError(f"column {label_column!r} has no labels: every value is empty")
    keep_out = {"input": data, "output": out_path}
    if resume:
        run = RunDirectory.open(run_path if run_path is not None else Path("."))
        run.keep_out(keep_out)
    else:
        run = RunDirectory.create(run_path, name=_stem(data), keep_out=keep_out)
    with run.lock():
        if resume:  # checked by resume_in_directory; read again under the lock
            record = run.record()
        else:  # what resuming and apply check: absolute paths, digests, every option
            recorded.update(
                data=str(data.resolve()), output=str(out_path.resolve()), run_dir=str(run.path)
            )
            record = run.new_record(
                data=data, output=out_path, options=recorded, version=__version__
            )
            write_json(record, run / "run.json")
        featurizer = None
        if features == "embeddings":
            if text_column is None:
                raise InvalidInputError(
                    "--features embeddings needs --text-column (texts to embed)"
                )
            from .featurizers.embeddings import SentenceEmbeddingFeaturizer

            featurizer = SentenceEmbeddingFeaturizer(cache_dir=run / "cache")
        result = clean(
            table.inputs,
            table.labels,
            featurizer=featurizer,
            checker=None if checker == "softmax" else make_checker(checker),
            store_dir=str(run / "predictions") if settings["store"] == "spark" else None,
            checkpoint_dir=None if given_probs is not None else str(run / "checkpoints"),
            pred_probs=given_probs,
            classes=probs_classes,
            resume=resume,
            progress=progress,
            **settings,
        )
        frame = table.frame
        added = [c for c in OUTPUT_COLUMNS if c in frame.columns]
        if added:
            _log.warning("the input already has %s; those columns are replaced", ", ".join(added))
        out, pico_label = output_table(table, result, csv_like=out_fmt in ("csv", "tsv"))
        summary = dict(result.summary)
        summary["input"] = record["input"]
        summary["output"] = record["output"]
        summary["options"] = {
            **summary["options"],
            "text_column": text_column,
            "label_column": label_column,
            "feature_columns": feature_columns,
            "format": fmt,
            "output_format": out_fmt,
            "encoding": encoding,
            "language": language,
        }
        texts = frame[text_column].tolist() if text_column else None
        review = review_table(
            texts, frame[label_column].to_numpy(dtype=object), pico_label, result.confidence,
            result.status, result.suggested,
        )
        summary["review_rows"] = len(review)
        write_table(out, out_path, format=out_fmt)
        record["output_sha256"] = file_digest(out_path)
        record.pop("pending_output_sha256", None)
        write_json(summary, run / "summary.json")
        write_table(history_table(frame, result), run / "history.csv", format="csv")
        write_table(review, run / "review.csv", format="csv")
        write_json(record, run / "run.json")  # last: the run is complete
        if not keep_checkpoints:
            remove_checkpoint(run / "checkpoints")
    return RunOutcome(run, out_path, result, summary, len(review))


def output_table(table: Any, result: Any, *, csv_like: bool) -> tuple[pd.DataFrame, Any]:
    """The cleaned table: every input row and column, then :data:`OUTPUT_COLUMNS`.

    ``table`` is the :class:`~pico.data.io.LabeledTable` read, ``result`` the
    :class:`~pico.results.CleanResult`. Where pico kept the label, ``pico_label`` is the
    input's own cell (spaces and all), so it differs from the input exactly where pico
    changed it. With ``csv_like`` (CSV, TSV) confidences are written with 4 decimals.
    Returns the table and its ``pico_label`` column.
    """
    import numpy as np

    frame = table.frame
    out = frame.copy()
    original = frame[table.label_column].to_numpy(dtype=object)
    unchanged = np.fromiter(
        (isinstance(o, str) and new == old
         for o, new, old in zip(original, result.labels, table.labels)),
        dtype=bool, count=len(original),
    )
    pico_label = np.where(table.missing | unchanged, original, result.labels)
    out["pico_label"] = pico_label
    conf = np.round(result.confidence, 4)
    if csv_like:
        out["pico_confidence"] = ["" if np.isnan(c) else f"{c:.4f}" for c in conf]
    else:
        out["pico_confidence"] = conf
    out["pico_status"] = result.status
    spaced = int(np.sum([isinstance(o, str) and o != o.strip() for o in original]))
    if spaced:
        _log.warning(
            "%d %s in %r had spaces around them; pico compared labels without them "
            "(pico_label keeps the input's spelling where the label was kept)",
            spaced, "label" if spaced == 1 else "labels", table.label_column,
        )
    return out, pico_label


def history_table(frame: pd.DataFrame, result: Any) -> pd.DataFrame:
    """``history.csv``: each row's label after every iteration, and the vote's evidence."""
    import numpy as np

    history = frame[[]].copy()
    history["row"] = np.arange(len(frame))
    for t in range(result.history.shape[1]):
        history["given" if t == 0 else f"iteration_{t}"] = result.history[:, t]
    history["final"] = result.labels
    history["status"] = result.status
    history["confidence"] = np.round(result.confidence, 4)
    history["suggested"] = result.suggested
    # The vote's evidence per row, for the "why" of the report and the review page.
    history["suggested_confidence"] = np.round(result.suggested_confidence, 4)
    history["given_confidence"] = np.round(result.given_confidence, 4)
    if getattr(result, "runner_up", None) is not None:
        history["runner_up"] = result.runner_up
        history["runner_up_confidence"] = np.round(
            np.asarray(result.runner_up_probability, dtype=float), 4
        )
    return history


def resume_in_directory(
    run_dir: str | os.PathLike[str], *, progress: Any = None, **given: Any
) -> RunOutcome:
    """Continue the run in ``run_dir`` after its last finished iteration.

    The run's recorded options are used; ``given`` (options of
    :func:`clean_to_directory`, ``data`` included) are checked against them: a changed
    one is refused, except :data:`EXECUTION_OPTIONS` (how the run executes), which
    replace the recorded ones. The input must still be the file the run read.

    Raises
    ------
    InvalidInputError
        If ``run_dir`` is not a run directory of this pico's record format, an option
        changed, or the input changed.
    """
    run = RunDirectory.open(Path(run_dir))
    record = run.record()
    if record["format"] != RUN_RECORD_VERSION:
        raise InvalidInputError(
            f"{run.path} was recorded by an earlier pico, whose options cannot be "
            "resumed; start a new run"
        )
    saved = dict(record["options"])
    saved["data"], saved["output"], saved["run_dir"] = (
        record["input"], record["output"], str(run.path)
    )
    for name in sorted(given):
        new, old = given[name], saved.get(name)
        if name in EXECUTION_OPTIONS:
            saved[name] = new
            continue
        if name in PATH_OPTIONS and new is not None:
            same = old is not None and Path(new).resolve() == Path(old).resolve()
        else:
            same = str(new) == str(old)
        if not same:
            shown = "DATA" if name == "data" else "--" + cli_name(name).replace("_", "-")
            raise InvalidInputError(
                f"cannot resume {run.path} with changed options: {shown} was {old}, now {new}. "
                "Resume with the run's options, or start a new run"
            )
    run.verify_input(record, doing=f"resume the run in {run.path}")
    data = saved.pop("data")
    return clean_to_directory(data, resume=True, progress=progress, **saved)


# ---------------------------------------------------------------------------- checking a file


def check_file(
    data: str | os.PathLike[str],
    *,
    reference: str | os.PathLike[str] | None = None,
    reference_label_column: str | None = None,
    **options: Any,
) -> Any:
    """:func:`pico.check` on a file: what ``pico check`` does, callable from Python.

    ``options`` are those of :func:`pico.check` and those that say how to read the
    file, as for :func:`clean_to_directory` (:data:`READ_OPTIONS`: ``text_column``,
    ``label_column``, ``feature_columns``, ``format``, ``encoding``, ``language``).
    With ``reference`` (an already-cleaned file with the same columns) only the rows of
    ``data`` are checked against it; its labels are ``reference_label_column``
    (default: ``pico_label`` when it has one, else ``label_column``). The summary
    starts with ``input`` and ``reference``.

    Returns
    -------
    CheckResult
    """
    from .data.io import detect_format, read_labeled, read_table, select_columns
    from .trigger import check

    read = {name: options.pop(name, getattr(FILE_DEFAULTS, name)) for name in READ_OPTIONS}
    table = read_labeled(data, **read)
    ref_inputs = ref_labels = None
    if reference is not None:
        ref_frame = read_table(
            reference, format=detect_format(reference, None), encoding=read["encoding"]
        )
        column = reference_label_column or (
            "pico_label" if "pico_label" in ref_frame.columns else table.label_column
        )
        if column not in ref_frame.columns:
            raise InvalidInputError(
                f"the reference {reference} has no column {column!r}; pass "
                "--reference-label-column NAME"
            )
        ref_inputs, ref_raw, ref_missing = select_columns(
            ref_frame, text_column=table.text_column, label_column=column,
            feature_columns=read["feature_columns"],
        )
        ref_labels = ref_raw.copy()
        ref_labels[ref_missing] = None
    found = check(
        table.inputs, table.labels, reference=ref_inputs, reference_labels=ref_labels,
        **options,
    )
    found.summary = {
        "input": str(data), "reference": None if reference is None else str(reference),
        **found.summary,
    }
    return found
