"""Run directories and the files pico reads back: nothing lost, nothing executed.

Each test reproduces a way an earlier pico lost or corrupted a user's file, or ran code
from a file it read, and checks the guarantee of docs/limits.md that replaced it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pico
from pico.cli import cli
from pico.data.inputs import label_variants, truncate_texts
from pico.exceptions import InvalidInputError
from pico.featurizers.tfidf import TfidfFeaturizer
from pico.review import apply_decisions, from_spreadsheet, review_table, spreadsheet_safe
from pico.run import LOCK, MARKER, RunDirectory

FAST = ["--branches", "2", "--folds", "3", "--iterations", "1", "--seed", "0", "-q"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _data(folder: Path, name: str = "d.csv", *, encoding: str = "utf-8",
          extra: list[dict[str, str]] | None = None) -> Path:
    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album", "playlist"],
             "weather": ["rain", "sunny", "forecast", "cold"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab}
            for i in range(30) for lab, w in words.items()]
    rows[0]["label"] = "weather"  # a planted mistake (music text)
    rows += extra or []
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path


def _clean(*args: str) -> object:
    return CliRunner().invoke(cli, ["clean", *args, "--text-column", "text", *FAST])


def _fill_decisions(run: Path, decision: str = "reject") -> Path:
    """A filled review file: review.csv's rows, or the first three rows, all decided."""
    review = pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)
    if not len(review):
        history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False).head(3)
        review = pd.DataFrame({"row": history["row"], "given": history["given"],
                               "suggested": history["suggested"]})
    review["decision"] = decision
    path = run.parent / f"{run.name}.review.csv"
    review.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- 1. paths in run.json


def test_apply_from_another_directory_writes_the_runs_output_not_a_namesake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    _data(work)
    monkeypatch.chdir(work)
    res = _clean("d.csv", "-o", "out.csv", "--run-dir", "run")
    assert res.exit_code == 0, res.output
    record = json.loads((work / "run" / "run.json").read_text())
    assert Path(record["input"]).is_absolute() and Path(record["output"]).is_absolute()
    assert record["output_sha256"] == _sha(work / "out.csv")

    namesake = elsewhere / "out.csv"
    namesake.write_text("id,label\n1,unrelated\n")
    before = _sha(namesake)
    review = _fill_decisions(work / "run")
    monkeypatch.chdir(elsewhere)
    res = CliRunner().invoke(cli, ["apply", str(work / "run"), str(review)])
    assert res.exit_code == 0, res.output
    assert _sha(namesake) == before  # the unrelated file is untouched
    assert (pd.read_csv(work / "out.csv")["pico_status"] == "reviewed").any()
    record = json.loads((work / "run" / "run.json").read_text())
    assert record["output_sha256"] == _sha(work / "out.csv")  # a second apply is accepted

    # --resume from another directory finds the input by its absolute path
    res = CliRunner().invoke(cli, ["clean", "--resume", str(work / "run"), "-q"])
    assert res.exit_code == 0, res.output


def test_apply_refuses_an_output_that_is_not_the_file_the_run_wrote(tmp_path: Path) -> None:
    data = _data(tmp_path)
    out, run = tmp_path / "out.csv", tmp_path / "run"
    assert _clean(str(data), "-o", str(out), "--run-dir", str(run)).exit_code == 0
    out.write_text("id,label\n1,someone else's file\n")
    before = _sha(out)
    res = CliRunner().invoke(cli, ["apply", str(run), str(_fill_decisions(run))])
    assert res.exit_code == 2
    assert "not the file this run wrote" in res.output and "Traceback" not in res.output
    assert _sha(out) == before


def test_apply_and_resume_refuse_a_changed_input(tmp_path: Path) -> None:
    data = _data(tmp_path)
    out, run = tmp_path / "out.csv", tmp_path / "run"
    assert _clean(str(data), "-o", str(out), "--run-dir", str(run)).exit_code == 0
    with open(data, "a", encoding="utf-8") as f:
        f.write("new row,music\n")
    res = CliRunner().invoke(cli, ["apply", str(run), str(_fill_decisions(run))])
    assert res.exit_code == 2 and "changed since" in res.output
    res = CliRunner().invoke(cli, ["clean", "--resume", str(run)])
    assert res.exit_code == 2 and "changed since" in res.output


# ---------------------------------------------------------------- 2. no pickle


def test_a_crafted_pickle_in_a_run_directory_is_never_loaded(tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = tmp_path / "run"
    res = _clean(str(data), "-o", str(tmp_path / "out.csv"), "--run-dir", str(run),
                 "--keep-checkpoints")
    assert res.exit_code == 0, res.output
    pwned = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.mkdir, (str(pwned),))

    for name in ("checkpoint.pkl", "state.pkl"):
        (run / "checkpoints" / name).write_bytes(pickle.dumps(Payload()))
    res = CliRunner().invoke(cli, ["clean", "--resume", str(run), "-q"])
    assert res.exit_code == 0, res.output
    assert not pwned.exists()


# ---------------------------------------------------------------- 3. what pico writes


def test_a_folder_with_other_files_is_refused_as_run_directory(tmp_path: Path) -> None:
    data = _data(tmp_path)  # tmp_path holds the input and nothing pico wrote
    notes = tmp_path / "history.csv"
    notes.write_text("my own history\n")
    before = {p.name: _sha(p) for p in tmp_path.iterdir()}
    res = _clean(str(data), "-o", str(tmp_path / "out.csv"), "--run-dir", str(tmp_path))
    assert res.exit_code == 2 and "pico did not write" in res.output
    assert {p.name: _sha(p) for p in tmp_path.iterdir()} == before  # nothing written


def test_an_empty_folder_is_adopted_and_reused(tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    assert _clean(str(data), "-o", str(tmp_path / "a.csv"), "--run-dir", str(run)).exit_code == 0
    assert (run / MARKER).is_file()
    res = _clean(str(data), "-o", str(tmp_path / "b.csv"), "--run-dir", str(run))
    assert res.exit_code == 0, res.output  # a pico run directory may be used again
    assert json.loads((run / "run.json").read_text())["output"] == str((tmp_path / "b.csv"))
    assert not (run / "checkpoints" / "state.json").exists()  # removed on success


def test_input_or_output_inside_the_run_directory_is_refused(tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = tmp_path / "run"
    assert _clean(str(data), "-o", str(tmp_path / "a.csv"), "--run-dir", str(run)).exit_code == 0
    history = _sha(run / "history.csv")
    res = _clean(str(data), "-o", str(run / "history.csv"), "--run-dir", str(run))
    assert res.exit_code == 2 and "lies inside the run directory" in res.output
    assert _sha(run / "history.csv") == history
    inside = run / "data.csv"
    inside.write_bytes(data.read_bytes())
    res = _clean(str(inside), "-o", str(tmp_path / "b.csv"), "--run-dir", str(run))
    assert res.exit_code == 2 and "lies inside the run directory" in res.output
    assert inside.read_bytes() == data.read_bytes()


# ---------------------------------------------------------------- 4. collisions


def test_default_run_directories_are_unique_within_one_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runs = [RunDirectory.create(None, name="intents") for _ in range(5)]
    assert len({r.path for r in runs}) == 5
    assert all((r.path / MARKER).is_file() for r in runs)


def test_a_second_process_on_a_locked_run_directory_is_refused(tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = tmp_path / "run"
    assert _clean(str(data), "-o", str(tmp_path / "a.csv"), "--run-dir", str(run)).exit_code == 0
    record = (run / "run.json").read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from pico.run import RunDirectory\n"
         "with RunDirectory.open(Path(sys.argv[1])).lock():\n"
         "    print('locked', flush=True); time.sleep(60)",
         str(run)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        res = _clean(str(data), "-o", str(tmp_path / "b.csv"), "--run-dir", str(run))
        assert res.exit_code == 2 and f"(pid {holder.pid})" in res.output
        assert (run / "run.json").read_bytes() == record  # nothing mixed in
        res = CliRunner().invoke(cli, ["apply", str(run), str(_fill_decisions(run))])
        assert res.exit_code == 2 and "another pico process" in res.output
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    with RunDirectory.open(run).lock():  # released when its holder died
        assert (run / LOCK).exists()


# ---------------------------------------------------------------- 5. long texts


class _Longest(TfidfFeaturizer):
    """The default featurizer, remembering the longest text it was given."""

    longest = 0

    def fit_transform(self, texts, y=None, **kw):  # type: ignore[no-untyped-def]
        _Longest.longest = max(len(t) for t in texts)
        return super().fit_transform(texts, y, **kw)


def test_long_texts_are_cut_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    texts = ["play some jazz", "play a song", "will it rain", "is it sunny"] * 10
    labels = ["music", "music", "weather", "weather"] * 10
    texts[0] = "play jazz " * 100_000  # a 1,000,000-character cell
    with caplog.at_level(logging.WARNING, logger="pico"):
        result = pico.clean(texts, labels, n_branches=2, n_folds=3, n_iterations=1,
                            max_text_chars=500, n_jobs=1, featurizer=_Longest())
    assert _Longest.longest == 500  # the featurizer never saw the long cell whole
    assert result.summary["inputs"]["texts_cut"] == 1
    assert result.summary["options"]["max_text_chars"] == 500
    assert any("1 text longer than 500 characters was cut" in r.getMessage()
               for r in caplog.records)
    with pytest.raises(InvalidInputError, match="max_text_chars"):
        pico.clean(texts, labels, max_text_chars=0)
    assert truncate_texts(["abcdef"], 3) == (["abc"], 1)


def test_check_cuts_long_texts_too(caplog: pytest.LogCaptureFixture) -> None:
    texts = ["play some jazz", "play a song", "will it rain", "is it sunny"] * 10
    labels = ["music", "music", "weather", "weather"] * 10
    texts[3] = "x" * 50_000
    with caplog.at_level(logging.WARNING, logger="pico"):
        pico.check(texts, labels, max_text_chars=1000, n_jobs=1, featurizer=_Longest())
    assert _Longest.longest == 1000
    assert any("cut to that length" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- 7. smaller ones


def test_review_csv_cells_never_open_as_formulas_and_apply_reads_them_back(
    tmp_path: Path,
) -> None:
    formula = '=HYPERLINK("http://example.com","x")'
    table = review_table([formula, "@SUM(A1)"], np.array(["-cmd", "a"]),
                         np.array(["+b", "a"]), np.array([0.4, 0.3]),
                         np.array(["review", "review"]), np.array(["+b", "b"]))
    cells = [str(v) for v in table[["text", "given", "pico_label", "suggested"]].to_numpy().ravel()]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    path = tmp_path / "review.csv"
    decisions = {0: "reject", 1: "accept"}  # row 0: given -cmd back; row 1: suggested b
    table.assign(decision=table["row"].map(decisions)).to_csv(path, index=False)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    labels, decided, _ = apply_decisions(np.array(["-cmd", "a"], dtype=object),
                                         np.array(["+b", "a"], dtype=object), back)
    assert labels.tolist() == ["-cmd", "b"] and decided.all()
    for value in ["=1+1", "'quoted", "-1", "plain", "\tx"]:
        assert from_spreadsheet(spreadsheet_safe(value)) == value


def test_report_reads_a_latin1_run(tmp_path: Path) -> None:
    data = _data(tmp_path, encoding="latin-1",
                 extra=[{"text": "météo à Zürich", "label": "weather"}] * 3)
    run = tmp_path / "run"
    res = _clean(str(data), "-o", str(tmp_path / "out.csv"), "--run-dir", str(run),
                 "--encoding", "latin-1")
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["report", str(run)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["report", str(run), "--encoding", "latin-1", "-o",
                                   str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output


def test_label_column_named_like_an_output_column_is_refused(tmp_path: Path) -> None:
    data = _data(tmp_path)
    frame = pd.read_csv(data).rename(columns={"label": "pico_label"})
    frame.to_csv(data, index=False)
    res = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text",
                                   "--label-column", "pico_label", "-o",
                                   str(tmp_path / "o.csv"), *FAST])
    assert res.exit_code == 2 and "is a column pico writes" in res.output
    assert not (tmp_path / "o.csv").exists()


def test_label_spellings_warn_and_kept_labels_keep_their_spelling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = _data(tmp_path, extra=[{"text": "song album jazz", "label": " music "},
                                  {"text": "rain cold forecast", "label": "Weather"}])
    out = tmp_path / "out.csv"
    with caplog.at_level(logging.WARNING, logger="pico"):
        res = _clean(str(data), "-o", str(out), "--run-dir", str(tmp_path / "run"))
    assert res.exit_code == 0, res.output
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "differ only in case or spacing" in said and "'Weather'" in said
    assert "had spaces around them" in said
    given = pd.read_csv(data, dtype=str, keep_default_na=False)["label"]
    cleaned = pd.read_csv(out, dtype=str, keep_default_na=False)
    kept = cleaned["pico_status"] == "kept"
    assert (cleaned.loc[kept, "pico_label"] == given[kept]).all()  # ' music ' stays as given
    assert cleaned["pico_label"].iloc[-2] in (" music ", "weather")
    assert label_variants(["a", "A", "b"]) == [["A", "a"]]


@pytest.mark.parametrize("damage", ["truncate", "not-json", "array"])
def test_damaged_summary_gives_one_line(tmp_path: Path, damage: str) -> None:
    data = _data(tmp_path)
    run = tmp_path / "run"
    assert _clean(str(data), "-o", str(tmp_path / "o.csv"), "--run-dir", str(run)).exit_code == 0
    review = _fill_decisions(run)
    summary = run / "summary.json"
    text = summary.read_text()
    summary.write_text({"truncate": text[: len(text) // 2], "not-json": "\x00\x01",
                        "array": "[1, 2]"}[damage])
    for args in (["report", str(run)], ["apply", str(run), str(review)]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 2, res.output
        assert "summary.json" in res.output and "damaged" in res.output
        assert "Traceback" not in res.output


def test_a_killed_apply_leaves_no_temporary_file_and_reapplying_logs_once(
    tmp_path: Path,
) -> None:
    data = _data(tmp_path)
    out, run = tmp_path / "out.csv", tmp_path / "run"
    assert _clean(str(data), "-o", str(out), "--run-dir", str(run)).exit_code == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".out.csv.pico-{dead.pid}-abcd1234.tmp"  # what a killed write leaves
    left.write_text("half a file")
    review = _fill_decisions(run)
    for _ in range(2):
        res = CliRunner().invoke(cli, ["apply", str(run), str(review)])
        assert res.exit_code == 0, res.output
    assert not left.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    log = pd.read_csv(run / "decisions.csv", dtype=str)
    assert len(log) == len(pd.read_csv(review)) and not log.duplicated(["row"]).any()
    assert "already applied before" in res.output


def test_apply_after_a_kill_between_its_steps_is_accepted(tmp_path: Path) -> None:
    data = _data(tmp_path)
    out, run = tmp_path / "out.csv", tmp_path / "run"
    assert _clean(str(data), "-o", str(out), "--run-dir", str(run)).exit_code == 0
    review = _fill_decisions(run)
    assert CliRunner().invoke(cli, ["apply", str(run), str(review)]).exit_code == 0
    # A kill after the output was replaced but before run.json recorded it: the digest
    # is pending.
    record = json.loads((run / "run.json").read_text())
    record["pending_output_sha256"] = record["output_sha256"]
    record["output_sha256"] = "0" * 64
    (run / "run.json").write_text(json.dumps(record))
    res = CliRunner().invoke(cli, ["apply", str(run), str(review)])
    assert res.exit_code == 0, res.output
    assert json.loads((run / "run.json").read_text())["output_sha256"] == _sha(out)
