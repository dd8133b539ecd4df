"""The README's "From a notebook" code runs as written (on the demo dataset)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _notebook_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### From a notebook", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_has_the_four_uses() -> None:
    code = "\n".join(_notebook_blocks())
    for needed in ("pico.clean(df)", "to_frame()", "pico.clean(ds)", "to_dataset()",
                   "pred_probs=pred_probs", "label_quality"):
        assert needed in code


@pytest.mark.slow
def test_from_a_notebook_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasets")
    monkeypatch.chdir(REPO)
    namespace: dict[str, object] = {}
    for block in _notebook_blocks():
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's code
    import pico

    result = namespace["result"]
    assert isinstance(result, pico.CleanResult)
    issues = result.to_frame()
    assert len(issues) == 2997 and issues["label_quality"].notna().all()
    confident = namespace["confident"]
    assert 0 < confident.num_rows < 2997
