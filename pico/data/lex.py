"""Amazon Lex V2 bot exports (the bot's or a bot locale's .zip, LexJson format).

A bot export holds ``Manifest.json`` and ``BOT/Bot.json``, and per locale
``BOT/BotLocales/LOCALE/BotLocale.json``, the slot types and, per intent,
``BOT/BotLocales/LOCALE/Intents/INTENT/Intent.json`` (with its slots under ``Slots/``)::

    {"name": "BookHotel", "identifier": "...", "description": null,
     "sampleUtterances": [{"utterance": "book a hotel in {City}"}, ...],
     "slotPriorities": [{"priority": 1, "slotName": "City"}], ...}

Reading gives one row per sample utterance of one locale: ``text`` (the utterance as
written, slot references such as ``{City}`` included), ``intent`` (the intent's
``name``), ``locale`` and ``file`` (the Intent.json member). One locale is read per
run: ``--language``, by default the export's only locale. Writing moves each
relabeled utterance, as written, from its intent's ``sampleUtterances`` to the end of
the new intent's; a moved utterance naming a slot the new intent lacks is kept as it
is and a warning names it (Lex will not build that intent until the slot exists).
Every other member keeps its bytes, metadata and place in the zip; with nothing
relabeled the original zip comes back byte for byte. Lex V1 exports are refused.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..exceptions import InvalidInputError
from .archive import ZipExport, member_text
from .jsontext import Edit, Node, apply_edits, array_edit, line_indent, parse_json

__all__ = ["LexBot", "read_lex"]

_log = logging.getLogger("pico")
_INTENT = re.compile(r"^(?P<locale_dir>(?:.*/)?)Intents/(?P<folder>[^/]+)/Intent\.json$")
_SLOT_REF = re.compile(r"\{([A-Za-z0-9_\-]+)\}")


@dataclass(eq=False)
class _Intent:
    """One Intent.json member of the locale read."""

    member: str
    folder: str
    name: str
    text: str
    bom: bytes
    root: Node
    utterances: Node | None  # the sampleUtterances value (an array, null, or absent)


@dataclass(eq=False)
class LexBot:
    """A Lex V2 export, the locale read and where its sample utterances are."""

    format: ClassVar[str] = "lex"

    path: Path
    archive: ZipExport
    locale: str
    locale_dir: str
    intents: list[_Intent]  # in zip order
    rows: list[tuple[int, int]]  # (intent, element of sampleUtterances) of each row

    def __deepcopy__(self, memo: dict[int, Any]) -> LexBot:
        return self  # read-only once parsed; pandas copies frame.attrs deeply

    def frame(self) -> pd.DataFrame:
        """One row per sample utterance: text, intent, locale, file."""
        records = []
        for i, e in self.rows:
            intent = self.intents[i]
            assert intent.utterances is not None
            item = intent.utterances.value[e].plain()
            records.append({"text": item["utterance"], "intent": intent.name,
                            "locale": self.locale, "file": intent.member})
        return pd.DataFrame(records, columns=["text", "intent", "locale", "file"])

    def render(self, intents: Sequence[Any]) -> bytes:
        """The bot zip with each sample utterance under ``intents[i]``."""
        if len(intents) != len(self.rows):
            raise InvalidInputError(
                f"{len(intents)} intents for {len(self.rows)} utterances of {self.path}"
            )
        by_name = {intent.name: i for i, intent in enumerate(self.intents)}
        removed: dict[int, set[int]] = {}
        appended: dict[int, list[tuple[str, str]]] = {}
        unknown: list[str] = []
        for (i, e), intent in zip(self.rows, intents):
            source = self.intents[i]
            new = str(intent)
            if new == source.name:
                continue
            if new not in by_name:
                unknown.append(new)
                continue
            assert source.utterances is not None
            node = source.utterances.value[e]
            removed.setdefault(i, set()).add(e)
            appended.setdefault(by_name[new], []).append(
                (source.text[node.start:node.end], line_indent(source.text, node.start))
            )
            self._check_slots(str(node.plain().get("utterance", "")), by_name[new])
        if unknown:
            raise InvalidInputError(
                f"{self.path}: locale {self.locale} has no intent "
                f"{', '.join(sorted(set(unknown)))}; pico moves utterances between existing "
                "intents only. Create the intent in Lex and export again, or choose an "
                "existing intent"
            )
        changed: dict[str, bytes] = {}
        for i, intent in enumerate(self.intents):
            gone = removed.get(i, set())
            extra = appended.get(i, [])
            if not gone and not extra:
                continue
            changed[intent.member] = intent.bom + apply_edits(
                intent.text, [self._edit(intent, gone, extra)]
            ).encode()
        return self.archive.write(changed, {})

    def _edit(self, intent: _Intent, gone: set[int], extra: list[tuple[str, str]]) -> Edit:
        node = intent.utterances
        if node is not None and node.kind == "array":
            keep = [k for k in range(len(node.value)) if k not in gone]
            return array_edit(intent.text, node, keep, extra)
        if node is not None and node.kind == "literal" and node.value is None:
            return (node.start, node.end, "[" + ",".join(raw for raw, _ in extra) + "]")
        raise InvalidInputError(
            f"{self.path}: {intent.member} has no sampleUtterances list to move utterances "
            "into; add one sample utterance to the intent in Lex and export again"
        )

    def _check_slots(self, utterance: str, target: int) -> None:
        """Warn when a moved utterance names a slot the new intent does not have."""
        wanted = set(_SLOT_REF.findall(utterance))
        if not wanted:
            return
        intent = self.intents[target]
        slots: set[str] = set()
        priorities = intent.root.plain().get("slotPriorities") or []
        for item in priorities if isinstance(priorities, list) else []:
            if isinstance(item, dict) and item.get("slotName"):
                slots.add(str(item["slotName"]))
        folder = f"{self.locale_dir}Intents/{intent.folder}/Slots/"
        for member in self.archive.names:
            if member.startswith(folder) and member.endswith("/Slot.json"):
                slots.add(member[len(folder):].split("/", 1)[0])
        lacking = sorted(wanted - slots)
        if lacking:
            _log.warning(
                "an utterance moved to %s names %s, which %s has no slot for; add the slot "
                "in Lex or edit the utterance before building the bot", intent.name,
                ", ".join("{" + s + "}" for s in lacking), intent.name,
            )


def _normal(locale: str) -> str:
    return locale.replace("-", "_").lower()


def read_lex(path: Path, data: bytes, *, language: str | None = None) -> LexBot:
    """Parse a Lex V2 bot (or bot locale) export.

    Parameters
    ----------
    path : Path
        Where the zip was read from (for messages).
    data : bytes
        The zip's bytes.
    language : str, optional
        The locale to read (``en_US``, ``de_DE``; case and ``-``/``_`` do not matter);
        required when the export has several locales.

    Raises
    ------
    InvalidInputError
        If the zip is not a Lex V2 export (a Lex V1 export is named as such), the
        locale is missing or ambiguous, or an utterance is not ``{"utterance": TEXT}``.
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        try:
            value = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            value = None
        metadata = value.get("metadata") if isinstance(value, dict) else None
        if isinstance(metadata, dict) and str(metadata.get("importType", "")).upper() == "LEX":
            raise InvalidInputError(
                f"{path} is a Lex V1 export; pico reads Lex V2 exports (a .zip with "
                "BotLocales/LOCALE/Intents/NAME/Intent.json). Migrate the bot to Lex V2 and "
                "export it from there"
            )
    archive = ZipExport.read(path, data, "Lex V2 bot export")
    located: dict[str, list[tuple[str, str]]] = {}  # locale dir -> (member, intent folder)
    for member in archive.names:
        m = _INTENT.match(member)
        if m:
            located.setdefault(m.group("locale_dir"), []).append((member, m.group("folder")))
    if not located:
        if _is_lex_v1(archive):
            raise InvalidInputError(
                f"{path} is a Lex V1 export; pico reads Lex V2 exports (a .zip with "
                "BotLocales/LOCALE/Intents/NAME/Intent.json). Migrate the bot to Lex V2 and "
                "export it from there"
            )
        raise InvalidInputError(
            f"{path} is not a Lex V2 bot export (no Intents/NAME/Intent.json); export the "
            "bot from the Lex V2 console (Bots, Actions, Export, JSON)"
        )
    locales: dict[str, str] = {}  # locale id -> locale dir
    for locale_dir in located:
        m = re.search(r"BotLocales/([^/]+)/$", locale_dir)
        locale = m.group(1) if m else ""
        if not locale:
            value = _json_member(archive, f"{locale_dir}BotLocale.json")
            if isinstance(value, dict):
                locale = str(value.get("identifier") or value.get("localeId") or "")
        locales[locale or locale_dir.rstrip("/") or "(root)"] = locale_dir
    if language is not None:
        match = [loc for loc in locales if _normal(loc) == _normal(language)]
        if not match:
            raise InvalidInputError(
                f"{path} has no locale {language!r}; it has {', '.join(sorted(locales))}. "
                "Pass --language with one of them"
            )
        locale = match[0]
    elif len(locales) == 1:
        locale = next(iter(locales))
    else:
        raise InvalidInputError(
            f"{path} has several locales ({', '.join(sorted(locales))}); pico checks one "
            "per run: pass --language with one of them"
        )
    locale_dir = locales[locale]
    intents: list[_Intent] = []
    rows: list[tuple[int, int]] = []
    for member, folder in located[locale_dir]:
        text, bom = member_text(archive.contents[member], member, path)
        root = parse_json(text, f"{path}: {member}")
        if root.kind != "object":
            raise InvalidInputError(f"{path}: {member} is not an intent (a JSON object)")
        name_node = root.get("name")
        name = name_node.value if name_node is not None and name_node.kind == "string" else folder
        utterances = root.get("sampleUtterances")
        if utterances is not None and utterances.kind == "array":
            for e, item in enumerate(utterances.value):
                value = item.get("utterance")
                if value is None or value.kind != "string":
                    raise InvalidInputError(
                        f"{path}: sample utterance {e + 1} of {member} is not "
                        '{"utterance": TEXT}; export the bot again in the LexJson format'
                    )
                rows.append((len(intents), e))
        intents.append(_Intent(member, folder, name, text, bom, root, utterances))
    if not rows:
        raise InvalidInputError(f"{path}: locale {locale} has no sample utterances to check")
    if len(locales) > 1:
        _log.warning(
            "%s: reading locale %s; the other locales (%s) are kept as they are", path,
            locale, ", ".join(sorted(set(locales) - {locale})),
        )
    return LexBot(path, archive, locale, locale_dir, intents, rows)


def _json_member(archive: ZipExport, member: str) -> Any:
    """A member's JSON value, or None when it is missing or not JSON."""
    data = archive.contents.get(member)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _is_lex_v1(archive: ZipExport) -> bool:
    """Whether the zip holds a Lex V1 export (JSON with ``metadata.importType`` LEX)."""
    for member in archive.names:
        if member.lower().endswith(".json"):
            value = _json_member(archive, member)
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict) and str(metadata.get("importType", "")).upper() == "LEX":
                return True
    return False
