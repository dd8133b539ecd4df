"""The benchmark script runs end to end in its quick mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasets.loaders import datasets_available


@pytest.mark.skipif(not datasets_available("clinc150"), reason="CLINC150 not available")
def test_quick_benchmark(tmp_path: Path) -> None:
    from experiments import benchmark_core as bench

    doc, out = tmp_path / "bench.md", tmp_path / "bench.json"
    results = bench.main(
        ["--quick", "--jobs", "1", "--scenarios", "clinc-within20", "--doc", str(doc),
         "--json", str(out)]
    )
    record = results["scenarios"][0]
    methods = record["methods"]
    assert set(methods) == {"pico", "cleanlab (prune_by_noise_rate)", "cleanlab (both)"}
    for m in methods.values():
        assert m["accuracy_before"] == pytest.approx(0.8, abs=0.01)
        assert 0.0 <= m["accuracy_after"] <= 1.0
    pico_row = methods["pico"]
    # the threshold sweep at the default threshold reproduces pico's own decision
    at_default = [s for s in pico_row["threshold_sweep"] if s["threshold"] == 0.6][0]
    assert at_default["changed"] == pico_row["changed"]
    assert at_default["damage"] == pico_row["damage"]
    assert "## clinc-within20" in doc.read_text()
    assert json.loads(out.read_text())["scenarios"][0]["scenario"] == "clinc-within20"
