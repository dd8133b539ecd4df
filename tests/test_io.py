"""Tests for pico.data.io: reading, atomic writing and column selection."""

from __future__ import annotations

import json
import os
import string
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pico.data
from pico.data import (
    FORMATS,
    detect_format,
    read_table,
    same_file,
    select_columns,
    write_json,
    write_table,
    write_text,
)
from pico.data import io as pio
from pico.exceptions import InvalidInputError

# --------------------------------------------------------------------------- helpers


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def _listing(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


# --------------------------------------------------------------------------- public API


def test_import_all_consistency() -> None:
    for module in (pico.data, pio):
        for name in module.__all__:
            assert hasattr(module, name), name
    assert set(pico.data.__all__) == set(pio.__all__)


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("A.CSV", "csv"),
        ("a.tsv", "tsv"),
        ("a.tab", "tsv"),
        ("a.jsonl", "jsonl"),
        ("a.NDJSON", "jsonl"),
        ("a.parquet", "parquet"),
        ("dir.v1/a.pq", "parquet"),
    ],
)
def test_detect_format_by_extension(name: str, expected: str) -> None:
    assert detect_format(name) == expected
    assert detect_format(Path(name)) == expected


def test_detect_format_explicit_wins() -> None:
    assert detect_format("a.csv", format="jsonl") == "jsonl"
    assert detect_format("data.txt", "TSV") == "tsv"


def test_detect_format_unknown_extension() -> None:
    with pytest.raises(InvalidInputError) as info:
        detect_format("data.txt")
    message = str(info.value)
    assert "'.txt'" in message
    assert ".csv" in message and ".ndjson" in message and ".pq" in message
    assert "--format" in message
    with pytest.raises(InvalidInputError, match="no extension"):
        detect_format("data")


def test_detect_format_unknown_explicit() -> None:
    with pytest.raises(InvalidInputError, match="unknown format 'xlsx'.*--format"):
        detect_format("a.csv", format="xlsx")


def test_formats_constant() -> None:
    assert FORMATS == ("csv", "tsv", "jsonl", "parquet")


# --------------------------------------------------------------------------- reading CSV/TSV


def test_read_csv_keeps_strings_exactly(tmp_path: Path) -> None:
    path = _write_bytes(
        tmp_path / "d.csv",
        b'text,label,n\n"hello, world",greet, 007\n"say ""hi""\nnow",,NA\n  x  ,nan,1.50\n',
    )
    frame = read_table(path)
    assert list(frame.columns) == ["text", "label", "n"]
    assert frame["text"].tolist() == ["hello, world", 'say "hi"\nnow', "  x  "]
    assert frame["label"].tolist() == ["greet", "", "nan"]
    assert frame["n"].tolist() == [" 007", "NA", "1.50"]
    assert all(frame[column].dtype == object for column in frame)
    assert isinstance(frame.index, pd.RangeIndex)


def test_read_tsv(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.tab", b'text\tlabel\na, b\tx\n"t\tab"\ty\n')
    frame = read_table(path)
    assert frame["text"].tolist() == ["a, b", "t\tab"]
    assert frame["label"].tolist() == ["x", "y"]


def test_read_csv_with_explicit_format_and_crlf(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.txt", b"text,label\r\na,b\r\n\r\nc,d\r\n")
    frame = read_table(path, format="csv")
    assert frame.to_dict("list") == {"text": ["a", "c"], "label": ["b", "d"]}


def test_read_csv_drops_utf8_bom(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", "\ufefftext,label\n안녕,인사\n".encode())
    frame = read_table(path)
    assert list(frame.columns) == ["text", "label"]
    assert frame["text"].tolist() == ["안녕"]


def test_read_csv_other_encoding(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", "text,label\ncafé,x\n".encode("latin-1"))
    assert read_table(path, encoding="latin-1")["text"].tolist() == ["café"]


def test_read_csv_long_field(tmp_path: Path) -> None:
    long_text = "word " * 60_000  # 300 kB, above the csv module's default field limit
    path = tmp_path / "d.csv"
    path.write_text(f"text,label\n{long_text},x\n", encoding="utf-8")
    assert read_table(path)["text"].tolist() == [long_text]


# --------------------------------------------------------------------------- read errors


def test_read_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InvalidInputError, match="not found: .*nope.csv"):
        read_table(path)


def test_read_directory(tmp_path: Path) -> None:
    directory = tmp_path / "data.csv"
    directory.mkdir()
    with pytest.raises(InvalidInputError, match="is a directory"):
        read_table(directory)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_read_empty_file(tmp_path: Path, content: bytes, suffix: str) -> None:
    path = _write_bytes(tmp_path / f"d{suffix}", content)
    with pytest.raises(InvalidInputError, match="empty.*has no .*data rows"):
        read_table(path)


@pytest.mark.parametrize("content", [b"text,label\n", b"text,label", b"text,label\n\n"])
def test_read_header_only(tmp_path: Path, content: bytes) -> None:
    path = _write_bytes(tmp_path / "d.csv", content)
    with pytest.raises(InvalidInputError, match="has no data rows.*'text,label'"):
        read_table(path)


def test_read_undecodable_bytes(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b"text,label\n\xff\xfe,a\n")
    with pytest.raises(InvalidInputError) as info:
        read_table(path)
    message = str(info.value)
    assert "utf-8" in message
    assert "byte offset 11" in message
    assert "line 2" in message
    assert "0xff" in message
    assert "--encoding" in message
    assert "\n" not in message


def test_read_undecodable_after_bom(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b"\xef\xbb\xbftext,label\na,\xff\n")
    with pytest.raises(InvalidInputError, match="0xff at byte offset 16 .line 2"):
        read_table(path)


def test_read_undecodable_jsonl(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.jsonl", b'{"a": 1}\n{"a": "\xc3("}\n')
    with pytest.raises(InvalidInputError, match="utf-8.*byte offset 16 .line 2.*--encoding"):
        read_table(path)


def test_read_unknown_encoding(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b"text,label\na,b\n")
    with pytest.raises(InvalidInputError, match="unknown encoding 'nope'.*--encoding"):
        read_table(path, encoding="nope")


def test_read_row_with_extra_field(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b'text,label\n"a\nb",x\nc,y,z\n')
    with pytest.raises(InvalidInputError) as info:
        read_table(path)
    message = str(info.value)
    assert "line 4" in message  # the quoted newline makes the bad row start on line 4
    assert "expected 2 fields" in message and "found 3" in message
    assert "Quote fields" in message


def test_read_row_with_missing_field(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.tsv", b"text\tlabel\na\tb\nc\n")
    with pytest.raises(InvalidInputError, match="line 3: expected 2 fields .* found 1"):
        read_table(path)


def test_read_unterminated_quote(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b'text,label\n"oops,x\nb,y\n')
    with pytest.raises(InvalidInputError, match="line 2: expected 2 fields"):
        read_table(path)


def test_read_duplicate_columns(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b"text,label,text,label,x\na,b,c,d,e\n")
    with pytest.raises(InvalidInputError, match="duplicate column names: 'text', 'label'"):
        read_table(path)


def test_read_duplicate_jsonl_keys(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.jsonl", b'{"a": 1}\n{"a": 1, "a": 2}\n')
    with pytest.raises(InvalidInputError, match="line 2: key 'a' appears more than once"):
        read_table(path)


def test_read_jsonl_line_not_an_object(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.jsonl", b'{"text": "a", "label": 1}\n\n[1, 2]\n')
    with pytest.raises(InvalidInputError, match="line 3 holds a JSON array, not an object"):
        read_table(path)


def test_read_jsonl_invalid_json(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.jsonl", b'{"text": "a"}\n{"text": \n')
    with pytest.raises(InvalidInputError, match="line 2 is not valid JSON"):
        read_table(path)


def test_read_jsonl_only_empty_objects(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.jsonl", b"{}\n{}\n")
    with pytest.raises(InvalidInputError, match="has no columns"):
        read_table(path)


def test_read_unreadable_parquet(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.parquet", b"text,label\na,b\n")
    with pytest.raises(InvalidInputError, match="cannot read .* as Parquet.*--format"):
        read_table(path)


def test_read_parquet_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pd.DataFrame({"text": pd.Series([], dtype=object), "label": []}).to_parquet(path)
    with pytest.raises(InvalidInputError, match="has no data rows"):
        read_table(path)


def test_read_parquet_duplicate_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table([[1], [2]], names=["a", "a"]), path)
    with pytest.raises(InvalidInputError, match="duplicate column names: 'a'"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_read_does_not_modify_input(tmp_path: Path, suffix: str) -> None:
    source = tmp_path / f"d{suffix}"
    frame = pd.DataFrame({"text": ["a, b", 'q "x"'], "label": ["1", "2"]})
    write_table(frame, source)
    os.utime(source, ns=(1_000_000_000, 1_000_000_000))
    before = _snapshot(source)
    listing = _listing(tmp_path)
    read_table(source)
    assert _snapshot(source) == before
    assert _listing(tmp_path) == listing


# --------------------------------------------------------------------------- JSONL types


def test_read_jsonl_native_types_and_missing_keys(tmp_path: Path) -> None:
    lines = [
        {"text": "a", "label": 1, "score": 0.5, "ok": True, "tags": ["x"]},
        {"text": "b", "label": 2, "score": 1, "ok": False, "extra": 7},
        {"label": 3, "score": None, "ok": True, "tags": None},
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["text", "label", "score", "ok", "tags", "extra"]
    assert frame["label"].dtype == np.int64
    assert frame["score"].dtype == np.float64 and np.isnan(frame["score"].iloc[2])
    assert frame["ok"].dtype == bool
    assert frame["text"].tolist() == ["a", "b", None]
    assert frame["tags"].tolist() == [["x"], None, None]
    assert str(frame["extra"].dtype) == "Int64"
    assert frame["extra"].iloc[1] == 7 and frame["extra"].isna().tolist() == [True, False, True]


def test_jsonl_ints_preserved_on_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    content = (
        '{"text": "héllo, \\"you\\"", "label": 3, "n": 1}\n'
        '{"text": "x\\u2028y", "label": 10, "n": null}\n'
        '{"text": "z", "label": -2}\n'
    )
    source.write_text(content, encoding="utf-8")
    frame = read_table(source)
    target = tmp_path / "out.jsonl"
    write_table(frame, target)
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"text": 'héllo, "you"', "label": 3, "n": 1},
        {"text": "x\u2028y", "label": 10, "n": None},
        {"text": "z", "label": -2, "n": None},
    ]
    assert all(type(line["label"]) is int for line in lines)
    assert '"label": 3,' in target.read_text(encoding="utf-8")  # not 3.0
    written = target.read_text(encoding="utf-8")
    assert "héllo" in written  # ensure_ascii=False
    assert "x\\u2028y" in written and "\u2028" not in written  # escaped line separator


def test_write_jsonl_numpy_and_missing_values(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", None],
            "conf": [0.25, np.nan],
            "big": [np.inf, 1.0],
            "flag": [True, False],
            "count": pd.array([1, None], dtype="Int64"),
            "when": pd.to_datetime(["2024-01-02", None]),
        }
    )
    target = tmp_path / "out.jsonl"
    write_table(frame, target)
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert rows == [
        {"text": "a", "conf": 0.25, "big": None, "flag": True, "count": 1,
         "when": "2024-01-02T00:00:00"},
        {"text": None, "conf": None, "big": 1.0, "flag": False, "count": None, "when": None},
    ]


# --------------------------------------------------------------------------- round trips


def test_csv_round_trip_is_byte_identical(tmp_path: Path) -> None:
    content = (
        "id,text,label,note\n"
        '1,"Hello, world",greeting,\n'
        '2,"She said ""hi""",quote, leading space\n'
        '3,"two\nlines",multi,trailing space \n'
        "4,안녕하세요,인사,ünïcödé\n"
        "5,,empty,NA\n"
        "6,nan,None,0.10\n"
    ).encode()
    source = _write_bytes(tmp_path / "in.csv", content)
    target = tmp_path / "out.csv"
    write_table(read_table(source), target)
    assert target.read_bytes() == content


def test_tsv_round_trip_is_byte_identical(tmp_path: Path) -> None:
    content = b'text\tlabel\na, b\tx\n"tab\there"\ty\n"q""q"\t\n'
    source = _write_bytes(tmp_path / "in.tsv", content)
    target = tmp_path / "out.tsv"
    write_table(read_table(source), target)
    assert target.read_bytes() == content


def test_single_column_csv_with_empty_cells_round_trips(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["", "a", ""]}, dtype=object)
    path = tmp_path / "d.csv"
    write_table(frame, path)
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_parquet_round_trip_preserves_dtypes(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", "b, c", None],
            "label": np.array([1, 2, 3], dtype=np.int64),
            "score": np.array([0.5, np.nan, 1.5]),
            "flag": [True, False, True],
            "small": np.array([1, 2, 3], dtype=np.int32),
            "maybe": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    path = tmp_path / "d.parquet"
    write_table(frame, path)
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_write_parquet_with_mixed_column_is_invalid_input(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a", "b"], "mixed": [1, "x"]})
    with pytest.raises(InvalidInputError, match="cannot write .* as Parquet"):
        write_table(frame, tmp_path / "d.parquet")
    assert _listing(tmp_path) == []


_CELL_ALPHABET = string.printable + 'éñ한글\u2028,;"\t\r\n '
_cells = st.text(alphabet=_CELL_ALPHABET, max_size=20)
_frames = st.integers(min_value=1, max_value=6).flatmap(
    lambda n: st.fixed_dictionaries(
        {"text": st.lists(_cells, min_size=n, max_size=n),
         "label": st.lists(_cells, min_size=n, max_size=n)}
    )
)


@settings(max_examples=40, deadline=None)
@given(data=_frames, fmt=st.sampled_from(FORMATS))
def test_round_trip_of_random_text(data: dict[str, list[str]], fmt: str) -> None:
    frame = pd.DataFrame(data, dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"d.{fmt}"
        write_table(frame, path)
        back = read_table(path)
        pd.testing.assert_frame_equal(back, frame)
        if fmt in ("csv", "tsv"):
            # Written, read and written again: the same bytes.
            again = Path(tmp) / f"again.{fmt}"
            write_table(back, again)
            assert again.read_bytes() == path.read_bytes()


@settings(max_examples=25, deadline=None)
@given(
    labels=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=5),
    texts=st.data(),
)
def test_jsonl_round_trip_of_random_ints(labels: list[int], texts: st.DataObject) -> None:
    text = texts.draw(st.lists(_cells, min_size=len(labels), max_size=len(labels)))
    frame = pd.DataFrame({"text": pd.Series(text, dtype=object), "label": labels})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.jsonl"
        write_table(frame, path)
        pd.testing.assert_frame_equal(read_table(path), frame)


# --------------------------------------------------------------------------- atomic writes


def test_failed_csv_write_leaves_target_intact(tmp_path: Path, monkeypatch: Any) -> None:
    target = _write_bytes(tmp_path / "out.csv", b"old,content\n1,2\n")

    def broken_to_csv(self: pd.DataFrame, handle: Any, **kwargs: Any) -> None:
        handle.write("text,label\npartial")
        handle.flush()
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken_to_csv)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_table(pd.DataFrame({"text": ["a"], "label": ["b"]}), target)
    assert target.read_bytes() == b"old,content\n1,2\n"
    assert _listing(tmp_path) == ["out.csv"]


def test_failed_jsonl_write_leaves_target_intact(tmp_path: Path, monkeypatch: Any) -> None:
    target = _write_bytes(tmp_path / "out.jsonl", b'{"a": 1}\n')

    def broken(frame: pd.DataFrame, text: Any) -> None:
        text.write('{"a": 2}\n')
        raise KeyboardInterrupt

    monkeypatch.setattr(pio, "_write_jsonl", broken)
    with pytest.raises(KeyboardInterrupt):
        write_table(pd.DataFrame({"a": [2]}), target)
    assert target.read_bytes() == b'{"a": 1}\n'
    assert _listing(tmp_path) == ["out.jsonl"]


def test_failed_parquet_write_leaves_target_intact(tmp_path: Path, monkeypatch: Any) -> None:
    import pyarrow.parquet as pq

    target = _write_bytes(tmp_path / "out.parquet", b"previous")

    def broken(table: Any, where: Any, **kwargs: Any) -> None:
        where.write(b"PAR1")
        raise OSError("no space left on device")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="no space"):
        write_table(pd.DataFrame({"a": [1]}), target)
    assert target.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["out.parquet"]


def test_failed_replace_leaves_no_temp_file(tmp_path: Path, monkeypatch: Any) -> None:
    target = _write_bytes(tmp_path / "out.txt", b"old")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("cross-device link")

    monkeypatch.setattr(pio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="cross-device"):
        write_text("new", target)
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["out.txt"]


def test_successful_write_replaces_and_cleans_up(tmp_path: Path) -> None:
    target = _write_bytes(tmp_path / "out.csv", b"old\n")
    target.chmod(0o640)
    write_table(pd.DataFrame({"text": ["a"], "label": ["b"]}), target)
    assert target.read_bytes() == b"text,label\na,b\n"
    assert _listing(tmp_path) == ["out.csv"]
    assert target.stat().st_mode & 0o777 == 0o640  # the replaced file's mode is kept


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_new_file_gets_default_permissions(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    write_json({"a": 1}, target)
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_to_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="output directory does not exist"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "missing" / "out.csv")
    with pytest.raises(InvalidInputError, match="output directory does not exist"):
        write_text("x", tmp_path / "missing" / "out.txt")


def test_write_onto_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(InvalidInputError, match="output path is a directory"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")


def test_write_to_unwritable_directory(tmp_path: Path, monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(InvalidInputError, match="cannot write to the output directory.*writable"):
        write_text("x", tmp_path / "out.txt")


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user"
)
def test_write_to_read_only_directory(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(InvalidInputError, match="Permission denied"):
            write_text("x", directory / "out.txt")
    finally:
        directory.chmod(0o700)


def test_write_duplicate_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="duplicate column names: 'a'"):
        write_table(frame, tmp_path / "out.jsonl")


def test_write_json_and_text(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    obj = {
        "z": np.int64(3),
        "a": np.float32(0.25),
        "ok": np.bool_(True),
        "arr": np.arange(3),
        "name": "정답",
        "path": Path("x/y"),
        "nan": float("nan"),
        "per_class": {np.int64(1): np.float64(np.inf), "b": [np.int32(2), None]},
    }
    write_json(obj, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {
        "z": 3, "a": 0.25, "ok": True, "arr": [0, 1, 2], "name": "정답", "path": "x/y",
        "nan": None, "per_class": {"1": None, "b": [2, None]},
    }
    assert text.index('"z"') < text.index('"a"')  # key order kept
    assert text.startswith('{\n  "z": 3,') and text.endswith("}\n")
    write_text("line one\nline two\n", tmp_path / "notes.md")
    assert (tmp_path / "notes.md").read_bytes() == b"line one\nline two\n"
    assert _listing(tmp_path) == ["notes.md", "summary.json"]


# --------------------------------------------------------------------------- same_file


def test_same_file(tmp_path: Path, monkeypatch: Any) -> None:
    first = _write_bytes(tmp_path / "a.csv", b"x")
    _write_bytes(tmp_path / "b.csv", b"x")
    assert same_file(first, tmp_path / "sub" / ".." / "a.csv")
    assert not same_file(first, tmp_path / "b.csv")
    assert same_file(tmp_path / "missing.csv", tmp_path / "." / "missing.csv")
    assert not same_file(first, tmp_path / "missing.csv")
    monkeypatch.chdir(tmp_path)
    assert same_file("a.csv", first)
    if hasattr(os, "symlink"):
        link = tmp_path / "link.csv"
        link.symlink_to(first)
        assert same_file(link, first)


# --------------------------------------------------------------------------- select_columns


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": ["hello", None, "bye", np.nan],
            "label": [" greet ", "   ", None, "x"],
            "f1": ["1", "2.5", " 3 ", "-4e1"],
            "f2": [0.5, 1.0, 1.5, 2.0],
            "g": [1, 2, 3, 4],
        }
    )


def test_select_text_column() -> None:
    texts, labels, missing = select_columns(_frame(), text_column="text", label_column="label")
    assert texts == ["hello", "", "bye", ""]
    assert labels.dtype == object and labels.tolist() == ["greet", "", "", "x"]
    assert missing.dtype == bool and missing.tolist() == [False, True, True, False]


def test_select_missing_label_column() -> None:
    frame = pd.DataFrame({"text": ["a"], "label": ["b"]})
    with pytest.raises(InvalidInputError) as info:
        select_columns(frame, text_column="text", label_column="intent")
    assert str(info.value) == (
        "column 'intent' not found; available columns: text, label. "
        "Pass --label-column with one of them."
    )


def test_select_missing_text_column() -> None:
    with pytest.raises(InvalidInputError, match="column 'body' not found.*--text-column"):
        select_columns(_frame(), text_column="body", label_column="label")


@pytest.mark.parametrize(
    ("options", "word"),
    [({}, "neither"), ({"text_column": "text", "feature_columns": ["f1"]}, "both")],
)
def test_select_needs_exactly_one_input(options: dict[str, Any], word: str) -> None:
    with pytest.raises(InvalidInputError, match=f"exactly one of --text-column .*got {word}"):
        select_columns(_frame(), label_column="label", **options)


def test_select_text_equal_to_label() -> None:
    with pytest.raises(InvalidInputError, match="both name 'label'"):
        select_columns(_frame(), text_column="label", label_column="label")


def test_select_numeric_labels() -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", "b", "c", "d", "e"],
            "ints": [3, 10, -1, 0, 7],
            "floats": [3.0, 2.5, np.nan, -0.0, 1e20],
            "nullable": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "mixed": [1, 2.0, "  b  ", None, True],
        }
    )
    _, ints, missing = select_columns(frame, text_column="text", label_column="ints")
    assert ints.tolist() == ["3", "10", "-1", "0", "7"] and not missing.any()
    _, floats, missing = select_columns(frame, text_column="text", label_column="floats")
    assert floats.tolist() == ["3", "2.5", "", "0", "100000000000000000000"]
    assert missing.tolist() == [False, False, True, False, False]
    _, nullable, missing = select_columns(frame, text_column="text", label_column="nullable")
    assert nullable.tolist() == ["1", "", "3", "4", "5"]
    assert missing.tolist() == [False, True, False, False, False]
    _, mixed, missing = select_columns(frame, text_column="text", label_column="mixed")
    assert mixed.tolist() == ["1", "2", "b", "", "True"]
    assert missing.tolist() == [False, False, False, True, False]


def test_select_labels_from_files(tmp_path: Path) -> None:
    csv_path = _write_bytes(tmp_path / "d.csv", b"text,label\na, 3 \nb,3.0\nc,\t\n")
    _, labels, missing = select_columns(read_table(csv_path), text_column="text",
                                        label_column="label")
    assert labels.tolist() == ["3", "3.0", ""]  # strings are kept as written, only stripped
    assert missing.tolist() == [False, False, True]
    jsonl_path = tmp_path / "d.jsonl"
    jsonl_path.write_text('{"text": "a", "label": 3}\n{"text": "b"}\n', encoding="utf-8")
    _, labels, missing = select_columns(read_table(jsonl_path), text_column="text",
                                        label_column="label")
    assert labels.tolist() == ["3", ""] and missing.tolist() == [False, True]


@pytest.mark.parametrize(
    "spec", [["f1", "f2"], "f1,f2", " f1 , f2 ,", "f*", ["f?"], ["f1", "f*", "f2"]]
)
def test_select_feature_columns(spec: Any) -> None:
    features, labels, missing = select_columns(_frame(), feature_columns=spec,
                                               label_column="label")
    assert isinstance(features, np.ndarray)
    assert features.dtype == np.float64 and features.shape == (4, 2)
    np.testing.assert_array_equal(features[:, 0], [1.0, 2.5, 3.0, -40.0])
    np.testing.assert_array_equal(features[:, 1], [0.5, 1.0, 1.5, 2.0])
    assert labels.tolist() == ["greet", "", "", "x"]


def test_select_feature_glob_skips_label() -> None:
    frame = pd.DataFrame({"f_label": ["a", "b"], "f_1": [1, 2], "f_2": [True, False]})
    features, labels, _ = select_columns(frame, feature_columns="f_*", label_column="f_label")
    np.testing.assert_array_equal(features, [[1.0, 1.0], [2.0, 0.0]])
    assert labels.tolist() == ["a", "b"]


def test_select_feature_errors() -> None:
    frame = _frame()
    with pytest.raises(InvalidInputError, match="column 'f9' not found.*--feature-columns"):
        select_columns(frame, feature_columns="f1,f9", label_column="label")
    with pytest.raises(InvalidInputError, match="pattern 'z\\*' matched no column"):
        select_columns(frame, feature_columns="z*", label_column="label")
    with pytest.raises(InvalidInputError, match="names no column"):
        select_columns(frame, feature_columns=" , ", label_column="label")
    with pytest.raises(InvalidInputError, match="includes the label column 'g'"):
        select_columns(frame, feature_columns=["f1", "g"], label_column="g")


def test_select_non_numeric_feature() -> None:
    with pytest.raises(InvalidInputError) as info:
        select_columns(_frame(), feature_columns=["f2", "text"], label_column="label")
    message = str(info.value)
    assert "feature column 'text'" in message
    assert "'hello' in data row 1" in message
    assert "--text-column" in message


@pytest.mark.parametrize(
    ("values", "row"),
    [([1.0, np.nan, 2.0], 2), (["1", "", "2"], 2), ([1.0, 2.0, np.inf], 3), (["1", "2", "nan"], 3)],
)
def test_select_missing_or_infinite_feature(values: list[Any], row: int) -> None:
    frame = pd.DataFrame({"f": values, "label": ["a", "b", "c"]})
    with pytest.raises(InvalidInputError) as info:
        select_columns(frame, feature_columns="f", label_column="label")
    message = str(info.value)
    assert "feature column 'f'" in message
    assert f"first in data row {row}" in message
    assert "Impute" in message


def test_select_features_from_csv(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "d.csv", b"f1,f2,label\n1,2,a\n3.5,-1e-3,b\n")
    features, labels, _ = select_columns(read_table(path), feature_columns="f*",
                                         label_column="label")
    np.testing.assert_array_equal(features, [[1.0, 2.0], [3.5, -0.001]])
    assert labels.tolist() == ["a", "b"]


def test_csv_lone_carriage_return_is_quoted(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["old\rmac", "\r"], "label": ["a\r\nb", "c"]}, dtype=object)
    path = tmp_path / "d.csv"
    write_table(frame, path)
    assert path.read_bytes() == b'text,label\n"old\rmac","a\r\nb"\n"\r",c\n'
    pd.testing.assert_frame_equal(read_table(path), frame)
