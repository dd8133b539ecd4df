"""pico report: a self-contained HTML page, rendered by a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pico import html_report
from pico.cli import cli

SECTIONS = ("summary", "to-review", "noise-matrix", "changes-per-intent", "iterations",
            "confidence", "changed-utterances")


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


def test_rows_to_review_come_first_then_changes_from_the_least_confident_up() -> None:
    history = pd.DataFrame({
        "row": ["0", "1", "2", "3", "4"],
        "given": ["a", "a", "b", "b", "a"],
        "iteration_1": ["b", "a", "a", "a", "a"],
        "final": ["b", "a", "a", "a", "a"],
        "status": ["relabeled", "review", "relabeled", "relabeled", "kept"],
        "confidence": ["0.95", "0.30", "0.61", "0.80", "0.99"],
        "suggested": ["b", "b", "a", "a", "a"],
        "suggested_confidence": ["0.95", "0.70", "0.61", "0.80", "0.99"],
        "given_confidence": ["0.01", "0.30", "0.05", "0.1", "0.99"],
        "runner_up": ["a", "a", "b", "c", "b"],
        "runner_up_confidence": ["0.01", "0.30", "0.05", "0.08", "0.01"],
    })
    texts = ["t-high", "t-review", "t-low", "t-mid", "t-kept"]
    summary = {"rows": 5, "classes": 2, "estimated_noise_rate": 0.2, "iterations": []}
    page = html_report.render_report(summary, history, texts, lines=[11, 12, 13, 14, 15])
    first = page[page.index("id='to-review'"):page.index("id='noise-matrix'")]
    order = [first.index(t) for t in ("t-review", "t-low", "t-mid", "t-high")]
    assert order == sorted(order) and "t-kept" not in first
    assert "<th>line</th>" in first and ">12</td>" in first  # the YAML line, not the row
    assert "the vote: a 0.61, b (given) 0.05, 12x as likely; moved in iteration 1" in first
    assert "the vote: a 0.80, b (given) 0.10, 8.0x as likely; runner-up c 0.08" in first
    assert "1 row left to a person" in first and "3 changes" in first
    groups = page[page.index("id='changed-utterances'"):]
    assert "&rarr; <b>a</b>: 2 rows" in groups and "a</b> &rarr; <b>b</b>: 1 row<" in groups
    assert "1 rows" not in page


def test_a_rasa_report_shows_yaml_lines_and_is_redrawn_after_apply(tmp_path: Path) -> None:
    text = "nlu:\n" + "".join(
        f"- intent: {name}\n  examples: |\n" + "".join(f"    - {w} {i}\n" for i in range(12)
                                                       for w in words)
        for name, words in {"music": ["play jazz", "put on a song"],
                            "weather": ["will it rain", "is it sunny"]}.items()
    )
    data = tmp_path / "nlu.yml"
    data.write_text(text)
    run = tmp_path / "run"
    res = CliRunner().invoke(cli, ["clean", str(data), "-o", str(tmp_path / "out.yml"),
                                   "--run-dir", str(run), "--branches", "2", "--iterations",
                                   "1", "--jobs", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert CliRunner().invoke(cli, ["report", str(run)]).exit_code == 0
    assert "Decided by a person" not in (run / "report.html").read_text()
    row = 5  # "put on a song 2", on line 4 + 5 of the YAML file
    assert text.splitlines()[3 + row] == "    - put on a song 2"
    pd.DataFrame({"row": [row], "given": ["music"], "suggested": ["music"],
                  "decision": ["weather"]}).to_csv(tmp_path / "r.csv", index=False)
    res = CliRunner().invoke(cli, ["apply", str(run), str(tmp_path / "r.csv")])
    assert res.exit_code == 0, res.output
    page = (run / "report.html").read_text()
    decided = page[page.index("Decided by a person (1 row)"):]
    assert "<th>line</th>" in decided
    assert f"<td class='num'>{4 + row}</td><td>put on a song 2</td>" in decided


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
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], check=False, capture_output=True,
                         text=True, timeout=120)
    shot = subprocess.run([*base, "--window-size=1200,2400", f"--screenshot={screenshot}",
                           page.as_uri()], check=False, capture_output=True, text=True,
                          timeout=120)
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
