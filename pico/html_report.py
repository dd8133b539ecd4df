"""``pico report RUN_DIR``: one self-contained HTML page about a cleaning run.

Everything is drawn here as inline SVG and CSS (no script, no network): first the rows
a person should look at (those left to review, then the changes from the least
confident up, each with why pico proposed it), then the noise matrix as a heat map,
the changes per intent, the iteration curve, the confidence histogram, and the changed
utterances grouped by (from -> to). It reads the run directory (summary.json,
history.csv) and the input file for the texts (and, for Rasa NLU input, the YAML line
of each example). ``pico apply`` and the review page redraw it after each decision.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .review import explain, review_order

__all__ = ["render_report", "render_run", "write_report"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;
color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f5f5f5}.num{text-align:right}
.kpi{display:inline-block;margin:0 24px 8px 0}.kpi b{font-size:20px;display:block}
details{margin:6px 0}summary{cursor:pointer}svg text{font:11px system-ui,sans-serif}
.muted{color:#777}.why{color:#555;font-size:13px}td.lab{white-space:nowrap}
"""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``.

    Examples
    --------
    >>> plural(1, "row"), plural(3, "row"), plural(0, "match", "matches")
    ('1 row', '3 rows', '0 matches')
    """
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _color(value: float) -> str:
    """White (0) to dark red (1)."""
    v = float(np.clip(value, 0.0, 1.0)) ** 0.5
    r, g, b = 255, int(255 * (1 - 0.85 * v)), int(255 * (1 - 0.9 * v))
    return f"rgb({r},{g},{b})"


def _heatmap(noise: dict[str, Any], top: int = 30) -> str:
    classes = noise["classes"]
    off = noise["off"]
    if not off:
        return "<p class='muted'>No off-diagonal entry above 0.5%: no intent looks merged " \
               "into or split from another.</p>"
    weight: Counter[str] = Counter()
    for a, b, v in off:
        weight[a] += v
        weight[b] += v
    shown = [c for c, _ in weight.most_common(top)]
    index = {c: i for i, c in enumerate(shown)}
    diag = dict(zip(classes, noise["diagonal"]))
    cell, left, head = 16, 170, 170
    size = len(shown)
    parts = [(f"<svg role='img' aria-label='noise matrix' width='{left + cell * size + 10}' "
             f"height='{head + cell * size + 10}'>")]
    for i, c in enumerate(shown):
        y = head + i * cell
        parts.append(f"<text x='{left - 4}' y='{y + 12}' text-anchor='end'>{_e(c[:28])}</text>")
        x = left + i * cell
        parts.append(f"<text transform='translate({x + 11},{head - 4}) rotate(-60)'>"
                     f"{_e(c[:28])}</text>")
        parts.append(f"<rect x='{x}' y='{y}' width='{cell}' height='{cell}' fill='#dde8f5'>"
                     f"<title>{_e(c)} kept its label: {diag.get(c, 0):.1%}</title></rect>")
    for a, b, v in off:
        if a in index and b in index:
            parts.append(
                f"<rect x='{left + index[b] * cell}' y='{head + index[a] * cell}' "
                f"width='{cell}' height='{cell}' fill='{_color(v * 2)}'><title>true {_e(a)}, "
                f"labeled {_e(b)}: {v:.1%}</title></rect>"
            )
    parts.append("</svg>")
    return (
        "<p>Rows: the true intent; columns: the label it was given. A dark cell (a, b): "
        "many examples of a were labeled b (b absorbed part of a, or the two were "
        "merged); the blue diagonal holds each intent's label reliability. The "
        f"{len(shown)} intents with the most confusion are shown.</p>" + "".join(parts)
    )


def _bars(rows: list[tuple[str, list[float]]], legend: list[str], colors: list[str]) -> str:
    if not rows:
        return "<p class='muted'>Nothing to show.</p>"
    width, left, bar = 520, 200, 12
    top = max(max(v) for _, v in rows) or 1.0
    height = len(rows) * (bar * len(legend) + 6) + 30
    parts = [f"<svg role='img' width='{left + width + 60}' height='{height}'>"]
    y = 20
    for j, (name, color) in enumerate(zip(legend, colors)):
        parts.append(f"<rect x='{left + j * 120}' y='2' width='10' height='10' fill='{color}'/>"
                     f"<text x='{left + j * 120 + 14}' y='11'>{_e(name)}</text>")
    for name, values in rows:
        parts.append(f"<text x='{left - 4}' y='{y + bar}' text-anchor='end'>{_e(name[:30])}</text>")
        for j, v in enumerate(values):
            w = width * v / top
            parts.append(f"<rect x='{left}' y='{y}' width='{w:.1f}' height='{bar - 1}' "
                         f"fill='{colors[j]}'><title>{_e(name)}: {v:g}</title></rect>"
                         f"<text x='{left + w + 3:.1f}' y='{y + bar - 2}'>{v:g}</text>")
            y += bar
        y += 6
    parts.append("</svg>")
    return "".join(parts)


def _curve(iterations: list[dict[str, Any]]) -> str:
    if not iterations:
        return "<p class='muted'>No iteration ran (the trigger found nothing to clean).</p>"
    changed = [it["changed"] for it in iterations]
    w, h, pad = 520, 200, 40
    top = max(changed) or 1
    step = (w - 2 * pad) / max(len(changed) - 1, 1)
    pts = [(pad + i * step, h - pad - (h - 2 * pad) * c / top) for i, c in enumerate(changed)]
    parts = [f"<svg role='img' aria-label='iteration curve' width='{w}' height='{h}'>",
             f"<line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' stroke='#999'/>",
             f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{h - pad}' stroke='#999'/>",
             "<polyline fill='none' stroke='#c0392b' stroke-width='2' points='"
             + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "'/>"]
    for i, ((x, y), c) in enumerate(zip(pts, changed)):
        parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='#c0392b'>"
                     f"<title>iteration {i + 1}: {c} changed</title></circle>"
                     f"<text x='{x:.1f}' y='{y - 8:.1f}' text-anchor='middle'>{c}</text>"
                     f"<text x='{x:.1f}' y='{h - pad + 16}' text-anchor='middle'>{i + 1}</text>")
    parts.append(f"<text x='{w / 2}' y='{h - 6}' text-anchor='middle'>iteration</text></svg>")
    rows = "".join(
        f"<tr><td>{i + 1}</td><td class='num'>{it['changed']}</td>"
        f"<td class='num'>{100 * it.get('estimated_noise_rate', 0):.1f}%</td>"
        f"<td class='num'>{it.get('seconds', 0):.1f}</td></tr>"
        for i, it in enumerate(iterations)
    )
    return ("<p>Labels changed by each iteration (a run stops when few labels move).</p>"
            + "".join(parts) + "<table><tr><th>iteration</th><th>changed</th>"
            "<th>estimated noise</th><th>seconds</th></tr>" + rows + "</table>")


def _histogram(confidence: np.ndarray, status: np.ndarray) -> str:
    ok = ~np.isnan(confidence)
    if not ok.any():
        return "<p class='muted'>No confidence recorded.</p>"
    bins = np.linspace(0, 1, 21)
    kinds = [("kept", "#7f8c8d"), ("relabeled", "#c0392b"), ("review", "#f39c12"),
             ("reviewed", "#27ae60")]
    counts = {k: np.histogram(confidence[ok & (status == k)], bins)[0] for k, _ in kinds}
    total = np.sum(list(counts.values()), axis=0)
    top = max(int(total.max()), 1)
    w, h, pad = 560, 220, 40
    bw = (w - 2 * pad) / 20
    parts = [f"<svg role='img' aria-label='confidence histogram' width='{w}' height='{h}'>"]
    for i in range(20):
        y = float(h - pad)
        for k, color in kinds:
            c = int(counts[k][i])
            if not c:
                continue
            bh = (h - 2 * pad) * c / top
            y -= bh
            parts.append(f"<rect x='{pad + i * bw:.1f}' y='{y:.1f}' width='{bw - 1:.1f}' "
                         f"height='{bh:.1f}' fill='{color}'><title>{k}, confidence "
                         f"{bins[i]:.2f}-{bins[i + 1]:.2f}: {c}</title></rect>")
    for i in range(0, 21, 5):
        parts.append(f"<text x='{pad + i * bw:.1f}' y='{h - pad + 14}' "
                     f"text-anchor='middle'>{bins[i]:.2f}</text>")
    for j, (k, color) in enumerate(kinds):
        parts.append(f"<rect x='{pad + j * 110}' y='4' width='10' height='10' fill='{color}'/>"
                     f"<text x='{pad + j * 110 + 14}' y='13'>{k}</text>")
    parts.append("</svg>")
    return ("<p>pico_confidence of every row's final label, by status.</p>" + "".join(parts))


def _where(frame: pd.DataFrame) -> tuple[str, str]:
    """The heading of the position column and its attribute: the YAML line or the row."""
    return ("line", "line") if "line" in frame.columns else ("row", "row")


def _why(r: Any, iterations: list[str]) -> str:
    def num(name: str) -> float | None:
        value = getattr(r, name, None)
        return None if value is None else float(value)

    return explain(
        given=str(r.given), label=str(r.final), suggested=str(r.suggested), status=str(r.status),
        confidence=float(r.confidence), suggested_confidence=num("suggested_confidence"),
        given_confidence=num("given_confidence"),
        path=[str(getattr(r, c)) for c in ["given", *iterations]] if iterations else None,
        runner_up=str(getattr(r, "runner_up", "") or ""),
        runner_up_confidence=num("runner_up_confidence"),
    )


def _look_first(frame: pd.DataFrame, iterations: list[str], shown: int = 150) -> str:
    """Rows left to review, then the changes from the least confident up, with why."""
    pick = frame[frame["status"].isin(["review", "relabeled"])]
    head, attr = _where(frame)
    decided = frame[frame["status"] == "reviewed"]
    out = []
    if pick.empty:
        out.append("<p class='muted'>No row is left to review and no label was changed.</p>")
    else:
        order = review_order(pick["status"].to_numpy(dtype=object),
                             pick["confidence"].to_numpy(dtype=float))
        pick = pick.iloc[order]
        n_review = int((pick["status"] == "review").sum())
        body = "".join(
            f"<tr class='{_e(r.status)}'><td class='num'>{_e(getattr(r, attr))}</td>"
            f"<td>{_e(r.text)}</td><td class='lab'>{_e(r.given)}</td>"
            f"<td class='lab'>{'&rarr; ' if r.status == 'relabeled' else '? '}"
            f"{_e(r.final if r.status == 'relabeled' else r.suggested)}</td>"
            f"<td class='num'>{r.confidence:.2f}</td><td class='why'>{_e(_why(r, iterations))}"
            "</td></tr>"
            for r in pick.head(shown).itertuples()
        )
        more = (f"<p class='muted'>and {plural(len(pick) - shown, 'more row')} (all of them "
                "in the changed utterances below; the uncertain ones in review.csv)</p>"
                if len(pick) > shown else "")
        out.append(
            f"<p>{plural(n_review, 'row')} left to a person (? suggested label), then "
            f"{plural(len(pick) - n_review, 'change')} (&rarr; new label) from the least "
            "confident up. Confidence: the probability that the row's label (given, or "
            "new) is right. Decide them with <code>pico review RUN_DIR</code> or in "
            "review.csv with <code>pico apply</code>.</p>"
            f"<table><tr><th>{head}</th><th>text</th><th>given</th><th>pico</th>"
            f"<th>confidence</th><th>why</th></tr>{body}</table>{more}"
        )
    if not decided.empty:
        body = "".join(
            f"<tr><td class='num'>{_e(getattr(r, attr))}</td><td>{_e(r.text)}</td>"
            f"<td class='lab'>{_e(r.given)}</td><td class='lab'>{_e(r.final)}</td></tr>"
            for r in decided.itertuples()
        )
        out.append(f"<h3>Decided by a person ({plural(len(decided), 'row')})</h3>"
                   f"<table><tr><th>{head}</th><th>text</th><th>given</th><th>now</th></tr>"
                   f"{body}</table>")
    return "".join(out)


def _changes(frame: pd.DataFrame, examples: int = 20) -> str:
    moved = frame[frame["status"] == "relabeled"]
    if moved.empty:
        return "<p class='muted'>No label was changed.</p>"
    head, attr = _where(frame)
    groups = moved.groupby(["given", "final"], sort=False)
    order = sorted(groups.groups.items(), key=lambda kv: -len(kv[1]))
    out = []
    for n, ((a, b), idx) in enumerate(order):
        rows = moved.loc[idx].sort_values("confidence", ascending=True, kind="stable")
        body = "".join(
            f"<tr><td class='num'>{_e(getattr(r, attr))}</td><td>{_e(r.text)}</td>"
            f"<td class='num'>{r.confidence:.2f}</td></tr>"
            for r in rows.head(examples).itertuples()
        )
        more = (f"<p class='muted'>and {plural(len(rows) - examples, 'more row')}</p>"
                if len(rows) > examples else "")
        out.append(
            f"<details{' open' if n < 3 else ''}><summary><b>{_e(a)}</b> &rarr; <b>{_e(b)}</b>: "
            f"{plural(len(rows), 'row')}</summary><table><tr><th>{head}</th><th>text</th>"
            f"<th>confidence</th></tr>{body}</table>{more}</details>"
        )
    return "<p>The least confident first in each group.</p>" + "".join(out)


def render_report(summary: dict[str, Any], history: pd.DataFrame,
                  texts: list[str] | None, lines: list[int] | None = None) -> str:
    """The report page as one HTML string.

    Parameters
    ----------
    summary : dict
        The run's summary.json.
    history : DataFrame
        The run's history.csv.
    texts : list of str or None
        The text of every row (None: not shown).
    lines : list of int or None
        The input file's line of every row (Rasa NLU YAML), shown instead of the row.
    """
    frame = history.copy()
    frame["text"] = texts if texts is not None else [""] * len(frame)
    if lines is not None:
        frame["line"] = lines
    for column in ("confidence", "suggested_confidence", "given_confidence",
                   "runner_up_confidence"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    if "confidence" not in frame.columns:
        frame["confidence"] = np.nan
    if "suggested" not in frame.columns:
        frame["suggested"] = frame["final"]
    conf = frame["confidence"].to_numpy(dtype=float)
    iterations = [c for c in frame.columns if str(c).startswith("iteration_")]
    per_class = summary.get("per_class", {})
    busiest = sorted(per_class.items(),
                     key=lambda kv: -(kv[1]["relabeled_away"] + kv[1]["relabeled_into"]))[:30]
    bars = [(c, [float(v["relabeled_away"]), float(v["relabeled_into"])]) for c, v in busiest
            if v["relabeled_away"] + v["relabeled_into"] > 0]
    status = frame["status"].to_numpy(dtype=object)
    noise = summary.get("noise_matrix")
    kpis = [("rows", f"{summary.get('rows', len(frame)):,}"),
            ("classes", summary.get("classes")),
            ("relabeled", int((status == "relabeled").sum())),
            ("to review", int((status == "review").sum()))]
    if (status == "reviewed").any():
        kpis.append(("decided by a person", int((status == "reviewed").sum())))
    kpis.append(("estimated noise", f"{100 * summary.get('estimated_noise_rate', 0):.1f}%"))
    sections = [
        ("summary", "Summary",
         "".join(f"<span class='kpi'><b>{_e(v)}</b>{_e(k)}</span>" for k, v in kpis)
         + f"<p class='muted'>Input {_e(summary.get('input', '?'))}; output "
           f"{_e(summary.get('output', '?'))}.</p>"),
        ("to-review", "Look at these first", _look_first(frame, iterations)),
        ("noise-matrix", "Noise matrix",
         _heatmap(noise) if noise else "<p class='muted'>Not recorded by this run.</p>"),
        ("changes-per-intent", "Changes per intent",
         "<p>Rows relabeled away from each intent and into it (the 30 busiest).</p>"
         + _bars(bars, ["away", "into"], ["#c0392b", "#2980b9"])),
        ("iterations", "Iterations", _curve(summary.get("iterations", []))),
        ("confidence", "Confidence", _histogram(conf, status)),
        ("changed-utterances", "Changed utterances", _changes(frame)),
    ]
    body = "".join(f"<section id='{sid}'><h2>{_e(title)}</h2>{content}</section>"
                   for sid, title, content in sections)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>pico report</title><style>{_CSS}</style></head><body>"
            f"<h1>pico cleaning report</h1>{body}</body></html>")


def render_run(data: Any) -> str:
    """The report page of a run read by :func:`pico.run.read_run`."""
    return render_report(data.summary, data.history, data.texts, data.lines)


def write_report(
    run_dir: Path, output: Path | None = None, *, encoding: str | None = None
) -> Path:
    """Read RUN_DIR and write its report (default ``RUN_DIR/report.html``).

    The texts are shown when the run's input is still the file the run read (same
    SHA-256), read with ``encoding`` (default: the run's own); for Rasa NLU input each
    row shows its line in the YAML file.
    """
    from .data.io import write_text
    from .run import read_run

    data = read_run(run_dir, encoding=encoding)
    html = render_run(data)
    if output is not None:
        write_text(html, output)
        return output
    out = data.run / "report.html"
    with data.run.lock():
        write_text(html, out)
    return out
