"""Rasa NLU YAML: read, write back with corrected intents, layout preserved."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pico.cli import cli
from pico.data.io import read_table, write_table
from pico.exceptions import InvalidInputError

NLU = '''version: "3.1"

nlu:
# Greetings and goodbyes
- intent: greet
  examples: |
    - hey
    - hello [Sara](name)
    - see you later
- intent: "goodbye"
  examples: |
    - bye
    - good night

- synonym: Paris
  examples: |
    - paris
- regex: zipcode
  examples: |
    - [0-9]{5}
responses:
  utter_greet:
  - text: "Hi!"
'''


def _write(tmp_path: Path, text: str, name: str = "nlu.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_gives_one_row_per_example(tmp_path: Path) -> None:
    frame = read_table(_write(tmp_path, NLU))
    assert frame["intent"].tolist() == ["greet"] * 3 + ["goodbye"] * 2
    assert frame["text"].tolist()[1] == "hello Sara"  # entity markup removed
    assert frame["example"].tolist()[1] == "hello [Sara](name)"
    assert frame["line"].tolist() == [7, 8, 9, 12, 13]


def test_unchanged_intents_write_the_file_back_byte_for_byte(tmp_path: Path) -> None:
    frame = read_table(_write(tmp_path, NLU))
    out = tmp_path / "out.yml"
    write_table(frame, out)
    assert out.read_text(encoding="utf-8") == NLU


def test_moved_examples_keep_entities_comments_and_other_keys(tmp_path: Path) -> None:
    frame = read_table(_write(tmp_path, NLU))
    frame["pico_label"] = frame["intent"]
    frame.loc[2, "pico_label"] = "goodbye"  # "see you later"
    frame.loc[1, "pico_label"] = "introduce"  # a new intent, entity kept
    out = tmp_path / "out.yml"
    write_table(frame, out)
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    intents = {i["intent"]: i["examples"] for i in data["nlu"] if "intent" in i}
    assert intents["greet"] == "- hey\n"
    assert intents["goodbye"] == "- bye\n- good night\n- see you later\n"
    assert intents["introduce"] == "- hello [Sara](name)\n"
    assert [i.get("synonym") or i.get("regex") for i in data["nlu"] if "intent" not in i] == [
        "Paris", "zipcode"]
    assert data["responses"] == {"utter_greet": [{"text": "Hi!"}]}
    assert "# Greetings and goodbyes" in text
    assert text.index("- intent: introduce") < text.index("- synonym: Paris")


def test_unsupported_layouts_are_refused_with_the_fix(tmp_path: Path) -> None:
    listed = 'nlu:\n- intent: greet\n  examples:\n  - text: hi\n'
    with pytest.raises(InvalidInputError, match="examples: \\|"):
        read_table(_write(tmp_path, listed))
    with pytest.raises(InvalidInputError, match="nlu:"):
        read_table(_write(tmp_path, "stories:\n- story: x\n"))
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        read_table(_write(tmp_path, "nlu: [\n"))
    frame = read_table(_write(tmp_path, NLU)).drop(columns=[])
    frame.attrs.clear()
    with pytest.raises(InvalidInputError, match="Rasa NLU input"):
        write_table(frame, tmp_path / "x.yml")


def _nlu(blocks: dict[str, list[str]]) -> str:
    """A Rasa NLU file with one literal block of examples per intent."""
    return "nlu:\n" + "".join(
        f"- intent: {name}\n  examples: |\n" + "".join(f"    - {e}\n" for e in examples)
        for name, examples in blocks.items()
    )


def _intent_file(tmp_path: Path) -> tuple[Path, str]:
    weather = ["what is the weather {}", "will it rain {}", "is it sunny {}",
               "weather forecast for {}", "how cold is it {}"]
    music = ["play some jazz {}", "put on music {}", "play my playlist {}",
             "i want to hear a song {}", "play rock {}"]
    when = ["today", "tomorrow", "tonight", "this weekend"]
    blocks = {"weather": [w.format(t) for w in weather for t in when],
              "music": [m.format(t) for m in music for t in when]}
    planted = blocks["weather"].pop(3)  # a weather question filed under music
    blocks["music"].append(planted)
    return _write(tmp_path, _nlu(blocks)), planted


def test_cli_cleans_a_rasa_file_into_a_rasa_file(tmp_path: Path) -> None:
    data, planted = _intent_file(tmp_path)
    out = tmp_path / "cleaned.yml"
    result = CliRunner().invoke(cli, ["clean", str(data), "-o", str(out), "--run-dir",
                                      str(tmp_path / "run"), "--branches", "2", "-q"])
    assert result.exit_code == 0, result.output
    cleaned = yaml.safe_load(out.read_text(encoding="utf-8"))
    intents = {i["intent"]: i["examples"].splitlines() for i in cleaned["nlu"]}
    assert f"- {planted}" in intents["weather"]
    assert f"- {planted}" not in intents["music"]
    assert sum(len(v) for v in intents.values()) == 40


def test_korean_intents_end_to_end(tmp_path: Path) -> None:
    weather = ["오늘 날씨 어때", "내일 비 와", "이번 주말 날씨 알려줘", "밖에 추워", "우산 필요해"]
    music = ["음악 틀어줘", "재즈 듣고 싶어", "신나는 노래 틀어줘", "플레이리스트 재생해줘",
             "조용한 음악 부탁해"]
    tails = ["", " 지금", " 좀", " 빨리"]
    blocks = {"날씨": [w + t for w in weather for t in tails],
              "음악": [m + t for m in music for t in tails]}
    planted = blocks["날씨"].pop(0)
    blocks["음악"].append(planted)
    data = _write(tmp_path, _nlu(blocks), "korean.yml")
    out = tmp_path / "korean.cleaned.yml"
    result = CliRunner().invoke(cli, ["clean", str(data), "-o", str(out), "--run-dir",
                                      str(tmp_path / "run"), "--branches", "2", "-q"])
    assert result.exit_code == 0, result.output
    cleaned = yaml.safe_load(out.read_text(encoding="utf-8"))
    intents = {i["intent"]: i["examples"].splitlines() for i in cleaned["nlu"]}
    assert f"- {planted}" in intents["날씨"]
    assert "- 음악 틀어줘" in intents["음악"]


def test_demo_nlu_file_matches_the_demo_csv() -> None:
    repo = Path(__file__).resolve().parents[1]
    frame = read_table(repo / "datasets" / "demo" / "nlu.yml")
    csv = read_table(repo / "datasets" / "demo" / "intents.csv")
    assert frame["intent"].tolist() != []
    pairs = sorted(zip(frame["text"], frame["intent"]))
    expected = sorted((" ".join(t.split()), lab) for t, lab in zip(csv["text"], csv["label"]))
    assert pairs == expected
