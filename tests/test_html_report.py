"""pico report: a self-contained HTML page, rendered by a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pico.cli import cli

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("summary", "noise-matrix", "changes-per-intent", "iterations", "confidence",
            "changed-utterances")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album", "playlist"],
             "weather": ["rain", "sunny", "forecast", "cold"],
             "timer": ["timer", "alarm", "minutes", "countdown"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" <{i}> & co", "label": lab}
            for i in range(40) for lab, w in words.items()]
    for i in range(0, 120, 12):
        rows[i]["label"] = "timer" if rows[i]["label"] != "timer" else "music"
    data = tmp / "d.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    run = tmp / "run"
    res = CliRunner().invoke(cli, ["clean", str(data), "--text-column", "text", "-o",
                                   str(tmp / "o.csv"), "--run-dir", str(run), "--iterations",
                                   "2", "--branches", "2", "-q"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["report", str(run)])
    assert res.exit_code == 0, res.output
    return run


def test_report_is_self_contained_with_every_section(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"id='{section}'" in page
    assert "<script" not in page and not re.search(r"(src|href)=['\"]?https?:", page)
    assert "&gt; &amp; co" in page and "> & co<" not in page  # texts are escaped
    assert "&rarr;" in page  # changes grouped by (from -> to)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _render(page: Path, screenshot: Path) -> tuple[str, str]:
    """DOM after rendering and Chromium's log (console messages included)."""
    base = [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
            "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120)
    shot = subprocess.run([*base, "--window-size=1200,2400", f"--screenshot={screenshot}",
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    return dom.stdout, dom.stderr + shot.stderr


def _console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(_chromium() is None, reason="needs Chromium (apt install chromium)")
def test_report_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    # the harness sees console errors: a page with a failing script shows one
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>missingFunction()</script></body></html>")
    _, log = _render(broken, tmp_path / "broken.png")
    assert _console_errors(log)
    shot = tmp_path / "report.png"
    dom, log = _render(run_dir / "report.html", shot)
    assert not _console_errors(log), _console_errors(log)
    for section in SECTIONS:
        assert f'id="{section}"' in dom
    assert dom.count("<svg") >= 4  # heat map, bars, curve, histogram drawn
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("PICO_UPDATE_DOCS"):
        shutil.copy(shot, REPO / "docs" / "img" / "report.png")
