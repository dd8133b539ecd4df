"""The ``pico`` command line: it parses options and prints; :mod:`pico.run` does the work.

Heavy libraries (scikit-learn, pandas) are imported inside the commands, so
``pico --help`` stays fast.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import CHECK_DEFAULTS, DEFAULTS, FILE_DEFAULTS, option_name
from .data.files import ALL_FORMATS
from .exceptions import InvalidInputError, PicoError
from .run import CHECKERS, FEATURES

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

class PicoClickError(click.ClickException):
    """A pico error shown as one line, with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class PicoCommand(click.Command):
    """A command whose ``--help`` lists its options in named sections, then examples.

    Parameters
    ----------
    option_groups : sequence of (title, parameter names)
        The sections, in order; an option no section names goes under "Other options".
    examples : sequence of (what it does, command line)
        Shown after the options, under "Examples".
    """

    def __init__(
        self,
        *args: Any,
        option_groups: tuple[tuple[str, tuple[str, ...]], ...] = (),
        examples: tuple[tuple[str, str], ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.option_groups = option_groups
        self.examples = examples

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.option_groups:
            super().format_options(ctx, formatter)
            return
        records = {}
        help_option = self.get_help_option(ctx)
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and isinstance(param, click.Option):  # DATA: in Usage
                records["help" if param is help_option else param.name] = record
        sections = [
            (title, [records.pop(name) for name in names if name in records])
            for title, names in self.option_groups
        ]
        sections.append(("Other options", list(records.values())))
        for title, rows in sections:
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if self.examples:
            with formatter.section("Examples"):
                for i, (what, line) in enumerate(self.examples):
                    if i:
                        formatter.write_paragraph()
                    formatter.write_text(what + ":")
                    with formatter.indentation():
                        formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class PicoGroup(click.Group):
    """The ``pico`` group: its commands are :class:`PicoCommand` s."""

    command_class = PicoCommand


@click.group(context_settings=CONTEXT_SETTINGS, cls=PicoGroup)
@click.version_option(__version__, prog_name="pico")
def cli() -> None:
    """PICO finds and fixes wrong labels in labeled datasets."""


F = TypeVar("F", bound=Callable[..., Any])


def _pico_errors(command: F) -> F:
    """Show a pico error or a failed read or write as one line, exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PicoError as e:
            raise PicoClickError(str(e)) from e
        except OSError as e:
            raise PicoClickError(_os_error(e)) from e

    return wrapper  # type: ignore[return-value]


def _shown(flag: str, default: Any, kind: Any, help: str) -> Callable[[F], F]:
    """An option of type ``kind`` whose default ``--help`` shows."""
    return click.option(flag, default=default, show_default=True, type=kind, help=help)


def _os_error(error: OSError) -> str:
    """One line for a failed read or write (full disk, read-only folder, ...)."""
    where = f" ({error.filename})" if error.filename else ""
    return (
        f"{error.strerror or error}{where}: nothing was half-written; files written "
        "before are intact. Free space or choose a writable folder, then run again "
        "(a clean continues with --resume RUN_DIR)"
    )


def _input_options(command: Any) -> Any:
    """The options that say how to read DATA (shared by every command that reads it)."""
    for option in reversed([
        click.option(
            "--text-column", default=FILE_DEFAULTS.text_column,
            help="Column holding the text to featurize.",
        ),
        click.option(
            "--label-column", default=FILE_DEFAULTS.label_column, show_default=True,
            help="Column of given labels.",
        ),
        click.option(
            "--feature-columns",
            help="Numeric feature columns instead of text: comma-separated names or "
            "patterns (f*).",
        ),
        click.option(
            "--format",
            "fmt",
            default=FILE_DEFAULTS.format,
            type=click.Choice(ALL_FORMATS),
            help="Input format (default: from the file extension or content; a folder is "
            "Rasa NLU data).",
        ),
        click.option(
            "--language",
            default=FILE_DEFAULTS.language,
            help="Language to check in a multilingual CLU, Dialogflow ES or Lex V2 export "
            "(default: the project's, agent's or only locale's).",
        ),
        click.option(
            "--encoding", default=FILE_DEFAULTS.encoding, show_default=True,
            help="Text encoding of the input.",
        ),
        click.option(
            "--max-text-chars",
            default=DEFAULTS.max_text_chars,
            show_default=True,
            type=click.IntRange(min=0),
            help="Cut longer texts to this many characters before featurizing (a warning "
            "counts them; bounds the memory one row takes); 0: no bound.",
        ),
    ]):
        command = option(command)
    return command


#: ``pico clean --help``: the sections of its options, and its examples.
CLEAN_OPTION_GROUPS = (
    ("Input", ("text_column", "label_column", "feature_columns", "fmt", "language",
               "encoding", "max_text_chars", "pred_probs")),
    ("Correction", ("features", "checker", "branches", "folds", "iterations", "history",
                    "threshold", "odds", "max_class_loss", "protect", "catch_all",
                    "no_catch_all", "min_class_recall", "trigger", "trigger_threshold",
                    "seed")),
    ("Engines", ("jobs", "engine", "ray_address", "cpus_per_checker", "gpus_per_checker",
                 "store", "spark_master")),
    ("Run directory", ("run_dir", "resume", "keep_checkpoints")),
    ("Output", ("output", "quiet", "help")),
)
CLEAN_EXAMPLES = (
    ("Clean a CSV of intents (writes intents.cleaned.csv and a run directory)",
     "pico clean intents.csv --text-column text"),
    ("Name the output; never move a sensitive intent automatically, only to review",
     "pico clean intents.csv --text-column text -o clean.csv --protect report_fraud"),
    ("Vote on your own model's out-of-fold probabilities instead of training checkers",
     "pico clean intents.csv --text-column text --pred-probs probs.npy"),
)


@cli.command(
    "clean", option_groups=CLEAN_OPTION_GROUPS, examples=CLEAN_EXAMPLES
)
@click.argument("data", type=click.Path(path_type=Path), required=False)
@_input_options
@click.option(
    "--pred-probs",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Out-of-fold probabilities made elsewhere, a row per row of DATA: .npy, .npz "
    "(numpy arrays, one per checker, or a scipy sparse top-k matrix) or .parquet (a column "
    "per class, named by it). Nothing is trained: the vote and the review rules run on "
    "them. Columns: the sorted labels unless the file names them.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Cleaned file; its extension sets its format (default: DATA.cleaned, same format).",
)
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path),
    help="Folder for the summary, label history, review list and checkpoints: a new or "
    "empty folder, or an earlier run directory (default: a new pico-runs/NAME-TIME).",
)
@_shown("--seed", DEFAULTS.random_state, int,
        "Seed of all random splits.")
@click.option(
    "--features",
    type=click.Choice(FEATURES),
    default=FILE_DEFAULTS.features,
    show_default=True,
    help="Text features: word and character TF-IDF, or all-MiniLM-L6-v2 sentence "
    "embeddings (offline; pip install 'pico-clean[embeddings]'; cached in the run "
    "directory, reused when the same --run-dir is given again).",
)
@click.option(
    "--checker",
    type=click.Choice(list(CHECKERS)),
    default=FILE_DEFAULTS.checker,
    show_default=True,
    help="Model trained on every split: softmax regression in numpy, or in PyTorch "
    "(all folds of a split as one batched model, CUDA when present; pip install "
    "'pico-clean[torch]'), or a PyTorch MLP.",
)
@click.option(
    "--branches",
    default=DEFAULTS.n_branches,
    type=int,
    help="R random splits per iteration.  [default: 20 / folds: 2 from 1,000 rows, 4 below]",
)
@click.option(
    "--folds",
    default=DEFAULTS.n_folds,
    type=int,
    help="F folds per split.  [default: 10 from 1,000 rows, 5 below]",
)
@_shown("--iterations", DEFAULTS.n_iterations, int,
        "At most T iterations.")
@click.option(
    "--history/--no-history",
    default=DEFAULTS.history,
    show_default=True,
    help="Combine every iteration's evidence with the label-history model (use with "
    "--iterations 2 or more).",
)
@_shown("--threshold", DEFAULTS.relabel_threshold, float,
        "Posterior a new label needs before a row is relabeled.")
@_shown("--odds", DEFAULTS.relabel_odds, float,
        "How many times as probable as the given label a new label must also be "
        "(1: no such rule).")
@_shown("--max-class-loss", DEFAULTS.max_class_loss, float,
        "Most of a class's rows that may move to other classes in one iteration; the "
        "weakest moves beyond it go to review.")
@click.option(
    "--protect",
    help="Comma-separated labels whose rows are never moved automatically, only sent "
    "to review (for example report_fraud,cancel_account).",
)
@click.option(
    "--catch-all",
    help="Comma-separated catch-all (out-of-scope) labels: a move into or out of them needs "
    "confidence odds/(1+odds) (0.875), others go to review.  [default: labels named like "
    "one: oos, out_of_scope, nlu_fallback, None, NO_NODES_DETECTED, ...]",
)
@click.option(
    "--no-catch-all", is_flag=True, help="Treat no label as a catch-all (not even by name)."
)
@_shown("--min-class-recall", DEFAULTS.min_class_recall, click.FloatRange(0, 1),
        "Moves out of a class whose own rows the checkers recognise less often than this "
        "go to review (a few rows, or heterogeneous ones); 0: off.")
@click.option(
    "--trigger",
    is_flag=True,
    help="Run `pico check` first: clean nothing when the estimated noise is not above "
    "--trigger-threshold, only the suspicious classes when the noise sits in a few.",
)
@_shown("--trigger-threshold", DEFAULTS.trigger_threshold, float,
        "Estimated noise rate above which --trigger lets the clean run.")
@_shown("--jobs", DEFAULTS.n_jobs, int,
        "Worker processes (-1: all cores, the fastest on the engines benchmark); with "
        "--engine ray, above 1 caps the local Ray runtime's CPUs.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default=DEFAULTS.engine,
    show_default=True,
    help="Where checkers train: local processes, or Ray tasks (pip install "
    "'pico-clean[ray]'; starts a local Ray runtime unless --ray-address is given).",
)
@click.option("--ray-address", help="Address of an existing Ray cluster (with --engine ray).")
@_shown("--cpus-per-checker", DEFAULTS.cpus_per_checker, float,
        "CPUs each checker fit asks Ray for.")
@_shown("--gpus-per-checker", DEFAULTS.gpus_per_checker, float,
        "GPUs each checker fit asks Ray for (fractions share a GPU).")
@click.option(
    "--store",
    type=click.Choice(["memory", "spark"]),
    default=DEFAULTS.store,
    show_default=True,
    help="Where soft predictions live: memory, or Parquet in the run directory read by "
    "Spark (needs Java 17+ and pip install 'pico-clean[spark]'; local[*] unless "
    "--spark-master).",
)
@click.option("--spark-master", help="Spark master URL (with --store spark).")
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    help="Continue the run in this run directory after its last finished iteration "
    "(same input and options; DATA and the options may be left out).",
)
@click.option(
    "--keep-checkpoints",
    is_flag=True,
    help="Keep the run directory's checkpoints/ after a successful run (they are removed "
    "by default; a killed run keeps them for --resume).",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@click.pass_context
@_pico_errors
def clean_command(ctx: click.Context, /, **options: Any) -> None:
    """Correct the labels of DATA and write every row back with pico's columns.

    The output holds every input row and column unchanged and in order, plus
    pico_label (the corrected label), pico_confidence (the probability that it is
    right, 0..1) and pico_status (kept, relabeled, review or skipped). The input is
    never modified.
    Each finished iteration is checkpointed in the run directory: a killed run
    continues with `pico clean --resume RUN_DIR`.
    """
    resume, quiet = options.pop("resume"), options.pop("quiet")
    logging.basicConfig(level=logging.ERROR if quiet else logging.INFO, format="pico: %(message)s")
    progress = None if quiet else Progress(tty=sys.stderr.isatty())
    arguments = _run_arguments(options)
    from .run import clean_to_directory, resume_in_directory

    if resume is not None:
        given = {
            _RUN_NAMES.get(name, option_name(name)) for name in options
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        }
        outcome = resume_in_directory(
            resume, progress=progress, **{k: v for k, v in arguments.items() if k in given}
        )
    elif arguments["data"] is None:
        raise InvalidInputError("pass the DATA file to clean (or --resume RUN_DIR)")
    else:
        outcome = clean_to_directory(**arguments, progress=progress)
    if quiet:
        return
    from .report import format_summary

    if "trigger" in outcome.summary:
        click.echo(_trigger_line(outcome.summary["trigger"]), err=True)
    click.echo(format_summary(outcome.summary, output=str(outcome.output)), err=True)
    n = outcome.review_rows
    click.echo(f"  run directory: {outcome.run.path}{os.sep} ({n} "
               f"{'row' if n == 1 else 'rows'} to review in review.csv; decide "
               "them with `pico review RUN_DIR`, or fill review.csv and run `pico "
               "apply`)", err=True)


#: ``pico clean`` parameters whose :func:`pico.run.clean_to_directory` option is not
#: their :func:`pico.config.option_name`.
_RUN_NAMES = {"fmt": "format", "no_catch_all": "catch_all"}


def _run_arguments(values: dict[str, Any]) -> dict[str, Any]:
    """``pico clean``'s parsed values as :func:`pico.run.clean_to_directory`'s arguments.

    The command line spells a few options its own way (``--threshold`` is
    ``relabel_threshold``: :func:`pico.config.option_name`); comma-separated label
    lists become lists, ``--no-catch-all`` is ``catch_all=None`` and
    ``--max-text-chars 0`` is no bound.
    """
    out = {
        _RUN_NAMES.get(name, option_name(name)): value
        for name, value in values.items() if name != "no_catch_all"
    }
    out["protect"] = _names(values["protect"])
    out["catch_all"] = None if values["no_catch_all"] else _names(values["catch_all"]) or "auto"
    out["max_text_chars"] = values["max_text_chars"] or None
    return out


def _names(value: str | None) -> list[str] | None:
    """A comma-separated option as a list of names (None when not given)."""
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()] or None


@cli.command("report", examples=(
    ("Write RUN_DIR/report.html", "pico report pico-runs/intents-20261121-101500"),
    ("Write it elsewhere", "pico report pico-runs/intents-20261121-101500 -o report.html"),
))
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="HTML file to write (default: RUN_DIR/report.html).")
@click.option("--encoding", help="Text encoding of the run's input (default: the run's own).")
@_pico_errors
def report_command(run_dir: Path, output: Path | None, encoding: str | None) -> None:
    """Write a self-contained HTML report of the run in RUN_DIR.

    The noise matrix as a heat map, the changes per intent, the iteration curve, the
    confidence histogram and the changed utterances grouped by (from -> to). It needs
    no network to view.
    """
    from .html_report import write_report

    path = write_report(run_dir, output, encoding=encoding)
    click.echo(f"pico report: wrote {path}", err=True)


@cli.command("apply", examples=(
    ("Merge a filled review.csv",
     "pico apply pico-runs/intents-20261121-101500 reviewed.csv"),
    ("Merge a Label Studio JSON export",
     "pico apply pico-runs/intents-20261121-101500 label-studio-export.json"),
))
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("review", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the updated dataset (default: the run's cleaned output, replaced "
    "atomically).",
)
@click.option(
    "--allow-new-intents",
    is_flag=True,
    help="Let a decision create an intent the data does not have (by default such a "
    "decision, a typo for instance, is refused and nothing is applied).",
)
@_pico_errors
def apply_command(
    run_dir: Path, review: Path, output: Path | None, allow_new_intents: bool
) -> None:
    """Merge a person's decisions from REVIEW into a run's output.

    REVIEW is a filled review.csv (or TSV, JSON Lines, Parquet) or a Label Studio JSON
    export of the tasks `pico review --export-label-studio` wrote. In the decision
    column: accept (take the suggested label), reject (keep the given label), an
    existing intent, or nothing (skipped, and counted). A decision naming an intent the
    data does not have is refused with the closest names, unless --allow-new-intents.
    Decided rows get status reviewed; the given labels stay in the input's label column
    and in history.csv; the decisions are appended to decisions.csv in RUN_DIR, and
    RUN_DIR/report.html is redrawn when there is one.
    """
    from .decisions import apply_review

    done = apply_review(run_dir, review, output=output, allow_new_intents=allow_new_intents)
    click.echo(_applied_line(done), err=True)


def _applied_line(done: Any) -> str:
    """One line about an apply (:class:`pico.decisions.ApplyResult`)."""
    parts = [
        f"{done.decided} {'decision' if done.decided == 1 else 'decisions'} merged "
        f"({done.changed} {'label' if done.changed == 1 else 'labels'} changed"
        + (f"; {done.repeated} already applied before, not logged again" if done.repeated
           else "") + ")"
    ]
    if done.blank:
        parts.append(f"{done.blank} {'row' if done.blank == 1 else 'rows'} without a "
                     "decision skipped")
    if done.new_intents:
        parts.append(f"new {'intent' if len(done.new_intents) == 1 else 'intents'}: "
                     + ", ".join(done.new_intents))
    parts.append(f"wrote {done.output}")
    if done.report is not None:
        parts.append(f"redrew {done.report}")
    return "pico apply: " + "; ".join(parts)


@cli.command("review", examples=(
    ("Review in a local page (opens the browser)",
     "pico review pico-runs/intents-20261121-101500"),
    ("Export the rows to review as Label Studio tasks",
     "pico review pico-runs/intents-20261121-101500 --export-label-studio tasks.json"),
))
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--port", default=0, type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (default: a free one).",
)
@click.option("--no-browser", is_flag=True, help="Print the page's address; open no browser.")
@click.option(
    "--allow-new-intents",
    is_flag=True,
    help="Let a decision create an intent the data does not have.",
)
@click.option(
    "--export-label-studio",
    type=click.Path(path_type=Path),
    help="Write the rows to review as Label Studio tasks (JSON) to this file, and the "
    "labeling config next to it (NAME.config.xml), instead of serving the page.",
)
@_pico_errors
def review_command(
    run_dir: Path, port: int, no_browser: bool, allow_new_intents: bool,
    export_label_studio: Path | None,
) -> None:
    """Review the uncertain rows of the run in RUN_DIR in a local page.

    The page (served on 127.0.0.1 only, nothing from the network) lists the rows left
    to review, then the changes from the least confident up, each with the most similar
    examples of both intents. Keys: a accept, r reject, e (or start typing) another
    intent, Enter save, j/k next/previous. Every decision is saved at once, as
    `pico apply` would: review.csv's decision column, decisions.csv and the cleaned
    output. Stop with Ctrl+C.
    """
    if export_label_studio is not None:
        from .decisions import export_label_studio as export

        tasks, config = export(run_dir, export_label_studio)
        click.echo(f"pico review: wrote {tasks} (tasks) and {config} (labeling config); "
                   f"apply Label Studio's JSON export with `pico apply {run_dir} "
                   "EXPORT.json`", err=True)
        return
    from .review_server import serve

    server = serve(run_dir, port=port, allow_new_intents=allow_new_intents)
    click.echo(f"pico review: {server.url} (Ctrl+C to stop)", err=True)
    if not no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


class Progress:
    """Progress of a clean on stderr: each checker with an ETA.

    On a terminal one line is rewritten in place; otherwise (a log file, a pipe) a line
    goes through the ``pico.progress`` logger at every quarter of an iteration's fits.
    Each finished iteration is logged by ``pico.corrector``; ``--quiet`` shows errors
    only.
    """

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.log = logging.getLogger("pico.progress")
        self.started: dict[int, float] = {}
        self.quarter: dict[int, int] = {}

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        import time

        if event == "start":
            self.started[info["iteration"]] = time.perf_counter()
        elif event == "checker":
            t, done, total = info["iteration"], info["done"], info["total"]
            now = time.perf_counter()
            elapsed = now - self.started.setdefault(t, now)
            eta = elapsed / max(done, 1) * (total - done)
            line = (f"iteration {t}: checker {done}/{total}, {elapsed:.0f} s, "
                    f"about {eta:.0f} s left")
            if self.tty:
                click.echo(f"\r  {line}   ", nl=False, err=True)
            elif 4 * done // max(total, 1) > self.quarter.get(t, 0):
                self.quarter[t] = 4 * done // max(total, 1)
                self.log.info(line)
        elif event == "iteration" and self.tty:  # pico.corrector logs the iteration
            click.echo("\r" + " " * 70 + "\r", nl=False, err=True)


def _trigger_line(found: dict[str, Any]) -> str:
    rec = found["recommendation"]
    what = (
        "nothing cleaned" if not rec["clean"]
        else "cleaned every class" if rec["everything"]
        else f"cleaned {found['rows_cleaned']} rows of {len(rec['focus'])} classes"
    )
    return f"  trigger: {rec['reason']}; {what}"


#: ``pico check --help``: the sections of its options, and its examples.
CHECK_OPTION_GROUPS = (
    ("Input", ("text_column", "label_column", "feature_columns", "fmt", "language",
               "encoding", "max_text_chars", "reference", "reference_label_column")),
    ("Check", ("sample", "folds", "seed", "jobs", "noise_threshold", "catch_all",
               "no_catch_all")),
    ("Output", ("as_json", "max_noise", "help")),
)
CHECK_EXAMPLES = (
    ("Fail a pipeline when more than 5% of the labels look wrong",
     "pico check intents.csv --text-column text --max-noise 0.05"),
    ("Check a new batch against an already-cleaned dataset",
     "pico check new-batch.csv --text-column text --reference intents.cleaned.csv"),
    ("The full result, with the most suspicious rows, as JSON",
     "pico check intents.csv --text-column text --json > check.json"),
)


@cli.command(
    "check", option_groups=CHECK_OPTION_GROUPS, examples=CHECK_EXAMPLES
)
@click.argument("data", type=click.Path(path_type=Path))
@_input_options
@click.option(
    "--reference",
    type=click.Path(path_type=Path),
    help="An already-cleaned file with the same columns: check only DATA's rows against it.",
)
@click.option(
    "--reference-label-column",
    help="Labels of the reference (default: pico_label when it has one, else --label-column).",
)
@click.option(
    "--max-noise",
    type=float,
    help="Exit with status 1 when the estimated noise rate is above this (for pipelines).",
)
@_shown("--noise-threshold", CHECK_DEFAULTS.noise_threshold, float,
        "Estimated noise rate above which cleaning is recommended.")
@_shown("--sample", CHECK_DEFAULTS.max_rows, int,
        "Check a random sample of this many rows of a bigger dataset.")
@_shown("--folds", CHECK_DEFAULTS.n_folds, int,
        "Folds of the one split.")
@_shown("--seed", CHECK_DEFAULTS.random_state, int,
        "Seed of the split and sample.")
@_shown("--jobs", CHECK_DEFAULTS.n_jobs, int,
        "Worker threads (-1: all cores).")
@click.option(
    "--catch-all",
    help="Comma-separated catch-all (out-of-scope) labels, counted at the rate of the other "
    "rows.  [default: labels named like one: oos, out_of_scope, nlu_fallback, None, "
    "NO_NODES_DETECTED, ...]",
)
@click.option(
    "--no-catch-all", is_flag=True, help="Treat no label as a catch-all (not even by name)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON on stdout.")
@_pico_errors
def check_command(
    data: Path, max_noise: float | None, as_json: bool, catch_all: str | None,
    no_catch_all: bool, **options: Any,
) -> None:
    """Estimate how many labels of DATA are wrong, where, and whether to clean.

    Light text features, one quick split and two cheap checkers per fold (softmax and
    class centroids): a small part of the cost of `pico clean`. Prints the estimated
    noise rate with a 95% interval, the classes ranked by estimated noise, the most
    confused class pairs, look-alike pairs (part of a class labeled as another; with
    them an upper estimate), collapsed pairs (most of a class labeled as another;
    counted in the estimate), identical texts with conflicting labels and a
    recommendation.
    """
    import json

    from .report import format_check
    from .run import check_file

    arguments = {_CHECK_NAMES.get(name, name): value for name, value in options.items()}
    arguments["max_text_chars"] = options["max_text_chars"] or None
    arguments["catch_all"] = None if no_catch_all else _names(catch_all) or "auto"
    found = check_file(data, **arguments)
    if as_json:
        click.echo(json.dumps(found.summary, indent=1, ensure_ascii=False, default=str))
    else:
        click.echo(format_check(found.summary))
    if max_noise is not None and found.noise_rate > max_noise:
        click.echo(
            f"pico check: estimated noise {100 * found.noise_rate:.1f}% is above --max-noise "
            f"{100 * max_noise:g}%",
            err=True,
        )
        raise SystemExit(1)


#: ``pico check`` parameters and the :func:`pico.run.check_file` options they set,
#: where the names differ.
_CHECK_NAMES = {
    "fmt": "format", "folds": "n_folds", "sample": "max_rows", "seed": "random_state",
    "jobs": "n_jobs",
}


def main() -> None:  # pragma: no cover - console entry
    """Entry point for ``python -m pico``."""
    cli(prog_name="pico")


if __name__ == "__main__":  # pragma: no cover
    main()
