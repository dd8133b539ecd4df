"""The review loop: review.csv from pico clean, decisions merged by pico apply."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from pico.cli import cli
from pico.exceptions import InvalidInputError
from pico.review import REVIEW_COLUMNS, apply_decisions, review_table


def test_review_table_lists_uncertain_rows_most_valuable_first() -> None:
    table = review_table(
        ["a", "b", "c", "d"], np.array(["x", "x", "y", "y"]), np.array(["x", "y", "x", "y"]),
        np.array([0.45, 0.65, 0.95, 0.99]), np.array(["review", "relabeled", "relabeled", "kept"]),
        np.array(["y", "y", "x", "y"]),
    )
    assert list(table.columns) == list(REVIEW_COLUMNS)
    assert table["row"].tolist() == [0, 1]  # confident change and kept row left out
    assert table["value"].tolist() == [0.55, 0.35]
    assert (table["decision"] == "").all()


def test_apply_decisions_accept_reject_other_and_blank() -> None:
    given = np.array(["a", "a", "b", "b"], dtype=object)
    labels = np.array(["b", "a", "a", "b"], dtype=object)
    review = pd.DataFrame({"row": [0, 1, 2, 3], "given": ["a", "a", "b", "b"],
                           "suggested": ["b", "c", "a", "a"],
                           "decision": ["reject", "accept", "d", ""]})
    new, decided, log = apply_decisions(given, labels, review)
    assert new.tolist() == ["a", "c", "d", "b"]
    assert decided.tolist() == [True, True, True, False]
    assert log["before"].tolist() == ["b", "a", "a"] and log["after"].tolist() == ["a", "c", "d"]
    bad = review.assign(given=["z", "a", "b", "b"])
    with pytest.raises(InvalidInputError, match="another dataset"):
        apply_decisions(given, labels, bad)
    with pytest.raises(InvalidInputError, match="outside"):
        apply_decisions(given, labels, review.assign(row=[9, 1, 2, 3]))
    with pytest.raises(InvalidInputError, match="decision"):
        apply_decisions(given, labels, review.drop(columns=["decision"]))


def _data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album", "playlist"],
             "weather": ["rain", "sunny", "forecast", "cold"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab, "id": f"r{i}{lab}"}
            for i in range(30) for lab, w in words.items()]
    path = tmp_path / "d.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_clean_then_apply_on_a_table(tmp_path: Path) -> None:
    data, out, run = _data(tmp_path), tmp_path / "o.csv", tmp_path / "run"
    res = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text", "-o", str(out),
                                   "--run-dir", str(run), "--branches", "2", "-q"])
    assert res.exit_code == 0, res.output
    review = pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)
    assert list(review.columns) == list(REVIEW_COLUMNS)
    history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False)
    decisions = pd.DataFrame({"row": [0, 1], "given": history["given"][:2],
                              "suggested": ["weather", "music"],
                              "decision": ["accept", "smalltalk"]})
    decisions.to_csv(tmp_path / "reviewed.csv", index=False)
    res = CliRunner().invoke(cli, ["apply", str(run), str(tmp_path / "reviewed.csv")])
    assert res.exit_code == 2 and "'smalltalk'" in res.output  # not an intent of the data
    res = CliRunner().invoke(cli, ["apply", str(run), str(tmp_path / "reviewed.csv"),
                                   "--allow-new-intents"])
    assert res.exit_code == 0, res.output
    assert "new intent: smalltalk" in res.output
    cleaned = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert cleaned["pico_label"][:2].tolist() == ["weather", "smalltalk"]
    assert cleaned["pico_status"][:2].tolist() == ["reviewed", "reviewed"]
    original = pd.read_csv(data, dtype=str, keep_default_na=False)
    assert cleaned["label"].tolist() == original["label"].tolist()  # given labels kept
    assert cleaned["id"].tolist() == original["id"].tolist()
    history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False)
    assert history["reviewed"][:2].tolist() == ["yes", "yes"]
    assert history["given"].tolist() == original["label"].tolist()
    log = pd.read_csv(run / "decisions.csv", dtype=str, keep_default_na=False)
    assert log["decision"].tolist() == ["accept", "smalltalk"]


def test_apply_on_a_rasa_run_moves_the_example(tmp_path: Path) -> None:
    text = "nlu:\n" + "".join(
        f"- intent: {name}\n  examples: |\n" + "".join(f"    - {w} {i}\n" for i in range(12)
                                                       for w in words)
        for name, words in {"music": ["play jazz", "put on a song"],
                            "weather": ["will it rain", "is it sunny"]}.items()
    )
    data = tmp_path / "nlu.yml"
    data.write_text(text)
    out, run = tmp_path / "nlu.cleaned.yml", tmp_path / "run"
    res = CliRunner().invoke(cli, ["clean", str(data), "-o", str(out), "--run-dir", str(run),
                                   "--branches", "2", "-q"])
    assert res.exit_code == 0, res.output
    pd.DataFrame({"row": [0], "given": ["music"], "suggested": ["weather"],
                  "decision": ["weather"]}).to_csv(tmp_path / "r.csv", index=False)
    res = CliRunner().invoke(cli, ["apply", str(run), str(tmp_path / "r.csv")])
    assert res.exit_code == 0, res.output
    intents = {i["intent"]: i["examples"] for i in yaml.safe_load(out.read_text())["nlu"]}
    assert "- play jazz 0\n" in intents["weather"] and "play jazz 0\n" not in intents["music"]
    assert json.loads((run / "summary.json").read_text())["options"]["format"] == "rasa"


def test_apply_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("row,given,suggested,decision\n")
    res = CliRunner().invoke(cli, ["apply", str(tmp_path), str(tmp_path / "r.csv")])
    assert res.exit_code == 2 and "not a pico run directory" in res.output
