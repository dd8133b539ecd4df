"""``pico review RUN_DIR``: a local page to decide the uncertain rows of a run.

The page lists the rows left to review, then the changes from the least confident up.
Each shows its text, the given and the suggested intent, the confidence, why pico
proposed the change, and the two or three most similar examples of both intents
(cosine similarity of character n-gram TF-IDF over the run's texts, computed when the
page is served). Keys: ``a`` accept, ``r`` reject, ``e`` (or start typing) another
intent with the existing ones completed, ``Enter`` save it, ``j``/``k`` next/previous.

Every decision is POSTed and saved at once by :func:`pico.decisions.save_decision`, the
code of ``pico apply``: review.csv's decision column, decisions.csv, the cleaned
output and report.html. A reload shows the decisions kept.

The server is the standard library's, in a thread, bound to 127.0.0.1 only; it answers
only requests whose ``Host`` is that address (or ``localhost``) and port, and a POST
only with the random token embedded in the page, so other pages open in the browser
can neither read it nor write decisions. The page loads nothing from the network.
"""

from __future__ import annotations

import html
import json
import logging
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .decisions import save_decision
from .exceptions import InvalidInputError, PicoError, UnknownIntentError
from .review import explain, from_spreadsheet, review_order
from .run import RunData, read_run

__all__ = ["ReviewServer", "serve"]

_log = logging.getLogger("pico")

#: Similar examples shown per intent.
N_SIMILAR = 3
#: Largest POST body read (a decision is a few bytes).
_MAX_BODY = 64 * 1024


class _Similar:
    """Cosine similarity of character n-gram TF-IDF vectors over the run's texts."""

    def __init__(self, texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                     lowercase=True, dtype=np.float32)
        self.matrix = vectorizer.fit_transform(texts)

    def scores(self, row: int) -> np.ndarray:
        """Similarity of every row to ``row`` (rows are L2-normalised: dot = cosine)."""
        return np.asarray((self.matrix @ self.matrix[row].T).todense()).ravel()


def _shown(decision: str, given: str, suggested: str) -> str:
    lowered = decision.lower()
    if lowered == "accept":
        return f"accepted: {suggested}"
    if lowered == "reject":
        return f"rejected: kept {given}"
    return f"relabeled: {decision}"


class ReviewServer:
    """The review page of one run, served on 127.0.0.1 (see the module).

    Parameters
    ----------
    run_dir : path
        A finished run directory.
    port : int, default=0
        Port to listen on; 0 takes a free one.
    allow_new_intents : bool, default=False
        Let a decision create an intent the data does not have.
    """

    def __init__(self, run_dir: str | os.PathLike[str], *, port: int = 0,
                 allow_new_intents: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.port = port
        self.allow_new_intents = allow_new_intents

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ReviewServer:
        """Check the run, then listen on 127.0.0.1 in a background thread.

        Raises
        ------
        InvalidInputError
            If the run cannot take decisions (not finished, input changed, output
            replaced) or the port is taken.
        """
        data = read_run(self.run_dir)
        data.run.verify_input(data.record, doing="review decisions")
        data.run.verify_output(data.record, doing="review decisions")
        if not (data.run / "review.csv").exists():
            raise InvalidInputError(f"{data.run.path} has no review.csv; run pico clean again")
        self.run_path_ = data.run.path
        self.token_ = secrets.token_urlsafe(32)
        self.texts_ = data.texts
        self.lines_ = data.lines
        self.similar_ = _Similar(data.texts) if data.texts else None
        self.lock_ = threading.Lock()
        try:
            self.httpd_ = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        except OSError as e:
            raise InvalidInputError(
                f"cannot listen on 127.0.0.1:{self.port}: {e.strerror}. Pass another --port "
                "(or none for a free one)"
            ) from e
        self.httpd_.daemon_threads = True
        self.port_ = int(self.httpd_.server_address[1])
        self.thread_ = threading.Thread(target=self.httpd_.serve_forever,
                                        name="pico-review", daemon=True)
        self.thread_.start()
        return self

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://127.0.0.1:{self.port_}/"

    def wait(self) -> None:
        """Block until the server stops (Ctrl+C in the CLI)."""
        while self.thread_.is_alive():
            self.thread_.join(0.5)

    def close(self) -> None:
        """Stop serving and release the port."""
        self.httpd_.shutdown()
        self.httpd_.server_close()
        self.thread_.join(5)

    # ------------------------------------------------------------------ content

    def items(self) -> tuple[list[dict[str, Any]], list[str], RunData]:
        """The rows to show, in order, read fresh from the run's files; and the intents."""
        from .data.io import read_table

        data = read_run(self.run_path_, texts=False)
        data.texts, data.lines = self.texts_, self.lines_
        review = read_table(data.run / "review.csv", format="csv")
        history = data.history
        for column in ("confidence", "suggested_confidence", "given_confidence",
                       "runner_up_confidence"):
            if column in history.columns:
                history[column] = pd.to_numeric(history[column], errors="coerce")
        final = history["final"].astype(str).to_numpy()
        settled = history["status"].astype(str).to_numpy() != "review"
        iterations = [c for c in history.columns if str(c).startswith("iteration_")]
        review = review.iloc[review_order(review["status"].to_numpy(dtype=object),
                                          review["confidence"].tolist())]
        out = []
        for rec in review.to_dict("records"):
            rec = {k: from_spreadsheet(v) for k, v in rec.items()}
            row = int(rec["row"])
            h = history.iloc[row]
            given, suggested = str(rec["given"]), str(rec["suggested"])
            decision = str(rec.get("decision") or "").strip()

            def num(name: str, h: Any = h) -> float | None:
                return float(h[name]) if name in h.index else None

            why = explain(
                given=given, label=str(rec["pico_label"]), suggested=suggested,
                status=str(rec["status"]), confidence=float(rec["confidence"]),
                suggested_confidence=num("suggested_confidence"),
                given_confidence=num("given_confidence"),
                path=[str(h[c]) for c in ["given", *iterations]] if iterations else None,
                runner_up=str(h["runner_up"]) if "runner_up" in h.index else None,
                runner_up_confidence=num("runner_up_confidence"),
            )
            similar: dict[str, list[tuple[str, float]]] = {}
            if self.similar_ is not None and self.texts_ is not None:
                scores = self.similar_.scores(row)
                for intent in dict.fromkeys([given, suggested]):
                    members = np.flatnonzero((final == intent) & settled)
                    members = members[members != row]
                    best = members[np.argsort(-scores[members], kind="stable")[:N_SIMILAR]]
                    similar[intent] = [(self.texts_[i], float(scores[i])) for i in best]
            out.append({
                "row": row,
                "where": f"line {self.lines_[row]}" if self.lines_ else f"row {row}",
                "text": str(rec["text"]), "given": given, "suggested": suggested,
                "status": str(rec["status"]), "confidence": float(rec["confidence"]),
                "pico_label": str(rec["pico_label"]),
                "label": final[row], "decision": decision, "why": why, "similar": similar,
                "reviewed": str(h["status"]) == "reviewed",
            })
        return out, data.intents, data

    def page(self, nonce: str = "") -> str:
        """The review page, with the decisions recorded so far.

        ``nonce`` marks its inline style and script (the Content-Security-Policy allows
        those only).
        """
        items, intents, data = self.items()
        return _page(items, intents, run=str(data.run.path), token=self.token_,
                     nonce=nonce or secrets.token_urlsafe(16))

    def decide(self, row: int, decision: str) -> dict[str, Any]:
        """Save one decision (:func:`pico.decisions.save_decision`); what the page shows."""
        from .data.io import read_table

        with self.lock_:
            done = save_decision(self.run_path_, row, decision,
                                 allow_new_intents=self.allow_new_intents)
            history = read_table(self.run_path_ / "history.csv", format="csv")
            review = read_table(self.run_path_ / "review.csv", format="csv")
        rec = review[review["row"].astype(str) == str(row)].iloc[0].map(from_spreadsheet)
        decision = str(decision).strip()
        return {
            "row": row, "decision": decision, "label": str(history["final"].iloc[row]),
            "shown": _shown(decision, str(rec["given"]), str(rec["suggested"])),
            "output": str(done.output),
        }

    def csp(self, nonce: str) -> str:
        return (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                "connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'")


def serve(run_dir: str | os.PathLike[str], *, port: int = 0,
          allow_new_intents: bool = False) -> ReviewServer:
    """Start the review page of a run; returns the running :class:`ReviewServer`."""
    return ReviewServer(run_dir, port=port, allow_new_intents=allow_new_intents).start()


# ---------------------------------------------------------------------------- HTTP


def _handler(app: ReviewServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "pico-review"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            _log.debug("review page: " + format, *args)

        def _host_ok(self) -> bool:
            host = (self.headers.get("Host") or "").strip().lower()
            return host in (f"127.0.0.1:{app.port_}", f"localhost:{app.port_}")

        def _send(self, code: int, body: bytes, kind: str, nonce: str | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Content-Security-Policy",
                             app.csp(nonce) if nonce else "default-src 'none'")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, obj: dict[str, Any]) -> None:
            self._send(code, json.dumps(obj).encode("utf-8"), "application/json")

        def do_GET(self) -> None:
            if not self._host_ok():
                self._send(403, b"wrong Host", "text/plain; charset=utf-8")
                return
            if urlsplit(self.path).path != "/":
                self._send(404, b"not found", "text/plain; charset=utf-8")
                return
            nonce = secrets.token_urlsafe(16)
            try:
                page = app.page(nonce)
            except PicoError as e:
                self._send(500, str(e).encode("utf-8"), "text/plain; charset=utf-8")
                return
            self._send(200, page.encode("utf-8"), "text/html; charset=utf-8", nonce)

        def do_POST(self) -> None:
            if not self._host_ok():
                self._json(403, {"error": "wrong Host"})
                return
            origin = self.headers.get("Origin")
            if origin is not None and origin.lower() not in (
                f"http://127.0.0.1:{app.port_}", f"http://localhost:{app.port_}"
            ):
                self._json(403, {"error": "cross-origin request refused"})
                return
            token = self.headers.get("X-Pico-Token") or ""
            if not secrets.compare_digest(token.encode(), app.token_.encode()):
                self._json(403, {"error": "missing or wrong token: reload the page"})
                return
            if urlsplit(self.path).path != "/api/decision":
                self._json(404, {"error": "not found"})
                return
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self._json(415, {"error": "send JSON"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 < length <= _MAX_BODY:
                self._json(413, {"error": "body missing or too large"})
                return
            try:
                body = json.loads(self.rfile.read(length))
                row, decision = int(body["row"]), str(body["decision"])
            except (ValueError, KeyError, TypeError):
                self._json(400, {"error": 'send {"row": N, "decision": "..."}'})
                return
            try:
                self._json(200, app.decide(row, decision))
            except UnknownIntentError as e:
                self._json(422, {"error": str(e),
                                 "closest": next(iter(e.unknown.values()), [])})
            except PicoError as e:
                self._json(409, {"error": str(e)})
            except OSError as e:
                self._json(500, {"error": f"not saved: {e}"})

    return Handler


# ---------------------------------------------------------------------------- page

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#222;
background:#f4f5f7}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:10px 24px;
z-index:1}
h1{font-size:18px;margin:0 0 4px}.keys{color:#555;font-size:13px;margin:0}
kbd{border:1px solid #bbb;border-radius:3px;padding:0 4px;background:#fafafa;font-size:12px}
main{max-width:980px;margin:16px auto;padding:0 16px}
article{background:#fff;border:2px solid #e2e4e8;border-radius:8px;margin:0 0 12px;
padding:12px 16px}
article.current{border-color:#2f6fdb;box-shadow:0 0 0 3px #d6e4fb}
article.decided{background:#f3faf4}article.saving{opacity:.6}
.meta{font-size:12px;color:#666;display:flex;gap:12px;flex-wrap:wrap}
.badge{border-radius:3px;padding:0 6px;font-weight:600}.review{background:#fdebd0}
.relabeled{background:#f9d6d2}.state{font-weight:600;color:#888}
.decided .state{color:#1e7d32}
.text{font-size:17px;margin:6px 0}.labels b{font-family:ui-monospace,monospace}
.why{color:#555;font-size:13px;margin:4px 0}
.similar{display:grid;grid-template-columns:1fr 1fr;gap:12px;font-size:13px}
.similar h3{font-size:13px;margin:6px 0 2px;font-family:ui-monospace,monospace}
.similar ul{margin:0;padding-left:18px}.sim{color:#888}
.actions{margin-top:8px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
button{font:inherit;padding:3px 10px;border-radius:4px;border:1px solid #aaa;background:#fff;
cursor:pointer}button.accept{border-color:#2e7d32}button.reject{border-color:#c0392b}
input.other{font:inherit;padding:3px 6px;width:260px}
.error{color:#b00020;font-size:13px}
"""

_JS = r"""
(() => {
  const token = document.querySelector('meta[name="pico-token"]').content;
  const items = Array.from(document.querySelectorAll('article.item'));
  const progress = () => {
    const n = items.filter(it => it.classList.contains('decided')).length;
    document.getElementById('progress').textContent = n + ' of ' + items.length + ' decided';
  };
  let cur = Math.max(0, items.findIndex(it => !it.classList.contains('decided')));
  const select = (i, scroll = true) => {
    if (!items.length) return;
    cur = Math.min(Math.max(i, 0), items.length - 1);
    items.forEach((it, j) => it.classList.toggle('current', j === cur));
    if (scroll) items[cur].scrollIntoView({block: 'center'});
  };
  const decide = async (it, decision) => {
    const err = it.querySelector('.error');
    err.textContent = '';
    it.classList.add('saving');
    let res, body;
    try {
      res = await fetch('/api/decision', {method: 'POST', headers: {
        'Content-Type': 'application/json', 'X-Pico-Token': token},
        body: JSON.stringify({row: Number(it.dataset.row), decision: decision})});
      body = await res.json();
    } catch (e) {
      err.textContent = 'not saved: ' + e;
      return false;
    } finally {
      it.classList.remove('saving');
    }
    if (!res.ok) {
      err.textContent = body.error || ('not saved: HTTP ' + res.status);
      return false;
    }
    it.dataset.decision = body.decision;
    it.classList.add('decided');
    it.querySelector('.now').textContent = body.label;
    it.querySelector('.state').textContent = body.shown;
    progress();
    return true;
  };
  const other = it => it.querySelector('input.other');
  const saveOther = async it => {
    const value = other(it).value.trim();
    if (!value) return;
    if (await decide(it, value)) { other(it).value = ''; other(it).blur(); select(cur + 1); }
  };
  items.forEach((it, i) => {
    it.addEventListener('mousedown', () => select(i, false));
    it.querySelector('button.accept').addEventListener('click', async () => {
      select(i, false); if (await decide(it, 'accept')) select(i + 1); });
    it.querySelector('button.reject').addEventListener('click', async () => {
      select(i, false); if (await decide(it, 'reject')) select(i + 1); });
    it.querySelector('button.save').addEventListener('click', () => {
      select(i, false); saveOther(it); });
  });
  document.addEventListener('keydown', async e => {
    if (e.ctrlKey || e.metaKey || e.altKey || !items.length) return;
    const t = e.target;
    if (t instanceof HTMLInputElement) {
      if (e.key === 'Enter') {
        e.preventDefault();
        const owner = t.closest('article.item');
        select(items.indexOf(owner), false);
        await saveOther(owner);
      } else if (e.key === 'Escape') { t.blur(); }
      return;
    }
    const it = items[cur];
    if (e.key === 'j' || e.key === 'ArrowDown') { e.preventDefault(); select(cur + 1); }
    else if (e.key === 'k' || e.key === 'ArrowUp') { e.preventDefault(); select(cur - 1); }
    else if (e.key === 'a') { e.preventDefault(); if (await decide(it, 'accept')) select(cur + 1); }
    else if (e.key === 'r') { e.preventDefault(); if (await decide(it, 'reject')) select(cur + 1); }
    else if (e.key === 'e') { e.preventDefault(); other(it).focus(); }
    else if (e.key.length === 1 && /[\p{L}\p{N}_]/u.test(e.key)) {
      e.preventDefault(); const input = other(it); input.focus(); input.value += e.key;
    }
  });
  select(cur, false);
  progress();
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _item(it: dict[str, Any]) -> str:
    similar = "".join(
        f"<div><h3>like {_e(intent)}</h3><ul>"
        + ("".join(f"<li>{_e(text)} <span class='sim'>{score:.2f}</span></li>"
                   for text, score in examples)
           or "<li class='sim'>no other example</li>")
        + "</ul></div>"
        for intent, examples in it["similar"].items()
    )
    decided = bool(it["decision"]) or it["reviewed"]
    state = (_shown(it["decision"], it["given"], it["suggested"]) if it["decision"]
             else f"decided earlier: {it['label']}" if decided else "undecided")
    return (
        f"<article class='item{' decided' if decided else ''}' id='row-{it['row']}' "
        f"data-row='{it['row']}' data-decision='{_e(it['decision'])}'>"
        f"<div class='meta'><span>{_e(it['where'])}</span>"
        f"<span class='badge {_e(it['status'])}'>{_e(it['status'])}</span>"
        f"<span>confidence in {_e(it['pico_label'])}: {it['confidence']:.2f}</span>"
        f"<span>now <b class='now'>{_e(it['label'])}</b></span>"
        f"<span class='state'>{_e(state)}</span></div>"
        f"<p class='text'>{_e(it['text'])}</p>"
        f"<p class='labels'>given <b class='given'>{_e(it['given'])}</b> &rarr; suggested "
        f"<b class='suggested'>{_e(it['suggested'])}</b></p>"
        f"<p class='why'>{_e(it['why'])}</p>"
        + (f"<div class='similar'>{similar}</div>" if similar else "")
        + "<div class='actions'><button type='button' class='accept'>Accept "
        "<kbd>a</kbd></button><button type='button' class='reject'>Reject <kbd>r</kbd>"
        "</button><input class='other' list='intents' autocomplete='off' spellcheck='false' "
        "placeholder='another intent (e)' aria-label='another intent'>"
        "<button type='button' class='save'>Save</button><span class='error' "
        "role='alert'></span></div></article>"
    )


def _page(items: list[dict[str, Any]], intents: list[str], *, run: str, token: str,
          nonce: str) -> str:
    options = "".join(f"<option value='{_e(i)}'></option>" for i in intents)
    body = "".join(_item(it) for it in items) or (
        "<p>Nothing to review: no row was left to a person and no change is uncertain.</p>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<meta name='pico-token' content='{_e(token)}'>"
        f"<title>pico review</title><style nonce='{nonce}'>{_CSS}</style></head><body>"
        f"<header><h1>pico review <span class='sim'>{_e(run)}</span></h1>"
        "<p class='keys'><span id='progress'></span> &middot; <kbd>a</kbd> accept "
        "<kbd>r</kbd> reject <kbd>e</kbd> or type: another intent, <kbd>Enter</kbd> save "
        "&middot; <kbd>j</kbd>/<kbd>k</kbd> next/previous. Each decision is saved at once "
        "into review.csv and the cleaned file.</p></header>"
        f"<datalist id='intents'>{options}</datalist><main>{body}</main>"
        f"<script nonce='{nonce}'>{_JS}</script></body></html>"
    )
