"""The committed demo dataset (datasets/demo/intents.csv) matches its generator and README."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEMO = REPO / "datasets" / "demo"
CSV = DEMO / "intents.csv"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_pico_make_demo", DEMO / "make_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_demo() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=str, keep_default_na=False)


def test_committed_csv_matches_generator(make_demo: ModuleType, tmp_path: Path) -> None:
    fresh = make_demo.write_demo(tmp_path / "intents.csv")
    assert fresh.read_bytes() == CSV.read_bytes(), (
        "datasets/demo/intents.csv is stale: run `python datasets/demo/make_demo.py`"
    )


def test_generator_is_deterministic(make_demo: ModuleType) -> None:
    assert make_demo.build_rows() == make_demo.build_rows()
    assert make_demo.build_rows(seed=1) != make_demo.build_rows()


def test_file_size() -> None:
    assert CSV.stat().st_size < 400_000


def test_columns_and_shape(demo: pd.DataFrame) -> None:
    assert list(demo.columns) == ["text", "label", "domain", "clean_label"]
    assert 2800 <= len(demo) <= 3200
    assert demo["clean_label"].nunique() == 32
    assert set(demo["label"]) <= set(demo["clean_label"])
    assert demo["domain"].nunique() == 5
    assert (demo["text"].str.len() > 0).all()


def test_domain_is_a_function_of_label(demo: pd.DataFrame, make_demo: ModuleType) -> None:
    assert demo.groupby("label")["domain"].nunique().max() == 1
    domain_of = {i: d for d, intents in make_demo.DOMAINS.items() for i in intents}
    assert (demo["label"].map(domain_of) == demo["domain"]).all()


def test_noise_rate_in_documented_range(demo: pd.DataFrame) -> None:
    wrong = demo["label"] != demo["clean_label"]
    assert 0.07 <= wrong.mean() <= 0.09
    domain_of = dict(zip(demo["label"], demo["domain"]))
    same_domain = demo.loc[wrong, "label"].map(domain_of) == demo.loc[wrong, "clean_label"].map(
        domain_of
    )
    assert same_domain.mean() > 0.8  # mostly within-domain confusions


def test_class_sizes(demo: pd.DataFrame) -> None:
    for column in ("label", "clean_label"):
        counts = demo[column].value_counts()
        small = counts[counts < 10]
        assert 2 <= len(small) <= 3, counts
        assert small.min() >= 2
        big = counts[counts >= 10]
        assert big.min() >= 40 and big.max() <= 190


def test_only_planted_duplicates(demo: pd.DataFrame, make_demo: ModuleType) -> None:
    key = demo["text"].map(make_demo.normalize)
    dup = demo[key.duplicated(keep=False)]
    assert dup["text"].nunique() == make_demo.N_CONFLICTS
    assert len(dup) == 2 * make_demo.N_CONFLICTS
    for _, rows in dup.groupby("text"):
        assert rows["label"].nunique() == 2  # conflicting labels
        assert rows["clean_label"].nunique() == 1


def test_texts_look_diverse(demo: pd.DataFrame) -> None:
    lengths = demo["text"].str.split().str.len()
    assert lengths.min() <= 3 and lengths.max() >= 12
    assert demo["text"].str.endswith("?").mean() > 0.05
    lowered = demo["text"].str.lower()
    assert (lowered == demo["text"]).mean() < 0.8  # mixed casing
    words_per_intent = demo.groupby("clean_label")["text"].apply(
        lambda t: len(set(" ".join(t).lower().split()))
    )
    assert np.all(words_per_intent.drop(["lost_luggage", "report_fraud", "allergy_info"]) >= 30)
