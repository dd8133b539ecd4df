"""The run layer from Python: what ``pico clean`` and ``pico check`` do, without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli import _intents

from pico.cli import cli
from pico.exceptions import InvalidInputError
from pico.run import (
    RUN_RECORD_VERSION,
    RunDirectory,
    check_file,
    clean_to_directory,
    resume_in_directory,
)

FAST = {"n_branches": 2, "n_iterations": 2, "n_folds": 3, "n_jobs": 1}


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "intents.csv"
    _intents().to_csv(path, index=False)
    return path


def test_clean_to_directory_writes_what_the_cli_writes(csv_file: Path, tmp_path: Path) -> None:
    outcome = clean_to_directory(
        csv_file, text_column="text", output=tmp_path / "py.csv", run_dir=tmp_path / "py",
        **FAST,
    )
    assert outcome.output == tmp_path / "py.csv"
    assert outcome.summary["review_rows"] == outcome.review_rows
    assert {p.name for p in outcome.run.path.iterdir()} >= {
        "run.json", "summary.json", "history.csv", "review.csv"
    }
    assert not (outcome.run / "checkpoints").exists()  # removed after a finished run
    result = CliRunner().invoke(cli, [
        "clean", str(csv_file), "--text-column", "text", "-o", str(tmp_path / "cli.csv"),
        "--run-dir", str(tmp_path / "cli"), "--branches", "2", "--iterations", "2",
        "--folds", "3", "--jobs", "1", "-q",
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    record = json.loads((outcome.run / "run.json").read_text())
    assert record["format"] == RUN_RECORD_VERSION
    assert record["options"]["relabel_threshold"] == 0.6  # every option, by clean's names
    assert record["options"]["n_branches"] == 2 and record["options"]["checker"] == "softmax"


def test_resume_in_directory_checks_the_options(csv_file: Path, tmp_path: Path) -> None:
    outcome = clean_to_directory(
        csv_file, text_column="text", output=tmp_path / "out.csv", run_dir=tmp_path / "run",
        keep_checkpoints=True, **FAST,
    )
    first = (tmp_path / "out.csv").read_bytes()
    with pytest.raises(InvalidInputError, match="--threshold was 0.6, now 0.8"):
        resume_in_directory(outcome.run.path, relabel_threshold=0.8)
    again = resume_in_directory(outcome.run.path, n_jobs=2)  # how it runs may change
    assert again.run.path == outcome.run.path
    assert (tmp_path / "out.csv").read_bytes() == first  # a finished run: the same result


def test_a_record_of_an_earlier_layout_is_read_but_not_resumed(
    csv_file: Path, tmp_path: Path
) -> None:
    outcome = clean_to_directory(
        csv_file, text_column="text", output=tmp_path / "out.csv", run_dir=tmp_path / "run",
        **FAST,
    )
    path = outcome.run / "run.json"
    record = json.loads(path.read_text())
    record["format"] = 2
    path.write_text(json.dumps(record))
    assert RunDirectory.open(outcome.run.path).record()["format"] == 2  # apply, review
    with pytest.raises(InvalidInputError, match="earlier pico"):
        resume_in_directory(outcome.run.path)


def test_clean_to_directory_refuses_options_it_sets_itself(csv_file: Path) -> None:
    with pytest.raises(TypeError, match="checkpoint_dir"):
        clean_to_directory(csv_file, text_column="text", checkpoint_dir="elsewhere")


def test_check_file_reads_and_checks(csv_file: Path) -> None:
    found = check_file(csv_file, text_column="text", n_jobs=1)
    assert list(found.summary)[:2] == ["input", "reference"]
    assert found.summary["input"] == str(csv_file)
    assert found.summary["rows"] == len(_intents())
    assert 0.0 <= found.noise_rate <= 1.0
