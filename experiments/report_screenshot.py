"""Redraw the README's screenshots from the demo: the report and the review page.

Cleans the bundled demo's Rasa NLU file (``datasets/demo/nlu.yml``) into a temporary
run directory, writes its report, serves its review page on 127.0.0.1, and takes a
screenshot of both with headless Chromium (``apt install chromium``).

Usage::

    python experiments/report_screenshot.py            # docs/img/report.png, review.png
    python experiments/report_screenshot.py --jobs 1 --out /tmp/shots
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("needs Chromium (apt install chromium)")


def _shoot(url: str, target: Path, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--hide-scrollbars", f"--user-data-dir={profile}",
             f"--window-size=1200,{height}", f"--screenshot={target}", url],
            check=True, capture_output=True, timeout=120,
        )
    print(f"wrote {target}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img",
                        help="folder for report.png and review.png")
    parser.add_argument("--jobs", type=int, default=-1, help="pico clean --jobs")
    args = parser.parse_args(argv)
    from click.testing import CliRunner

    from pico.cli import cli
    from pico.review_server import serve

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        for command in (
            ["clean", str(REPO / "datasets" / "demo" / "nlu.yml"), "-o",
             str(Path(tmp) / "nlu.cleaned.yml"), "--run-dir", str(run), "--jobs",
             str(args.jobs), "-q"],
            ["report", str(run)],
        ):
            res = CliRunner().invoke(cli, command)
            if res.exit_code:
                sys.exit(res.output)
        args.out.mkdir(parents=True, exist_ok=True)
        _shoot((run / "report.html").as_uri(), args.out / "report.png", 1500)
        server = serve(run)
        try:
            _shoot(server.url, args.out / "review.png", 1000)
        finally:
            server.close()


if __name__ == "__main__":
    main()
