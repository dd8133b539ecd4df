"""Redraw every generated page of docs/ and its plots from experiments/results/*.json.

Each benchmark script measures and saves its raw results under experiments/results/;
this command draws every page from those files alone (it runs nothing, needs no
dataset, and takes seconds), through each script's own page renderer:

    python experiments/pages.py            # redraw every page whose results are committed
    python experiments/pages.py --check    # redraw into a temporary folder and exit 1
                                           # when a page of docs/ differs from it
    python experiments/pages.py --list     # each page, its result files, what measured them

A page whose result files are not all in experiments/results/ is not drawn (and
``--check`` fails when docs/ holds it anyway). :data:`PAGES` is the list; a new
generated page joins it with the files it is drawn from.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DOCS = REPO / "docs"
RESULTS = REPO / "experiments" / "results"
#: The command each drawn page names as the one that drew it.
COMMAND = "python experiments/pages.py"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _key(docs: Path, results: Path) -> None:
    from experiments.evaluate import redraw

    redraw(results / "evaluate-key.json", docs / "benchmarks-key.md", docs / "img",
           merge=[results / "evaluate-gs.json"], rendered_by=COMMAND)


def _real(docs: Path, results: Path) -> None:
    from experiments.evaluate import redraw

    redraw(results / "evaluate-real.json", docs / "benchmarks-real.md", docs / "img",
           rendered_by=COMMAND)


def _real_noise(docs: Path, results: Path) -> None:
    from experiments.real_noise import render

    _write(docs / "benchmarks-real-noise.md",
           render(_read(results / "real_noise.json"), _read(results / "real_noise_verdicts.json")))


def _trigger(docs: Path, results: Path) -> None:
    from experiments.trigger import render
    from experiments.trigger_variants import render_comparisons

    _write(docs / "benchmarks-trigger.md",
           render(_read(results / "trigger.json"), render_comparisons(results)))


def _engines(docs: Path, results: Path) -> None:
    from experiments.engines import render

    _write(docs / "benchmarks-engines.md", render(_read(results / "engines.json")))


def _scale(docs: Path, results: Path) -> None:
    from experiments.scale import render

    saved = _read(results / "scale.json")
    _write(docs / "benchmarks-scale.md", render(saved["results"], saved["meta"]))


def _spark(docs: Path, results: Path) -> None:
    from experiments.scale import render_stores

    saved = _read(results / "spark.json")
    _write(docs / "benchmarks-spark.md", render_stores(saved["results"], saved["meta"]))


def _trigger_results() -> tuple[str, ...]:
    from experiments.trigger_variants import cited_files

    return ("trigger.json", *cited_files())


@dataclass(frozen=True)
class Page:
    """A generated page: its file under docs/, its result files, how it is drawn."""

    doc: str
    results: Callable[[], tuple[str, ...]]
    draw: Callable[[Path, Path], None]
    measured_by: str


def _files(*names: str) -> Callable[[], tuple[str, ...]]:
    return lambda: names


#: Every generated page (the plots of the evaluation suite go to docs/img/).
PAGES: tuple[Page, ...] = (
    Page("benchmarks-key.md", _files("evaluate-key.json", "evaluate-gs.json"), _key,
         "python experiments/evaluate.py --datasets banking77 clinc150 --noise within-group "
         "confusable --rates 0 0.2 0.4 (evaluate-key.json); --datasets clinc150 --noise "
         "generic-specific --rates 0.1 (evaluate-gs.json)"),
    Page("benchmarks-real.md", _files("evaluate-real.json"), _real,
         "python experiments/evaluate.py --datasets hint3-curekart hint3-sofmattress "
         "clinc150-fewshot clinc150-catchall"),
    Page("benchmarks-real-noise.md", _files("real_noise.json", "real_noise_verdicts.json"),
         _real_noise,
         "python experiments/real_noise.py (the verdicts: a reading by hand)"),
    Page("benchmarks-trigger.md", _trigger_results, _trigger,
         "python experiments/trigger.py --jobs 2 (trigger.json); python "
         "experiments/trigger_variants.py --variant ... --seed S --json "
         "experiments/results/trigger_variants_NAME.json (the comparisons)"),
    Page("benchmarks-engines.md", _files("engines.json"), _engines,
         "python experiments/engines.py"),
    Page("benchmarks-scale.md", _files("scale.json"), _scale, "python experiments/scale.py"),
    Page("benchmarks-spark.md", _files("spark.json"), _spark,
         "python experiments/scale.py --stores"),
)


def missing(page: Page, results: Path = RESULTS) -> list[str]:
    """The result files of ``page`` not in ``results``."""
    return [name for name in page.results() if not (results / name).exists()]


def draw_all(docs: Path = DOCS, results: Path = RESULTS) -> tuple[list[str], list[str]]:
    """Draw every page whose results are all in ``results`` into ``docs``.

    Returns the pages drawn and the pages skipped (results missing).
    """
    drawn, skipped = [], []
    for page in PAGES:
        if missing(page, results):
            skipped.append(page.doc)
            continue
        page.draw(docs, results)
        drawn.append(page.doc)
    return drawn, skipped


def check(docs: Path = DOCS, results: Path = RESULTS) -> list[str]:
    """What differs between ``docs`` and a fresh drawing: one line per problem."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        drawn, skipped = draw_all(fresh, results)
        for name in drawn:
            if not (docs / name).exists():
                problems.append(f"{name}: missing from {docs}")
            elif (docs / name).read_text(encoding="utf-8") != (fresh / name).read_text(
                encoding="utf-8"
            ):
                problems.append(f"{name}: differs from what its results draw")
        for name in skipped:
            if (docs / name).exists():
                page = next(p for p in PAGES if p.doc == name)
                problems.append(f"{name}: in {docs} but its results are not: "
                                + ", ".join(missing(page, results)))
        for image in sorted((fresh / "img").glob("*.png")):
            if not (docs / "img" / image.name).exists():
                problems.append(f"img/{image.name}: missing from {docs}")
            elif not filecmp.cmp(image, docs / "img" / image.name, shallow=False):
                problems.append(f"img/{image.name}: differs from what its results draw")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="redraw into a temporary folder and compare with docs/")
    parser.add_argument("--list", action="store_true",
                        help="list the pages, their result files and what measured them")
    parser.add_argument("--docs", type=Path, default=DOCS, help="folder of the pages")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the result files")
    args = parser.parse_args(argv)
    if args.list:
        for page in PAGES:
            lost = missing(page, args.results)
            print(f"docs/{page.doc}: " + ", ".join(page.results())
                  + (f" (not committed: {', '.join(lost)})" if lost else "")
                  + f"\n    measured by: {page.measured_by}")
        return 0
    if args.check:
        problems = check(args.docs, args.results)
        for line in problems:
            print(line)
        print("pages: up to date" if not problems else f"pages: {len(problems)} problem(s)")
        return 1 if problems else 0
    drawn, skipped = draw_all(args.docs, args.results)
    for name in drawn:
        print(f"drew docs/{name}")
    for name in skipped:
        page = next(p for p in PAGES if p.doc == name)
        print(f"skipped docs/{name}: not committed: {', '.join(missing(page, args.results))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
