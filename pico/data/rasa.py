"""Rasa NLU training data (YAML): read the examples, write them back under new intents.

A Rasa file lists intents with their examples in literal blocks::

    version: "3.1"
    nlu:
    # greetings
    - intent: greet
      examples: |
        - hey
        - hello [Sara](name)

Reading gives one row per example: ``text`` (entity markup removed, what the checkers
see), ``example`` (the line as written, entities included) and ``intent``. Writing
keeps the file as it was, line for line (comments, entities, synonyms, regexes,
lookups, key order), and only moves each relabeled example's line to the end of its
new intent's block (a new block at the end of ``nlu:`` for an intent the file did not
have). The file is parsed line by line and cross-checked with a YAML parser, so what is
read is what Rasa reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import InvalidInputError

__all__ = ["RasaDocument", "parse_rasa", "render_rasa", "strip_entities"]

_ENTITY = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\{[^}\n]*\})")
_INTENT = re.compile(r"^(?P<indent>\s*)-\s+intent:\s*(?P<name>.+?)\s*$")
_EXAMPLES = re.compile(r"^(?P<indent>\s*)examples:\s*\|[-+]?\s*$")
_ITEM = re.compile(r"^(?P<indent>\s*)-\s(?P<text>.*?)\s*$")


def strip_entities(example: str) -> str:
    """The text of an example without entity markup.

    Examples
    --------
    >>> strip_entities('fly to [Paris](city) on [monday]{"entity": "day"}')
    'fly to Paris on monday'
    """
    return _ENTITY.sub(r"\1", example)


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name


@dataclass
class _Block:
    name: str
    item_indent: str  # indentation of "- intent:"
    example_indent: str  # indentation of "- example" lines
    header: int  # line index of "examples: |"
    examples: list[int] = field(default_factory=list)  # line indices


@dataclass
class RasaDocument:
    """A parsed Rasa NLU file: its lines and where each intent's examples are."""

    path: Path
    lines: list[str]
    blocks: list[_Block]
    rows: list[tuple[int, int]]  # (block, line) of each example, in file order

    def frame(self) -> pd.DataFrame:
        """One row per example: ``text``, ``intent``, ``example`` and ``line`` (1-based)."""
        records = []
        for b, line in self.rows:
            raw = _ITEM.match(self.lines[line].rstrip("\n"))
            assert raw is not None
            example = raw.group("text")
            records.append(
                {"text": strip_entities(example), "intent": self.blocks[b].name,
                 "example": example, "line": line + 1}
            )
        return pd.DataFrame(records, columns=["text", "intent", "example", "line"])


def parse_rasa(path: Path, text: str) -> RasaDocument:
    """Find the intent blocks of a Rasa NLU YAML file.

    Raises
    ------
    InvalidInputError
        If the YAML is invalid, has no ``nlu:`` intents, or lists examples in a form
        other than a literal block (``examples: |``).
    """
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InvalidInputError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from e
    nlu = data.get("nlu") if isinstance(data, dict) else None
    if not isinstance(nlu, list):
        raise InvalidInputError(
            f"{path} has no `nlu:` list; a Rasa NLU file starts with `nlu:` followed by "
            "`- intent: NAME` items"
        )
    expected: list[tuple[str, list[str]]] = []
    for item in nlu:
        if isinstance(item, dict) and "intent" in item:
            examples = item.get("examples")
            if not isinstance(examples, str):
                raise InvalidInputError(
                    f"{path}: intent {item['intent']!r} lists its examples in a form pico "
                    "does not rewrite; write them as a literal block (`examples: |` with "
                    "one `- example` per line)"
                )
            expected.append((str(item["intent"]), [
                ln.strip()[2:].strip() for ln in examples.splitlines() if ln.strip().startswith("- ")
            ]))
    if not expected:
        raise InvalidInputError(f"{path} has no `- intent:` items under `nlu:`")
    lines = text.splitlines(keepends=True)
    blocks: list[_Block] = []
    rows: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        m = _INTENT.match(lines[i].rstrip("\n"))
        if not m:
            i += 1
            continue
        item_indent = m.group("indent")
        name = _unquote(m.group("name"))
        j = i + 1
        header = -1
        while j < len(lines):
            stripped = lines[j].strip()
            indent = len(lines[j]) - len(lines[j].lstrip())
            if stripped and not stripped.startswith("#") and indent <= len(item_indent):
                break
            if _EXAMPLES.match(lines[j].rstrip("\n")):
                header = j
                break
            j += 1
        if header < 0:
            i += 1
            continue
        head_indent = len(lines[header]) - len(lines[header].lstrip())
        block = _Block(name, item_indent, " " * (head_indent + 2), header)
        k = header + 1
        while k < len(lines):
            raw = lines[k].rstrip("\n")
            if raw.strip() and len(raw) - len(raw.lstrip()) <= head_indent:
                break
            item = _ITEM.match(raw)
            if item:
                block.examples.append(k)
                block.example_indent = item.group("indent")
                rows.append((len(blocks), k))
            k += 1
        blocks.append(block)
        i = k
    found = [(b.name, [(_ITEM.match(lines[x].rstrip("\n")) or _fail()).group("text")
                       for x in b.examples]) for b in blocks]
    if found != expected:
        raise InvalidInputError(
            f"{path}: pico could not map every intent example to its line (unusual "
            "indentation or quoting); reformat the file with one `- example` per line "
            "under `examples: |`"
        )
    return RasaDocument(path, lines, blocks, rows)


def _fail() -> Any:
    raise AssertionError("unreachable")


def render_rasa(doc: RasaDocument, intents: list[Any]) -> str:
    """The file with each example under ``intents[i]`` (row order of :meth:`frame`).

    Lines of examples that keep their intent, and every other line, are unchanged.
    A moved example's line goes to the end of its new intent's block.
    """
    if len(intents) != len(doc.rows):
        raise InvalidInputError(
            f"{len(intents)} intents for {len(doc.rows)} examples of {doc.path}"
        )
    by_name = {b.name: i for i, b in enumerate(doc.blocks)}
    moved: dict[int, list[str]] = {}  # line index after which to insert -> new lines
    new_blocks: dict[str, list[str]] = {}
    removed: set[int] = set()
    for (b, line), intent in zip(doc.rows, intents):
        intent = str(intent)
        block = doc.blocks[b]
        if intent == block.name:
            continue
        text = _ITEM.match(doc.lines[line].rstrip("\n"))
        assert text is not None
        removed.add(line)
        if intent in by_name:
            target = doc.blocks[by_name[intent]]
            anchor = target.examples[-1] if target.examples else target.header
            moved.setdefault(anchor, []).append(f"{target.example_indent}- {text.group('text')}\n")
        else:
            new_blocks.setdefault(intent, []).append(text.group("text"))
    if new_blocks:  # new intents go right after the last intent block, inside `nlu:`
        last = doc.blocks[-1]
        anchor = last.examples[-1] if last.examples else last.header
        inner = last.item_indent + "  "
        added: list[str] = []
        for name, examples in new_blocks.items():
            shown = name if re.fullmatch(r"[\w.\-/]+", name) else json.dumps(name)
            added.append(f"{last.item_indent}- intent: {shown}\n{inner}examples: |\n")
            added.extend(f"{inner}  - {e}\n" for e in examples)
        moved.setdefault(anchor, []).extend(added)
    out: list[str] = []
    for i, raw in enumerate(doc.lines):
        if i not in removed:
            out.append(raw if raw.endswith("\n") else raw + "\n")
        out.extend(moved.get(i, []))
    return "".join(out)
