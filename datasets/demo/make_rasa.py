"""Write nlu.yml: the demo's given labels as Rasa NLU training data.

Deterministic (standard library only): the intents in order of first appearance in
intents.csv, each with its examples in file order, in `examples: |` blocks. Run from
the repository root: ``python datasets/demo/make_rasa.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    blocks: dict[str, list[str]] = {}
    with open(HERE / "intents.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            blocks.setdefault(row["label"], []).append(" ".join(row["text"].split()))
    lines = ['version: "3.1"', "", "# pico demo: the given (noisy) labels of intents.csv", "nlu:"]
    for intent, examples in blocks.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {e}" for e in examples]
    (HERE / "nlu.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
