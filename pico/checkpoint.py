"""Checkpoints of :class:`~pico.corrector.IterativeCorrector`, written and read without pickle.

The state after a finished iteration is two files in the checkpoint folder:

``arrays.npz``
    numpy arrays only (``np.savez``, uncompressed): the current labels, the label
    history and the training-label history (2-D codes, one column per iteration and
    the given labels first), the expected label changes, the last vote's best class,
    its posterior and the given label's, the rows held back, and the prediction
    store's arrays (``store.*``, from the store's ``state()``).
``state.json``
    everything else, as JSON: the format version, the fingerprint of the data and
    options, the iteration, whether the run had finished, the per-iteration records,
    the number of checker fits, the store's kind and metadata, and the SHA-256 of
    ``arrays.npz`` (a mismatched pair is refused).

Both are written atomically (a temporary file in the same folder, fsync, ``os.replace``;
the arrays first). Reading uses :func:`json.loads` and ``np.load(allow_pickle=False)``
only, and checks every field and array (presence, dtype, shape, range) before anything
is used: a damaged or foreign checkpoint raises :class:`~pico.exceptions.InvalidInputError`
with one line naming the problem and the fix. Nothing of a checkpoint can run code.

The fitted checkers (warm starts) and the fitted vote are not saved: the vote is refitted
from the stored predictions (deterministically), and the iteration after a resume trains
its checkers from fresh clones.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import InvalidInputError

__all__ = [
    "ARRAYS_FILE",
    "FORMAT_VERSION",
    "STATE_FILE",
    "Checkpoint",
    "code_dtype",
    "damaged_checkpoint",
    "load_checkpoint",
    "remove_checkpoint",
    "save_checkpoint",
]

_log = logging.getLogger(__name__)

#: Version of the checkpoint format this pico writes and reads.
FORMAT_VERSION = 1
#: The JSON half of a checkpoint.
STATE_FILE = "state.json"
#: The array half of a checkpoint.
ARRAYS_FILE = "arrays.npz"
#: The pickle checkpoint of earlier versions: never read.
LEGACY_FILE = "checkpoint.pkl"

_STORE_PREFIX = "store."
_ROW_ARRAYS = ("current", "expected_changes", "best", "best_p", "given_p", "held")
_HISTORY_ARRAYS = ("history", "trained_history")
_STATE_KEYS = frozenset(
    {"format_version", "fingerprint", "iteration", "finished", "iterations", "n_fits",
     "store", "arrays_sha256"}
)
_FIX = "start a new run without --resume (resume=False)"


@dataclass(frozen=True)
class Checkpoint:
    """The state of a run after a finished iteration: what resuming needs, nothing more.

    Attributes
    ----------
    fingerprint : str
        Digest of the data and options (:meth:`IterativeCorrector._fingerprint`).
    iteration : int
        Last finished iteration t (1-based).
    finished : bool
        Whether the run had stopped (converged) after it.
    iterations : list of dict
        The corrector's ``iterations_`` records, one per iteration (JSON values only).
    n_fits : int
        Checker fits made so far.
    store_kind : str
        Class name of the prediction store (``"MemoryStore"``, ``"SparkStore"``).
    store_meta : dict
        The store's metadata (JSON values only), from its ``state()``.
    current : ndarray of shape (N,)
        Label codes after iteration t.
    history, trained_history : ndarray of shape (N, t + 1)
        Label codes: column 0 the given labels, column j the labels after iteration j;
        and the labels the checkers of iteration j + 1 trained on.
    expected_changes : ndarray of shape (N,)
    best : ndarray of shape (N,)
        The last vote's most probable class.
    best_p, given_p : ndarray of shape (N,)
        Its posterior and the given label's.
    held : ndarray of shape (N,)
        Rows whose move the class-loss guard held back.
    store_arrays : dict of str to ndarray
        The store's arrays, from its ``state()`` (none for the Spark store).
    """

    fingerprint: str
    iteration: int
    finished: bool
    iterations: list[dict[str, Any]]
    n_fits: int
    store_kind: str
    store_meta: dict[str, Any]
    current: np.ndarray
    history: np.ndarray
    trained_history: np.ndarray
    expected_changes: np.ndarray
    best: np.ndarray
    best_p: np.ndarray
    given_p: np.ndarray
    held: np.ndarray
    store_arrays: dict[str, np.ndarray] = field(default_factory=dict)


def code_dtype(n_values: int) -> np.dtype[Any]:
    """The smallest integer dtype holding the codes ``0 .. n_values - 1``.

    Examples
    --------
    >>> code_dtype(150), code_dtype(300), code_dtype(70000), code_dtype(2**40)
    (dtype('uint8'), dtype('uint16'), dtype('uint32'), dtype('int64'))
    """
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_values - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def damaged_checkpoint(checkpoint_dir: str | Path, what: str) -> InvalidInputError:
    """The one-line error for a checkpoint that cannot be used, with the fix.

    Examples
    --------
    >>> print(damaged_checkpoint("run/ckpt", "arrays.npz: 'best' is missing"))  # doctest: +ELLIPSIS
    the checkpoint in run/ckpt is damaged (arrays.npz: 'best' is missing); start a new run ...
    """
    what = " ".join(str(what).split())  # one line, whatever the cause said
    return InvalidInputError(f"the checkpoint in {checkpoint_dir} is damaged ({what}); {_FIX}")


# ---------------------------------------------------------------------------- writing


def save_checkpoint(checkpoint_dir: str | Path, checkpoint: Checkpoint) -> int:
    """Write ``checkpoint`` to ``checkpoint_dir`` atomically; return the bytes written.

    ``arrays.npz`` is written first and then ``state.json``, which names its SHA-256;
    each through a temporary file in the same folder, fsync and ``os.replace``. A crash
    keeps the previous pair, or (between the two replacements) a pair that
    :func:`load_checkpoint` refuses as mismatched.

    Parameters
    ----------
    checkpoint_dir : str or Path
        Folder of the checkpoint (created).
    checkpoint : Checkpoint

    Returns
    -------
    int
        Size of ``arrays.npz`` plus ``state.json``, in bytes.
    """
    folder = Path(checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    n_classes = int(
        max(checkpoint.history.max(initial=0), checkpoint.trained_history.max(initial=0),
            checkpoint.best.max(initial=0)) + 1
    )
    codes = code_dtype(n_classes)
    arrays: dict[str, np.ndarray] = {
        "current": np.asarray(checkpoint.current).astype(codes),
        "history": np.asarray(checkpoint.history).astype(codes),
        "trained_history": np.asarray(checkpoint.trained_history).astype(codes),
        "expected_changes": np.asarray(checkpoint.expected_changes, dtype=np.float64),
        "best": np.asarray(checkpoint.best).astype(codes),
        "best_p": np.asarray(checkpoint.best_p, dtype=np.float64),
        "given_p": np.asarray(checkpoint.given_p, dtype=np.float64),
        "held": np.asarray(checkpoint.held, dtype=bool),
    }
    for name, value in checkpoint.store_arrays.items():
        arrays[_STORE_PREFIX + name] = np.asarray(value)
    npz_tmp = _temp_path(folder, ARRAYS_FILE)
    json_tmp = _temp_path(folder, STATE_FILE)
    try:
        with open(npz_tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        state = {
            "format_version": FORMAT_VERSION,
            "fingerprint": checkpoint.fingerprint,
            "iteration": int(checkpoint.iteration),
            "finished": bool(checkpoint.finished),
            "iterations": checkpoint.iterations,
            "n_fits": int(checkpoint.n_fits),
            "store": {"kind": checkpoint.store_kind, "meta": checkpoint.store_meta},
            "arrays_sha256": _file_sha256(npz_tmp),
        }
        text = json.dumps(_plain(state), indent=1)
        with open(json_tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        size = npz_tmp.stat().st_size + json_tmp.stat().st_size
        os.replace(npz_tmp, folder / ARRAYS_FILE)
        os.replace(json_tmp, folder / STATE_FILE)
    finally:
        for tmp in (npz_tmp, json_tmp):
            tmp.unlink(missing_ok=True)
    _fsync_dir(folder)
    return size


def remove_checkpoint(checkpoint_dir: str | Path) -> None:
    """Delete a checkpoint: ``state.json``, ``arrays.npz`` and their temporary files.

    The folder itself is removed when nothing else is left in it; every other file
    (an old ``checkpoint.pkl`` too) is left alone.

    Parameters
    ----------
    checkpoint_dir : str or Path
        Folder of the checkpoint; nothing happens when it does not exist.
    """
    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        return
    temp = re.compile(r"\.(state\.json|arrays\.npz)\.[0-9a-f]+\.[0-9a-f]{32}\.tmp")
    for path in folder.iterdir():
        ours = path.name in (STATE_FILE, ARRAYS_FILE) or temp.fullmatch(path.name)
        if ours and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty: another file lives there


def _temp_path(folder: Path, name: str) -> Path:
    return folder / f".{name}.{os.getpid():x}.{uuid.uuid4().hex}.tmp"


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make the renames durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"a checkpoint holds JSON values only; got {type(value).__name__}")


# ---------------------------------------------------------------------------- reading


def load_checkpoint(
    checkpoint_dir: str | Path,
    *,
    fingerprint: str,
    given: np.ndarray,
    n_classes: int,
    store_kind: str,
) -> Checkpoint | None:
    """Read and verify the checkpoint in ``checkpoint_dir``; None when there is none.

    Nothing is used before it is checked: the format version, the fingerprint, the
    store's kind, the SHA-256 of ``arrays.npz`` against ``state.json``, and every
    array's presence, dtype, shape (N rows; t + 1 history columns for iteration t),
    label codes within 0..K-1, probabilities finite and in [0, 1]. The store's own
    arrays are checked by its ``restore()``. An old ``checkpoint.pkl`` is never read.

    Parameters
    ----------
    checkpoint_dir : str or Path
    fingerprint : str
        What the checkpoint must have been made with (data and options).
    given : ndarray of shape (N,)
        The given label codes (column 0 of both histories).
    n_classes : int
        K.
    store_kind : str
        Class name of the store the run uses now.

    Returns
    -------
    Checkpoint or None
        None when the folder holds no ``state.json`` (the run starts from the first
        iteration).

    Raises
    ------
    InvalidInputError
        If the checkpoint was made with other data, options or store, or fails a check.
    """
    folder = Path(checkpoint_dir)
    state_path, arrays_path = folder / STATE_FILE, folder / ARRAYS_FILE
    if (folder / LEGACY_FILE).exists():
        _log.info(
            "ignoring %s: pickle checkpoints of earlier versions are never read (unpickling "
            "can run code); only %s and %s are", folder / LEGACY_FILE, STATE_FILE, ARRAYS_FILE,
        )
    if not state_path.exists():
        _log.info("no checkpoint in %s: starting from the first iteration", folder)
        return None
    state = _read_state(folder, state_path)
    if state["format_version"] != FORMAT_VERSION:
        raise InvalidInputError(
            f"the checkpoint in {folder} has format version {state['format_version']}, this "
            f"pico reads version {FORMAT_VERSION}; {_FIX}"
        )
    if state["fingerprint"] != fingerprint:
        raise InvalidInputError(
            f"the checkpoint in {folder} was made with other data or options; resume with "
            "the same input and options, or start a new run"
        )
    if state["store"]["kind"] != store_kind:
        raise InvalidInputError(
            f"the checkpoint in {folder} was made with the {state['store']['kind']} store, "
            f"this run uses the {store_kind}; resume with the same store, or start a new run"
        )
    if not arrays_path.is_file():
        raise damaged_checkpoint(folder, f"{ARRAYS_FILE} is missing")
    data = arrays_path.read_bytes()
    if hashlib.sha256(data).hexdigest() != state["arrays_sha256"]:
        raise damaged_checkpoint(
            folder, f"{ARRAYS_FILE} does not match {STATE_FILE}: its SHA-256 differs (a "
            "half-written or altered pair)"
        )
    arrays = _read_arrays(folder, data)
    given = np.asarray(given, dtype=np.int64)
    t = state["iteration"]
    checked = _check_arrays(folder, arrays, given, n_classes, t)
    store_arrays = {
        name[len(_STORE_PREFIX):]: value for name, value in arrays.items()
        if name.startswith(_STORE_PREFIX)
    }
    return Checkpoint(
        fingerprint=state["fingerprint"],
        iteration=t,
        finished=state["finished"],
        iterations=state["iterations"],
        n_fits=state["n_fits"],
        store_kind=state["store"]["kind"],
        store_meta=state["store"]["meta"],
        store_arrays=store_arrays,
        **checked,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_state(folder: Path, path: Path) -> dict[str, Any]:
    """``state.json``, parsed and its fields' types checked."""
    try:
        state = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise damaged_checkpoint(folder, f"{STATE_FILE} is not UTF-8 text: {e}") from e
    except json.JSONDecodeError as e:
        raise damaged_checkpoint(folder, f"{STATE_FILE} is not JSON: {e}") from e
    except RecursionError as e:
        raise damaged_checkpoint(folder, f"{STATE_FILE} nests too deeply") from e

    def bad(what: str) -> InvalidInputError:
        return damaged_checkpoint(folder, f"{STATE_FILE}: {what}")

    if not isinstance(state, dict):
        raise bad(f"an object expected, found {type(state).__name__}")
    missing = sorted(_STATE_KEYS - set(state))
    if missing:
        raise bad(f"{', '.join(missing)} missing")
    if not _is_int(state["format_version"]):
        raise bad("format_version is not an integer")
    if not isinstance(state["fingerprint"], str):
        raise bad("fingerprint is not a string")
    t = state["iteration"]
    if not _is_int(t) or t < 1:
        raise bad(f"iteration {t!r} is not an integer >= 1")
    if not isinstance(state["finished"], bool):
        raise bad("finished is not true or false")
    if not _is_int(state["n_fits"]) or state["n_fits"] < 0:
        raise bad("n_fits is not an integer >= 0")
    digest = state["arrays_sha256"]
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise bad("arrays_sha256 is not a SHA-256 hex digest")
    store = state["store"]
    if (
        not isinstance(store, dict) or not isinstance(store.get("kind"), str)
        or not isinstance(store.get("meta"), dict)
    ):
        raise bad("store is not {kind: string, meta: object}")
    records = state["iterations"]
    if not isinstance(records, list) or len(records) != t:
        raise bad(f"iterations does not hold one record per iteration ({t})")
    for j, record in enumerate(records, start=1):
        if not isinstance(record, dict) or record.get("iteration") != j:
            raise bad(f"iterations[{j - 1}] is not the record of iteration {j}")
        held = record.get("held_back")
        if not isinstance(held, dict) or not all(_is_int(v) for v in held.values()):
            raise bad(f"iterations[{j - 1}].held_back is not an object of counts")
        rate = record.get("estimated_noise_rate")
        if not isinstance(rate, (int, float)) or isinstance(rate, bool):
            raise bad(f"iterations[{j - 1}].estimated_noise_rate is not a number")
    return state


def _read_arrays(folder: Path, data: bytes) -> dict[str, np.ndarray]:
    """Every member of ``arrays.npz`` (uncompressed .npy files, no objects)."""

    def bad(what: str) -> InvalidInputError:
        return damaged_checkpoint(folder, f"{ARRAYS_FILE}: {what}")

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise bad(f"not a readable .npz archive ({e})") from e
    for info in infos:
        # pico writes the arrays uncompressed: an array is never larger than the file
        if info.compress_type != zipfile.ZIP_STORED:
            raise bad(f"member {info.filename!r} is compressed; pico's checkpoints are not")
        if not info.filename.endswith(".npy"):
            raise bad(f"member {info.filename!r} is not a .npy array")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for name in npz.files:
                arrays[name] = npz[name]
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise bad("an array holds Python objects, which pico never loads") from e
        raise bad(f"an array cannot be read ({e})") from e
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        raise bad(f"an array cannot be read ({e})") from e
    for name, value in arrays.items():
        if value.dtype.kind not in "biuf" or value.dtype.hasobject:
            raise bad(f"{name!r} has dtype {value.dtype}; numbers or booleans expected")
    return arrays


def _check_arrays(
    folder: Path, arrays: dict[str, np.ndarray], given: np.ndarray, k: int, t: int
) -> dict[str, np.ndarray]:
    """The corrector's arrays, checked and converted (codes to int64)."""
    n = len(given)

    def bad(name: str, what: str) -> InvalidInputError:
        return damaged_checkpoint(folder, f"{ARRAYS_FILE}: {name!r} {what}")

    expected = set(_ROW_ARRAYS) | set(_HISTORY_ARRAYS)
    for name in sorted(expected):
        if name not in arrays:
            raise damaged_checkpoint(folder, f"{ARRAYS_FILE}: {name!r} is missing")
    unknown = sorted(a for a in arrays if a not in expected and not a.startswith(_STORE_PREFIX))
    if unknown:
        raise damaged_checkpoint(folder, f"{ARRAYS_FILE}: unexpected array {unknown[0]!r}")
    out: dict[str, np.ndarray] = {}
    for name in ("current", "best", *_HISTORY_ARRAYS):
        value = arrays[name]
        shape = (n,) if name in ("current", "best") else (n, t + 1)
        if value.dtype.kind not in "iu":
            raise bad(name, f"has dtype {value.dtype}; label codes (integers) expected")
        if value.shape != shape:
            raise bad(name, f"has shape {value.shape}; {shape} expected for {n} rows and "
                      f"iteration {t}")
        if value.size and (value.min() < 0 or value.max() >= k):
            raise bad(name, f"holds label codes outside 0..{k - 1}")
        out[name] = value.astype(np.int64)
    for name in _HISTORY_ARRAYS:
        if not np.array_equal(out[name][:, 0], given):
            raise bad(name, "does not start with the given labels")
    if not np.array_equal(out["history"][:, -1], out["current"]):
        raise bad("history", "does not end with the current labels")
    for name in ("expected_changes", "best_p", "given_p"):
        value = arrays[name]
        if value.dtype.kind != "f":
            raise bad(name, f"has dtype {value.dtype}; floats expected")
        if value.shape != (n,):
            raise bad(name, f"has shape {value.shape}; ({n},) expected")
        if not np.all(np.isfinite(value)):
            raise bad(name, "holds NaN or infinite values")
        high = np.inf if name == "expected_changes" else 1.0
        if value.size and (value.min() < 0.0 or value.max() > high):
            what = "negative counts" if name == "expected_changes" else "values outside [0, 1]"
            raise bad(name, f"holds {what}")
        out[name] = value.astype(np.float64)
    held = arrays["held"]
    if held.dtype.kind != "b" or held.shape != (n,):
        raise bad("held", f"has dtype {held.dtype} and shape {held.shape}; ({n},) booleans "
                  "expected")
    out["held"] = held
    return out
