"""Chatbot platform formats: Microsoft CLU, Dialogflow ES, Lex V2, Rasa retrieval intents
and Rasa data folders. Each is read as rows, written back with every untouched part as
it was, and goes through ``pico clean`` and ``pico apply``.

The fixtures are small exports written by hand in each platform's documented layout.
"""

from __future__ import annotations

import csv
import json
import logging
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pico.cli import cli
from pico.data.document import sniff_format
from pico.data.io import detect_format, read_table, write_table
from pico.exceptions import InvalidInputError

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- data


def _weather_music() -> tuple[list[tuple[str, str]], str]:
    """40 (text, intent) pairs of two intents, one weather question filed under music."""
    weather = ["what is the weather {}", "will it rain {}", "is it sunny {}",
               "weather forecast for {}", "how cold is it {}"]
    music = ["play some jazz {}", "put on music {}", "play my playlist {}",
             "i want to hear a song {}", "play rock {}"]
    when = ["today", "tomorrow", "tonight", "this weekend"]
    w = [t.format(x) for t in weather for x in when]
    m = [t.format(x) for t in music for x in when]
    planted = w.pop(3)
    m.append(planted)
    return [(t, "weather") for t in w] + [(t, "music") for t in m], planted


def _clu(pairs: list[tuple[str, str]], *, indent: int | None = 4,
         languages: list[str] | None = None) -> str:
    """A CLU project export in the documented layout."""
    intents = list(dict.fromkeys(i for _, i in pairs))
    utterances = []
    for k, (text, intent) in enumerate(pairs):
        u: dict[str, Any] = {"text": text, "intent": intent,
                             "language": (languages or ["en-us"])[k % len(languages or [1])],
                             "dataset": "Test" if k % 5 == 0 else "Train", "entities": []}
        if "tomorrow" in text:
            u["entities"] = [{"category": "DateTime", "offset": text.index("tomorrow"),
                              "length": 8}]
        utterances.append(u)
    doc = {
        "projectFileVersion": "2022-10-01-preview",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectKind": "Conversation", "settings": {"confidenceThreshold": 0},
                     "projectName": "Assistant", "multilingual": bool(languages),
                     "description": "Café assistant", "language": "en-us"},
        "assets": {
            "projectKind": "Conversation",
            "intents": [{"category": i} for i in intents] + [{"category": "None"}],
            "entities": [{"category": "DateTime", "compositionSetting": "combineComponents",
                          "prebuilts": [{"category": "DateTime"}]}],
            "utterances": utterances,
        },
    }
    return json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"


def _phrase(text: str, k: int) -> dict[str, Any]:
    """A Dialogflow ES training phrase; phrases naming a day carry an entity part."""
    parts: list[dict[str, Any]] = [{"text": text, "userDefined": False}]
    for day in ("today", "tomorrow", "tonight"):
        if text.endswith(day):
            parts = [{"text": text[: -len(day)], "userDefined": False},
                     {"text": day, "alias": "date", "meta": "@sys.date", "userDefined": False}]
    return {"id": f"00000000-0000-0000-0000-{k:012d}", "data": parts, "isTemplate": False,
            "count": 0, "lang": "en", "updated": 0}


def _dialogflow(path: Path, pairs: list[tuple[str, str]], *, extra_language: bool = False,
                empty_intent: str | None = None) -> Path:
    """A Dialogflow ES agent export zip: agent.json, package.json, intents/, entities/."""
    agent = {"description": "", "language": "en", "shortDescription": "",
             "examples": "", "linkToDocs": "", "disableInteractionLogs": False,
             "disableStackdriverLogs": True, "defaultTimezone": "Europe/Berlin",
             "isPrivate": True, "mlMinConfidence": 0.3,
             "supportedLanguages": ["de"] if extra_language else [],
             "enableOnePlatformResponses": True, "onePlatformApiVersion": "v2"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("agent.json", json.dumps(agent, indent=2))
        z.writestr("package.json", json.dumps({"version": "1.0.0"}, indent=2))
        names = list(dict.fromkeys(i for _, i in pairs))
        if empty_intent:
            names.append(empty_intent)
        for name in names:
            intent = {"id": f"id-{name}", "name": name, "auto": True, "contexts": [],
                      "responses": [{"resetContexts": False, "action": "", "parameters": [
                          {"id": "p1", "name": "date", "required": False,
                           "dataType": "@sys.date", "value": "$date", "isList": False}],
                          "messages": [{"type": "0", "platform": "false", "lang": "en",
                                        "condition": "", "speech": []}]}],
                      "priority": 500000, "webhookUsed": False, "fallbackIntent": False,
                      "events": [], "conditionalResponses": [], "condition": "",
                      "conditionalFollowupEvents": []}
            z.writestr(f"intents/{name}.json", json.dumps(intent, indent=2))
            phrases = [_phrase(t, k) for k, (t, i) in enumerate(pairs) if i == name]
            if phrases:
                z.writestr(f"intents/{name}_usersays_en.json", json.dumps(phrases, indent=2))
            if extra_language and phrases:
                german = [{**p, "lang": "de", "data": [{"text": "wetter " + str(k),
                                                        "userDefined": False}]}
                          for k, p in enumerate(phrases[:3])]
                z.writestr(f"intents/{name}_usersays_de.json", json.dumps(german, indent=2))
        z.writestr("entities/city.json", json.dumps({"id": "e1", "name": "city"}, indent=2))
        z.writestr("entities/city_entries_en.json",
                   json.dumps([{"value": "Paris", "synonyms": ["Paris"]}], indent=2))
    return path


def _lex(path: Path, pairs: list[tuple[str, str]], *, locales: tuple[str, ...] = ("en_US",),
         slot_intent: str | None = None, suffix: dict[str, str] | None = None) -> Path:
    """A Lex V2 bot export zip (LexJson): Manifest, Bot, BotLocales/LOCALE/Intents/."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Manifest.json", json.dumps({"metadata": {
            "schemaVersion": "1", "fileFormat": "LexJson", "resourceType": "BOT"}}))
        z.writestr("Assistant/Bot.json", json.dumps({
            "name": "Assistant", "version": "DRAFT", "description": None,
            "identifier": "BOTID", "dataPrivacy": {"childDirected": False},
            "idleSessionTTLInSeconds": 300}))
        for locale in locales:
            base = f"Assistant/BotLocales/{locale}/"
            z.writestr(base + "BotLocale.json", json.dumps({
                "name": "English (US)", "identifier": locale, "version": None,
                "description": None, "voiceSettings": {"voiceId": "Danielle"},
                "nluConfidenceThreshold": 0.4}))
            names = list(dict.fromkeys(i for _, i in pairs))
            for name in names:
                samples = [{"utterance": t + (suffix or {}).get(locale, "")}
                           for t, i in pairs if i == name]
                if name == slot_intent:
                    samples.append({"utterance": "what is the weather in {City}"})
                intent = {"name": name, "identifier": f"ID{name.upper()}", "description": None,
                          "parentIntentSignature": None, "sampleUtterances": samples,
                          "intentConfirmationSetting": None, "intentClosingSetting": None,
                          "inputContexts": None, "outputContexts": None,
                          "kendraConfiguration": None, "dialogCodeHook": None,
                          "fulfillmentCodeHook": None,
                          "slotPriorities": [{"priority": 1, "slotName": "City"}]
                          if name == slot_intent else []}
                z.writestr(base + f"Intents/{name}/Intent.json", json.dumps(intent))
                if name == slot_intent:
                    z.writestr(base + f"Intents/{name}/Slots/City/Slot.json", json.dumps(
                        {"name": "City", "identifier": "SLOT1", "slotTypeName": "AMAZON.City"}))
            z.writestr(base + "Intents/FallbackIntent/Intent.json", json.dumps({
                "name": "FallbackIntent", "identifier": "FALLBCKINT",
                "parentIntentSignature": "AMAZON.FallbackIntent", "sampleUtterances": None}))
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return z.namelist()


def _relabel(frame: Any, row: int, intent: str) -> Any:
    frame["pico_label"] = frame["intent"]
    frame.loc[row, "pico_label"] = intent
    return frame


def _clean(data: Path, tmp_path: Path, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["clean", str(data), "--run-dir", str(tmp_path / "run"),
                                    "--branches", "2", "--jobs", "1", "-q", *extra])


def _decide(tmp_path: Path, row: int, given: str, decision: str) -> Path:
    """A filled review file with one decision."""
    path = tmp_path / "decisions.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["row", "given", "suggested", "decision"])
        writer.writerow([row, given, given, decision])
    return path


def _apply(tmp_path: Path, review: Path) -> Any:
    return CliRunner().invoke(cli, ["apply", str(tmp_path / "run"), str(review)])


# --------------------------------------------------------------------------- CLU


def test_clu_reads_utterances_and_writes_back_byte_for_byte(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = tmp_path / "assistant.json"
    path.write_bytes(b"\xef\xbb\xbf" + _clu(pairs).encode())  # a byte order mark too
    frame = read_table(path)
    assert frame["text"].tolist() == [t for t, _ in pairs]
    assert frame["intent"].tolist() == [i for _, i in pairs]
    assert set(frame.columns) >= {"language", "dataset", "utterance"}
    write_table(frame, tmp_path / "out.json")
    assert (tmp_path / "out.json").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_clu_relabel_changes_exactly_that_intent_value(tmp_path: Path, indent: Any) -> None:
    pairs, planted = _weather_music()
    path = tmp_path / "assistant.json"
    path.write_text(_clu(pairs, indent=indent), encoding="utf-8")
    frame = read_table(path)
    row = frame["text"].tolist().index(planted)
    write_table(_relabel(frame, row, "weather"), tmp_path / "out.json")
    before, after = path.read_text(encoding="utf-8"), (tmp_path / "out.json").read_text("utf-8")
    old, new = json.loads(before), json.loads(after)
    changed = [k for k, (a, b) in enumerate(zip(old["assets"]["utterances"],
                                                  new["assets"]["utterances"])) if a != b]
    assert changed == [row]
    assert new["assets"]["utterances"][row] == {**old["assets"]["utterances"][row],
                                                "intent": "weather"}
    old["assets"]["utterances"][row]["intent"] = "weather"
    assert new == old  # every other field, key order included
    assert list(new["assets"]) == list(old["assets"])
    if indent is not None:
        diff = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
        assert len(diff) == 1 and '"music"' in diff[0][0] and '"weather"' in diff[0][1]


def test_clu_new_intent_gets_an_intents_entry(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = tmp_path / "assistant.json"
    path.write_text(_clu(pairs, indent=2), encoding="utf-8")
    frame = _relabel(read_table(path), 0, "small_talk")
    write_table(frame, tmp_path / "out.json")
    new = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert new["assets"]["intents"][-1] == {"category": "small_talk"}
    assert [i["category"] for i in new["assets"]["intents"]] == [
        "weather", "music", "None", "small_talk"]
    assert new["assets"]["utterances"][0]["intent"] == "small_talk"
    assert '  {\n        "category": "small_talk"\n      }' in (tmp_path / "out.json").read_text()


def test_clu_languages(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pairs, _ = _weather_music()
    path = tmp_path / "assistant.json"
    path.write_text(_clu(pairs, languages=["en-us", "de-de"]), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pico"):
        frame = read_table(path)
    assert len(frame) == 20 and set(frame["language"]) == {"en-us"}
    assert "other languages" in caplog.text
    german = read_table(path, language="DE-DE")
    assert len(german) == 20 and set(german["language"]) == {"de-de"}
    write_table(_relabel(german, 0, "music"), tmp_path / "out.json")
    new = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert new["assets"]["utterances"][1]["intent"] == "music"  # the first German one
    with pytest.raises(InvalidInputError, match="no utterances in 'fr'.*--language"):
        read_table(path, language="fr")


def test_clu_detected_by_content(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    for name in ("export.json", "export", "export.txt"):
        path = tmp_path / name
        path.write_text(_clu(pairs), encoding="utf-8")
        assert detect_format(path) == "clu"
        assert sniff_format(path) == "clu"
    table = tmp_path / "table.json"
    table.write_text('{"text": "hi", "label": "greet"}\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not a Microsoft CLU project.*jsonl"):
        detect_format(table)


def test_clu_unsupported_layouts_refused_in_one_line_and_nothing_written(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    orchestration = json.loads(_clu(pairs))
    orchestration["metadata"]["projectKind"] = "Orchestration"
    orchestration["assets"]["projectKind"] = "Orchestration"
    no_utterances = json.loads(_clu(pairs))
    del no_utterances["assets"]["utterances"]
    no_intent = json.loads(_clu(pairs))
    del no_intent["assets"]["utterances"][2]["intent"]
    cases = {"orchestration.json": (orchestration, "projectKind 'Orchestration'"),
             "empty.json": (no_utterances, "no assets.utterances"),
             "broken.json": (no_intent, "utterance 3 .* no intent")}
    for name, (doc, message) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        before = path.read_bytes()
        with pytest.raises(InvalidInputError, match=message):
            read_table(path)
        result = _clean(path, tmp_path / name.replace(".json", ""))
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1 and "Error:" in result.output
        assert not (tmp_path / name.replace(".json", ".cleaned.json")).exists()
        assert path.read_bytes() == before


def test_clu_demo_goes_through_pico_clean_and_comes_back_as_clu(tmp_path: Path) -> None:
    demo = read_table(REPO / "datasets" / "demo" / "nlu.yml")
    pairs = list(zip(demo["text"], demo["intent"]))
    path = tmp_path / "demo.json"
    path.write_text(_clu(pairs), encoding="utf-8")
    before = path.read_bytes()
    result = CliRunner().invoke(cli, [
        "clean", str(path), "--run-dir", str(tmp_path / "run"), "--jobs", "1", "-q",
        "--branches", "1", "--folds", "2", "--iterations", "1"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before  # the input is never modified
    out = tmp_path / "demo.cleaned.json"
    old, new = json.loads(before), json.loads(out.read_bytes())
    texts = Counter(u["text"] for u in old["assets"]["utterances"])
    assert Counter(u["text"] for u in new["assets"]["utterances"]) == texts
    changed = 0
    for a, b in zip(old["assets"]["utterances"], new["assets"]["utterances"]):
        assert {k: v for k, v in a.items() if k != "intent"} == {
            k: v for k, v in b.items() if k != "intent"}
        changed += a["intent"] != b["intent"]
    assert changed > 0
    old["assets"]["utterances"] = new["assets"]["utterances"]
    assert new == old  # nothing but utterance intents changed
    review = read_table(tmp_path / "run" / "review.csv")
    assert len(review) and all(text in texts for text in review["text"])


def test_clu_clean_and_apply(tmp_path: Path) -> None:
    pairs, planted = _weather_music()
    path = tmp_path / "assistant.json"
    path.write_text(_clu(pairs), encoding="utf-8")
    result = _clean(path, tmp_path)
    assert result.exit_code == 0, result.output
    out = tmp_path / "assistant.cleaned.json"
    new = json.loads(out.read_bytes())
    intent = {u["text"]: u["intent"] for u in new["assets"]["utterances"]}
    assert intent[planted] == "weather"
    result = _apply(tmp_path, _decide(tmp_path, 0, pairs[0][1], "music"))
    assert result.exit_code == 0, result.output
    new = json.loads(out.read_bytes())
    assert new["assets"]["utterances"][0]["intent"] == "music"
    assert {u["text"]: u["intent"] for u in new["assets"]["utterances"][1:]} == {
        t: i for t, i in intent.items() if t != pairs[0][0]}


# --------------------------------------------------------------------------- Dialogflow


def test_dialogflow_round_trip_is_byte_identical(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = _dialogflow(tmp_path / "agent.zip", pairs)
    frame = read_table(path)
    assert frame["intent"].tolist() == [i for _, i in pairs]
    assert frame["text"].tolist() == [t for t, _ in pairs]  # entity parts joined
    assert set(frame["file"]) == {"intents/weather_usersays_en.json",
                                  "intents/music_usersays_en.json"}
    write_table(frame, tmp_path / "out.zip")
    assert (tmp_path / "out.zip").read_bytes() == path.read_bytes()


def test_dialogflow_relabel_moves_the_phrase_between_usersays_files(tmp_path: Path) -> None:
    pairs, planted = _weather_music()
    path = _dialogflow(tmp_path / "agent.zip", pairs)
    frame = read_table(path)
    row = frame["text"].tolist().index(planted)
    write_table(_relabel(frame, row, "weather"), tmp_path / "out.zip")
    old, new = _members(path), _members(tmp_path / "out.zip")
    assert _names(tmp_path / "out.zip") == _names(path)  # same members, same order
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(tmp_path / "out.zip") as b:
        assert [(i.date_time, i.compress_type, i.external_attr) for i in a.infolist()] == [
            (i.date_time, i.compress_type, i.external_attr) for i in b.infolist()]
    moved = {"intents/weather_usersays_en.json", "intents/music_usersays_en.json"}
    assert all(new[n] == old[n] for n in old if n not in moved)
    weather = json.loads(new["intents/weather_usersays_en.json"])
    music = json.loads(new["intents/music_usersays_en.json"])
    entry = json.loads(old["intents/music_usersays_en.json"])[-1]
    assert weather == json.loads(old["intents/weather_usersays_en.json"]) + [entry]
    assert music == json.loads(old["intents/music_usersays_en.json"])[:-1]
    assert "".join(p["text"] for p in weather[-1]["data"]) == planted
    # the untouched phrases keep their text as written; the file keeps its indentation
    assert new["intents/weather_usersays_en.json"].startswith(
        old["intents/weather_usersays_en.json"][:-2])
    assert json.dumps(weather, indent=2).encode() == new["intents/weather_usersays_en.json"]


def test_dialogflow_languages_and_a_new_usersays_file(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = _dialogflow(tmp_path / "agent.zip", pairs, extra_language=True, empty_intent="smalltalk")
    english = read_table(path)
    assert len(english) == 40 and set(english["language"]) == {"en"}
    german = read_table(path, language="de")
    assert german["text"].tolist() == [f"wetter {k}" for k in range(3)] * 2
    write_table(_relabel(german, 0, "music"), tmp_path / "de.zip")
    new = _members(tmp_path / "de.zip")
    assert len(json.loads(new["intents/music_usersays_de.json"])) == 4
    assert new["intents/music_usersays_en.json"] == _members(path)[
        "intents/music_usersays_en.json"]
    write_table(_relabel(english, 0, "smalltalk"), tmp_path / "new.zip")
    names = _names(tmp_path / "new.zip")
    assert names[names.index("intents/smalltalk.json") + 1] == "intents/smalltalk_usersays_en.json"
    added = json.loads(_members(tmp_path / "new.zip")["intents/smalltalk_usersays_en.json"])
    assert "".join(p["text"] for p in added[0]["data"]) == pairs[0][0]
    with pytest.raises(InvalidInputError, match="no training phrases in 'fr'.*de, en"):
        read_table(path, language="fr")
    with pytest.raises(InvalidInputError, match="no intent greet.*existing intents"):
        write_table(_relabel(english, 0, "greet"), tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_dialogflow_detection_and_refusals(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = _dialogflow(tmp_path / "agent.zip", pairs)
    assert detect_format(path) == "dialogflow"
    bare = tmp_path / "agent-export"
    bare.write_bytes(path.read_bytes())
    assert detect_format(bare) == "dialogflow"
    cx = tmp_path / "cx.zip"
    with zipfile.ZipFile(cx, "w") as z:
        z.writestr("agent.json", "{}")
        z.writestr("flows/Default Start Flow/Default Start Flow.json", "{}")
    with pytest.raises(InvalidInputError, match="Dialogflow CX"):
        read_table(cx)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(InvalidInputError, match="neither a Dialogflow ES agent"):
        detect_format(other)
    folder = tmp_path / "unzipped"
    folder.mkdir()
    (folder / "agent.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="unzipped Dialogflow ES agent"):
        detect_format(folder)
    result = _clean(cx, tmp_path)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "cx.cleaned.zip").exists()


def test_dialogflow_clean_and_apply(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pairs, planted = _weather_music()
    path = _dialogflow(tmp_path / "agent.zip", pairs)
    before = path.read_bytes()
    result = _clean(path, tmp_path)
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before
    out = tmp_path / "agent.cleaned.zip"
    weather = json.loads(_members(out)["intents/weather_usersays_en.json"])
    assert planted in ["".join(p["text"] for p in e["data"]) for e in weather]
    frame = read_table(out)
    row = frame.index[frame["text"] == pairs[0][0]][0]
    result = _apply(tmp_path, _decide(tmp_path, 0, pairs[0][1], "music"))
    assert result.exit_code == 0, result.output
    music = json.loads(_members(out)["intents/music_usersays_en.json"])
    assert "".join(p["text"] for p in music[-1]["data"]) == pairs[0][0]
    assert row == 0


# --------------------------------------------------------------------------- Lex V2


def test_lex_round_trip_is_byte_identical(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs, slot_intent="weather")
    frame = read_table(path)
    assert frame["intent"].tolist() == ["weather"] * 20 + ["music"] * 21
    assert frame["text"].tolist()[19] == "what is the weather in {City}"  # slot as written
    assert set(frame["locale"]) == {"en_US"}
    write_table(frame, tmp_path / "out.zip")
    assert (tmp_path / "out.zip").read_bytes() == path.read_bytes()


def test_lex_relabel_moves_the_sample_utterance(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pairs, planted = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs, slot_intent="weather")
    frame = read_table(path)
    row = frame["text"].tolist().index(planted)
    slot_row = frame["text"].tolist().index("what is the weather in {City}")
    frame = _relabel(frame, row, "weather")
    frame.loc[slot_row, "pico_label"] = "music"
    with caplog.at_level(logging.WARNING, logger="pico"):
        write_table(frame, tmp_path / "out.zip")
    assert "{City}" in caplog.text and "no slot" in caplog.text
    old, new = _members(path), _members(tmp_path / "out.zip")
    assert _names(tmp_path / "out.zip") == _names(path)
    base = "Assistant/BotLocales/en_US/Intents/"
    changed = {base + "weather/Intent.json", base + "music/Intent.json"}
    assert all(new[n] == old[n] for n in old if n not in changed)
    weather = json.loads(new[base + "weather/Intent.json"])
    music = json.loads(new[base + "music/Intent.json"])
    assert weather["sampleUtterances"][-1] == {"utterance": planted}
    assert {"utterance": "what is the weather in {City}"} == music["sampleUtterances"][-1]
    assert len(weather["sampleUtterances"]) == 20 and len(music["sampleUtterances"]) == 21
    old_weather = json.loads(old[base + "weather/Intent.json"])
    assert {k: v for k, v in weather.items() if k != "sampleUtterances"} == {
        k: v for k, v in old_weather.items() if k != "sampleUtterances"}
    assert list(weather) == list(old_weather)


def test_lex_locales_and_refusals(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs, locales=("en_US", "de_DE"))
    with pytest.raises(InvalidInputError, match="several locales.*--language"):
        read_table(path)
    frame = read_table(path, language="de-de")
    assert set(frame["locale"]) == {"de_DE"}
    write_table(_relabel(frame, 0, "music"), tmp_path / "out.zip")
    new, old = _members(tmp_path / "out.zip"), _members(path)
    assert [n for n in old if new[n] != old[n]] == [
        "Assistant/BotLocales/de_DE/Intents/weather/Intent.json",
        "Assistant/BotLocales/de_DE/Intents/music/Intent.json"]
    with pytest.raises(InvalidInputError, match="no intent Greeting"):
        write_table(_relabel(frame, 0, "Greeting"), tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
    v1 = tmp_path / "v1.zip"
    with zipfile.ZipFile(v1, "w") as z:
        z.writestr("Bot_Export.json", json.dumps({
            "metadata": {"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"},
            "resource": {"name": "Bot", "intents": []}}))
    assert detect_format(v1) == "lex"
    with pytest.raises(InvalidInputError, match="Lex V1 export"):
        read_table(v1)
    assert detect_format(path) == "lex"
    assert detect_format(tmp_path / "out.zip") == "lex"


def test_lex_clean_and_apply(tmp_path: Path) -> None:
    pairs, planted = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs)
    result = _clean(path, tmp_path)
    assert result.exit_code == 0, result.output
    out = tmp_path / "bot.cleaned.zip"
    base = "Assistant/BotLocales/en_US/Intents/"
    weather = json.loads(_members(out)[base + "weather/Intent.json"])
    assert {"utterance": planted} in weather["sampleUtterances"]
    result = _apply(tmp_path, _decide(tmp_path, 1, pairs[1][1], "music"))
    assert result.exit_code == 0, result.output
    music = json.loads(_members(out)[base + "music/Intent.json"])
    assert music["sampleUtterances"][-1] == {"utterance": pairs[1][0]}


# --------------------------------------------------------------------------- Rasa


RETRIEVAL = """version: "3.1"
nlu:
- intent: faq/ask_price
  examples: |
    - how much does it cost
    - what is the price
    - when do you open
- intent: faq/ask_hours
  examples: |
    - what are your opening hours
"""


def test_rasa_retrieval_intents_are_full_labels(tmp_path: Path) -> None:
    path = tmp_path / "faq.yml"
    path.write_text(RETRIEVAL, encoding="utf-8")
    frame = read_table(path)
    assert frame["intent"].tolist() == ["faq/ask_price"] * 3 + ["faq/ask_hours"]
    write_table(frame, tmp_path / "same.yml")
    assert (tmp_path / "same.yml").read_bytes() == path.read_bytes()
    frame = _relabel(frame, 2, "faq/ask_hours")
    frame.loc[1, "pico_label"] = "faq/ask_payment"
    write_table(frame, tmp_path / "out.yml")
    nlu = yaml.safe_load((tmp_path / "out.yml").read_text(encoding="utf-8"))["nlu"]
    assert {i["intent"]: i["examples"] for i in nlu} == {
        "faq/ask_price": "- how much does it cost\n",
        "faq/ask_hours": "- what are your opening hours\n- when do you open\n",
        "faq/ask_payment": "- what is the price\n",
    }


def _rasa_folder(tmp_path: Path) -> Path:
    pairs, _ = _weather_music()
    folder = tmp_path / "data"
    (folder / "nlu").mkdir(parents=True)
    weather = "".join(f"    - {t}\n" for t, i in pairs if i == "weather")
    music = "".join(f"    - {t}\n" for t, i in pairs if i == "music")
    (folder / "nlu" / "weather.yml").write_text(
        f'version: "3.1"\nnlu:\n# weather questions\n- intent: weather\n  examples: |\n{weather}'
        "- synonym: tomorrow\n  examples: |\n    - tmrw\n", encoding="utf-8")
    (folder / "nlu" / "music.yml").write_text(
        f"nlu:\n- intent: music\n  examples: |\n{music}", encoding="utf-8")
    (folder / "stories.yml").write_text(
        "stories:\n- story: ask\n  steps:\n  - intent: weather\n", encoding="utf-8")
    (folder / "README.txt").write_text("training data\n", encoding="utf-8")
    return folder


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_rasa_folder_round_trip_and_moves_within_each_file(tmp_path: Path) -> None:
    folder = _rasa_folder(tmp_path)
    assert detect_format(folder) == "rasa"
    frame = read_table(folder)
    assert sorted(set(frame["file"])) == ["nlu/music.yml", "nlu/weather.yml"]
    assert len(frame) == 40
    write_table(frame, tmp_path / "same")
    assert _folder_files(tmp_path / "same") == _folder_files(folder)
    music_row = frame.index[frame["file"] == "nlu/music.yml"][0]
    weather_row = frame.index[frame["file"] == "nlu/weather.yml"][1]
    frame = _relabel(frame, music_row, "weather")  # music.yml has no weather block
    frame.loc[weather_row, "pico_label"] = "music"
    write_table(frame, tmp_path / "out")
    out, old = _folder_files(tmp_path / "out"), _folder_files(folder)
    assert set(out) == set(old)
    assert out["stories.yml"] == old["stories.yml"] and out["README.txt"] == old["README.txt"]
    music = yaml.safe_load(out["nlu/music.yml"])["nlu"]
    weather = yaml.safe_load(out["nlu/weather.yml"])["nlu"]
    first_music = frame.loc[music_row, "text"]
    second_weather = frame.loc[weather_row, "text"]
    assert music[-1] == {"intent": "weather", "examples": f"- {first_music}\n"}
    assert f"- {first_music}" not in music[0]["examples"]
    assert weather[-1]["synonym"] == "tomorrow"  # the new block goes before other items
    assert weather[1] == {"intent": "music", "examples": f"- {second_weather}\n"}
    assert b"# weather questions" in out["nlu/weather.yml"]


def test_rasa_folder_clean_apply_and_refusals(tmp_path: Path) -> None:
    folder = _rasa_folder(tmp_path)
    before = _folder_files(folder)
    result = _clean(folder, tmp_path, "-o", str(folder / "inside"))
    assert result.exit_code == 2 and "inside the input folder" in result.output
    result = CliRunner().invoke(cli, ["clean", str(folder), "--run-dir", str(folder / "run"),
                                      "-q", "--branches", "2", "--jobs", "1"])
    assert result.exit_code == 2 and "inside the input folder" in result.output
    assert _folder_files(folder) == before
    result = _clean(folder, tmp_path)
    assert result.exit_code == 0, result.output
    out = tmp_path / "data.cleaned"
    _, planted = _weather_music()
    music = yaml.safe_load((out / "nlu" / "music.yml").read_text(encoding="utf-8"))["nlu"]
    assert {"intent": "weather", "examples": f"- {planted}\n"} in music
    first = read_table(folder).loc[0]  # row 0: the first example of nlu/music.yml
    assert (first["file"], first["intent"]) == ("nlu/music.yml", "music")
    result = _apply(tmp_path, _decide(tmp_path, 0, "music", "weather"))
    assert result.exit_code == 0, result.output
    music = yaml.safe_load((out / "nlu" / "music.yml").read_text(encoding="utf-8"))["nlu"]
    assert {"intent": "weather", "examples": f"- {first['example']}\n- {planted}\n"} in music
    assert f"- {first['example']}" not in music[0]["examples"]
    assert _folder_files(folder) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_rasa_file_keeps_its_line_endings_and_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "faq.yml"
    path.write_bytes(b"\xef\xbb\xbf" + RETRIEVAL.replace("\n", "\r\n").encode())
    frame = read_table(path)
    write_table(frame, tmp_path / "same.yml")
    assert (tmp_path / "same.yml").read_bytes() == path.read_bytes()
    write_table(_relabel(frame, 0, "faq/ask_hours"), tmp_path / "out.yml")
    out = (tmp_path / "out.yml").read_bytes()
    assert out.startswith(b"\xef\xbb\xbf") and b"\n" not in out.replace(b"\r\n", b"")
    assert out.count(b"- how much does it cost") == 1
    nlu = yaml.safe_load(out.decode("utf-8-sig"))["nlu"]
    assert nlu[1]["examples"].splitlines()[-1] == "- how much does it cost"


def test_rasa_detected_by_content_and_folder_output_guarded(tmp_path: Path) -> None:
    path = tmp_path / "training-data"
    path.write_text(RETRIEVAL, encoding="utf-8")
    assert detect_format(path) == "rasa"
    folder = _rasa_folder(tmp_path)
    frame = read_table(folder)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="holds files that are not part of this data"):
        write_table(frame, taken)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    with pytest.raises(InvalidInputError, match="inside the input folder"):
        write_table(frame, folder / "nlu" / "cleaned")
    write_table(frame, tmp_path / "again")
    write_table(_relabel(frame, 0, "weather"), tmp_path / "again")  # replaces its own output
    music = yaml.safe_load((tmp_path / "again" / "nlu" / "music.yml").read_text("utf-8"))["nlu"]
    assert music[-1]["intent"] == "weather"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_documents_write_tables_too(tmp_path: Path) -> None:
    pairs, _ = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs)
    result = _clean(path, tmp_path, "-o", str(tmp_path / "bot.cleaned.csv"))
    assert result.exit_code == 0, result.output
    table = read_table(tmp_path / "bot.cleaned.csv")
    assert list(table.columns) == ["text", "intent", "locale", "file", "pico_label",
                                   "pico_confidence", "pico_status"]
    assert len(table) == 40
    frame = read_table(path)
    frame.attrs.clear()
    with pytest.raises(InvalidInputError, match="Amazon Lex V2 bot file can only be written"):
        write_table(frame, tmp_path / "x.zip", format="lex")


def test_lex_language_is_kept_for_apply(tmp_path: Path) -> None:
    pairs, planted = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs, locales=("en_US", "de_DE"))
    result = _clean(path, tmp_path, "--language", "de_DE")
    assert result.exit_code == 0, result.output
    out = tmp_path / "bot.cleaned.zip"
    assert read_table(out, language="de_DE")["file"].str.contains("/de_DE/").all()
    result = _apply(tmp_path, _decide(tmp_path, 1, pairs[1][1], "music"))
    assert result.exit_code == 0, result.output
    new, old = _members(out), _members(path)
    base = "Assistant/BotLocales/de_DE/Intents/"
    assert json.loads(new[base + "music/Intent.json"])["sampleUtterances"][-1] == {
        "utterance": pairs[1][0]}
    assert {"utterance": planted} in json.loads(new[base + "weather/Intent.json"])[
        "sampleUtterances"]
    english = [n for n in old if "/en_US/" in n]
    assert all(new[n] == old[n] for n in english)


def test_folder_replacement_without_an_atomic_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pico.data import files

    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    folder = _rasa_folder(tmp_path)
    frame = read_table(folder)
    write_table(frame, tmp_path / "out")
    write_table(_relabel(frame, 0, "weather"), tmp_path / "out")
    music = yaml.safe_load((tmp_path / "out" / "nlu" / "music.yml").read_text("utf-8"))["nlu"]
    assert music[-1]["intent"] == "weather"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]


def _zip_of(members: dict[str, str]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "payload"), [
    ("a.json", b""),
    ("a.json", b"{"),
    ("a.json", b'{"metadata": {"projectKind": "Conversation"}, "assets": []}'),
    ("a.json", b"\xff\xfe\x00garbage"),
    ("a.zip", b"PK\x03\x04 not really a zip"),
    ("a.zip", _zip_of({"agent.json": "{", "intents/x_usersays_en.json": "[]"})),
    ("a.zip", _zip_of({"agent.json": "{}", "intents/x_usersays_en.json": '[{"data": 3}]'})),
    ("a.zip", _zip_of({"B/BotLocales/en_US/Intents/x/Intent.json": '{"sampleUtterances": [1]}'})),
    ("a.zip", _zip_of({"B/BotLocales/en_US/Intents/x/Intent.json": "[]"})),
    ("export", bytes(range(256)) * 4),
])
def test_damaged_exports_are_refused_in_one_line(tmp_path: Path, name: str,
                                                 payload: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    result = _clean(path, tmp_path)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written
    assert path.read_bytes() == payload


def test_report_reads_the_language_the_run_checked(tmp_path: Path) -> None:
    pairs, planted = _weather_music()
    path = _lex(tmp_path / "bot.zip", pairs, locales=("en_US", "de_DE"),
                suffix={"de_DE": " bitte"})
    result = _clean(path, tmp_path, "--language", "de_DE")
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert f"{planted} bitte" in html


@pytest.mark.parametrize(("text", "keep", "expected"), [
    ('{"a": [1]}', [0], '{"a": [1,9]}'),
    ('{"a": [1]}', [], '{"a": [9]}'),
    ('{"a": []}', [], '{"a": [9]}'),
    ('{\n  "a": []\n}', [], '{\n  "a": [\n    9\n  ]\n}'),
    ('{\n  "a": [\n    1\n  ]\n}', [0], '{\n  "a": [\n    1,\n    9\n  ]\n}'),
    ('{\n  "a": [\n    1,\n    2\n  ]\n}', [1], '{\n  "a": [\n    2,\n    9\n  ]\n}'),
])
def test_json_array_edits_keep_the_layout(text: str, keep: list[int], expected: str) -> None:
    from pico.data.jsontext import apply_edits, array_edit, parse_json

    array = parse_json(text, "x").get("a")
    assert array is not None
    assert apply_edits(text, [array_edit(text, array, keep, [("9", "")])]) == expected
    assert apply_edits(text, [array_edit(text, array, list(range(len(array.value))), [])]) == text
