"""A person's decisions on a run: checked, merged into the cleaned output, logged.

One code path serves ``pico apply RUN_DIR FILE``, the ``pico review`` page and Python:

- :func:`apply_review` merges a filled review table (``review.csv``, TSV, JSON Lines,
  Parquet) or a Label Studio JSON export into the run's cleaned output;
- :func:`save_decision` records one decision in the run's ``review.csv`` and then
  applies that file exactly as :func:`apply_review` would (what the review page does
  on every key press);
- :func:`export_label_studio` writes the rows to review as Label Studio tasks, with
  pico's suggestion as a prediction, and the labeling configuration.

A decision is ``accept`` (take the suggested label), ``reject`` (keep the given label)
or the name of an intent. A name the data does not have (a typo such as
``reset_pasword``, or a word such as ``yes``) is refused with the closest existing
names, and nothing is written, unless new intents are allowed on purpose
(``allow_new_intents=True``, ``--allow-new-intents``). Decisions are checked before
anything is written; the cleaned output is replaced atomically, the decisions are
appended to ``decisions.csv``, and ``report.html`` is redrawn when the run has one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from .data.files import FORMATS
from .exceptions import InvalidInputError, UnknownIntentError
from .review import (
    apply_decisions,
    closest_labels,
    count_blank,
    decision_log,
    from_spreadsheet,
    spreadsheet_safe,
    unknown_labels,
)
from .run import RunData, RunDirectory, file_digest, read_run

__all__ = [
    "ApplyResult",
    "apply_review",
    "decisions_from_label_studio",
    "export_label_studio",
    "label_studio_config",
    "label_studio_tasks",
    "read_decisions",
    "save_decision",
]

_log = logging.getLogger("pico")



@dataclass(frozen=True)
class ApplyResult:
    """What one apply did.

    Attributes
    ----------
    decided : int
        Rows with a decision in the file (each applied).
    changed : int
        Of those, rows whose label changed.
    repeated : int
        Decisions applied before and not logged again.
    blank : int
        Rows of the file left without a decision (skipped).
    output : Path
        The file written.
    report : Path or None
        ``report.html``, when the run had one and it was redrawn.
    new_intents : tuple of str
        Intents the decisions created (only with ``allow_new_intents``).
    """

    decided: int
    changed: int
    repeated: int
    blank: int
    output: Path
    report: Path | None
    new_intents: tuple[str, ...]


# ---------------------------------------------------------------------------- reading


def read_decisions(path: str | os.PathLike[str], *, run_id: str | None = None) -> pd.DataFrame:
    """A decisions file as a review table (row, given, suggested, decision).

    A ``.json`` file is read as a Label Studio export (:func:`decisions_from_label_studio`);
    anything else as a table (CSV unless its extension says TSV, JSON Lines or Parquet).
    """
    from .data.io import detect_format, read_table

    source = Path(path)
    if source.suffix.lower() == ".json":
        try:
            tasks = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise InvalidInputError(f"decisions file not found: {source}") from e
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InvalidInputError(
                f"{source} is not a Label Studio JSON export (not valid UTF-8 JSON: {e}); "
                "export the project as JSON from Label Studio, or pass a filled review.csv"
            ) from e
        return decisions_from_label_studio(tasks, run_id=run_id)
    try:
        fmt = detect_format(source)
    except InvalidInputError:
        fmt = "csv"
    if fmt not in FORMATS:
        fmt = "csv"
    return read_table(source, format=fmt)


# ---------------------------------------------------------------------------- checking


def _check_intents(
    table: pd.DataFrame, intents: list[str], *, allow_new_intents: bool
) -> tuple[str, ...]:
    """The new intents the decisions name; UnknownIntentError unless they are allowed."""
    if "decision" not in table.columns:
        return ()
    unknown = unknown_labels(table, intents)
    if not unknown or allow_new_intents:
        return tuple(unknown)
    close = {name: closest_labels(name, intents) for name in unknown}
    parts = []
    for name, rows in list(unknown.items())[:5]:
        where = ", ".join(str(r) for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
        hint = f"closest: {', '.join(close[name])}" if close[name] else "no close name"
        parts.append(f"{name!r} (row {where}; {hint})")
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    raise UnknownIntentError(
        f"{'a decision names an intent' if len(unknown) == 1 else 'decisions name intents'} "
        f"this data does not have: {'; '.join(parts)}{more}. Write accept, reject or an "
        "existing intent; to create a new intent on purpose, pass --allow-new-intents "
        "(allow_new_intents=True in Python). Nothing was applied",
        close,
    )


# ---------------------------------------------------------------------------- applying


@dataclass
class _Plan:
    data: RunData
    source: Path
    cleaned: Path
    target: Path
    labels: np.ndarray
    decided: np.ndarray
    log: pd.DataFrame
    blank: int
    new_intents: tuple[str, ...]


def _plan(
    run: RunDirectory, table: pd.DataFrame, *, output: Path | None, allow_new_intents: bool
) -> _Plan:
    """Read the run and check the decisions; nothing is written (call under the lock)."""
    from .data.io import same_file

    data = read_run(run, texts=False)
    source = run.verify_input(data.record, doing="apply decisions")
    cleaned = run.verify_output(data.record, doing="apply decisions")
    history = data.history
    new_intents = _check_intents(table, data.intents, allow_new_intents=allow_new_intents)
    given = history["given"].to_numpy(dtype=object)
    labels, decided, log = apply_decisions(given, history["final"].to_numpy(dtype=object), table)
    target = Path(output) if output is not None else cleaned
    if target.exists() and same_file(target, source):
        raise InvalidInputError(f"{target} is the input file; pico never overwrites its input")
    run.keep_out({"output": target})
    blank = count_blank(table)
    return _Plan(data, source, cleaned, target, labels, decided, log, blank, new_intents)


def _write(plan: _Plan) -> tuple[int, Path | None]:
    """Write the plan: the output (atomically), history.csv, decisions.csv, the report."""
    from .data.files import remove_stale_temporaries, replace_path, same_file
    from .data.io import read_table, write_json, write_table

    data, run = plan.data, plan.data.run
    record, history = data.record, data.history
    options = data.record["options"]
    fmt = data.options["format"]
    out_fmt = data.options.get("output_format", fmt)
    status = np.where(plan.decided, "reviewed", history["status"].to_numpy(dtype=object))
    if fmt not in FORMATS:  # the layout comes from the input file
        frame = read_table(plan.source, format=fmt, encoding=options.get("encoding", "utf-8"),
                           language=options.get("language"))
    else:
        frame = read_table(plan.cleaned, format=out_fmt)
        if len(frame) != len(history):
            raise InvalidInputError(
                f"{plan.cleaned} has {len(frame)} rows; the run had {len(history)}"
            )
    frame["pico_label"] = plan.labels
    if "pico_status" in frame.columns or fmt in FORMATS:
        frame["pico_status"] = status
    target = plan.target
    rewrites_run_output = target.exists() and same_file(target, plan.cleaned)
    if rewrites_run_output:
        # Two steps, so that a kill at any point leaves a state apply accepts: the new
        # file's digest is recorded as pending before it replaces the old one.
        remove_stale_temporaries(target)
        staging = target.with_name(f".{target.name}.pico-{os.getpid()}-apply.tmp")
        write_table(frame, staging, format=out_fmt)
        record["pending_output_sha256"] = file_digest(staging)
        write_json(record, run / "run.json")
        replace_path(staging, target)  # os.replace; a Rasa data folder is swapped in
    else:
        write_table(frame, target, format=out_fmt)
    history["final"] = plan.labels
    history["status"] = status
    previously = (
        history["reviewed"].astype(str).eq("yes").to_numpy()
        if "reviewed" in history.columns else np.zeros(len(history), dtype=bool)
    )
    history["reviewed"] = np.where(plan.decided | previously, "yes", "")
    write_table(history, run / "history.csv", format="csv")
    log_path = run / "decisions.csv"
    old = read_table(log_path, format="csv") if log_path.exists() else None
    all_log, n_new = decision_log(old, plan.log, run_id=record["run_id"])
    if n_new:
        write_table(all_log, log_path, format="csv")
    if rewrites_run_output:
        record["output_sha256"] = record.pop("pending_output_sha256")
        write_json(record, run / "run.json")
    report = None
    if (run / "report.html").exists():
        from .data.io import write_text
        from .html_report import render_run

        write_text(render_run(read_run(run)), run / "report.html")
        report = run / "report.html"
    return n_new, report


def _result(plan: _Plan, n_new: int, report: Path | None) -> ApplyResult:
    log = plan.log
    changed = int((log["after"].astype(str) != log["before"].astype(str)).sum()) if len(log) else 0
    return ApplyResult(
        decided=int(plan.decided.sum()), changed=changed, repeated=len(log) - n_new,
        blank=plan.blank, output=plan.target, report=report, new_intents=plan.new_intents,
    )


def apply_review(
    run_dir: str | os.PathLike[str],
    decisions: str | os.PathLike[str] | pd.DataFrame,
    *,
    output: str | os.PathLike[str] | None = None,
    allow_new_intents: bool = False,
) -> ApplyResult:
    """Merge a person's decisions into a run's cleaned output (``pico apply``).

    Parameters
    ----------
    run_dir : path
        The run directory of a finished ``pico clean``.
    decisions : path or DataFrame
        A review table with ``row``, ``given``, ``suggested`` and ``decision`` columns
        (``review.csv`` filled in), or a Label Studio JSON export of the tasks
        :func:`export_label_studio` wrote (a ``.json`` path).
    output : path, optional
        Where to write the updated dataset (default: the run's cleaned output, replaced
        atomically).
    allow_new_intents : bool, default=False
        Let a decision create an intent the data does not have.

    Returns
    -------
    ApplyResult

    Raises
    ------
    UnknownIntentError
        If a decision names an intent the data does not have (and new intents are not
        allowed); nothing is written.
    InvalidInputError
        If the run, its input or output, or the decisions do not fit together.
    """
    run = RunDirectory.open(Path(run_dir))
    with run.lock():
        record = run.record()
        table = (
            decisions if isinstance(decisions, pd.DataFrame)
            else read_decisions(decisions, run_id=record.get("run_id"))
        )
        plan = _plan(run, table, output=None if output is None else Path(output),
                     allow_new_intents=allow_new_intents)
        n_new, report = _write(plan)
    return _result(plan, n_new, report)


def save_decision(
    run_dir: str | os.PathLike[str], row: int, decision: str, *,
    allow_new_intents: bool = False,
) -> ApplyResult:
    """Record one decision in the run's ``review.csv`` and apply that file.

    The decision is checked with every other one of the file first; on success
    ``review.csv`` is replaced atomically and the run's cleaned output is rewritten
    exactly as :func:`apply_review` would (so a reload of the review page, or a later
    ``pico apply RUN_DIR RUN_DIR/review.csv``, sees the same).

    Parameters
    ----------
    run_dir : path
        The run directory.
    row : int
        The row (``row`` column of ``review.csv``).
    decision : str
        ``accept``, ``reject`` or an intent.
    allow_new_intents : bool, default=False
        Let the decision create an intent the data does not have.

    Raises
    ------
    UnknownIntentError, InvalidInputError
        As :func:`apply_review`; also when ``row`` is not in ``review.csv`` or the
        decision is empty. Nothing is written then.
    """
    from .data.io import read_table, write_table

    decision = str(decision).strip()
    if not decision:
        raise InvalidInputError("the decision is empty; write accept, reject or an intent")
    run = RunDirectory.open(Path(run_dir))
    with run.lock():
        path = run / "review.csv"
        if not path.exists():
            raise InvalidInputError(f"{run.path} has no review.csv; run pico clean again")
        table = read_table(path, format="csv")
        hits = np.flatnonzero(table["row"].astype(str).to_numpy() == str(int(row)))
        if not len(hits):
            raise InvalidInputError(f"row {row} is not in {path}; only rows listed there "
                                    "can be decided here")
        if "decision" not in table.columns:
            table["decision"] = ""
        updated = table.copy()
        updated.loc[hits, "decision"] = spreadsheet_safe(decision)
        plan = _plan(run, updated, output=None, allow_new_intents=allow_new_intents)
        write_table(updated, path, format="csv")
        n_new, report = _write(plan)
    return _result(plan, n_new, report)


# ---------------------------------------------------------------------------- Label Studio


def label_studio_config(intents: list[str]) -> str:
    """A Label Studio labeling configuration: the text and one choice per intent.

    Examples
    --------
    >>> print(label_studio_config(["greet", "bye & co"]).splitlines()[5])
        <Choice value="bye &amp; co"/>
    """
    choices = "\n".join(f"    <Choice value={quoteattr(str(i))}/>" for i in intents)
    return (
        "<View>\n"
        '  <Text name="text" value="$text"/>\n'
        '  <Filter name="filter" toName="intent" minlength="0" placeholder="Filter intents"/>\n'
        '  <Choices name="intent" toName="text" choice="single" showInline="false">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(out) else out


def label_studio_tasks(data: RunData, review: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``review`` as Label Studio tasks (JSON import format).

    Each task carries the text and pico's row in ``data`` (with the given and suggested
    labels and the run's id, so that the export can be applied back safely) and pico's
    suggestion as a prediction scored by its probability.
    """
    history = data.history
    has_p = "suggested_confidence" in history.columns
    tasks = []
    for rec in review.to_dict("records"):
        rec = {k: from_spreadsheet(v) for k, v in rec.items()}
        row = int(rec["row"])
        suggested = str(rec["suggested"])
        score = _float(history["suggested_confidence"].iloc[row]) if has_p else None
        if score is None and str(rec.get("pico_label")) == suggested:
            score = _float(rec.get("confidence"))
        prediction: dict[str, Any] = {"model_version": "pico"}
        if score is not None:
            prediction["score"] = round(score, 4)
        prediction["result"] = [{
            "from_name": "intent", "to_name": "text", "type": "choices",
            "value": {"choices": [suggested]},
        }]
        tasks.append({
            "data": {
                "text": str(rec["text"]), "pico_row": row, "pico_given": str(rec["given"]),
                "pico_suggested": suggested, "pico_run": data.record.get("run_id"),
            },
            "predictions": [prediction],
        })
    return tasks


def export_label_studio(
    run_dir: str | os.PathLike[str], path: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write the run's review rows as Label Studio tasks, and the labeling config.

    The tasks go to ``path`` (import them in a Label Studio project whose labeling
    interface is the config); the config goes next to it as ``STEM.config.xml``. Export
    the annotated project as JSON and apply it with ``pico apply RUN_DIR export.json``.

    Returns
    -------
    tasks, config : Path
    """
    from .data.io import read_table, write_text

    data = read_run(run_dir, texts=False)
    review = read_table(data.run / "review.csv", format="csv")
    tasks = label_studio_tasks(data, review)
    target = Path(path)
    config = target.with_name(f"{target.stem}.config.xml")
    write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", target)
    write_text(label_studio_config(data.intents), config)
    return target, config


def _annotations(task: dict[str, Any]) -> Iterator[dict[str, Any]]:
    found = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
    found = [a for a in found if not a.get("was_cancelled")]
    found.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
    return reversed(found)  # the latest first


def _choice(task: dict[str, Any]) -> str | None:
    """The intent chosen in a task's latest annotation (None: no decision)."""
    if "annotations" not in task and "intent" in task:  # the JSON-MIN export
        value = task["intent"]
        if isinstance(value, dict):
            value = (value.get("choices") or [None])[0]
        return str(value) if value not in (None, "") else None
    for annotation in _annotations(task):
        results = [r for r in annotation.get("result") or [] if isinstance(r, dict)
                   and r.get("type") == "choices"]
        results.sort(key=lambda r: r.get("from_name") != "intent")
        for result in results:
            choices = (result.get("value") or {}).get("choices") or []
            if choices and str(choices[0]).strip():
                return str(choices[0])
    return None


def decisions_from_label_studio(tasks: Any, *, run_id: str | None = None) -> pd.DataFrame:
    """Decisions from a Label Studio JSON (or JSON-MIN) export of pico's tasks.

    The choice of each task's latest annotation that was not cancelled is its decision:
    the suggested label becomes ``accept``, the given one ``reject``, any other intent
    itself. A task without one (unlabeled, skipped, cancelled) has no decision.

    Raises
    ------
    InvalidInputError
        If ``tasks`` is not a list of tasks written by :func:`export_label_studio`, or
        they belong to another run than ``run_id``.

    Examples
    --------
    >>> task = {"data": {"text": "hi", "pico_row": 4, "pico_given": "bye",
    ...                  "pico_suggested": "greet"},
    ...         "annotations": [{"result": [{"from_name": "intent", "type": "choices",
    ...                                      "value": {"choices": ["greet"]}}]}]}
    >>> decisions_from_label_studio([task, {"data": {**task["data"], "pico_row": 5},
    ...                                      "annotations": []}])["decision"].tolist()
    ['accept', '']
    """
    if not isinstance(tasks, list):
        raise InvalidInputError(
            "a Label Studio JSON export is a list of tasks; export the project as JSON (or "
            "JSON-MIN) from Label Studio"
        )
    records = []
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise InvalidInputError(f"Label Studio task {i} is not a JSON object")
        data: dict[str, Any] = task["data"] if isinstance(task.get("data"), dict) else task
        if "pico_row" not in data:
            raise InvalidInputError(
                f"Label Studio task {task.get('id', i)} has no pico_row in its data: apply "
                "only the export of tasks written by pico review --export-label-studio"
            )
        if run_id is not None and data.get("pico_run") not in (None, run_id):
            raise InvalidInputError(
                f"Label Studio task {task.get('id', i)} belongs to another run "
                f"({data.get('pico_run')}); apply the export to the run it came from"
            )
        given, suggested = str(data.get("pico_given", "")), str(data.get("pico_suggested", ""))
        choice = _choice(task)
        decision = ("" if choice is None else "accept" if choice == suggested
                    else "reject" if choice == given else choice)
        records.append({"row": data["pico_row"], "given": spreadsheet_safe(given),
                        "suggested": spreadsheet_safe(suggested),
                        "decision": spreadsheet_safe(decision)})
    return pd.DataFrame(records, columns=["row", "given", "suggested", "decision"])
