"""Tests for experiments.loaders (the shared CLINC150, BANKING77 and HINT3 copies)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from experiments.loaders import (
    HINT3_CATCH_ALL,
    SHARED_DATASETS,
    clinc150_oos_available,
    datasets_available,
    hint3_available,
    load_banking77,
    load_clinc150,
    load_clinc150_oos,
    load_hint3,
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


def test_hint3_bots() -> None:
    if not hint3_available():
        pytest.skip(f"hint3 not found under {SHARED_DATASETS} (set PICO_DATASETS)")
    for bot, rows, wrong in (("curekart", 1590, 36), ("sofmattress", 725, 39)):
        frame = load_hint3(bot)
        assert list(frame.columns) == ["text", "noisy_label", "clean_label", "split"]
        assert len(frame) == rows
        assert int((frame["noisy_label"] != frame["clean_label"]).sum()) == wrong
        assert frame["split"].iloc[0] == "train" and frame["split"].iloc[-1] == "test"
        assert HINT3_CATCH_ALL in set(frame["clean_label"])
        assert frame["text"].map(type).eq(str).all()


def test_clinc150_oos() -> None:
    if not clinc150_oos_available():
        pytest.skip(f"clinc150/oos.csv not found under {SHARED_DATASETS}")
    frame = load_clinc150_oos()
    assert list(frame.columns) == ["text", "label", "split"]
    assert len(frame) == 1200 and set(frame["label"]) == {"oos"}
    assert frame["split"].value_counts().to_dict() == {"test": 1000, "train": 100, "valid": 100}


def test_hint3_and_oos_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not hint3_available(root=tmp_path)
    assert not hint3_available("curekart", root=tmp_path)
    assert not clinc150_oos_available(root=tmp_path)
    with pytest.raises(FileNotFoundError, match="PICO_DATASETS") as info:
        load_hint3("curekart", root=tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(FileNotFoundError, match="PICO_DATASETS"):
        load_clinc150_oos(root=tmp_path)
    monkeypatch.setenv("PICO_DATASETS", str(tmp_path))
    assert not hint3_available("sofmattress")
    with pytest.raises(ValueError, match="'bot'"):
        load_hint3("acme", root=tmp_path)


def test_hint3_reads_both_files_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "hint3" / "curekart"
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text("text,noisy_label,clean_label\nNA,A,A\nb,B,B\n")
    (folder / "test.csv").write_text("text,noisy_label,clean_label\nc,A,NO_NODES_DETECTED\n")
    assert hint3_available("curekart", root=tmp_path)
    assert not hint3_available(root=tmp_path)  # sofmattress is missing
    frame = load_hint3("curekart", root=tmp_path)
    assert frame["text"].tolist() == ["NA", "b", "c"]  # "NA" stays text
    assert frame["split"].tolist() == ["train", "train", "test"]
    assert frame["clean_label"].tolist() == ["A", "B", "NO_NODES_DETECTED"]
    (folder / "test.csv").write_text("text,label\nc,A\n")
    with pytest.raises(ValueError, match="noisy_label"):
        load_hint3("curekart", root=tmp_path)
