"""The ``pico`` command line: a thin layer over :mod:`pico.api`.

Heavy libraries (scikit-learn, pandas) are imported inside the commands, so
``pico --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import MAX_TEXT_CHARS, MIN_CLASS_RECALL
from .exceptions import InvalidInputError, PicoError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

#: ``--checker`` names and the checkers they build.
CHECKERS = {
    "softmax": ("pico.checkers.linear", "SoftmaxRegression", {}),
    "torch-softmax": ("pico.checkers.torch", "TorchChecker", {}),
    "torch-mlp": ("pico.checkers.torch", "TorchChecker", {"hidden": 256}),
}


def _make_checker(name: str) -> Any:
    import importlib

    module, cls, params = CHECKERS[name]
    return getattr(importlib.import_module(module), cls)(**params)


#: Columns pico adds to the output.
OUTPUT_COLUMNS = ("pico_label", "pico_confidence", "pico_status")


class PicoClickError(click.ClickException):
    """A pico error shown as one line, with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="pico")
def cli() -> None:
    """PICO finds and fixes wrong labels in labeled datasets."""


def _default_output(path: Path, fmt: str) -> Path:
    ext = {"csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "parquet": ".parquet",
           "rasa": path.suffix or ".yml"}[fmt]
    return path.with_name(f"{_stem(path)}.cleaned{ext}")


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def _input_options(command: Any) -> Any:
    """The options that say how to read DATA (shared by every command that reads it)."""
    for option in reversed([
        click.option("--text-column", help="Column holding the text to featurize."),
        click.option(
            "--label-column", default="label", show_default=True, help="Column of given labels."
        ),
        click.option(
            "--feature-columns",
            help="Numeric feature columns instead of text: comma-separated names or "
            "patterns (f*).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["csv", "tsv", "jsonl", "parquet", "rasa"]),
            help="Input format (default: from the file extension).",
        ),
        click.option(
            "--encoding", default="utf-8", show_default=True, help="Text encoding of the input."
        ),
        click.option(
            "--max-text-chars",
            default=MAX_TEXT_CHARS,
            show_default=True,
            type=click.IntRange(min=0),
            help="Cut longer texts to this many characters before featurizing (a warning "
            "counts them; bounds the memory one row takes); 0: no bound.",
        ),
    ]):
        command = option(command)
    return command


@cli.command("clean")
@click.argument("data", type=click.Path(path_type=Path), required=False)
@_input_options
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
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of all random splits.")
@click.option(
    "--features",
    type=click.Choice(["tfidf", "embeddings"]),
    default="tfidf",
    show_default=True,
    help="Text features: word and character TF-IDF, or all-MiniLM-L6-v2 sentence "
    "embeddings (offline; pip install 'pico-clean[embeddings]'; cached in the run "
    "directory, reused when the same --run-dir is given again).",
)
@click.option(
    "--checker",
    type=click.Choice(list(CHECKERS)),
    default="softmax",
    show_default=True,
    help="Model trained on every split: softmax regression in numpy, or in PyTorch "
    "(all folds of a split as one batched model, CUDA when present; pip install "
    "'pico-clean[torch]'), or a PyTorch MLP.",
)
@click.option(
    "--branches",
    default=None,
    type=int,
    help="R random splits per iteration.  [default: 20 / folds: 2 from 1,000 rows, 4 below]",
)
@click.option(
    "--folds",
    default=None,
    type=int,
    help="F folds per split.  [default: 10 from 1,000 rows, 5 below]",
)
@click.option(
    "--iterations", default=3, show_default=True, type=int, help="At most T iterations."
)
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="Combine every iteration's evidence with the label-history model (use with "
    "--iterations 2 or more).",
)
@click.option(
    "--threshold",
    default=0.6,
    show_default=True,
    type=float,
    help="Posterior a new label needs before a row is relabeled.",
)
@click.option(
    "--odds",
    default=7.0,
    show_default=True,
    type=float,
    help="How many times as probable as the given label a new label must also be "
    "(1: no such rule).",
)
@click.option(
    "--max-class-loss",
    default=0.5,
    show_default=True,
    type=float,
    help="Most of a class's rows that may move to other classes in one iteration; the "
    "weakest moves beyond it go to review.",
)
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
@click.option(
    "--min-class-recall",
    default=MIN_CLASS_RECALL,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Moves out of a class whose own rows the checkers recognise less often than this "
    "go to review (a few rows, or heterogeneous ones); 0: off.",
)
@click.option(
    "--trigger",
    is_flag=True,
    help="Run `pico check` first: clean nothing when the estimated noise is not above "
    "--trigger-threshold, only the suspicious classes when the noise sits in a few.",
)
@click.option(
    "--trigger-threshold",
    default=0.03,
    show_default=True,
    type=float,
    help="Estimated noise rate above which --trigger lets the clean run.",
)
@click.option(
    "--jobs",
    default=-1,
    show_default=True,
    type=int,
    help="Worker processes (-1: all cores, the fastest on the engines benchmark); with "
    "--engine ray, above 1 caps the local Ray runtime's CPUs.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where checkers train: local processes, or Ray tasks (pip install "
    "'pico-clean[ray]'; starts a local Ray runtime unless --ray-address is given).",
)
@click.option("--ray-address", help="Address of an existing Ray cluster (with --engine ray).")
@click.option(
    "--cpus-per-checker", default=1.0, show_default=True, type=float,
    help="CPUs each checker fit asks Ray for.",
)
@click.option(
    "--gpus-per-checker", default=0.0, show_default=True, type=float,
    help="GPUs each checker fit asks Ray for (fractions share a GPU).",
)
@click.option(
    "--store",
    type=click.Choice(["memory", "spark"]),
    default="memory",
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
def clean_command(ctx: click.Context, /, **options: Any) -> None:
    """Correct the labels of DATA and write every row back with pico's columns.

    The output holds every input row and column unchanged and in order, plus
    pico_label (the corrected label), pico_confidence (the probability that it is
    right, 0..1) and pico_status (kept, relabeled, review or skipped). The input is
    never modified.
    Each finished iteration is checkpointed in the run directory: a killed run
    continues with `pico clean --resume RUN_DIR`.

    Example:

    \b
        pico clean intents.csv --text-column text --label-column label \\
            --output intents.cleaned.csv
    """
    try:
        resume = options.pop("resume")
        if resume is not None:
            given = {
                name for name in options
                if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
            }
            options = _resumed_options(resume, options, given)
        elif options["data"] is None:
            raise InvalidInputError("pass the DATA file to clean (or --resume RUN_DIR)")
        _clean(**options, resume=resume is not None)
    except PicoError as e:
        raise PicoClickError(str(e)) from e
    except OSError as e:
        raise PicoClickError(_os_error(e)) from e


def _os_error(error: OSError) -> str:
    """One line for a failed read or write (full disk, read-only folder, ...)."""
    where = f" ({error.filename})" if error.filename else ""
    return (
        f"{error.strerror or error}{where}: nothing was half-written; files written "
        "before are intact. Free space or choose a writable folder, then run again "
        "(a clean continues with --resume RUN_DIR)"
    )


#: Options that change how a run executes, not its result: they may differ on --resume.
_EXECUTION_OPTIONS = frozenset(
    {"jobs", "engine", "ray_address", "cpus_per_checker", "gpus_per_checker", "quiet",
     "spark_master", "keep_checkpoints"}
)
#: Options that name files: compared as resolved paths on --resume.
_PATH_OPTIONS = ("data", "output", "run_dir")


def _resumed_options(run_path: Path, options: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """The saved options of a run, checked against those given again on the command line."""
    from .run import RunDirectory

    run = RunDirectory.open(run_path)
    record = run.record()
    out = dict(record["options"])
    out["data"], out["output"], out["run_dir"] = (
        Path(record["input"]), Path(record["output"]), run.path
    )
    for name in sorted(given):
        new, old = options[name], out.get(name)
        if name in _EXECUTION_OPTIONS:
            out[name] = new
            continue
        if name in _PATH_OPTIONS and new is not None:
            same = Path(new).resolve() == Path(old).resolve()
        else:
            same = str(new) == str(old)
        if not same:
            shown = "DATA" if name == "data" else "--" + name.replace("_", "-")
            raise InvalidInputError(
                f"cannot resume {run.path} with changed options: {shown} was {old}, now {new}. "
                "Resume with the run's options, or start a new run"
            )
    run.verify_input(record, doing=f"resume the run in {run.path}")
    return out


def _names(value: str | None) -> list[str] | None:
    """A comma-separated option as a list of names (None when not given)."""
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()] or None


def _check_output_columns(text_column: str | None, label_column: str) -> None:
    """Refuse input columns that the output's own columns would overwrite."""
    for option, column in (("--label-column", label_column), ("--text-column", text_column)):
        if column in OUTPUT_COLUMNS:
            raise InvalidInputError(
                f"{option} {column} is a column pico writes ({', '.join(OUTPUT_COLUMNS)}): the "
                "output would overwrite it. Rename that column in the input (for example to "
                "label or text) and pass the new name"
            )


def _clean(
    data: Path,
    text_column: str | None,
    label_column: str,
    feature_columns: str | None,
    fmt: str | None,
    encoding: str,
    max_text_chars: int,
    output: Path | None,
    run_dir: Path | None,
    seed: int,
    features: str,
    checker: str,
    branches: int | None,
    folds: int | None,
    iterations: int,
    history: bool,
    threshold: float,
    odds: float,
    max_class_loss: float,
    protect: str | None,
    catch_all: str | None,
    no_catch_all: bool,
    min_class_recall: float,
    trigger: bool,
    trigger_threshold: float,
    jobs: int,
    engine: str,
    ray_address: str | None,
    cpus_per_checker: float,
    gpus_per_checker: float,
    store: str,
    spark_master: str | None,
    keep_checkpoints: bool,
    quiet: bool,
    resume: bool = False,
) -> None:
    record_options = {key: (str(v) if isinstance(v, Path) else v) for key, v in locals().items()
                      if key != "resume"}
    import numpy as np

    from .api import clean
    from .checkpoint import remove_checkpoint
    from .data.io import detect_format, same_file, write_json, write_table
    from .report import format_summary
    from .review import review_table
    from .run import RunDirectory, file_digest

    logging.basicConfig(level=logging.ERROR if quiet else logging.INFO, format="pico: %(message)s")
    fmt = detect_format(data, fmt)
    text_column, label_column = _columns_for(fmt, text_column, label_column)
    _check_output_columns(text_column, label_column)
    frame, inputs, raw_labels, label_missing = _load(
        data, fmt, encoding, text_column, label_column, feature_columns
    )
    out_path = output or _default_output(data, fmt)
    out_fmt = detect_format(out_path, fmt if output is None else None) if output else fmt
    if out_path.exists() and same_file(out_path, data):
        raise InvalidInputError(
            f"--output {out_path} is the input file; pico never overwrites its input. "
            "Pass another --output path."
        )
    labels = raw_labels.copy()
    labels[label_missing] = None
    n_labeled = int((~label_missing).sum())
    if n_labeled == 0:
        raise InvalidInputError(f"column {label_column!r} has no labels: every value is empty")
    keep_out = {"input": data, "output": out_path}
    if resume:
        run = RunDirectory.open(run_dir if run_dir is not None else Path("."))
        run.keep_out(keep_out)
    else:
        run = RunDirectory.create(run_dir, name=_stem(data), keep_out=keep_out)
    progress = None if quiet else Progress(tty=sys.stderr.isatty())
    with run.lock():
        if resume:  # checked by _resumed_options; read again under the lock
            record = run.record()
        else:  # what --resume and apply check: absolute paths, digests, every option
            record_options.update(
                data=str(data.resolve()), output=str(out_path.resolve()), run_dir=str(run.path)
            )
            record = run.new_record(
                data=data, output=out_path, options=record_options, version=__version__
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
            inputs,
            labels,
            featurizer=featurizer,
            checker=None if checker == "softmax" else _make_checker(checker),
            n_branches=branches,
            n_folds=folds,
            n_iterations=iterations,
            history=history,
            relabel_threshold=threshold,
            relabel_odds=odds,
            max_class_loss=max_class_loss,
            protect=_names(protect),
            catch_all=None if no_catch_all else _names(catch_all) or "auto",
            min_class_recall=min_class_recall,
            n_jobs=jobs,
            engine=engine,
            ray_address=ray_address,
            cpus_per_checker=cpus_per_checker,
            gpus_per_checker=gpus_per_checker,
            store=store,
            spark_master=spark_master,
            store_dir=str(run / "predictions") if store == "spark" else None,
            random_state=seed,
            max_text_chars=max_text_chars or None,
            trigger=trigger,
            trigger_threshold=trigger_threshold,
            checkpoint_dir=str(run / "checkpoints"),
            resume=resume,
            progress=progress,
        )
        if not quiet and "trigger" in result.summary:
            click.echo(_trigger_line(result.summary["trigger"]), err=True)
        added = [c for c in OUTPUT_COLUMNS if c in frame.columns]
        if added:
            logging.getLogger("pico").warning(
                "the input already has %s; those columns are replaced", ", ".join(added)
            )
        out = frame.copy()
        original = frame[label_column].to_numpy(dtype=object)
        # Where pico kept the label, the output carries the input's own cell (spaces and
        # all), so that pico_label differs from the input exactly where pico changed it.
        unchanged = np.fromiter(
            (isinstance(o, str) and new == old
             for o, new, old in zip(original, result.labels, labels)),
            dtype=bool, count=len(original),
        )
        pico_label = np.where(label_missing | unchanged, original, result.labels)
        out["pico_label"] = pico_label
        conf = np.round(result.confidence, 4)
        if out_fmt in ("csv", "tsv"):
            out["pico_confidence"] = ["" if np.isnan(c) else f"{c:.4f}" for c in conf]
        else:
            out["pico_confidence"] = conf
        out["pico_status"] = result.status
        spaced = int(np.sum([isinstance(o, str) and o != o.strip() for o in original]))
        if spaced:
            logging.getLogger("pico").warning(
                "%d %s in %r had spaces around them; pico compared labels without them "
                "(pico_label keeps the input's spelling where the label was kept)",
                spaced, "label" if spaced == 1 else "labels", label_column,
            )
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
        }
        history_table = frame[[]].copy()
        history_table["row"] = np.arange(len(frame))
        for t in range(result.history.shape[1]):
            history_table["given" if t == 0 else f"iteration_{t}"] = result.history[:, t]
        history_table["final"] = result.labels
        history_table["status"] = result.status
        history_table["confidence"] = np.round(result.confidence, 4)
        history_table["suggested"] = result.suggested
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
        write_table(history_table, run / "history.csv", format="csv")
        write_table(review, run / "review.csv", format="csv")
        write_json(record, run / "run.json")  # last: the run is complete
        if not keep_checkpoints:
            remove_checkpoint(run / "checkpoints")
    if not quiet:
        click.echo(format_summary(summary, output=str(out_path)), err=True)
        click.echo(f"  run directory: {run.path}{os.sep} ({len(review)} rows to review in "
                   "review.csv; merge decisions with `pico apply`)", err=True)


@cli.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="HTML file to write (default: RUN_DIR/report.html).")
@click.option("--encoding", help="Text encoding of the run's input (default: the run's own).")
def report_command(run_dir: Path, output: Path | None, encoding: str | None) -> None:
    """Write a self-contained HTML report of the run in RUN_DIR.

    The noise matrix as a heat map, the changes per intent, the iteration curve, the
    confidence histogram and the changed utterances grouped by (from -> to). It needs
    no network to view.

    Example:

    \b
        pico report pico-runs/intents-20261121-101500
    """
    from .html_report import write_report

    try:
        path = write_report(run_dir, output, encoding=encoding)
    except PicoError as e:
        raise PicoClickError(str(e)) from e
    except OSError as e:
        raise PicoClickError(_os_error(e)) from e
    click.echo(f"pico report: wrote {path}", err=True)


@cli.command("apply")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("review", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the updated dataset (default: the run's cleaned output, replaced "
    "atomically).",
)
def apply_command(run_dir: Path, review: Path, output: Path | None) -> None:
    """Merge a person's decisions from REVIEW (a filled review.csv) into a run's output.

    In the decision column: accept (take the suggested label), reject (keep the given
    label), another label, or nothing. Decided rows get status reviewed; the given
    labels stay in the input's label column and in history.csv; the decisions are
    appended to decisions.csv in RUN_DIR.

    Example:

    \b
        pico apply pico-runs/intents-20261121-101500 reviewed.csv
    """
    try:
        _apply(run_dir, review, output)
    except PicoError as e:
        raise PicoClickError(str(e)) from e
    except OSError as e:
        raise PicoClickError(_os_error(e)) from e


def _apply(run_dir: Path, review_path: Path, output: Path | None) -> None:
    import numpy as np

    from .data.io import read_table, remove_stale_temporaries, same_file, write_json, write_table
    from .report import load_summary
    from .review import apply_decisions, decision_log
    from .run import RunDirectory, file_digest

    run = RunDirectory.open(run_dir)
    with run.lock():
        record = run.record()
        summary = load_summary(run.path)
        options = record["options"]
        fmt = summary["options"]["format"]
        out_fmt = summary["options"].get("output_format", fmt)
        source = run.verify_input(record, doing="apply decisions")
        cleaned = run.verify_output(record, doing="apply decisions")
        history = read_table(run / "history.csv", format="csv")
        decisions = read_table(review_path, format=_review_format(review_path))
        given = history["given"].to_numpy(dtype=object)
        labels, decided, log = apply_decisions(
            given, history["final"].to_numpy(dtype=object), decisions
        )
        target = output or cleaned
        if target.exists() and same_file(target, source):
            raise InvalidInputError(
                f"{target} is the input file; pico never overwrites its input"
            )
        run.keep_out({"output": target})
        status = np.where(decided, "reviewed", history["status"].to_numpy(dtype=object))
        if fmt == "rasa":  # the layout comes from the input file
            frame = read_table(source, format="rasa", encoding=options.get("encoding", "utf-8"))
        else:
            frame = read_table(cleaned, format=out_fmt)
            if len(frame) != len(history):
                raise InvalidInputError(
                    f"{cleaned} has {len(frame)} rows; the run had {len(history)}"
                )
        frame["pico_label"] = labels
        if "pico_status" in frame.columns or fmt != "rasa":
            frame["pico_status"] = status
        rewrites_run_output = target.exists() and same_file(target, cleaned)
        if rewrites_run_output:
            # Two steps, so that a kill at any point leaves a state apply accepts: the
            # new file's digest is recorded as pending before it replaces the old one.
            remove_stale_temporaries(target)
            staging = target.with_name(f".{target.name}.pico-{os.getpid()}-apply.tmp")
            write_table(frame, staging, format=out_fmt)
            record["pending_output_sha256"] = file_digest(staging)
            write_json(record, run / "run.json")
            os.replace(staging, target)
        else:
            write_table(frame, target, format=out_fmt)
        history["final"] = labels
        history["status"] = status
        history["reviewed"] = np.where(decided, "yes", "")
        write_table(history, run / "history.csv", format="csv")
        log_path = run / "decisions.csv"
        old = read_table(log_path, format="csv") if log_path.exists() else None
        all_log, n_new = decision_log(old, log, run_id=record["run_id"])
        if n_new:
            write_table(all_log, log_path, format="csv")
        if rewrites_run_output:
            record["output_sha256"] = record.pop("pending_output_sha256")
            write_json(record, run / "run.json")
    n_changed = (
        int((log["after"].astype(str) != log["before"].astype(str)).sum()) if len(log) else 0
    )
    repeated = len(log) - n_new
    click.echo(
        f"pico apply: {int(decided.sum())} decisions merged ({n_changed} "
        f"{'label' if n_changed == 1 else 'labels'} changed"
        + (f"; {repeated} already applied before, not logged again" if repeated else "")
        + f"); wrote {target}",
        err=True,
    )


def _review_format(path: Path) -> str:
    """The format of a review file: CSV unless its extension says otherwise."""
    from .data.io import detect_format

    try:
        return detect_format(path)
    except InvalidInputError:
        return "csv"


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


def _columns_for(fmt: str, text_column: str | None, label_column: str) -> tuple[str | None, str]:
    """A Rasa NLU file reads as columns text, intent, example, line: use them by default."""
    if fmt == "rasa":
        return text_column or "text", "intent" if label_column == "label" else label_column
    return text_column, label_column


def _load(
    data: Path,
    fmt: str,
    encoding: str,
    text_column: str | None,
    label_column: str,
    feature_columns: str | None,
) -> tuple[Any, Any, Any, Any]:
    """Read DATA and pick its inputs and labels: (frame, inputs, labels, label_missing)."""
    from .data.io import read_table, select_columns

    if text_column is None and feature_columns is None:
        raise InvalidInputError(
            "say which column holds the inputs: pass --text-column NAME for text, or "
            "--feature-columns A,B,... for numeric features"
        )
    frame = read_table(data, format=fmt, encoding=encoding)
    inputs, labels, missing = select_columns(
        frame, text_column=text_column, label_column=label_column, feature_columns=feature_columns
    )
    return frame, inputs, labels, missing


def _trigger_line(found: dict[str, Any]) -> str:
    rec = found["recommendation"]
    what = (
        "nothing cleaned" if not rec["clean"]
        else "cleaned every class" if rec["everything"]
        else f"cleaned {found['rows_cleaned']} rows of {len(rec['focus'])} classes"
    )
    return f"  trigger: {rec['reason']}; {what}"


@cli.command("check")
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
@click.option(
    "--noise-threshold",
    default=0.03,
    show_default=True,
    type=float,
    help="Estimated noise rate above which cleaning is recommended.",
)
@click.option(
    "--sample",
    default=20000,
    show_default=True,
    type=int,
    help="Check a random sample of this many rows of a bigger dataset.",
)
@click.option("--folds", default=2, show_default=True, type=int, help="Folds of the one split.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the split and sample.")
@click.option(
    "--jobs", default=-1, show_default=True, type=int, help="Worker threads (-1: all cores)."
)
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
def check_command(**options: Any) -> None:
    """Estimate how many labels of DATA are wrong, where, and whether to clean.

    Light text features, one quick split and two cheap checkers per fold (softmax and
    class centroids): a small part of the cost of `pico clean`. Prints the estimated
    noise rate with a 95% interval, the classes ranked by estimated noise, the most
    confused class pairs, look-alike pairs (part of a class labeled as another; with
    them an upper estimate), collapsed pairs (most of a class labeled as another;
    counted in the estimate), identical texts with conflicting labels and a
    recommendation.

    Example:

    \b
        pico check intents.csv --text-column text --max-noise 0.05
        pico check new-batch.csv --text-column text --reference intents.cleaned.csv
    """
    try:
        code = _check(**options)
    except PicoError as e:
        raise PicoClickError(str(e)) from e
    except OSError as e:
        raise PicoClickError(_os_error(e)) from e
    if code:
        raise SystemExit(code)


def _check(
    data: Path,
    text_column: str | None,
    label_column: str,
    feature_columns: str | None,
    fmt: str | None,
    encoding: str,
    max_text_chars: int,
    reference: Path | None,
    reference_label_column: str | None,
    max_noise: float | None,
    noise_threshold: float,
    sample: int,
    folds: int,
    seed: int,
    jobs: int,
    catch_all: str | None,
    no_catch_all: bool,
    as_json: bool,
) -> int:
    import json

    from .data.io import detect_format, read_table, select_columns
    from .report import format_check
    from .trigger import check

    fmt = detect_format(data, fmt)
    text_column, label_column = _columns_for(fmt, text_column, label_column)
    _, inputs, raw_labels, missing = _load(
        data, fmt, encoding, text_column, label_column, feature_columns
    )
    labels = raw_labels.copy()
    labels[missing] = None
    ref_inputs = ref_labels = None
    if reference is not None:
        ref_frame = read_table(reference, format=detect_format(reference, None), encoding=encoding)
        column = reference_label_column or (
            "pico_label" if "pico_label" in ref_frame.columns else label_column
        )
        if column not in ref_frame.columns:
            raise InvalidInputError(
                f"the reference {reference} has no column {column!r}; pass "
                "--reference-label-column NAME"
            )
        ref_inputs, ref_raw, ref_missing = select_columns(
            ref_frame, text_column=text_column, label_column=column,
            feature_columns=feature_columns,
        )
        ref_labels = ref_raw.copy()
        ref_labels[ref_missing] = None
    found = check(
        inputs,
        labels,
        reference=ref_inputs,
        reference_labels=ref_labels,
        n_folds=folds,
        max_rows=sample,
        noise_threshold=noise_threshold,
        n_jobs=jobs,
        random_state=seed,
        max_text_chars=max_text_chars or None,
        catch_all=None if no_catch_all else _names(catch_all) or "auto",
    )
    summary = {"input": str(data), "reference": None if reference is None else str(reference),
               **found.summary}
    if as_json:
        click.echo(json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    else:
        click.echo(format_check(summary))
    if max_noise is not None and found.noise_rate > max_noise:
        click.echo(
            f"pico check: estimated noise {100 * found.noise_rate:.1f}% is above --max-noise "
            f"{100 * max_noise:g}%",
            err=True,
        )
        return 1
    return 0


def main() -> None:  # pragma: no cover - console entry
    """Entry point for ``python -m pico``."""
    cli(prog_name="pico")


if __name__ == "__main__":  # pragma: no cover
    main()
