"""Dialogflow ES agent exports (the agent's .zip).

An ES agent export holds ``agent.json`` (with the agent's default ``language``),
``package.json``, ``entities/`` and, per intent, ``intents/NAME.json`` (the intent:
its ``name``, contexts, parameters, responses) and ``intents/NAME_usersays_LANG.json``
(its training phrases in language LANG)::

    [
      {
        "id": "0f0b...",
        "data": [
          {"text": "book a table for ", "userDefined": false},
          {"text": "tonight", "alias": "date", "meta": "@sys.date", "userDefined": false}
        ],
        "isTemplate": false,
        "count": 0,
        "lang": "en",
        "updated": 0
      }
    ]

Reading gives one row per training phrase of one language: ``text`` (the ``data``
parts' texts joined), ``intent`` (the intent's ``name``), ``language``, ``file`` (the
usersays member) and ``id``. One language is read per run: ``--language``, by default
the agent's ``language``. Writing moves each relabeled phrase, as written (entity
parts, ids, counts), from its intent's usersays file to the end of the new intent's
one (created beside the intent's file if it had no phrases in that language). Every
other member keeps its bytes, metadata and place in the zip; with nothing relabeled
the original zip comes back byte for byte. Dialogflow CX exports are refused.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..exceptions import InvalidInputError
from .archive import ZipExport, member_text
from .jsontext import Node, apply_edits, array_edit, line_indent, parse_json, reindent

__all__ = ["DialogflowAgent", "read_dialogflow"]

_log = logging.getLogger("pico")
_USERSAYS = re.compile(
    r"^(?P<stem>.+)_usersays_(?P<lang>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\.json$"
)


@dataclass(eq=False)
class _Phrases:
    """One usersays member: its text and parsed training phrases."""

    member: str
    stem: str
    text: str
    bom: bytes
    root: Node


@dataclass(eq=False)
class DialogflowAgent:
    """A Dialogflow ES agent export, the language read and where its phrases are."""

    format: ClassVar[str] = "dialogflow"

    path: Path
    archive: ZipExport
    prefix: str  # folder of agent.json inside the zip ("" or "NAME/")
    language: str
    names: dict[str, str]  # intent file stem -> intent name
    phrases: list[_Phrases]  # usersays members of the language, in zip order
    rows: list[tuple[int, int]]  # (phrases member, element) of each row

    def __deepcopy__(self, memo: dict[int, Any]) -> DialogflowAgent:
        return self  # read-only once parsed; pandas copies frame.attrs deeply

    def frame(self) -> pd.DataFrame:
        """One row per training phrase: text, intent, language, file, id."""
        records = []
        for p, e in self.rows:
            phrase = self.phrases[p]
            item = phrase.root.value[e].plain()
            records.append({
                "text": "".join(part["text"] for part in item["data"]),
                "intent": self.names[phrase.stem], "language": self.language,
                "file": phrase.member, "id": item.get("id"),
            })
        return pd.DataFrame(records, columns=["text", "intent", "language", "file", "id"])

    def render(self, intents: Sequence[Any]) -> bytes:
        """The agent zip with each phrase under ``intents[i]``."""
        if len(intents) != len(self.rows):
            raise InvalidInputError(
                f"{len(intents)} intents for {len(self.rows)} phrases of {self.path}"
            )
        stems = {name: stem for stem, name in self.names.items()}
        by_stem = {p.stem: i for i, p in enumerate(self.phrases)}
        removed: dict[int, set[int]] = {}
        appended: dict[str, list[tuple[str, str]]] = {}
        unknown: list[str] = []
        for (p, e), intent in zip(self.rows, intents):
            phrase = self.phrases[p]
            new = str(intent)
            if new == self.names[phrase.stem]:
                continue
            if new not in stems:
                unknown.append(new)
                continue
            node = phrase.root.value[e]
            removed.setdefault(p, set()).add(e)
            appended.setdefault(stems[new], []).append(
                (phrase.text[node.start:node.end], line_indent(phrase.text, node.start))
            )
            self._check_parameters(node, stems[new], new)
        if unknown:
            shown = ", ".join(sorted(set(unknown)))
            raise InvalidInputError(
                f"{self.path}: the agent has no intent {shown}; pico moves phrases between "
                "existing intents only. Create the intent in Dialogflow and export again, "
                "or choose an existing intent"
            )
        changed: dict[str, bytes] = {}
        for p, phrase in enumerate(self.phrases):
            gone = removed.get(p, set())
            extra = appended.get(phrase.stem, [])
            if not gone and not extra:
                continue
            keep = [i for i in range(len(phrase.root.value)) if i not in gone]
            edit = array_edit(phrase.text, phrase.root, keep, extra)
            changed[phrase.member] = phrase.bom + apply_edits(phrase.text, [edit]).encode()
        added: dict[str, list[tuple[str, bytes]]] = {}
        for stem, extra in appended.items():
            if stem in by_stem:
                continue
            member = f"{self.prefix}intents/{stem}_usersays_{self.language}.json"
            text = "[\n" + ",\n".join("  " + reindent(raw, source, "  ") for raw, source in extra)
            content = (text + "\n]").encode()
            after = f"{self.prefix}intents/{stem}.json"
            if after not in self.archive.contents:
                after = self.archive.names[-1]
            added.setdefault(after, []).append((member, content))
        return self.archive.write(changed, added)

    def _check_parameters(self, node: Node, stem: str, intent: str) -> None:
        """Warn when a moved phrase annotates a parameter the new intent lacks."""
        aliases = {str(part.get("alias", "")) for part in node.plain().get("data", [])
                   if isinstance(part, dict) and part.get("alias")}
        if not aliases:
            return
        member = f"{self.prefix}intents/{stem}.json"
        known: set[str] = set()
        try:
            spec = json.loads(self.archive.contents.get(member, b"{}").decode("utf-8-sig"))
            for response in spec.get("responses", []) or []:
                for parameter in response.get("parameters", []) or []:
                    known.add(str(parameter.get("name")))
        except (ValueError, AttributeError, TypeError):
            return
        lacking = sorted(aliases - known)
        if lacking:
            _log.warning(
                "a phrase moved to %s annotates %s, which %s has no parameter for; add the "
                "parameter in Dialogflow or edit the phrase", intent,
                ", ".join("@" + a for a in lacking), intent,
            )


def read_dialogflow(path: Path, data: bytes, *, language: str | None = None) -> DialogflowAgent:
    """Parse a Dialogflow ES agent export.

    Parameters
    ----------
    path : Path
        Where the zip was read from (for messages).
    data : bytes
        The zip's bytes.
    language : str, optional
        The language whose training phrases to read (``en``, ``pt-br``, ...,
        case-insensitive); by default the agent's ``language`` from ``agent.json``.

    Raises
    ------
    InvalidInputError
        If the zip is not a Dialogflow ES agent (or is a CX agent), has no phrases in
        the language, or a usersays file is not a list of phrases with ``data`` parts.
    """
    archive = ZipExport.read(path, data, "Dialogflow agent export")
    agents = sorted((n for n in archive.names if n == "agent.json" or n.endswith("/agent.json")),
                    key=len)
    if any(re.search(r"(^|/)flows/", n) for n in archive.names) or any(
        re.search(r"(^|/)intents/[^/]+/trainingPhrases/", n) for n in archive.names
    ):
        raise InvalidInputError(
            f"{path} is a Dialogflow CX agent; pico reads Dialogflow ES agent exports "
            "(agent.json with intents/NAME_usersays_LANG.json files)"
        )
    if not agents:
        raise InvalidInputError(
            f"{path} is not a Dialogflow ES agent export (no agent.json); export the agent "
            "from the Dialogflow ES console (Settings, Export and Import, Export as ZIP)"
        )
    prefix = agents[0][: -len("agent.json")]
    agent_text, _ = member_text(archive.contents[agents[0]], agents[0], path)
    agent = parse_json(agent_text, f"{path}: {agents[0]}").plain()
    default = agent.get("language") if isinstance(agent, dict) else None
    folder = f"{prefix}intents/"
    usersays: list[tuple[str, str, str]] = []  # member, stem, language
    names: dict[str, str] = {}
    for member in archive.names:
        if not member.startswith(folder) or "/" in member[len(folder):]:
            continue
        file = member[len(folder):]
        m = _USERSAYS.match(file)
        if m:
            usersays.append((member, m.group("stem"), m.group("lang")))
        elif file.endswith(".json"):
            stem = file[: -len(".json")]
            text, _ = member_text(archive.contents[member], member, path)
            spec = parse_json(text, f"{path}: {member}").plain()
            name = spec.get("name") if isinstance(spec, dict) else None
            names[stem] = name if isinstance(name, str) and name else stem
    found = sorted({lang.lower() for _, _, lang in usersays})
    wanted = (language or (default if isinstance(default, str) else "") or "").lower()
    if not wanted:
        if len(found) != 1:
            raise InvalidInputError(
                f"{path}: agent.json names no language and the phrases are in "
                f"{', '.join(found) or 'no language'}; pass --language with one of them"
            )
        wanted = found[0]
    chosen = [(m, s, lang) for m, s, lang in usersays if lang.lower() == wanted]
    if not chosen:
        raise InvalidInputError(
            f"{path} has no training phrases in {wanted!r}; it has "
            f"{', '.join(found) or 'none'}. Pass --language with one of them"
        )
    if len(found) > 1:
        _log.warning(
            "%s: reading the %s training phrases; the other languages (%s) are kept as "
            "they are (pass --language to check one of them)", path, wanted,
            ", ".join(f for f in found if f != wanted),
        )
    phrases: list[_Phrases] = []
    rows: list[tuple[int, int]] = []
    for member, stem, _ in chosen:
        names.setdefault(stem, stem)
        text, bom = member_text(archive.contents[member], member, path)
        root = parse_json(text, f"{path}: {member}")
        if root.kind != "array":
            raise InvalidInputError(
                f"{path}: {member} is not a list of training phrases; export the agent again"
            )
        for e, item in enumerate(root.value):
            parts = item.get("data")
            if parts is None or parts.kind != "array" or not all(
                p.kind == "object" and p.get("text") is not None
                and p.value["text"].kind == "string" for p in parts.value
            ):
                raise InvalidInputError(
                    f"{path}: training phrase {e + 1} of {member} has no data list of text "
                    "parts; export the agent again"
                )
            rows.append((len(phrases), e))
        phrases.append(_Phrases(member, stem, text, bom, root))
    language_tag = chosen[0][2]
    return DialogflowAgent(path, archive, prefix, language_tag, names, phrases, rows)
