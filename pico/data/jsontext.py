"""JSON text with positions: edit a few values and keep every other byte as written.

Platform exports (Microsoft CLU, Dialogflow ES, Lex V2) are JSON files whose layout
(key order, indentation, escapes) their owners keep under version control. Rewriting
them with :func:`json.dumps` would change lines nobody touched, so pico parses the text
into :class:`Node` objects that remember where each value starts and ends, and changes
the file with a list of edits (replace this span by that text) instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidInputError

__all__ = [
    "Edit",
    "Node",
    "apply_edits",
    "array_edit",
    "dumps_like",
    "line_indent",
    "parse_json",
    "reindent",
]

#: One change to a text: replace ``text[start:end]`` with ``new``.
Edit = tuple[int, int, str]

_WS = re.compile(r"[ \t\n\r]*")
_INDENT = re.compile(r"[ \t]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass(eq=False)
class Node:
    """A JSON value and the span ``text[start:end]`` it was read from.

    ``value`` is the Python value for strings, numbers, booleans and null, a list of
    nodes for an array and a dict of nodes for an object (the last of repeated keys).
    """

    kind: str  # "object", "array", "string", "number", "literal"
    start: int
    end: int
    value: Any

    def get(self, key: str) -> Node | None:
        """The member ``key`` of an object node (None if absent or not an object)."""
        if self.kind != "object":
            return None
        node: Node | None = self.value.get(key)
        return node

    def plain(self) -> Any:
        """The value as plain Python data (what :func:`json.loads` gives)."""
        if self.kind == "array":
            return [item.plain() for item in self.value]
        if self.kind == "object":
            return {key: item.plain() for key, item in self.value.items()}
        return self.value


def parse_json(text: str, source: str) -> Node:
    """Parse ``text`` into a :class:`Node` tree.

    Parameters
    ----------
    text : str
        The JSON text.
    source : str
        Where it comes from, for error messages.

    Raises
    ------
    InvalidInputError
        If ``text`` is not valid JSON (the message names the line and column).

    Examples
    --------
    >>> root = parse_json('{"a": [1, "x"]}', "example")
    >>> items = root.get("a").value
    >>> [(n.kind, n.start, n.end) for n in items]
    [('number', 7, 8), ('string', 10, 13)]
    """
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInputError(
            f"{source} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})"
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{source} nests JSON values too deeply to read") from None
    try:
        node, _ = _value(text, _WS.match(text, 0).end())  # type: ignore[union-attr]
    except RecursionError:
        raise InvalidInputError(f"{source} nests JSON values too deeply to read") from None
    return node


def _value(text: str, i: int) -> tuple[Node, int]:
    """The value starting at ``text[i]`` (no whitespace before it) and where it ends."""
    c = text[i]
    if c == "{":
        members: dict[str, Node] = {}
        j = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if text[j] == "}":
            return Node("object", i, j + 1, members), j + 1
        while True:
            key, j = json.decoder.scanstring(text, j + 1)  # type: ignore[attr-defined]
            j = _WS.match(text, j).end() + 1  # type: ignore[union-attr]  # past ":"
            j = _WS.match(text, j).end()  # type: ignore[union-attr]
            members[key], j = _value(text, j)
            j = _WS.match(text, j).end()  # type: ignore[union-attr]
            if text[j] == "}":
                return Node("object", i, j + 1, members), j + 1
            j = _WS.match(text, j + 1).end()  # type: ignore[union-attr]  # past ","
    if c == "[":
        items: list[Node] = []
        j = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if text[j] == "]":
            return Node("array", i, j + 1, items), j + 1
        while True:
            item, j = _value(text, j)
            items.append(item)
            j = _WS.match(text, j).end()  # type: ignore[union-attr]
            if text[j] == "]":
                return Node("array", i, j + 1, items), j + 1
            j = _WS.match(text, j + 1).end()  # type: ignore[union-attr]
    if c == '"':
        value, j = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        return Node("string", i, j, value), j
    for word, literal in _LITERALS.items():
        if text.startswith(word, i):
            return Node("literal", i, i + len(word), literal), i + len(word)
    m = _NUMBER.match(text, i)
    assert m is not None  # json.loads accepted the text
    token = m.group()
    number = float(token) if any(ch in token for ch in ".eE") else int(token)
    return Node("number", i, m.end(), number), m.end()


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with every edit applied; edits must not overlap.

    Examples
    --------
    >>> apply_edits("abcdef", [(4, 5, "E"), (0, 1, "")])
    'bcdEf'
    """
    out: list[str] = []
    position = len(text)
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if end > position:
            raise AssertionError("overlapping edits")
        out.append(text[end:position])
        out.append(new)
        position = start
    out.append(text[:position])
    return "".join(reversed(out))


def line_indent(text: str, position: int) -> str:
    """The leading whitespace of the line that holds ``text[position]``."""
    start = text.rfind("\n", 0, position) + 1
    return _INDENT.match(text, start).group()  # type: ignore[union-attr]


def _indent_step(text: str) -> str:
    """The indentation one level adds in ``text`` (two spaces when it cannot tell)."""
    m = re.search(r"\n([ \t]+)\S", text)
    return m.group(1) if m else "  "


def reindent(element: str, source_indent: str, target_indent: str) -> str:
    """A multi-line ``element`` moved from lines indented ``source_indent`` to ``target_indent``.

    Examples
    --------
    >>> reindent('{\\n    "a": 1\\n  }', "  ", "")
    '{\\n  "a": 1\\n}'
    """
    if source_indent == target_indent or "\n" not in element:
        return element
    lines = element.split("\n")
    moved = [lines[0]]
    for line in lines[1:]:
        moved.append(target_indent + line[len(source_indent):]
                     if line.startswith(source_indent) else line)
    return "\n".join(moved)


def array_edit(text: str, array: Node, keep: list[int], append: list[tuple[str, str]]) -> Edit:
    """The edit that leaves ``array`` with the elements ``keep`` and then ``append``.

    Kept elements are written as they were, each with the separator (comma and
    whitespace) that preceded it; the text before the first element and after the last
    one stays. Appended elements are given as ``(raw JSON text, indentation of the line
    it came from)`` and take the separator and indentation of the array's own elements.

    Examples
    --------
    >>> text = '[\\n  1,\\n  2,\\n  3\\n]'
    >>> root = parse_json(text, "x")
    >>> apply_edits(text, [array_edit(text, root, [0, 2], [("4", "")])])
    '[\\n  1,\\n  3,\\n  4\\n]'
    """
    items: list[Node] = array.value
    inner_start, inner_end = array.start + 1, array.end - 1
    kept = sorted(keep)
    if not items:
        if not append:
            return (inner_start, inner_end, text[inner_start:inner_end])
        if "\n" not in text:  # a one-line document stays on one line
            return (inner_start, inner_end, ",".join(element for element, _ in append))
        outer = line_indent(text, array.start)
        indent = outer + _indent_step(text)
        parts = [reindent(element, source, indent) for element, source in append]
        return (inner_start, inner_end,
                "\n" + indent + ("," + "\n" + indent).join(parts) + "\n" + outer)
    lead = text[inner_start:items[0].start]
    tail = text[items[-1].end:inner_end]
    if len(items) > 1:
        separator = text[items[-2].end:items[-1].start]
    else:
        separator = "," + lead  # "[\n  x" gives ",\n  "; a compact "[x" gives ","
    indent = line_indent(text, items[-1].start) if "\n" in separator else ""
    pieces: list[str] = []
    for position, index in enumerate(kept):
        if position:
            pieces.append(text[items[index - 1].end:items[index].start])
        pieces.append(text[items[index].start:items[index].end])
    for element, source in append:
        if pieces:
            pieces.append(separator)
        pieces.append(reindent(element, source, indent))
    if not pieces:
        return (inner_start, inner_end, "")
    return (inner_start, inner_end, lead + "".join(pieces) + tail)


def dumps_like(value: Any, text: str) -> str:
    """``value`` as a JSON token in the style of ``text``: escaped when ``text`` is ASCII.

    Examples
    --------
    >>> dumps_like("café", '{"a": "b"}'), dumps_like("café", '{"a": "é"}')
    ('"caf\\\\u00e9"', '"café"')
    """
    return json.dumps(value, ensure_ascii=text.isascii())
