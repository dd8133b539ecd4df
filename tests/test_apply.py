"""pico apply: unknown intents refused, blank decisions counted, the report redrawn,
Label Studio tasks out and its export back in."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pico.cli import cli
from pico.decisions import (
    apply_review,
    decisions_from_label_studio,
    label_studio_config,
    save_decision,
)
from pico.exceptions import InvalidInputError, UnknownIntentError

FAST = ["--branches", "2", "--folds", "3", "--iterations", "1", "--jobs", "1", "-q"]
INTENTS = {"reset_password": ["reset", "password", "forgot", "login"],
           "check_balance": ["balance", "account", "money", "how much"],
           "book_flight": ["flight", "book", "paris", "ticket"]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run (with a report) to copy: cleaning once keeps the tests fast."""
    tmp = tmp_path_factory.mktemp("apply")
    rng = np.random.default_rng(1)
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab}
            for i in range(20) for lab, w in INTENTS.items()]
    for i in range(0, 60, 7):  # planted mistakes
        rows[i]["label"] = "book_flight" if rows[i]["label"] != "book_flight" else "check_balance"
    data = tmp / "d.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    res = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text", "-o",
                                   str(tmp / "o.csv"), "--run-dir", str(tmp / "run"), *FAST])
    assert res.exit_code == 0, res.output
    assert CliRunner().invoke(cli, ["report", str(tmp / "run")]).exit_code == 0
    return tmp


@pytest.fixture()
def run(clean_run: Path, tmp_path: Path) -> Path:
    """A fresh copy of the run: the copied run.json points at the copy's files."""
    import shutil

    shutil.copy(clean_run / "d.csv", tmp_path / "d.csv")
    shutil.copy(clean_run / "o.csv", tmp_path / "o.csv")
    shutil.copytree(clean_run / "run", tmp_path / "run")
    record_path = tmp_path / "run" / "run.json"
    record = json.loads(record_path.read_text())
    record.update(input=str(tmp_path / "d.csv"), output=str(tmp_path / "o.csv"),
                  run_dir=str(tmp_path / "run"))
    record_path.write_text(json.dumps(record))
    return tmp_path / "run"


def _review_file(run: Path, decisions: list[str]) -> Path:
    """The first rows of the run's history as a review file with these decisions."""
    history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False)
    n = len(decisions)
    table = pd.DataFrame({"row": history["row"][:n], "given": history["given"][:n],
                          "suggested": history["suggested"][:n], "decision": decisions})
    path = run.parent / "reviewed.csv"
    table.to_csv(path, index=False)
    return path


def test_an_unknown_intent_is_refused_and_nothing_changes(run: Path) -> None:
    output = run.parent / "o.csv"
    before = {p: _sha(p) for p in (output, run / "history.csv", run / "run.json",
                                   run / "report.html")}
    review = _review_file(run, ["accept", "reset_pasword", "yes"])
    res = CliRunner().invoke(cli, ["apply", str(run), str(review)])
    assert res.exit_code == 2, res.output
    assert "'reset_pasword'" in res.output and "closest: reset_password" in res.output
    assert "'yes'" in res.output and "--allow-new-intents" in res.output
    assert "Traceback" not in res.output
    assert {p: _sha(p) for p in before} == before  # byte-identical: nothing applied
    assert not (run / "decisions.csv").exists()  # nothing logged
    with pytest.raises(UnknownIntentError) as error:
        apply_review(run, review)
    assert error.value.unknown["reset_pasword"][0] == "reset_password"


def test_keywords_in_any_case_and_existing_intents_are_accepted(run: Path) -> None:
    review = _review_file(run, ["ACCEPT", " Reject ", "book_flight", ""])
    done = apply_review(run, review)
    assert done.decided == 3 and done.blank == 1 and done.new_intents == ()
    cleaned = pd.read_csv(run.parent / "o.csv", dtype=str, keep_default_na=False)
    history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False)
    assert cleaned["pico_label"][0] == history["suggested"][0]
    assert cleaned["pico_label"][1] == history["given"][1]
    assert cleaned["pico_label"][2] == "book_flight"
    assert cleaned["pico_status"][:3].tolist() == ["reviewed"] * 3


def test_allow_new_intents_creates_one_on_purpose(run: Path) -> None:
    review = _review_file(run, ["transfer_money"])
    assert CliRunner().invoke(cli, ["apply", str(run), str(review)]).exit_code == 2
    res = CliRunner().invoke(cli, ["apply", str(run), str(review), "--allow-new-intents"])
    assert res.exit_code == 0, res.output
    assert "new intent: transfer_money" in res.output
    cleaned = pd.read_csv(run.parent / "o.csv", dtype=str, keep_default_na=False)
    assert cleaned["pico_label"][0] == "transfer_money"
    # from then on it is an intent of the data: no flag needed to use it again
    assert CliRunner().invoke(cli, ["apply", str(run), str(_review_file(
        run, ["accept", "transfer_money"]))]).exit_code == 0


def test_blank_decisions_are_counted_and_the_report_is_redrawn(run: Path) -> None:
    report = run / "report.html"
    assert "Decided by a person" not in report.read_text()
    review = run / "review.csv"
    table = pd.read_csv(review, dtype=str, keep_default_na=False)
    assert len(table) >= 2
    table.loc[0, "decision"] = "accept"
    table.to_csv(review, index=False)
    res = CliRunner().invoke(cli, ["apply", str(run), str(review)])
    assert res.exit_code == 0, res.output
    blank = len(table) - 1
    assert f"{blank} {'row' if blank == 1 else 'rows'} without a decision skipped" in res.output
    assert f"redrew {report}" in res.output
    page = report.read_text()
    assert "Decided by a person (1 row)" in page  # redrawn, with the decision
    assert "1 rows" not in page


def test_save_decision_writes_review_csv_then_applies_it(run: Path) -> None:
    table = pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)
    row = int(table["row"][0])
    with pytest.raises(UnknownIntentError):
        save_decision(run, row, "reset_pasword")
    assert pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)["decision"][0] == ""
    with pytest.raises(InvalidInputError, match="not in"):
        save_decision(run, 10_000, "accept")
    done = save_decision(run, row, "reject")
    assert done.decided == 1
    table = pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)
    assert table["decision"][0] == "reject"
    cleaned = pd.read_csv(run.parent / "o.csv", dtype=str, keep_default_na=False)
    assert cleaned["pico_label"][row] == table["given"][0]


def test_label_studio_round_trip(run: Path, tmp_path: Path) -> None:
    tasks_path = tmp_path / "ls" / "tasks.json"
    tasks_path.parent.mkdir()
    res = CliRunner().invoke(cli, ["review", str(run), "--export-label-studio",
                                   str(tasks_path)])
    assert res.exit_code == 0, res.output
    review = pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)
    tasks = json.loads(tasks_path.read_text())
    assert len(tasks) >= 3  # accepted, rejected, and cancelled or left alone
    assert [t["data"]["pico_row"] for t in tasks] == review["row"].astype(int).tolist()
    first = tasks[0]
    assert first["data"]["text"] == review["text"][0]
    prediction = first["predictions"][0]
    assert prediction["model_version"] == "pico" and 0 <= prediction["score"] <= 1
    assert prediction["result"] == [{
        "from_name": "intent", "to_name": "text", "type": "choices",
        "value": {"choices": [review["suggested"][0]]}}]
    config = ET.fromstring((tmp_path / "ls" / "tasks.config.xml").read_text())
    choices = config.find("Choices")
    assert choices is not None and choices.get("name") == "intent"
    assert choices.get("toName") == "text"
    assert sorted(c.get("value") for c in choices) == sorted(INTENTS)

    # What Label Studio's JSON export gives back: the tasks with their annotations.
    exported = []
    for i, task in enumerate(tasks):
        data = task["data"]
        annotations = []
        if i == 0:  # accepted the prediction
            choice = data["pico_suggested"]
        elif i == 1:  # chose the given intent
            choice = data["pico_given"]
        else:
            choice = None
        if choice is not None:
            annotations.append({
                "id": 100 + i, "was_cancelled": False, "created_at": "2026-01-01T10:00:00Z",
                "result": [{"from_name": "intent", "to_name": "text", "type": "choices",
                            "value": {"choices": [choice]}}]})
        if i == 2:  # a cancelled (skipped) annotation is no decision
            annotations.append({"id": 102, "was_cancelled": True, "result": []})
        exported.append({"id": i + 1, "data": data, "annotations": annotations,
                         "predictions": task["predictions"]})
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported))
    res = CliRunner().invoke(cli, ["apply", str(run), str(export)])
    assert res.exit_code == 0, res.output
    n_blank = len(tasks) - 2
    assert "2 decisions merged" in res.output
    if n_blank:
        assert f"{n_blank} {'row' if n_blank == 1 else 'rows'} without a decision" in res.output
    log = pd.read_csv(run / "decisions.csv", dtype=str, keep_default_na=False)
    assert log["decision"].tolist() == ["accept", "reject"]
    cleaned = pd.read_csv(run.parent / "o.csv", dtype=str, keep_default_na=False)
    assert cleaned["pico_label"][tasks[0]["data"]["pico_row"]] == review["suggested"][0]
    assert cleaned["pico_label"][tasks[1]["data"]["pico_row"]] == review["given"][1]


def test_label_studio_export_of_a_typo_or_another_run_is_refused(run: Path,
                                                                  tmp_path: Path) -> None:
    task = {"data": {"text": "x", "pico_row": 0, "pico_given": "a", "pico_suggested": "b",
                     "pico_run": "another"},
            "annotations": [{"result": [{"from_name": "intent", "type": "choices",
                                         "value": {"choices": ["c"]}}]}]}
    with pytest.raises(InvalidInputError, match="another run"):
        decisions_from_label_studio([task], run_id="this")
    with pytest.raises(InvalidInputError, match="pico_row"):
        decisions_from_label_studio([{"data": {"text": "x"}}])
    with pytest.raises(InvalidInputError, match="list of tasks"):
        decisions_from_label_studio({"tasks": []})
    # JSON-MIN export: the choice under the control's name
    assert decisions_from_label_studio(
        [{"pico_row": 0, "pico_given": "a", "pico_suggested": "b", "intent": "a"}]
    )["decision"].tolist() == ["reject"]
    history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False)
    record = json.loads((run / "run.json").read_text())
    typo = {"data": {"text": "x", "pico_row": 0, "pico_given": history["given"][0],
                     "pico_suggested": history["suggested"][0], "pico_run": record["run_id"]},
            "annotations": [{"result": [{"from_name": "intent", "type": "choices",
                                         "value": {"choices": ["book_fligth"]}}]}]}
    export = tmp_path / "export.json"
    export.write_text(json.dumps([typo]))
    before = _sha(run.parent / "o.csv")
    res = CliRunner().invoke(cli, ["apply", str(run), str(export)])
    assert res.exit_code == 2 and "closest: book_flight" in res.output
    assert _sha(run.parent / "o.csv") == before


def test_label_studio_config_escapes_names() -> None:
    root = ET.fromstring(label_studio_config(['say "hi" & <bye>', "b"]))
    assert [c.get("value") for c in root.iter("Choice")] == ['say "hi" & <bye>', "b"]
