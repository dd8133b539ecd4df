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

Retrieval intents (``- intent: faq/ask_price``) are labels like any other: the full
``faq/ask_price`` name. A Rasa data folder (several NLU files, with stories, rules or
anything else beside them) reads as the rows of every NLU file, with a ``file`` column;
it is written back as a folder of the same files, each example kept in its own file and
moved within it (to its new intent's block in that file, or to a new block at the end
of that file's intents).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..exceptions import InvalidInputError

__all__ = [
    "RasaDocument",
    "RasaFolder",
    "parse_rasa",
    "read_rasa",
    "read_rasa_folder",
    "render_rasa",
    "strip_entities",
]

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


@dataclass(eq=False)
class RasaDocument:
    """A parsed Rasa NLU file: its lines and where each intent's examples are."""

    format: ClassVar[str] = "rasa"

    path: Path
    lines: list[str]
    blocks: list[_Block]
    rows: list[tuple[int, int]]  # (block, line) of each example, in file order
    data: bytes | None = None  # the file's bytes as read (None: built from text)
    encoding: str = "utf-8"
    bom: bytes = b""

    def __deepcopy__(self, memo: dict[int, Any]) -> RasaDocument:
        return self  # read-only once parsed; pandas copies frame.attrs deeply

    def render(self, intents: Sequence[Any]) -> bytes:
        """The file's bytes with each example under ``intents[i]`` (see :func:`render_rasa`).

        With every example under its own intent, the bytes read come back unchanged.
        """
        if len(intents) != len(self.rows):
            raise InvalidInputError(
                f"{len(intents)} intents for {len(self.rows)} examples of {self.path}"
            )
        if self.data is not None and all(
            str(intent) == self.blocks[b].name for (b, _), intent in zip(self.rows, intents)
        ):
            return self.data
        return self.bom + render_rasa(self, list(intents)).encode(self.encoding)

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


def read_rasa(path: Path, data: bytes, *, encoding: str = "utf-8") -> RasaDocument:
    """Parse the bytes of a Rasa NLU file, remembering them to write unchanged parts back.

    Raises
    ------
    InvalidInputError
        As :func:`parse_rasa`, or if the bytes do not decode with ``encoding``.
    """
    from .files import decode_bytes

    text = decode_bytes(data, path, encoding)
    doc = parse_rasa(path, text)
    doc.data = data
    doc.encoding = codecs.lookup(encoding).name
    if doc.encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        doc.bom = codecs.BOM_UTF8
    return doc


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
    newline = "\r\n" if doc.lines and doc.lines[0].endswith("\r\n") else "\n"
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
            moved.setdefault(anchor, []).append(
                f"{target.example_indent}- {text.group('text')}{newline}"
            )
        else:
            new_blocks.setdefault(intent, []).append(text.group("text"))
    if new_blocks:  # new intents go right after the last intent block, inside `nlu:`
        last = doc.blocks[-1]
        anchor = last.examples[-1] if last.examples else last.header
        inner = last.item_indent + "  "
        added: list[str] = []
        for name, examples in new_blocks.items():
            shown = name if re.fullmatch(r"[\w.\-/]+", name) else json.dumps(name)
            added.append(
                f"{last.item_indent}- intent: {shown}{newline}{inner}examples: |{newline}"
            )
            added.extend(f"{inner}  - {e}{newline}" for e in examples)
        moved.setdefault(anchor, []).extend(added)
    out: list[str] = []
    for i, raw in enumerate(doc.lines):
        if i not in removed:
            out.append(raw if raw.endswith("\n") else raw + newline)
        out.extend(moved.get(i, []))
    return "".join(out)


# --------------------------------------------------------------------------- folders


@dataclass(eq=False)
class RasaFolder:
    """A Rasa data folder: every file's bytes, and the parsed NLU files among them."""

    format: ClassVar[str] = "rasa"

    path: Path
    files: dict[str, bytes]  # relative path -> bytes, every file of the folder
    documents: dict[str, RasaDocument]  # relative path -> parsed NLU file

    def __deepcopy__(self, memo: dict[int, Any]) -> RasaFolder:
        return self

    def frame(self) -> pd.DataFrame:
        """The rows of every NLU file (sorted by path): ``text``, ``intent``, ``example``,
        ``file`` (relative path) and ``line``."""
        parts = []
        for name, doc in self.documents.items():
            part = doc.frame()
            part.insert(3, "file", name)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def render(self, intents: Sequence[Any]) -> dict[str, bytes]:
        """Every file of the folder, each NLU file with its examples under ``intents``.

        An example stays in its own file; files without examples come back unchanged.
        """
        total = sum(len(doc.rows) for doc in self.documents.values())
        if len(intents) != total:
            raise InvalidInputError(f"{len(intents)} intents for {total} examples of {self.path}")
        out = dict(self.files)
        start = 0
        for name, doc in self.documents.items():
            out[name] = doc.render(list(intents[start:start + len(doc.rows)]))
            start += len(doc.rows)
        return out


def read_rasa_folder(path: Path, *, encoding: str = "utf-8") -> RasaFolder:
    """Read a Rasa data folder: every ``.yml``/``.yaml`` file with ``nlu:`` intents.

    Every other file (stories, rules, the domain, anything else) is kept to be written
    back unchanged.

    Raises
    ------
    InvalidInputError
        If a YAML file is not valid YAML, an NLU file uses a layout pico does not
        rewrite, or no file has ``- intent:`` examples.
    """
    import yaml

    files: dict[str, bytes] = {}
    documents: dict[str, RasaDocument] = {}
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for file_name in sorted(names):
            file = Path(root) / file_name
            name = file.relative_to(path).as_posix()
            try:
                files[name] = file.read_bytes()
            except OSError as error:
                raise InvalidInputError(
                    f"cannot read {file}: {error.strerror or error}. Check that it is readable"
                ) from error
    from .files import decode_bytes

    for name in sorted(files):
        if not name.lower().endswith((".yml", ".yaml")):
            continue
        file = path / name
        text = decode_bytes(files[name], file, encoding)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InvalidInputError(
                f"{file} is not valid YAML: {str(e).splitlines()[0]}. Fix it (Rasa cannot "
                "read it either) or move it out of the folder"
            ) from e
        nlu = data.get("nlu") if isinstance(data, dict) else None
        if isinstance(nlu, list) and any(isinstance(i, dict) and "intent" in i for i in nlu):
            documents[name] = read_rasa(file, files[name], encoding=encoding)
    if not documents:
        raise InvalidInputError(
            f"{path} holds no Rasa NLU file (a .yml or .yaml file with `nlu:` and "
            "`- intent:` items); pass a Rasa data folder or an NLU file"
        )
    return RasaFolder(path, files, documents)
