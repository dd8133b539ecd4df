"""The ``pico clean`` command, run through click's CliRunner on small files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pico.cli import cli

FAST = ["--branches", "2", "--iterations", "2", "--folds", "3"]


def _intents(n_per_class: int = 20) -> pd.DataFrame:
    """Three small, clearly separated intents with two planted mistakes."""
    rows = []
    vocab = {
        "weather": ["weather", "rain", "sunny", "forecast", "temperature outside"],
        "music": ["play song", "music", "playlist", "jazz", "turn up the song"],
        "timer": ["timer", "set a timer", "countdown", "minutes timer", "alarm timer"],
    }
    for label, words in vocab.items():
        for i in range(n_per_class):
            rows.append({"text": f"{words[i % 5]} please {i // 5}", "label": label, "id": len(rows)})
    frame = pd.DataFrame(rows)
    frame.loc[0, "label"] = "music"
    frame.loc[n_per_class + 1, "label"] = "timer"
    return frame


def run(args: list[str]) -> click.testing.Result:  # type: ignore[name-defined]  # noqa: F821
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "intents.csv"
    _intents().to_csv(path, index=False)
    return path


def test_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        assert command.help, name
        result = run([name, "-h"])
        assert result.exit_code == 0
        assert "Example" in result.output


def test_clean_csv_keeps_rows_and_columns(csv_file: Path, tmp_path: Path) -> None:
    before = csv_file.read_bytes()
    out = tmp_path / "out.csv"
    result = run(["clean", str(csv_file), "--text-column", "text", "-o", str(out),
                  "--run-dir", str(tmp_path / "run"), *FAST])
    assert result.exit_code == 0, result.output
    assert csv_file.read_bytes() == before  # input untouched
    given = pd.read_csv(csv_file, dtype=str, keep_default_na=False)
    cleaned = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(cleaned.columns) == list(given.columns) + [
        "pico_label", "pico_confidence", "pico_status"]
    pd.testing.assert_frame_equal(cleaned[given.columns], given)
    assert set(cleaned.pico_status) <= {"kept", "relabeled", "review", "skipped"}
    assert cleaned.loc[0, "pico_label"] == "weather"  # the planted mistake is fixed
    assert cleaned.loc[21, "pico_label"] == "music"
    conf = cleaned.pico_confidence.astype(float)
    assert ((conf >= 0) & (conf <= 1)).all()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["rows"] == len(given)
    assert summary["status_counts"]["relabeled"] >= 2
    assert summary["options"]["n_branches"] == 2
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert {"given", "iteration_1", "final", "status"} <= set(history.columns)
    assert "pico: 60 rows, 60 labeled, 3 classes" in result.output  # the stderr summary
    assert f"wrote {out}" in result.output


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "parquet"])
def test_clean_other_formats_round_trip(fmt: str, tmp_path: Path) -> None:
    frame = _intents()
    src = tmp_path / f"intents.{fmt}"
    if fmt == "tsv":
        frame.to_csv(src, sep="\t", index=False)
    elif fmt == "jsonl":
        frame.to_json(src, orient="records", lines=True)
    else:
        frame.to_parquet(src, index=False)
    result = run(["clean", str(src), "--text-column", "text", "--run-dir",
                  str(tmp_path / "run"), *FAST])
    assert result.exit_code == 0, result.output
    out = tmp_path / f"intents.cleaned.{fmt}"
    assert out.exists()
    if fmt == "tsv":
        back = pd.read_csv(out, sep="\t")
    elif fmt == "jsonl":
        back = pd.read_json(out, orient="records", lines=True)
    else:
        back = pd.read_parquet(out)
    assert len(back) == len(frame)
    assert back["id"].tolist() == frame["id"].tolist()
    assert back.loc[0, "pico_label"] == "weather"


def test_empty_labels_are_skipped(tmp_path: Path) -> None:
    frame = _intents()
    frame.loc[[3, 20], "label"] = ""
    src = tmp_path / "d.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "o.csv"
    result = run(["clean", str(src), "--text-column", "text", "-o", str(out), "--run-dir",
                  str(tmp_path / "run"), *FAST])
    assert result.exit_code == 0, result.output
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back.loc[3, "pico_status"] == "skipped"
    assert back.loc[20, "pico_status"] == "skipped"
    assert back.loc[3, "pico_label"] == ""
    assert back.loc[3, "pico_confidence"] == ""
    assert (back.pico_status == "skipped").sum() == 2


def test_numeric_feature_columns(tmp_path: Path) -> None:
    from pico.benchmarking import make_blobs_with_noise

    X, y, y_noisy = make_blobs_with_noise(150, 3, n_features=4, rate=0.1, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)])
    frame["label"] = [f"c{v}" for v in y_noisy]
    src = tmp_path / "num.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "num.out.csv"
    result = run(["clean", str(src), "--feature-columns", "f*", "-o", str(out), "--run-dir",
                  str(tmp_path / "run"), *FAST])
    assert result.exit_code == 0, result.output
    back = pd.read_csv(out)
    truth = pd.Series([f"c{v}" for v in y])
    assert (back.pico_label == truth).mean() > (frame.label == truth).mean()


def _error(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert lines[-1].startswith("Error:")
    assert "Traceback" not in result.output
    return lines[-1]


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in _error(["clean", str(tmp_path / "nope.csv"), "--text-column", "text"])


def test_missing_column(csv_file: Path) -> None:
    msg = _error(["clean", str(csv_file), "--text-column", "utterance"])
    assert "utterance" in msg and "--text-column" in msg


def test_missing_label_column(csv_file: Path) -> None:
    msg = _error(["clean", str(csv_file), "--text-column", "text", "--label-column", "intent"])
    assert "intent" in msg and "--label-column" in msg


def test_empty_file(tmp_path: Path) -> None:
    src = tmp_path / "empty.csv"
    src.write_text("")
    assert "empty" in _error(["clean", str(src), "--text-column", "text"]).lower()


def test_header_only(tmp_path: Path) -> None:
    src = tmp_path / "h.csv"
    src.write_text("text,label\n")
    assert "no data rows" in _error(["clean", str(src), "--text-column", "text"])


def test_single_class(tmp_path: Path) -> None:
    src = tmp_path / "one.csv"
    src.write_text("text,label\nhello,a\nhi,a\nhey,a\n")
    assert "2 classes" in _error(["clean", str(src), "--text-column", "text"])


def test_all_labels_empty(tmp_path: Path) -> None:
    src = tmp_path / "none.csv"
    src.write_text("text,label\nhello,\nhi, \n")
    assert "no labels" in _error(["clean", str(src), "--text-column", "text"])


def test_undecodable_bytes(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(b"text,label\nhello,a\n\xff\xfe oops,b\n")
    msg = _error(["clean", str(src), "--text-column", "text"])
    assert "utf-8" in msg.lower() and "--encoding" in msg


def test_malformed_row(tmp_path: Path) -> None:
    src = tmp_path / "ragged.csv"
    src.write_text("text,label\nhello,a\nhi,b,extra\n")
    msg = _error(["clean", str(src), "--text-column", "text"])
    assert "line 3" in msg


def test_no_input_column_given(csv_file: Path) -> None:
    msg = _error(["clean", str(csv_file)])
    assert "--text-column" in msg and "--feature-columns" in msg


def test_output_onto_input_is_refused(csv_file: Path) -> None:
    before = csv_file.read_bytes()
    msg = _error(["clean", str(csv_file), "--text-column", "text", "-o", str(csv_file)])
    assert "input" in msg
    assert csv_file.read_bytes() == before


def test_unknown_extension(tmp_path: Path) -> None:
    src = tmp_path / "data.xlsx"
    src.write_text("x")
    assert "--format" in _error(["clean", str(src), "--text-column", "text"])


def test_bad_option_value(csv_file: Path) -> None:
    msg = _error(["clean", str(csv_file), "--text-column", "text", "--folds", "1"])
    assert "n_folds" in msg


def test_version() -> None:
    result = run(["--version"])
    assert result.exit_code == 0 and "pico" in result.output


def test_clean_with_the_history_model(csv_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    args = ["clean", str(csv_file), "--text-column", "text", "-o", str(out),
            "--run-dir", str(tmp_path / "run"), "--branches", "2", "--iterations", "2",
            "--history", "-q"]
    result = run(args)
    assert result.exit_code == 0, result.output
    cleaned = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert cleaned.loc[0, "pico_label"] == "weather"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["options"]["history"] is True
    # every iteration recorded the weights the history model gave the iterations so far
    weights = [len(it["weights"]) for it in summary["iterations"]]
    assert weights == list(range(1, len(weights) + 1))


def test_progress_reports_each_quarter_with_an_eta(caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from pico.cli import Progress

    with caplog.at_level("INFO", logger="pico.progress"):
        progress = Progress(tty=False)
        progress("start", {"iteration": 1})
        for done in range(1, 21):
            progress("checker", {"iteration": 1, "done": done, "total": 20})
    lines = [r.getMessage() for r in caplog.records if r.name == "pico.progress"]
    assert [line.split(",")[0] for line in lines] == [
        f"iteration 1: checker {d}/20" for d in (5, 10, 15, 20)]
    assert all("s left" in line for line in lines)
    live = Progress(tty=True)
    live("start", {"iteration": 2})
    live("checker", {"iteration": 2, "done": 1, "total": 3})
    live("iteration", {"iteration": 2, "changed": 0, "seconds": 0.0})
    err = capsys.readouterr().err
    assert err.startswith("\r  iteration 2: checker 1/3") and err.endswith("\r")  # in place
