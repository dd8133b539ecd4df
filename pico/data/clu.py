"""Microsoft CLU (Conversational Language Understanding) project exports.

A CLU export is one JSON file::

    {
      "projectFileVersion": "2022-10-01-preview",
      "stringIndexType": "Utf16CodeUnit",
      "metadata": {"projectKind": "Conversation", "language": "en-us", ...},
      "assets": {
        "projectKind": "Conversation",
        "intents": [{"category": "BookFlight"}, ...],
        "entities": [...],
        "utterances": [
          {"text": "book a flight to Paris", "intent": "BookFlight",
           "language": "en-us", "dataset": "Train",
           "entities": [{"category": "City", "offset": 17, "length": 5}]},
          ...
        ]
      }
    }

Reading gives one row per utterance of the chosen language: ``text``, ``intent``,
``language``, ``dataset`` and ``utterance`` (its 1-based position in
``assets.utterances``). Writing changes only the ``"intent"`` value of each relabeled
utterance, in place: key order, indentation, escapes, entity offsets (the text does not
change) and every other byte stay as they were. An intent that ``assets.intents`` does
not list yet gets an entry ``{"category": NAME}`` at the end of that list.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..exceptions import InvalidInputError
from .jsontext import Edit, Node, apply_edits, array_edit, dumps_like, line_indent, parse_json

__all__ = ["CluDocument", "read_clu"]

_log = logging.getLogger("pico")


@dataclass(eq=False)
class CluDocument:
    """A parsed CLU project export and which utterances are read as rows."""

    format: ClassVar[str] = "clu"

    path: Path
    data: bytes
    text: str
    bom: bytes
    encoding: str
    root: Node
    utterances: list[Node]  # every utterance of assets.utterances
    rows: list[int]  # the utterances read, as positions in ``utterances``

    def __deepcopy__(self, memo: dict[int, Any]) -> CluDocument:
        return self  # read-only once parsed; pandas copies frame.attrs deeply

    def frame(self) -> pd.DataFrame:
        """One row per utterance read: text, intent, language, dataset, utterance."""
        records = []
        for k in self.rows:
            u = self.utterances[k].plain()
            records.append({
                "text": u["text"], "intent": u["intent"], "language": u.get("language"),
                "dataset": u.get("dataset"), "utterance": k + 1,
            })
        return pd.DataFrame(records, columns=["text", "intent", "language", "dataset",
                                              "utterance"])

    def render(self, intents: Sequence[Any]) -> bytes:
        """The export's bytes with each utterance read under ``intents[i]``."""
        if len(intents) != len(self.rows):
            raise InvalidInputError(
                f"{len(intents)} intents for {len(self.rows)} utterances of {self.path}"
            )
        tokens, known = self._spellings()
        edits: list[Edit] = []
        missing: list[str] = []
        for k, intent in zip(self.rows, intents):
            node = self.utterances[k].get("intent")
            assert node is not None
            new = str(intent)
            if new == node.value:
                continue
            if new not in tokens:
                tokens[new] = dumps_like(new, self.text)
            if new not in known and new not in missing:
                missing.append(new)
            edits.append((node.start, node.end, tokens[new]))
        if not edits:
            return self.data
        if missing:
            edits.append(self._new_intents(missing, tokens))
        return self.bom + apply_edits(self.text, edits).encode(self.encoding)

    def _categories(self) -> Node | None:
        assets = self.root.get("assets")
        intents = assets.get("intents") if assets is not None else None
        return intents if intents is not None and intents.kind == "array" else None

    def _spellings(self) -> tuple[dict[str, str], set[str]]:
        """How the file spells each intent name (escapes as written), and the names
        ``assets.intents`` lists."""
        tokens: dict[str, str] = {}
        for node in self.utterances:
            intent = node.get("intent")
            if intent is not None and intent.kind == "string":
                tokens.setdefault(intent.value, self.text[intent.start:intent.end])
        known: set[str] = set()
        categories = self._categories()
        for item in categories.value if categories is not None else []:
            category = item.get("category")
            if category is not None and category.kind == "string":
                tokens[category.value] = self.text[category.start:category.end]
                known.add(category.value)
        return tokens, known

    def _new_intents(self, names: list[str], tokens: dict[str, str]) -> Edit:
        """The edit that adds ``{"category": NAME}`` entries to ``assets.intents``."""
        categories = self._categories()
        if categories is None:
            raise InvalidInputError(
                f"{self.path}: cannot add the intent(s) {', '.join(names)}: the export has "
                "no assets.intents list. Add the intents in CLU and export again"
            )
        template = next(
            (item for item in categories.value
             if item.kind == "object" and list(item.value) == ["category"]), None
        )
        added: list[tuple[str, str]] = []
        for name in names:
            if template is not None:
                category = template.get("category")
                assert category is not None
                raw = (self.text[template.start:category.start] + tokens[name]
                       + self.text[category.end:template.end])
                added.append((raw, line_indent(self.text, template.start)))
            else:
                added.append(('{"category": ' + tokens[name] + "}", ""))
        keep = list(range(len(categories.value)))
        return array_edit(self.text, categories, keep, added)


def read_clu(
    path: Path, data: bytes, *, encoding: str = "utf-8", language: str | None = None
) -> CluDocument:
    """Parse a CLU project export.

    Parameters
    ----------
    path : Path
        Where the export was read from (for messages).
    data : bytes
        The file's bytes.
    encoding : str, default "utf-8"
        Its text encoding (CLU writes UTF-8; a byte order mark is kept).
    language : str, optional
        Read the utterances of this language (case-insensitive); by default the
        project's ``metadata.language``. Utterances in other languages are left as they
        are (a warning counts them). An utterance without ``language`` has the
        project's.

    Raises
    ------
    InvalidInputError
        If the file is not a conversational CLU project, or an utterance lacks a text
        or an intent (the message names it).
    """
    from .files import decode_bytes

    text = decode_bytes(data, path, encoding)
    codec = codecs.lookup(encoding).name
    bom = codecs.BOM_UTF8 if codec == "utf-8" and data.startswith(codecs.BOM_UTF8) else b""
    root = parse_json(text, str(path))
    if root.kind != "object":
        raise InvalidInputError(f"{path} is not a CLU project export (a JSON object)")
    metadata = root.get("metadata")
    assets = root.get("assets")
    kinds = [n.get("projectKind") for n in (metadata, assets) if n is not None]
    kind = next((k.value for k in kinds if k is not None), None)
    if kind != "Conversation":
        shown = "no projectKind" if kind is None else f"projectKind {kind!r}"
        raise InvalidInputError(
            f"{path} is not a conversational CLU project ({shown}); pico reads CLU "
            'exports with "projectKind": "Conversation" (export the project from '
            "Language Studio or the authoring API)"
        )
    utterances = assets.get("utterances") if assets is not None else None
    if utterances is None or utterances.kind != "array":
        raise InvalidInputError(
            f"{path} has no assets.utterances list; export the CLU project with its "
            "utterances"
        )
    project_language = None
    if metadata is not None and metadata.get("language") is not None:
        project_language = str(metadata.get("language").value)  # type: ignore[union-attr]
    for k, node in enumerate(utterances.value):
        for key in ("text", "intent"):
            value = node.get(key)
            if value is None or value.kind != "string":
                raise InvalidInputError(
                    f"{path}: utterance {k + 1} of assets.utterances has no {key} string; "
                    "every CLU utterance needs a text and an intent"
                )

    def language_of(node: Node) -> str:
        value = node.get("language")
        return str(value.value) if value is not None and value.kind == "string" else (
            project_language or "")

    found = sorted({language_of(n) for n in utterances.value})
    wanted = language or project_language
    if wanted is None:
        if len(found) > 1:
            raise InvalidInputError(
                f"{path} has utterances in {', '.join(found)} and no project language; "
                "pass --language with one of them"
            )
        wanted = found[0] if found else ""
    rows = [k for k, n in enumerate(utterances.value)
            if language_of(n).lower() == wanted.lower()]
    if not rows:
        raise InvalidInputError(
            f"{path} has no utterances in {wanted!r}; it has "
            f"{', '.join(repr(f) for f in found) or 'none'}. Pass --language with one of them"
        )
    others = len(utterances.value) - len(rows)
    if others:
        _log.warning(
            "%s: %d utterances in other languages than %s are kept as they are; pass "
            "--language to check them", path, others, wanted,
        )
    return CluDocument(path, data, text, bom, codec, root, list(utterances.value), rows)
