"""Tests for datasets.loaders (the shared CLINC150 and BANKING77 copies)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from datasets.loaders import (
    SHARED_DATASETS,
    datasets_available,
    load_banking77,
    load_clinc150,
)


def _need(name: str) -> None:
    if not datasets_available(name):
        pytest.skip(f"{name} not found under {SHARED_DATASETS} (set PICO_DATASETS)")


def test_default_path_is_next_to_repo() -> None:
    assert SHARED_DATASETS.parts[-2:] == ("shared", "datasets")


def test_clinc150_train() -> None:
    _need("clinc150")
    frame = load_clinc150("train")
    assert list(frame.columns) == ["text", "label", "domain"]
    assert len(frame) == 15000
    assert frame["label"].nunique() == 150
    assert frame["domain"].nunique() == 10
    assert frame.groupby("label")["domain"].nunique().max() == 1
    assert frame["text"].map(type).eq(str).all()


def test_clinc150_other_splits() -> None:
    _need("clinc150")
    assert len(load_clinc150("valid")) == 3000
    assert len(load_clinc150("test")) == 4500


def test_banking77_train() -> None:
    _need("banking77")
    frame = load_banking77()
    assert list(frame.columns) == ["text", "label"]
    assert frame["label"].nunique() == 77
    assert len(frame) == 10003
    assert frame["text"].map(type).eq(str).all()


def test_missing_folder_message(tmp_path: Path) -> None:
    assert not datasets_available("clinc150", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="PICO_DATASETS") as info:
        load_clinc150(root=tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(FileNotFoundError, match="PICO_DATASETS"):
        load_banking77("test", root=tmp_path)


def test_env_var_overrides_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICO_DATASETS", str(tmp_path))
    assert not datasets_available("banking77")
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_banking77()


def test_bad_split_and_name() -> None:
    with pytest.raises(ValueError, match="'split'"):
        load_banking77("valid")
    with pytest.raises(ValueError, match="'name'"):
        datasets_available("mnist")
