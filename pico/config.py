"""The options of every entry point and their defaults, each written once.

:class:`CleanOptions` holds the options of :func:`pico.clean` (and so of
:class:`pico.Cleaner`, :class:`pico.IterativeCorrector` and ``pico clean``), in groups;
:class:`CheckOptions` those of :func:`pico.check`. This module imports nothing heavy, so the command line can read its defaults without
loading numpy or pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "CATCH_ALL_NAMES",
    "CHECK_DEFAULTS",
    "DEFAULTS",
    "FILE_DEFAULTS",
    "GROUPS",
    "MAX_TEXT_CHARS",
    "MIN_CLASS_RECALL",
    "NOISE_THRESHOLD",
    "TOP_K",
    "TRAINING_OPTIONS",
    "CheckOptions",
    "CleanOptions",
    "FileOptions",
    "cli_name",
    "option_name",
]

#: Default longest text featurized, in characters. The default featurizer's character
#: n-grams take about 180 bytes of memory per character of a text (docs/limits.md), so a
#: pasted transcript of 50 MB in one cell would need 9 GB; 10,000 characters (a few
#: pages, far beyond any utterance) bound one row at about 2 MB.
MAX_TEXT_CHARS = 10_000

#: Labels read as a catch-all (out-of-scope) intent by ``catch_all="auto"``, compared
#: after case folding and dropping everything but letters and digits (so ``OOS``,
#: ``out_of_scope``, ``Out-of-scope`` and ``NO_NODES_DETECTED`` all match). They are
#: the names chatbot platforms and public intent datasets give it: Rasa's
#: ``nlu_fallback``, LUIS/CLU's ``None``, Dialogflow's ``Default Fallback Intent``,
#: CLINC150's ``oos``, HINT3's ``NO_NODES_DETECTED``.
CATCH_ALL_NAMES = frozenset({
    "oos", "outofscope", "outofdomain", "nonodesdetected", "nlufallback", "fallback",
    "defaultfallbackintent", "none", "nointent", "other", "others", "unknown",
})

#: A move out of a class is left to review when the checkers recognise fewer than this
#: share of the class's own rows (held-out top-1 agreement with the labels they trained
#: on): their evidence against such a class (a few rows, or a heterogeneous one) is
#: weak. One half: the checkers are right about the class less often than not.
MIN_CLASS_RECALL = 0.5

#: Estimated noise rate above which :func:`pico.check` recommends cleaning, and above
#: which ``clean(trigger=True)`` lets the clean run (the trigger is the check).
NOISE_THRESHOLD = 0.03

#: Probabilities kept per row and checker (the prediction store's top-k), in a clean
#: and in a check.
TOP_K = 20


def _meta(group: str, cli: str | None = None) -> dict[str, Any]:
    """A :class:`CleanOptions` field's metadata: its group and its command-line name."""
    return {"group": group, "cli": cli}


@dataclass(frozen=True)
class CleanOptions:
    """Every option of :func:`pico.clean`, each with its one default.

    :func:`pico.clean`, :class:`pico.Cleaner`, :class:`pico.IterativeCorrector` and
    ``pico clean`` take their defaults from here; ``clean`` builds one of these and
    hands it on (to the trigger's check and to the clean behind it) whole. The fields
    come in groups (:data:`GROUPS`): the correction itself, where checkers train, where
    predictions live, how inputs are read, the trigger, and the run (checkpoints,
    progress). A field's ``cli`` metadata is the ``pico clean`` option's name where it
    differs (``relabel_threshold`` is ``--threshold``).

    Examples
    --------
    >>> options = CleanOptions(relabel_threshold=0.8)
    >>> options.relabel_threshold, options.relabel_odds
    (0.8, 7.0)
    >>> sorted(options.group("trigger"))
    ['trigger', 'trigger_threshold']
    >>> cli_name("relabel_threshold"), cli_name("history")
    ('threshold', 'history')
    """

    # The correction: how checkers are split and how the vote's posterior is read.
    n_branches: int | None = field(default=None, metadata=_meta("correction", "branches"))
    n_folds: int | None = field(default=None, metadata=_meta("correction", "folds"))
    n_iterations: int = field(default=3, metadata=_meta("correction", "iterations"))
    relabel_threshold: float = field(default=0.6, metadata=_meta("correction", "threshold"))
    relabel_odds: float = field(default=7.0, metadata=_meta("correction", "odds"))
    training_odds: float = field(default=1.0, metadata=_meta("correction"))
    review_threshold: float = field(default=0.5, metadata=_meta("correction"))
    top_k: int = field(default=TOP_K, metadata=_meta("correction"))
    max_class_loss: float = field(default=0.5, metadata=_meta("correction"))
    history: bool = field(default=True, metadata=_meta("correction"))
    confidence_scale: float = field(default=0.7, metadata=_meta("correction"))
    protect: Sequence[Any] | None = field(default=None, metadata=_meta("correction"))
    catch_all: Any = field(default="auto", metadata=_meta("correction"))
    min_class_recall: float = field(default=MIN_CLASS_RECALL, metadata=_meta("correction"))
    random_state: int | None = field(default=0, metadata=_meta("correction", "seed"))
    # Engines: what trains on every split, and where.
    checker: Any = field(default=None, metadata=_meta("engine"))
    n_jobs: int = field(default=-1, metadata=_meta("engine", "jobs"))
    engine: str = field(default="local", metadata=_meta("engine"))
    ray_address: str | None = field(default=None, metadata=_meta("engine"))
    cpus_per_checker: float = field(default=1.0, metadata=_meta("engine"))
    gpus_per_checker: float = field(default=0.0, metadata=_meta("engine"))
    # The prediction store.
    store: str = field(default="memory", metadata=_meta("store"))
    spark_master: str | None = field(default=None, metadata=_meta("store"))
    store_dir: str | None = field(default=None, metadata=_meta("store"))
    # Inputs: how rows become features.
    featurizer: Any = field(default=None, metadata=_meta("input"))
    merge_duplicates: bool = field(default=True, metadata=_meta("input"))
    max_text_chars: int | None = field(default=MAX_TEXT_CHARS, metadata=_meta("input"))
    # The trigger: a check first.
    trigger: bool = field(default=False, metadata=_meta("trigger"))
    trigger_threshold: float = field(default=NOISE_THRESHOLD, metadata=_meta("trigger"))
    # The run: checkpoints and progress.
    checkpoint_dir: str | None = field(default=None, metadata=_meta("run"))
    resume: bool = field(default=False, metadata=_meta("run"))
    progress: Any = field(default=None, metadata=_meta("run"))

    def group(self, name: str) -> dict[str, Any]:
        """The options of one group (:data:`GROUPS`), by name, in their order."""
        if name not in GROUPS:
            raise ValueError(f"unknown group {name!r}; the groups are {', '.join(GROUPS)}")
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.metadata["group"] == name}

    def to_dict(self) -> dict[str, Any]:
        """Every option by name, in the order of the fields (shallow: values as they are)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The groups of :class:`CleanOptions`, in order.
GROUPS = ("correction", "engine", "store", "input", "trigger", "run")

#: The defaults of :func:`pico.clean`; ``DEFAULTS.relabel_threshold`` is the one 0.6.
DEFAULTS = CleanOptions()

#: Options that set how checkers are trained: :func:`pico.clean` refuses them (other
#: than at their defaults) with ``pred_probs``, where nothing is trained.
TRAINING_OPTIONS = (
    "checker", "featurizer", "n_branches", "n_folds", "engine", "ray_address", "store",
    "spark_master", "store_dir", "trigger", "checkpoint_dir", "resume",
)


def cli_name(option: str) -> str:
    """The ``pico clean`` name (as the click parameter) of the :func:`pico.clean` option."""
    return _CLI_NAMES.get(option, option)


def option_name(cli: str) -> str:
    """The :func:`pico.clean` option of a ``pico clean`` parameter name (the inverse)."""
    return _OPTION_NAMES.get(cli, cli)


_CLI_NAMES: dict[str, str] = {
    f.name: f.metadata["cli"] for f in fields(CleanOptions) if f.metadata["cli"]
}
_OPTION_NAMES = {cli: name for name, cli in _CLI_NAMES.items()}


@dataclass(frozen=True)
class CheckOptions:
    """The defaults of :func:`pico.check` (and ``pico check``), each written once.

    ``top_k``, ``merge_duplicates``, ``max_text_chars`` and ``catch_all`` are a
    clean's own defaults; ``noise_threshold`` is the trigger's.
    """

    n_folds: int = 2
    max_rows: int | None = 20000
    noise_threshold: float = NOISE_THRESHOLD
    top_k: int = DEFAULTS.top_k
    merge_duplicates: bool = DEFAULTS.merge_duplicates
    centroid: bool = True
    n_jobs: int = DEFAULTS.n_jobs
    random_state: int | None = DEFAULTS.random_state
    max_text_chars: int | None = DEFAULTS.max_text_chars
    catch_all: Any = DEFAULTS.catch_all


#: The defaults of :func:`pico.check`.
CHECK_DEFAULTS = CheckOptions()


@dataclass(frozen=True)
class FileOptions:
    """What a run reads and writes: the options of ``pico clean`` beside :class:`CleanOptions`.

    :func:`pico.run.clean_to_directory` and ``pico clean`` take their defaults from
    here (``pico check`` those that say how to read the input).
    """

    text_column: str | None = None
    label_column: str = "label"
    feature_columns: str | None = None
    format: str | None = None
    encoding: str = "utf-8"
    language: str | None = None
    pred_probs: str | None = None
    features: str = "tfidf"
    checker: str = "softmax"
    output: str | None = None
    run_dir: str | None = None
    keep_checkpoints: bool = False


#: The defaults of :func:`pico.run.clean_to_directory` and ``pico clean``'s file options.
FILE_DEFAULTS = FileOptions()
