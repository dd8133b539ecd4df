"""Files on disk: the formats pico reads and writes, decoding, and atomic writes.

Nothing here imports numpy or pandas, so the command line can read the format list
without loading them. Every write is atomic: the data goes to a temporary file (or
folder) in the target's directory, is flushed and synced to disk, and only then
renamed onto the target. A failed write leaves an existing target untouched and no
temporary file behind; the temporary files of a killed pico are removed by the next
write to the same target (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Union

from ..exceptions import InvalidInputError

__all__ = [
    "ALL_FORMATS",
    "DOCUMENT_FORMATS",
    "FORMATS",
    "PathLike",
    "atomic_open",
    "current_umask",
    "decode_bytes",
    "remove_stale_temporaries",
    "replace_path",
    "same_file",
    "write_bytes",
    "write_folder",
    "write_text",
]

#: A file system path as accepted by every function of this module.
PathLike = Union[str, "os.PathLike[str]"]

#: The table formats pico reads and writes.
FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet")

#: Chatbot platform formats: documents whose layout pico keeps when it writes them back
#: (Rasa NLU files and folders, Microsoft CLU, Dialogflow ES and Lex V2 exports; see
#: :mod:`pico.data.document`).
DOCUMENT_FORMATS: tuple[str, ...] = ("rasa", "clu", "dialogflow", "lex")

#: Every format pico reads and writes: the table formats and the document formats.
ALL_FORMATS: tuple[str, ...] = (*FORMATS, *DOCUMENT_FORMATS)


# --------------------------------------------------------------------------- reading


def decode_bytes(data: bytes, source: PathLike, encoding: str = "utf-8") -> str:
    """Decode the bytes of `source`, explaining any decoding failure.

    With UTF-8 a leading byte order mark is dropped.

    Raises
    ------
    InvalidInputError
        If the encoding is unknown or the bytes do not decode (the message names the
        byte offset, the line and the ``--encoding`` fix).

    Examples
    --------
    >>> decode_bytes(b"\\xef\\xbb\\xbfhi", "x.csv")
    'hi'
    """
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise InvalidInputError(
            f"unknown encoding {encoding!r}; pass --encoding with a Python codec name such "
            f"as utf-8, latin-1, cp1252 or cp949."
        ) from None
    source = Path(os.fspath(source))
    # Drop a UTF-8 byte order mark so that it does not end up in the first column name.
    skip = len(codecs.BOM_UTF8) if codec.name == "utf-8" and data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode(codec.name)
    except UnicodeDecodeError as error:
        offset = error.start + skip
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset : error.end + skip]
        raise InvalidInputError(
            f"cannot decode {source} as {encoding}: invalid byte(s) 0x{bad.hex()} at byte "
            f"offset {offset} (line {line}). Pass --encoding with the file's encoding "
            f"(for example latin-1, cp1252 or cp949), or re-save the file as UTF-8."
        ) from None


# --------------------------------------------------------------------------- writing


def same_file(a: PathLike, b: PathLike) -> bool:
    """Tell whether two paths name the same file.

    Existing files are compared by device and inode (so hard links, symbolic links
    and different spellings of a path are recognised); otherwise the absolute,
    normalised paths are compared.

    Parameters
    ----------
    a, b : str or os.PathLike
        The two paths.

    Returns
    -------
    bool
        True if both name the same file.

    Examples
    --------
    >>> same_file("data/in.csv", "data/../data/in.csv")
    True
    >>> same_file("in.csv", "out.csv")
    False
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        first = os.path.normcase(os.path.abspath(os.path.realpath(os.fspath(a))))
        second = os.path.normcase(os.path.abspath(os.path.realpath(os.fspath(b))))
        return first == second


def current_umask() -> int:
    """The process umask (read by setting it and immediately restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: PathLike) -> Iterator[IO[bytes]]:
    """Open a temporary file next to `path`; on success move it onto `path`.

    The temporary file is created in the target's directory (so the final
    :func:`os.replace` is an atomic rename), flushed and synced before the rename, and
    removed if anything fails, leaving an existing target untouched.
    """
    target = Path(os.fspath(path))
    directory = target.parent
    if not directory.exists():
        raise InvalidInputError(
            f"output directory does not exist: {directory}. Create it first or choose "
            f"another output path."
        )
    if not directory.is_dir():
        raise InvalidInputError(
            f"cannot write {target}: {directory} is not a directory. Choose another "
            f"output path."
        )
    if target.is_dir():
        raise InvalidInputError(
            f"output path is a directory: {target}. Pass a file name, such as "
            f"{target / 'output.csv'}."
        )
    # Give the new file the permissions it would have had if written directly: those of
    # the file it replaces, else the default for new files. (mkstemp would give 0o600.)
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~current_umask()
    remove_stale_temporaries(target)
    try:
        handle = tempfile.NamedTemporaryFile(
            mode="wb", delete=False, dir=directory,
            prefix=f".{target.name}.pico-{os.getpid()}-", suffix=".tmp",
        )
    except OSError as error:
        reason = error.strerror or str(error)
        raise InvalidInputError(
            f"cannot write to the output directory {directory}: {reason}. Check that it is "
            f"writable, or choose another output path."
        ) from error
    temporary = handle.name
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (a permission error means it does)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(target: Path) -> None:
    """Delete the temporary files a killed pico left beside ``target``.

    Every atomic write here calls it for its target first.

    Only files of pico's own pattern (``.NAME.pico-PID-XXXX.tmp``) whose process no
    longer runs are removed; a write in progress elsewhere keeps its file.
    """
    prefix = f".{target.name}.pico-"
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            if entry.is_dir() and not entry.is_symlink():  # a folder being written
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()


def _sync_directory(directory: Path) -> None:
    """Persist a rename by syncing its directory (best effort; POSIX only)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_bytes(data: bytes, path: PathLike) -> None:
    """Write `data` to `path` atomically (see :func:`write_table` for the replacement)."""
    with atomic_open(path) as handle:
        handle.write(data)


def write_text(text: str, path: PathLike) -> None:
    """Write `text` (UTF-8, newlines as given) to `path` atomically.

    Parameters
    ----------
    text : str
        The content.
    path : str or os.PathLike
        The output file; see :func:`write_table` for the atomic replacement.
    """
    data = text.encode("utf-8")
    with atomic_open(path) as handle:
        handle.write(data)


# --------------------------------------------------------------------------- folders


def write_folder(files: dict[str, bytes], path: PathLike, *, source: Path) -> None:
    """Write ``files`` (relative path -> bytes) as the folder ``path``, atomically.

    The folder is built next to ``path`` under a temporary name and then moved (or, if
    ``path`` is an earlier output of the same files, swapped) into place. A target that
    holds any other file is refused, and so is a target inside ``source`` (or around it).

    Raises
    ------
    InvalidInputError
        If the target cannot be written or would mix with other files.
    """
    target = Path(os.fspath(path))
    resolved, src = target.resolve(), source.resolve()
    if resolved == src or src in resolved.parents or resolved in src.parents:
        raise InvalidInputError(
            f"{target} lies inside the input folder {source} (or holds it); pico never "
            "writes into its input. Pass an --output folder outside it"
        )
    directory = target.parent
    if not directory.is_dir():
        raise InvalidInputError(
            f"output directory does not exist: {directory}. Create it first or choose "
            "another output path."
        )
    if target.exists() and not target.is_dir():
        raise InvalidInputError(
            f"{target} is a file; a Rasa data folder is written as a folder. Pass a folder "
            "path that does not exist yet"
        )
    if target.is_dir():
        foreign = sorted(
            p.relative_to(target).as_posix() for p in target.rglob("*")
            if not p.is_dir() and p.relative_to(target).as_posix() not in files
        )
        if foreign:
            raise InvalidInputError(
                f"{target} exists and holds files that are not part of this data "
                f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); pass a "
                "new --output folder"
            )
    remove_stale_temporaries(target)
    try:
        staging = Path(tempfile.mkdtemp(dir=directory, prefix=f".{target.name}.pico-{os.getpid()}-",
                                        suffix=".tmp"))
    except OSError as error:
        raise InvalidInputError(
            f"cannot write to the output directory {directory}: {error.strerror or error}. "
            "Check that it is writable, or choose another output path."
        ) from error
    try:
        os.chmod(staging, 0o777 & ~current_umask())
        for name, content in files.items():
            file = staging / name
            file.parent.mkdir(parents=True, exist_ok=True)
            with open(file, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        replace_path(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def replace_path(new: PathLike, target: PathLike) -> None:
    """Move the file or folder ``new`` onto ``target``, replacing what is there.

    Files are replaced with :func:`os.replace` (atomic). A folder replaces an existing
    folder by swapping the two in one step where the system allows it (Linux), else by
    moving the old one aside to ``.NAME.pico-old-PID.tmp`` first; the old content is
    then deleted.
    """
    new_path, target_path = Path(os.fspath(new)), Path(os.fspath(target))
    if not (new_path.is_dir() and target_path.is_dir()):
        os.replace(new_path, target_path)
        return
    if _exchange(new_path, target_path):
        shutil.rmtree(new_path, ignore_errors=True)
        return
    aside = target_path.with_name(f".{target_path.name}.pico-old-{os.getpid()}.tmp")
    os.replace(target_path, aside)
    try:
        os.replace(new_path, target_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.replace(aside, target_path)
        raise
    shutil.rmtree(aside, ignore_errors=True)
