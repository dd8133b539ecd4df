"""The documentation: the index links every page, every relative link and image resolves,
every result file a page cites is committed, and the generated pages are what their
results draw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The markdown files whose links are checked.
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md", ROOT / "experiments" / "README.md"]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMG = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)


def _prose(text: str) -> str:
    """The text without code blocks and code spans (their brackets are not links)."""
    return _CODE.sub("", _FENCE.sub("", text))


def links(path: Path) -> list[str]:
    """The link and image targets of a markdown file, in order."""
    text = _prose(path.read_text(encoding="utf-8"))
    return _LINK.findall(text) + _IMG.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a markdown file's headings (repeats numbered as GitHub does)."""
    seen: dict[str, int] = {}
    out = set()
    for line in _FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_slug_follows_github() -> None:
    assert slug("## `pico clean --trigger`".lstrip("# ")) == "pico-clean---trigger"
    assert slug("Collapsed pairs: when most of a class moved") == (
        "collapsed-pairs-when-most-of-a-class-moved")
    assert slug("The check's settings") == "the-checks-settings"
    assert slug("5. Iterations and statuses") == "5-iterations-and-statuses"


def test_link_parsing_skips_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.md"
    sample.write_text("[a](x.md) ![b](img/y.png) `[c](not.md)` <img src=\"z.png\">\n"
                      "```\n[d](fenced.md)\n```\n[e](https://example.com) [f](#here)\n",
                      encoding="utf-8")
    assert links(sample) == ["x.md", "img/y.png", "https://example.com", "#here", "z.png"]


def test_every_page_is_linked_from_the_index() -> None:
    index = DOCS / "README.md"
    linked = {(DOCS / target.split("#")[0]).resolve() for target in links(index)
              if not re.match(r"[a-z]+:", target) and target.split("#")[0]}
    pages = [p for p in DOCS.glob("*.md") if p.name != "README.md"]
    assert pages
    unlinked = sorted(p.name for p in pages if p.resolve() not in linked)
    assert not unlinked, f"docs/README.md does not link {unlinked}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_images_resolve(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # https:, mailto:
            continue
        name, _, anchor = target.partition("#")
        path = (page.parent / name).resolve() if name else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no such heading in {path.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_cited_result_files_are_committed() -> None:
    cited = set()
    for page in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        cited |= set(re.findall(r"experiments/results/([\w.-]+\.json)",
                                page.read_text(encoding="utf-8")))
    assert cited
    missing = sorted(n for n in cited if not (ROOT / "experiments" / "results" / n).exists())
    assert not missing, f"cited but not in experiments/results/: {missing}"


def test_generated_pages_are_drawn_from_committed_results() -> None:
    from experiments import pages

    registered = {page.doc for page in pages.PAGES}
    benchmark_pages = {p.name for p in DOCS.glob("benchmarks*.md")}
    assert benchmark_pages <= registered, "a benchmark page pages.py does not draw"
    for page in pages.PAGES:
        if (DOCS / page.doc).exists():
            assert not pages.missing(page), (page.doc, pages.missing(page))
    # every committed result file feeds a page or is quoted in the docs or the README
    used = {name for page in pages.PAGES for name in page.results()}
    quoted = "\n".join(p.read_text(encoding="utf-8")
                       for p in [*DOCS.glob("*.md"), ROOT / "README.md"])
    idle = sorted(p.name for p in (ROOT / "experiments" / "results").glob("*.json")
                  if p.name not in used and p.name not in quoted)
    assert not idle, f"result files no page draws or quotes: {idle}"


def test_generated_pages_are_up_to_date() -> None:
    pytest.importorskip("matplotlib")
    from experiments import pages

    assert pages.check() == []
