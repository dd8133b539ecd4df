"""Run directories: where ``pico clean`` keeps a run, and the rules that keep user files safe.

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
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .exceptions import InvalidInputError

__all__ = [
    "LOCK",
    "MARKER",
    "RUN_RECORD_VERSION",
    "RunDirectory",
    "file_digest",
    "read_json_file",
]

#: Marker file: this folder was created (or adopted while empty) by pico.
MARKER = ".pico-run"
#: Lock file held (flock) by the process writing into the run directory.
LOCK = ".pico-lock"
#: Version of run.json's layout (absolute paths and both digests from version 2).
RUN_RECORD_VERSION = 2
#: Most numbered names tried for a default run directory started in one second.
_MAX_DEFAULT_TRIES = 1000


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, as hex.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> file_digest(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
    """
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
        if record.get("format") != RUN_RECORD_VERSION:
            raise InvalidInputError(
                f"{path} was written by another pico version (record format "
                f"{record.get('format')!r}, this pico reads {RUN_RECORD_VERSION}); run pico "
                "clean again"
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
        if not source.is_file():
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
        if not cleaned.is_file():
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
