"""Loaders for the shared public intent datasets (CLINC150, BANKING77 and HINT3).

The datasets live outside the repository, in ``<repo>/../shared/datasets`` by
default; set the ``PICO_DATASETS`` environment variable to point elsewhere. They
are read in place and never copied into the repository (see each folder's
``README.md`` for source and license).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = [
    "BANKING77_TOPICS",
    "HINT3_BOTS",
    "HINT3_CATCH_ALL",
    "SHARED_DATASETS",
    "banking77_topic",
    "clinc150_oos_available",
    "datasets_available",
    "hint3_available",
    "load_banking77",
    "load_clinc150",
    "load_clinc150_oos",
    "load_hint3",
]

#: Default folder that holds ``clinc150/``, ``banking77/`` and ``hint3/``:
#: ``$PICO_DATASETS`` if set, else ``shared/datasets`` next to the repository.
SHARED_DATASETS = Path(
    os.environ.get("PICO_DATASETS")
    or Path(__file__).resolve().parents[2] / "shared" / "datasets"
)

_SPLITS = {
    "clinc150": ("train", "valid", "test"),
    "banking77": ("train", "test"),
}


def _root(root: str | os.PathLike[str] | None) -> Path:
    if root is not None:
        return Path(root)
    env = os.environ.get("PICO_DATASETS")
    return Path(env) if env else SHARED_DATASETS


def _folder(name: str, root: str | os.PathLike[str] | None) -> Path:
    if name not in _SPLITS:
        raise ValueError(
            f"The 'name' parameter must be one of {sorted(_SPLITS)}. Got {name!r} instead."
        )
    return _root(root) / name


def _csv(name: str, split: str, root: str | os.PathLike[str] | None) -> Path:
    if split not in _SPLITS[name]:
        raise ValueError(
            f"The 'split' parameter of load_{name} must be one of {list(_SPLITS[name])}. "
            f"Got {split!r} instead."
        )
    folder = _folder(name, root)
    path = folder / f"{split}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} not found: looked for {path}. Pass root=... or set the PICO_DATASETS "
            f"environment variable to the folder that holds '{name}/'."
        )
    return path


def _read(path: Path) -> pd.DataFrame:
    # keep_default_na=False: utterances such as "null" or "NA" must stay text.
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def load_clinc150(
    split: str = "train", *, root: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Load one split of CLINC150 (in-scope intents only).

    Parameters
    ----------
    split : {"train", "valid", "test"}, default "train"
        Which split to read.
    root : path, optional
        Folder that holds ``clinc150/``. Defaults to ``$PICO_DATASETS`` or
        :data:`SHARED_DATASETS`.

    Returns
    -------
    DataFrame
        Columns ``text``, ``label`` (one of 150 intents) and ``domain`` (one of
        10 domains, from ``domains.csv``), in file order.

    Raises
    ------
    FileNotFoundError
        When the dataset folder or the split file is missing.
    """
    path = _csv("clinc150", split, root)
    frame = _read(path)
    domains_path = path.parent / "domains.csv"
    if not domains_path.is_file():
        raise FileNotFoundError(
            f"clinc150 domains not found: looked for {domains_path}. Pass root=... or set the "
            f"PICO_DATASETS environment variable to the folder that holds 'clinc150/'."
        )
    domains = _read(domains_path).set_index("intent")["domain"]
    frame["domain"] = frame["label"].map(domains)
    missing = frame.loc[frame["domain"].isna(), "label"].unique()
    if missing.size:
        raise ValueError(f"{domains_path} has no domain for the labels {sorted(missing)[:5]}.")
    return frame[["text", "label", "domain"]]


def load_banking77(
    split: str = "train", *, root: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Load one split of BANKING77.

    Parameters
    ----------
    split : {"train", "test"}, default "train"
        Which split to read (BANKING77 has no validation split).
    root : path, optional
        Folder that holds ``banking77/``. Defaults to ``$PICO_DATASETS`` or
        :data:`SHARED_DATASETS`.

    Returns
    -------
    DataFrame
        Columns ``text`` and ``label`` (one of 77 intents), in file order.

    Raises
    ------
    FileNotFoundError
        When the dataset folder or the split file is missing.
    """
    return _read(_csv("banking77", split, root))[["text", "label"]]


def datasets_available(name: str, root: str | os.PathLike[str] | None = None) -> bool:
    """Whether the shared dataset ``name`` ("clinc150" or "banking77") can be loaded.

    True when every split file of the dataset exists under ``root`` (default:
    ``$PICO_DATASETS`` or :data:`SHARED_DATASETS`).
    """
    folder = _folder(name, root)
    return all((folder / f"{split}.csv").is_file() for split in _SPLITS[name])


def _oos_csv(root: str | os.PathLike[str] | None) -> Path:
    return _root(root) / "clinc150" / "oos.csv"


def clinc150_oos_available(root: str | os.PathLike[str] | None = None) -> bool:
    """Whether CLINC150's out-of-scope rows (``clinc150/oos.csv``) can be loaded."""
    return _oos_csv(root).is_file()


def load_clinc150_oos(*, root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load CLINC150's out-of-scope utterances (every split, one label).

    Parameters
    ----------
    root : path, optional
        Folder that holds ``clinc150/``. Defaults to ``$PICO_DATASETS`` or
        :data:`SHARED_DATASETS`.

    Returns
    -------
    DataFrame
        Columns ``text``, ``label`` (``oos`` on every row) and ``split`` (the
        oos-eval split the row comes from: ``train`` 100 rows, ``valid`` 100,
        ``test`` 1,000), in file order.

    Raises
    ------
    FileNotFoundError
        When ``clinc150/oos.csv`` is missing.
    """
    path = _oos_csv(root)
    if not path.is_file():
        raise FileNotFoundError(
            f"clinc150 out-of-scope rows not found: looked for {path}. Pass root=... or set "
            f"the PICO_DATASETS environment variable to the folder that holds 'clinc150/'."
        )
    return _read(path)[["text", "label", "split"]]


#: The HINT3 bots in ``hint3/`` (each ``<bot>/train.csv`` and ``<bot>/test.csv``).
HINT3_BOTS = ("curekart", "sofmattress")
#: HINT3's out-of-scope (catch-all) label.
HINT3_CATCH_ALL = "NO_NODES_DETECTED"
_HINT3_COLUMNS = ["text", "noisy_label", "clean_label"]


def _hint3_bot(bot: str) -> str:
    if bot not in HINT3_BOTS:
        raise ValueError(
            f"The 'bot' parameter of load_hint3 must be one of {list(HINT3_BOTS)}. "
            f"Got {bot!r} instead."
        )
    return bot


def hint3_available(
    bot: str | None = None, root: str | os.PathLike[str] | None = None
) -> bool:
    """Whether HINT3 ``bot`` (default: every bot) can be loaded from ``root``."""
    bots = HINT3_BOTS if bot is None else (_hint3_bot(bot),)
    folder = _root(root) / "hint3"
    return all((folder / b / f"{split}.csv").is_file() for b in bots for split in ("train", "test"))


def load_hint3(bot: str, *, root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load one HINT3 bot: real label mistakes with their corrections.

    The train and test files are concatenated (train first, each in file order):
    the bot is cleaned as one dataset. ``noisy_label`` is the label the rows were
    published with (HINT3 v1), the input of a cleaner; ``clean_label`` the corrected
    one (v2), the truth. ``NO_NODES_DETECTED`` (:data:`HINT3_CATCH_ALL`) is the
    out-of-scope label. The files are ODbL: they are read in place, never copied.

    Parameters
    ----------
    bot : {"curekart", "sofmattress"}
        Which bot.
    root : path, optional
        Folder that holds ``hint3/``. Defaults to ``$PICO_DATASETS`` or
        :data:`SHARED_DATASETS`.

    Returns
    -------
    DataFrame
        Columns ``text``, ``noisy_label``, ``clean_label`` and ``split`` (``train`` or
        ``test``: the file the row comes from), index 0..N-1.

    Raises
    ------
    FileNotFoundError
        When the bot's folder or one of its files is missing.
    ValueError
        When a file lacks one of the columns ``text,noisy_label,clean_label``.
    """
    folder = _root(root) / "hint3" / _hint3_bot(bot)
    parts = []
    for split in ("train", "test"):
        path = folder / f"{split}.csv"
        if not path.is_file():
            raise FileNotFoundError(
                f"hint3 {bot} not found: looked for {path}. Pass root=... or set the "
                f"PICO_DATASETS environment variable to the folder that holds 'hint3/'."
            )
        frame = _read(path)
        missing = [c for c in _HINT3_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path} lacks the columns {missing}; expected {_HINT3_COLUMNS}.")
        parts.append(frame[_HINT3_COLUMNS].assign(split=split))
    return pd.concat(parts, ignore_index=True)


#: Topic of a BANKING77 intent, by the first keyword its name contains. BANKING77 has
#: no domains; these topics play the part of CLINC150's domains for within-group noise.
BANKING77_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("top_up", ("top_up", "topping_up")),
    ("transfer", ("transfer", "beneficiary", "receiving_money")),
    ("cash", ("cash", "atm", "cheque")),
    ("exchange", ("exchange", "currenc", "fiat")),
    (
        "security",
        ("verify", "identity", "pin", "passcode", "personal_details", "compromised",
         "lost_or_stolen", "terminate", "age_limit", "country_support"),
    ),
    ("card", ("card", "apple_pay", "contactless", "visa")),
    ("payment", ("payment", "charge", "refund", "statement", "direct_debit", "transaction")),
)


def banking77_topic(intent: str) -> str:
    """Topic group of a BANKING77 intent name (``"other"`` when no keyword matches).

    Examples
    --------
    >>> banking77_topic("top_up_by_card_charge"), banking77_topic("card_arrival")
    ('top_up', 'card')
    """
    name = intent.lower()
    for topic, keywords in BANKING77_TOPICS:
        if any(k in name for k in keywords):
            return topic
    return "other"
