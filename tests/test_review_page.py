"""pico review: the local review page, driven by a real headless Chromium.

Chromium is steered over its DevTools protocol (a websocket): real mouse clicks on the
buttons and real key presses, then a reload. The test skips when Chromium or the
websocket client is missing (`.ci/run` installs Chromium with apt when it can).
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pico.cli import cli
from pico.review_server import ReviewServer, serve


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _data(path: Path) -> Path:
    """Three intents, a few flipped labels and rows mixing two intents' words."""
    rng = np.random.default_rng(0)
    words = {"music": ["song", "jazz", "album", "playlist", "guitar"],
             "weather": ["rain", "sunny", "forecast", "cold", "wind"],
             "timer": ["timer", "alarm", "minutes", "countdown", "clock"]}
    rows = [{"text": " ".join(rng.choice(w, 3)) + f" {i}", "label": lab}
            for i in range(25) for lab, w in words.items()]
    for i in range(0, 75, 9):
        rows[i]["label"] = "timer" if rows[i]["label"] != "timer" else "music"
    names = list(words)
    for i in range(8):
        a, b = names[i % 3], names[(i + 1) % 3]
        rows.append({"text": f"{rng.choice(words[a])} {rng.choice(words[b])} "
                             f"{rng.choice(words[b])} x{i}", "label": a})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    data = _data(tmp_path / "d.csv")
    res = CliRunner().invoke(cli, [
        "clean", str(data), "--text-column", "text", "-o", str(tmp_path / "o.csv"),
        "--run-dir", str(tmp_path / "run"), "--iterations", "1", "--branches", "2",
        "--folds", "3", "--jobs", "1", "-q",
    ])
    assert res.exit_code == 0, res.output
    review = pd.read_csv(tmp_path / "run" / "review.csv", dtype=str, keep_default_na=False)
    assert len(review) >= 4, review  # the page needs rows to decide
    return tmp_path / "run"


@pytest.fixture()
def server(run: Path) -> Iterator[ReviewServer]:
    app = serve(run)
    try:
        yield app
    finally:
        app.close()


def _request(app: ReviewServer, method: str, path: str, *, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", app.port_, timeout=30)
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers or {})
    res = conn.getresponse()
    out = res.status, res.read()
    conn.close()
    return out


def test_the_page_refuses_other_hosts_origins_and_posts_without_its_token(
    server: ReviewServer, run: Path
) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    status, page = _request(server, "GET", "/")
    assert status == 200 and b"<article" in page
    assert b"http://" not in page.replace(server.url.encode(), b"")  # nothing from outside
    token = server.token_
    assert token.encode() in page
    status, _ = _request(server, "GET", "/", headers={"Host": f"evil.example:{server.port_}"})
    assert status == 403  # DNS rebinding: a page on another name cannot read it
    row = int(pd.read_csv(run / "review.csv")["row"][0])
    good = {"Content-Type": "application/json", "X-Pico-Token": token}
    body = {"row": row, "decision": "accept"}
    for headers in ({"Content-Type": "application/json"},
                    {**good, "X-Pico-Token": "guess"},
                    {**good, "Origin": "http://evil.example"},
                    {**good, "Host": "evil.example"}):
        status, _ = _request(server, "POST", "/api/decision", body=body, headers=headers)
        assert status == 403, headers
    assert not (run / "decisions.csv").exists()  # nothing was written
    status, answer = _request(server, "POST", "/api/decision",
                              body={"row": row, "decision": "musik"}, headers=good)
    assert status == 422 and json.loads(answer)["closest"] == ["music"]
    assert not (run / "decisions.csv").exists()
    status, answer = _request(server, "POST", "/api/decision", body=body, headers=good)
    assert status == 200 and json.loads(answer)["row"] == row
    assert (run / "decisions.csv").exists()


# ---------------------------------------------------------------------------- Chromium


class _DevTools:
    """A minimal Chrome DevTools protocol client over one page's websocket."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.errors: list[str] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(msg["params"]["exceptionDetails"])[:500])
            elif msg.get("method") == "Runtime.consoleAPICalled" \
                    and msg["params"].get("type") == "error":
                self.errors.append(json.dumps(msg["params"]["args"])[:500])
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})  # type: ignore[no-any-return]

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 20.0) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && !!document.querySelector('main')")

    def reload(self) -> None:
        self.eval("window.__before_reload = true")
        self.send("Page.reload", ignoreCache=True)
        self.wait("!window.__before_reload && document.readyState === 'complete' "
                  "&& !!document.querySelector('main')")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = self.eval(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            "el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
            "return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)

    def key(self, key: str) -> None:
        """A real key press (keyDown with its text, then keyUp)."""
        if key == "Enter":
            down = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}
        elif key == "Backspace":
            down = {"key": "Backspace", "code": "Backspace", "windowsVirtualKeyCode": 8}
        else:
            code = f"Key{key.upper()}" if key.isalpha() else ""
            down = {"key": key, "code": code, "text": key,
                    "windowsVirtualKeyCode": ord(key.upper())}
        self.send("Input.dispatchKeyEvent", type="keyDown", **down)
        self.send("Input.dispatchKeyEvent", type="keyUp",
                  **{k: v for k, v in down.items() if k != "text"})

    def type(self, text: str) -> None:
        for ch in text:
            self.key(ch)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[_DevTools]:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("needs Chromium (apt install chromium)")
    pytest.importorskip("websocket", reason="needs websocket-client (the test extra)")
    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail("Chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/json/list")
        targets = json.loads(conn.getresponse().read())
        conn.close()
        page = next(t for t in targets if t.get("type") == "page")
        tools = _DevTools(page["webSocketDebuggerUrl"])
        tools.send("Runtime.enable")
        tools.send("Page.enable")
        yield tools
        tools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _cards(tools: _DevTools) -> list[dict[str, Any]]:
    return tools.eval(  # type: ignore[no-any-return]
        "Array.from(document.querySelectorAll('article.item')).map(a => ({"
        "row: Number(a.dataset.row), given: a.querySelector('.given').textContent,"
        "suggested: a.querySelector('.suggested').textContent,"
        "decided: a.classList.contains('decided'), current: a.classList.contains('current'),"
        "state: a.querySelector('.state').textContent, now: a.querySelector('.now').textContent,"
        "error: a.querySelector('.error').textContent}))"
    )


def test_review_page_in_chromium_accept_reject_relabel_and_reload(
    browser: _DevTools, server: ReviewServer, run: Path
) -> None:
    output = Path(json.loads((run / "run.json").read_text())["output"])
    browser.open(server.url)
    cards = _cards(browser)
    assert len(cards) >= 4 and not any(c["decided"] for c in cards)
    assert cards[0]["current"]
    intents = browser.eval(
        "Array.from(document.querySelectorAll('#intents option')).map(o => o.value)")
    assert sorted(intents) == ["music", "timer", "weather"]  # the autocompletion

    # 1. accept with a real click on the first card's button
    browser.click(f"#row-{cards[0]['row']} button.accept")
    browser.wait(f"document.querySelector('#row-{cards[0]['row']}').classList"
                 ".contains('decided')")
    # 2. reject with a click on the second card's button
    browser.click(f"#row-{cards[1]['row']} button.reject")
    browser.wait(f"document.querySelector('#row-{cards[1]['row']}').classList"
                 ".contains('decided')")
    # 3. another intent by typing on the third card (now the current one): a typo is
    # refused with the closest name, then the right name is saved with Enter
    assert _cards(browser)[2]["current"]
    third = cards[2]
    other = next(i for i in intents if i not in (third["given"], third["suggested"]))
    typo = other[:-1] + "x"
    browser.type(typo)
    browser.key("Enter")
    error = browser.wait(f"document.querySelector('#row-{third['row']} .error').textContent")
    assert "does not have" in error and other in error
    assert not _cards(browser)[2]["decided"]
    browser.key("Backspace")
    browser.type(other[-1])
    browser.key("Enter")
    browser.wait(f"document.querySelector('#row-{third['row']}').classList.contains('decided')")
    # 4. the keyboard: k goes back, j forward, a accepts the fourth card
    assert _cards(browser)[3]["current"]
    browser.key("k")
    assert _cards(browser)[2]["current"]
    browser.key("j")
    browser.key("a")
    browser.wait(f"document.querySelector('#row-{cards[3]['row']}').classList"
                 ".contains('decided')")

    expected = {cards[0]["row"]: cards[0]["suggested"], cards[1]["row"]: cards[1]["given"],
                third["row"]: other, cards[3]["row"]: cards[3]["suggested"]}
    browser.reload()
    after = {c["row"]: c for c in _cards(browser)}
    for row, label in expected.items():
        assert after[row]["decided"] and after[row]["now"] == label, after[row]
    assert after[cards[0]["row"]]["state"] == f"accepted: {cards[0]['suggested']}"
    assert after[cards[1]["row"]]["state"] == f"rejected: kept {cards[1]['given']}"
    assert after[third["row"]]["state"] == f"relabeled: {other}"
    assert not browser.errors, browser.errors

    review = pd.read_csv(run / "review.csv", dtype=str, keep_default_na=False)
    decisions = dict(zip(review["row"].astype(int), review["decision"]))
    assert decisions[cards[0]["row"]] == "accept" and decisions[cards[1]["row"]] == "reject"
    assert decisions[third["row"]] == other
    cleaned = pd.read_csv(output, dtype=str, keep_default_na=False)
    for row, label in expected.items():
        assert cleaned["pico_label"][row] == label
        assert cleaned["pico_status"][row] == "reviewed"
    log = pd.read_csv(run / "decisions.csv", dtype=str, keep_default_na=False)
    assert sorted(log["row"].astype(int)) == sorted(expected)  # each decision logged once


def test_pico_review_serves_the_page_until_stopped(run: Path) -> None:
    import re
    import signal
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "pico", "review", str(run), "--no-browser"],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        conn = http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=30)
        conn.request("GET", "/")
        res = conn.getresponse()
        assert res.status == 200 and b"article" in res.read()
        assert "script-src 'nonce-" in res.getheader("Content-Security-Policy", "")
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert code == 0
