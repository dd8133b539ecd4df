"""Crash safety: a pico clean killed with SIGKILL mid-iteration resumes and completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pico.cli import cli

REPO = Path(__file__).resolve().parents[1]
OPTIONS = ["--text-column", "text", "--iterations", "3", "--branches", "2", "--folds", "3",
           "--seed", "0", "-q"]


def _data(tmp_path: Path) -> Path:
    demo = pd.read_csv(REPO / "datasets" / "demo" / "intents.csv", dtype=str,
                       keep_default_na=False)
    path = tmp_path / "data.csv"
    demo.head(1500).to_csv(path, index=False)
    return path


def _clean(data: Path, out: Path, run: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pico", "clean", str(data), "-o", str(out), "--run-dir",
         str(run), *OPTIONS],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_iteration_then_resume_completes_the_run(tmp_path: Path) -> None:
    data = _data(tmp_path)
    whole = _clean(data, tmp_path / "whole.csv", tmp_path / "whole")
    assert whole.wait(timeout=600) == 0

    out, run = tmp_path / "out.csv", tmp_path / "run"
    proc = _clean(data, out, run)
    state = run / "checkpoints" / "state.json"
    deadline = time.monotonic() + 600
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.exists() and proc.poll() is None, "the run ended before iteration 2"
    time.sleep(0.3)  # well inside iteration 2
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not out.exists()  # killed before writing anything
    saved = json.loads(state.read_text(encoding="utf-8"))  # JSON: nothing to unpickle
    assert saved["iteration"] == 1 and saved["finished"] is False
    assert not (run / "checkpoints" / "checkpoint.pkl").exists()

    res = CliRunner().invoke(cli, ["clean", "--resume", str(run), "-q"])
    assert res.exit_code == 0, res.output
    resumed = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = pd.read_csv(tmp_path / "whole.csv", dtype=str, keep_default_na=False)
    # Every input row and column, in order; the labels of iteration 1 as they were.
    pico_columns = ["pico_label", "pico_confidence", "pico_status"]
    assert list(resumed.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(resumed.drop(columns=pico_columns),
                                  expected.drop(columns=pico_columns))
    history = pd.read_csv(run / "history.csv", dtype=str, keep_default_na=False)
    uninterrupted = pd.read_csv(tmp_path / "whole" / "history.csv", dtype=str,
                                keep_default_na=False)
    assert list(history.columns) == list(uninterrupted.columns)
    pd.testing.assert_frame_equal(history.iloc[:, :3], uninterrupted.iloc[:, :3])
    # Iteration 2's checkers started cold (warm-start models are not checkpointed), so a
    # few final labels may differ from the uninterrupted run's: measured 1 of 1,500
    # rows on this data. Allow 1%.
    differ = int((resumed["pico_label"] != expected["pico_label"]).sum())
    assert differ <= 0.01 * len(expected), differ
    assert set(resumed["pico_status"]) <= {"kept", "relabeled", "review", "skipped"}
    summary = json.loads((run / "summary.json").read_text())
    reference = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert summary["checker_fits"] == reference["checker_fits"] == 3 * 2 * 3


def test_resume_refuses_changed_options_or_input(tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = tmp_path / "run"
    res = CliRunner().invoke(cli, ["clean", str(data), "-o", str(tmp_path / "o.csv"),
                                   "--run-dir", str(run), *OPTIONS])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["clean", "--resume", str(run), "--iterations", "5"])
    assert res.exit_code == 2 and "--iterations was 3, now 5" in res.output
    res = CliRunner().invoke(cli, ["clean", "--resume", str(run), "--jobs", "2", "-q"])
    assert res.exit_code == 0, res.output  # execution options may change
    with open(data, "a", encoding="utf-8") as f:
        f.write("one more row,transfer_money,banking,transfer_money\n")
    res = CliRunner().invoke(cli, ["clean", "--resume", str(run)])
    assert res.exit_code == 2 and "changed" in res.output
    res = CliRunner().invoke(cli, ["clean", "--resume", str(tmp_path)])
    assert res.exit_code == 2 and "not a pico run directory" in res.output


def test_same_input_options_and_seed_give_byte_identical_files(tmp_path: Path) -> None:
    data = _data(tmp_path)
    for name in ("a", "b"):
        res = CliRunner().invoke(cli, ["clean", str(data), "-o", str(tmp_path / f"{name}.csv"),
                                       "--run-dir", str(tmp_path / name), *OPTIONS])
        assert res.exit_code == 0, res.output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    for f in ("history.csv", "review.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_full_disk_gives_one_line_and_keeps_the_earlier_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from pico.data import io as pio

    data = _data(tmp_path)
    out = tmp_path / "o.csv"
    out.write_text("an earlier output\n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pio.os, "fsync", full)
    res = CliRunner().invoke(cli, ["clean", str(data), "-o", str(out), "--run-dir",
                                   str(tmp_path / "run"), *OPTIONS])
    assert res.exit_code == 2
    assert res.output.startswith("Error: No space left on device") and res.output.count("\n") == 1
    assert out.read_text() == "an earlier output\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.csv")]  # no temp left
