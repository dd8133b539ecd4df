"""Zip exports held in memory (Dialogflow ES agents, Lex V2 bots), rewritten member by member."""

from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import InvalidInputError

__all__ = ["ZipExport", "member_text"]


def member_text(data: bytes, name: str, source: Path) -> tuple[str, bytes]:
    """A UTF-8 zip member as text, and its byte order mark (b"" when none)."""
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    try:
        return data[len(bom):].decode("utf-8"), bom
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"{source}: {name} is not UTF-8 text; platform exports are UTF-8. Export the "
            "agent again"
        ) from None


@dataclass(eq=False)
class ZipExport:
    """A zip archive held in memory: its members in order, as they were."""

    path: Path
    data: bytes
    infos: list[zipfile.ZipInfo]
    contents: dict[str, bytes]
    comment: bytes = b""
    names: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path, data: bytes, what: str) -> ZipExport:
        """Read every member of the zip ``data`` (``what`` names the export in messages)."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                contents = {info.filename: archive.read(info) for info in infos}
                comment = archive.comment
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError,
                NotImplementedError, ValueError, EOFError) as error:
            raise InvalidInputError(
                f"{path} is not a readable zip file ({error}); pass the {what} .zip as "
                "downloaded"
            ) from None
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise InvalidInputError(
                f"{path} holds the same member name twice; pass the {what} .zip as "
                "downloaded"
            )
        return cls(path, data, infos, contents, comment, names)

    def write(self, changed: dict[str, bytes], added: dict[str, list[tuple[str, bytes]]]) -> bytes:
        """A new zip: ``changed`` members replaced, ``added`` ones after the named member.

        Every other member keeps its bytes, metadata and place; with nothing changed or
        added the original archive's bytes are returned.
        """
        if not changed and not added:
            return self.data
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.comment = self.comment
            for info in self.infos:
                archive.writestr(_copy_info(info), changed.get(info.filename,
                                                               self.contents[info.filename]))
                for name, content in added.get(info.filename, []):
                    new = zipfile.ZipInfo(name, date_time=info.date_time)
                    new.compress_type = info.compress_type
                    new.external_attr = info.external_attr
                    new.create_system = info.create_system
                    archive.writestr(new, content)
        return buffer.getvalue()


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A member's metadata for a new archive (name, time, compression, attributes)."""
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    for attribute in ("compress_type", "comment", "create_system", "external_attr",
                      "internal_attr", "flag_bits"):
        setattr(new, attribute, getattr(info, attribute))
    new.extra = _without_zip64(info.extra)  # zipfile adds its own when sizes need it
    new.flag_bits &= ~0x08  # sizes go in the local header (no data descriptor)
    new.flag_bits &= ~0x01  # never written encrypted
    return new


def _without_zip64(extra: bytes) -> bytes:
    """A zip extra field without its ZIP64 record (header id 0x0001)."""
    out, i = b"", 0
    while i + 4 <= len(extra):
        kind = int.from_bytes(extra[i:i + 2], "little")
        size = int.from_bytes(extra[i + 2:i + 4], "little")
        if kind != 0x0001:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return out
