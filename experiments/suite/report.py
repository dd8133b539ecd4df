"""The evaluation suite's page (docs/benchmarks-key.md) and its plots, drawn from its JSON
results."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pico.benchmarking.metrics import expected_calibration_error

from . import methods as M
from .scenarios import DATASETS, NOISE_MODELS, RATES

SHORT = {
    M.NONE: "none",
    M.CLEANLAB_PRUNE: "cleanlab prune",
    M.CLEANLAB_BOTH: "cleanlab both",
    M.MAJORITY: "majority",
    M.DAWID_SKENE: "Dawid-Skene",
    M.MEAN_VOTE: "mean vote x3",
    M.MEAN_VOTE_HALF: "mean vote x3 (p>=0.5)",
    M.PICO_VOTE: "PICO vote",
    M.PICO_HISTORY: "PICO vote+history",
    M.PICO_DEFAULT: "PICO",
}
BASELINES = (
    M.CLEANLAB_PRUNE, M.CLEANLAB_BOTH, M.MAJORITY, M.DAWID_SKENE, M.MEAN_VOTE, M.MEAN_VOTE_HALF
)
DATASET_TITLE = {"clinc150": "CLINC150", "banking77": "BANKING77"}


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _cell_label(c: dict[str, Any]) -> str:
    noise = c["noise"]
    return f"{noise} {c['rate']:.0%}" if noise != "none" else "no injected noise"


def _order(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {n: i for i, n in enumerate(("none", *NOISE_MODELS))}
    return sorted(cells, key=lambda c: (rank.get(c["noise"], 99), c["rate"]))


def _methods_present(cells: list[dict[str, Any]]) -> list[str]:
    seen = {name for c in cells for name in c["methods"]}
    return [m for m in M.METHODS if m in seen]


def newest_commits(cells: list[dict[str, Any]], updated: list[dict[str, Any]]) -> dict[str, str]:
    """Method -> commit of the last ``--update`` that replaced it."""
    newest: dict[str, str] = {}
    for part in updated:
        for name in part["methods"]:
            if part.get("commit"):
                newest[name] = part["commit"]
    return newest


def _stale(c: dict[str, Any], name: str, newest: dict[str, str]) -> bool:
    """Whether this cell's ``name`` column predates the last update of that method."""
    return name in newest and c.get("method_commits", {}).get(name) != newest[name]


def summary_table(
    cells: list[dict[str, Any]],
    key: str,
    *,
    highest: bool,
    fmt: Any,
    newest: dict[str, str] | None = None,
    order: Any = None,
    label: Any = None,
    noise: tuple[str, Any] | None = None,
) -> list[str]:
    """Cells down, methods across; the best value of each row in bold.

    Values of a method that a later ``--update`` replaced in other cells but not in
    this one (``newest``) are marked with a degree sign. ``order`` sorts the cells and
    ``label`` names them (default: the grid's); ``noise`` is the second column's title
    and how a cell's noise is written (default: the measured rate).
    """
    newest = newest or {}
    order, label = order or _order, label or _cell_label
    noise_title, noise_text = noise or (
        "noise measured", lambda c: f"{_pct(c['measured_noise_rate'], 1)}%"
    )
    names = _methods_present(cells)
    lines = [
        f"| cell | {noise_title} | " + " | ".join(SHORT[n] for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for c in order(cells):
        values = {n: c["methods"].get(n, {}).get(key) for n in names}
        scored = {
            n: v for n, v in values.items() if v is not None and (n != M.NONE or key != "damage")
        }
        best = (max if highest else min)(scored.values()) if scored else None
        cols = []
        for n in names:
            v = values[n]
            text = "-" if n not in c["methods"] else fmt(v)
            text = f"**{text}**" if v is not None and v == best else text
            cols.append(text + ("°" if n in c["methods"] and _stale(c, n, newest) else ""))
        lines.append(f"| {label(c)} | {noise_text(c)} | " + " | ".join(cols) + " |")
    return lines


def detail_table(c: dict[str, Any]) -> list[str]:
    """Every metric of every method on one cell."""
    lines = [
        "| method | accuracy after | changed | precision | recall | F1 | damage | fixed "
        "| AP of remaining errors | test accuracy | seconds | checker fits |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in _methods_present([c]):
        m = c["methods"][name]
        lines.append(
            f"| {name} | {_pct(m['accuracy_after'])} | {m['changed']} | {_pct(m['precision'], 1)} "
            f"| {_pct(m['recall'], 1)} | {_pct(m['f1'], 1)} | {m['damage']} | {m['fixed']} "
            f"| {_num(m['average_precision'])} | {_pct(m['test_accuracy'])} "
            f"| {m['seconds']:.1f} | {m['fits']} |"
        )
    return lines


def sweep_table(c: dict[str, Any]) -> list[str]:
    """PICO's relabel threshold read off its vote-only run."""
    sweep = c.get("pico_threshold_sweep") or []
    if not sweep or "below" not in sweep[0]:
        return []
    lines = [
        "| PICO threshold | accuracy after | changed | precision | recall | damage |",
        "|---|---|---|---|---|---|",
    ]
    for s in sweep:
        lines.append(
            f"| {s['threshold']:.2f} | {_pct(s['accuracy_after'])} | {s['changed']} "
            f"| {_pct(s['precision'], 1)} | {_pct(s['recall'], 1)} | {s['damage']} |"
        )
    return lines


def behind(c: dict[str, Any]) -> list[str]:
    """Where PICO's defaults are behind a baseline on this cell, and the mechanism."""
    p = c["methods"].get(M.PICO_DEFAULT)
    if p is None:
        return []
    out = []
    for name in BASELINES:
        b = c["methods"].get(name)
        if b is None:
            continue
        acc_gap = b["accuracy_after"] - p["accuracy_after"]
        dmg_gap = p["damage"] - b["damage"]
        if acc_gap <= 0 and dmg_gap <= 0:
            continue
        parts = []
        if acc_gap > 0:
            why = (
                f"it fixed {b['fixed']} wrong labels to PICO's {p['fixed']}"
                if b["fixed"] > p["fixed"]
                else f"PICO damaged {p['damage']} right labels to its {b['damage']}"
            )
            parts.append(
                f"accuracy {_pct(b['accuracy_after'])}% vs {_pct(p['accuracy_after'])}% "
                f"({why})"
            )
        if dmg_gap > 0:
            parts.append(
                f"damage {b['damage']} vs {p['damage']} (it changed {b['changed']} rows at "
                f"precision {_pct(b['precision'], 1)}%, PICO {p['changed']} at "
                f"{_pct(p['precision'], 1)}%)" + _at_same_damage(c, p, b)
            )
        out.append(f"  - behind {SHORT[name]}: " + "; ".join(parts))
    return out


def _at_same_damage(c: dict[str, Any], p: dict[str, Any], b: dict[str, Any]) -> str:
    """PICO's threshold sweep read at the baseline's damage (when the sweep is the defaults')."""
    sweep = c.get("pico_threshold_sweep") or []
    vote = c["methods"].get(M.PICO_VOTE)
    same_run = vote is not None and (vote["accuracy_after"], vote["damage"]) == (
        p["accuracy_after"], p["damage"])
    if not sweep or "below" not in sweep[0] or not same_run:
        return ""
    within = [s for s in sweep if s["damage"] <= b["damage"]]
    if not within:
        top = max(sweep, key=lambda s: s["threshold"])
        return (
            f"; even at relabel threshold {top['threshold']:.2f} PICO damages "
            f"{top['damage']} ({_pct(top['accuracy_after'])}% accuracy; its "
            f"{_pct(b['accuracy_after'])}%)"
        )
    best = max(within, key=lambda s: s["accuracy_after"])
    verdict = "more" if best["accuracy_after"] > b["accuracy_after"] else "less"
    return (
        f"; at its damage or less (relabel threshold {best['threshold']:.2f}: "
        f"{best['damage']}) PICO reaches {_pct(best['accuracy_after'])}% accuracy, {verdict} "
        f"than its {_pct(b['accuracy_after'])}%"
    )


def missing_cells(cells: list[dict[str, Any]]) -> list[str]:
    """Keys of the full grid (every dataset, noise model and rate) not in ``cells``."""
    have = {c["key"] for c in cells}
    grid = []
    for dataset in DATASETS:
        grid.append(f"{dataset}/none/0")
        for noise in NOISE_MODELS:
            rates = RATES if noise.startswith("imbalanced") else [r for r in RATES if r > 0]
            grid += [f"{dataset}/{noise}/{rate:g}" for rate in rates]
    return [key for key in grid if key not in have]


MARKERS = "osD^v<>xP*"


def write_plots(results: dict[str, Any], folder: Path) -> dict[str, list[Path]]:
    """Accuracy-vs-rate, precision-vs-recall and calibration PNGs per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, list[Path]] = {}
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for c in results["cells"]:
        by_dataset.setdefault(c["dataset"], []).append(c)
    for dataset, cells in by_dataset.items():
        title = DATASET_TITLE.get(dataset, dataset)
        names = _methods_present(cells)
        drawn = []
        for kind, draw in (
            ("accuracy", _plot_accuracy),
            ("precision-recall", _plot_precision_recall),
            ("calibration", _plot_calibration),
        ):
            fig = draw(plt, title, cells, names)
            if fig is None:
                continue
            path = folder / f"{kind}-{dataset}.png"
            fig.tight_layout()
            fig.savefig(path, dpi=110)
            plt.close(fig)
            drawn.append(path)
        paths[dataset] = drawn
    return paths


def _plot_accuracy(plt: Any, title: str, cells: list[dict[str, Any]], names: list[str]) -> Any:
    """Label accuracy after cleaning against the noise rate, one panel per noise model."""
    models = [n for n in NOISE_MODELS if any(c["noise"] == n for c in cells)]
    if not models:
        return None
    fig, axes = plt.subplots(
        1, len(models), figsize=(4 * len(models), 3.6), sharey=True, squeeze=False
    )
    for ax, model in zip(axes[0], models):
        clean = "imbalanced-confusable" if model.startswith("imbalanced") else "none"
        series = sorted(
            [c for c in cells if (c["noise"] == model and c["rate"] > 0)
             or (c["noise"] == clean and c["rate"] == 0)],
            key=lambda c: c["rate"],
        )
        for i, name in enumerate(names):
            have = [c for c in series if name in c["methods"]]
            ax.plot(
                [c["rate"] for c in have],
                [c["methods"][name]["accuracy_after"] for c in have],
                "-" if name.startswith("PICO") else "--",
                marker=MARKERS[i % len(MARKERS)], label=SHORT[name], markersize=4,
                linewidth=2.2 if name == M.PICO_DEFAULT else 1.2,
            )
        ax.set_title(model)
        ax.set_xlabel("noise rate")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("label accuracy after cleaning")
    axes[0][-1].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{title}: label accuracy after cleaning")
    return fig


def _plot_precision_recall(
    plt: Any, title: str, cells: list[dict[str, Any]], names: list[str]
) -> Any:
    """Precision against recall of each method's changes, every noisy cell a point."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, name in enumerate(names):
        rows = [c["methods"][name] for c in cells if c["rate"] > 0 and name in c["methods"]]
        pts = [(m["recall"], m["precision"]) for m in rows
               if m["precision"] is not None and m["recall"] is not None]
        if pts:
            ax.scatter([r for r, _ in pts], [p for _, p in pts], label=SHORT[name],
                       marker=MARKERS[i % len(MARKERS)], s=30 if name.startswith("PICO") else 18)
    ax.set_xlabel("recall of the changes (wrong labels made right / wrong labels)")
    ax.set_ylabel("precision of the changes")
    ax.set_title(f"{title}: every noisy cell")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def _plot_calibration(plt: Any, title: str, cells: list[dict[str, Any]], names: list[str]) -> Any:
    """Reliability of the PICO methods' confidence, every cell pooled."""
    calib = [n for n in names if any("calibration" in c["methods"].get(n, {}) for c in cells)]
    if not calib:
        return None
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    lines = [(name, "calibration", "") for name in calib]
    lines += [(name, "calibration_moved", ", moved rows") for name in calib
              if name == M.PICO_DEFAULT
              and any("calibration_moved" in c["methods"].get(name, {}) for c in cells)]
    for i, (name, key, what) in enumerate(lines):
        tables = [c["methods"][name][key] for c in cells if key in c["methods"].get(name, {})]
        count, conf, acc = pooled_calibration(tables)
        keep = [j for j, m in enumerate(count) if m >= 20]
        ax.plot([conf[j] for j in keep], [acc[j] for j in keep], marker=MARKERS[i % len(MARKERS)],
                linestyle="--" if what else "-",
                label=f"{SHORT[name]}{what} (ECE "
                      f"{expected_calibration_error(count, conf, acc):.3f})")
    ax.set_xlabel("confidence in the final label (pico_confidence)")
    ax.set_ylabel("fraction of those labels that are right")
    ax.set_title(f"{title}: calibration, every cell pooled")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def calibration_table(cells: list[dict[str, Any]]) -> list[str]:
    """Expected calibration error of each PICO method per noise model (rates pooled)."""
    methods = [m for m in SHORT if m.startswith("PICO")
               and any("calibration" in c["methods"].get(m, {}) for c in cells)]
    noises = sorted({c["noise"] for c in cells})
    if not methods:
        return []
    columns = [(m, "calibration", SHORT[m]) for m in methods]
    if any("calibration_moved" in c["methods"].get(M.PICO_DEFAULT, {}) for c in cells):
        columns.append((M.PICO_DEFAULT, "calibration_moved", f"{SHORT[M.PICO_DEFAULT]}, moved"))
    out = [
        "### Calibration of pico_confidence by noise model",
        "",
        "Expected calibration error (10 bins; 0 is perfect) of each row's final label, the "
        "cells of one noise model pooled over their rates; the rows counted in brackets. "
        "*moved*: the rows whose label the run changed, alone.",
        "",
        "| noise model | " + " | ".join(title for _, _, title in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for noise in noises:
        row = []
        for m, key, _ in columns:
            tables = [c["methods"][m][key] for c in cells if c["noise"] == noise
                      and key in c["methods"].get(m, {})]
            if not tables:
                row.append("")
                continue
            count, conf, acc = pooled_calibration(tables)
            row.append(f"{expected_calibration_error(count, conf, acc):.3f} ({sum(count)})")
        out.append(f"| {noise} | " + " | ".join(row) + " |")
    return out


def pooled_calibration(tables: list[dict[str, Any]]) -> tuple[list[int], list[float], list[float]]:
    """Sum reliability tables of several cells: counts, mean confidence, accuracy per bin."""
    n_bins = len(tables[0]["count"])
    count = [0] * n_bins
    conf = [0.0] * n_bins
    acc = [0.0] * n_bins
    for t in tables:
        for j in range(n_bins):
            m = t["count"][j]
            if m:
                count[j] += m
                conf[j] += m * t["confidence"][j]
                acc[j] += m * t["accuracy"][j]
    return (
        count,
        [c / m if m else 0.0 for c, m in zip(conf, count)],
        [a / m if m else 0.0 for a, m in zip(acc, count)],
    )


def render_markdown(results: dict[str, Any], plots: dict[str, list[Path]], doc_dir: Path) -> str:
    """The whole page."""
    meta = results["meta"]
    mach = meta["machine"]
    total = meta.get("total_seconds")
    shared = meta.get("shared_splits") or {
        "n_branches": M.SHARED_BRANCHES, "n_folds": M.SHARED_FOLDS
    }
    versions = ", ".join(
        f"{k} {mach[k]}" for k in ("pico", "numpy", "scikit-learn", "cleanlab", "crowd-kit")
    )
    out = [
        "# Evaluation suite: label correction on CLINC150 and BANKING77",
        "",
        f"Generated by `{meta['command'].strip()}` on {meta['date'][:10]} "
        f"({meta['date']}, code at commit {meta.get('commit', 'unknown')}); the run took {total / 60:.1f} minutes. Do not edit by hand: "
        "rerun the command to regenerate this page, its raw results "
        "(`experiments/results/`) and its plots."
        if total is not None
        else f"Generated by `{meta['command'].strip()}` on {meta['date']}.",
        "",
        f"- Machine: {mach['cpu_count']} cores ({mach['processor']}), Python {mach['python']}, "
        f"{mach['platform']}.",
        f"- Versions: {versions}.",
        f"- `--jobs {meta['jobs']}` worker processes for every method's checkers; seed "
        f"{meta['seed']} for noise, folds and checkers.",
    ]
    if meta.get("rendered_by"):
        out.append(f"- Page drawn from the saved results by `{meta['rendered_by'].strip()}`.")
    for part in meta.get("merged", []):
        out.append(
            f"- Also from `{part['command'].strip()}` ({part['date']}, code at commit "
            f"{part.get('commit') or 'unknown'}, {(part.get('total_seconds') or 0) / 60:.1f} "
            "minutes)" + (f": {part['note']}." if part.get("note") else ".")
        )
    for part in meta.get("updated", []):
        out.append(
            f"- {', '.join(part['methods'])} in {part['cells']} cells from "
            f"`{part['command'].strip()}` ({part['date']}, code at commit "
            f"{part.get('commit') or 'unknown'})"
            + (f": {part['note']}." if part.get("note") else ".")
        )
    if meta.get("quick"):
        out += ["", "**Quick mode**: small subsamples; checks the suite runs, measures nothing."]
    missing = missing_cells(results["cells"])
    if missing and not meta.get("quick"):
        out += [
            "",
            f"**Coverage**: {len(results['cells'])} of the "
            f"{len(results['cells']) + len(missing)} cells of the full grid. Not run yet: "
            + ", ".join(missing)
            + ".",
        ]
    out += [
        "",
        "## What is compared",
        "",
        "Every method cleans the same noisy training labels with the same features "
        "(`TfidfFeaturizer`: word 1-2-grams + character 2-4-grams) and the same checker "
        "(`SoftmaxRegression()` defaults).",
        "",
        "- **none**: the noisy labels as given.",
        f"- **cleanlab prune / both**: {M.CV_FOLDS}-fold stratified out-of-fold probabilities, "
        "`cleanlab.filter.find_label_issues(filter_by='prune_by_noise_rate' | 'both')`, "
        "flagged rows relabeled to the argmax (one cross-validation for both).",
        f"- **majority**: one MultiSplit round ({shared['n_branches']} branches x "
        f"{shared['n_folds']} folds, pico's split engine and top-{M.TOP_K} store); a strict "
        "majority of the branches' argmaxes for another class relabels a row.",
        "- **Dawid-Skene**: crowd-kit's `DawidSkene` with the given label and each branch's "
        "argmax (same round) as workers; its aggregate is the new label.",
        "- **mean vote x3**: every row takes the most probable class under the branches' "
        "mean probability; the checkers are retrained on the new labels; "
        f"{M.MEAN_VOTE_ROUNDS} rounds ({shared['n_branches'] * shared['n_folds'] * M.MEAN_VOTE_ROUNDS}"
        " fits). **mean vote x3 (p>=0.5)**: the same, but only rows whose most probable "
        f"class reaches {M.MEAN_VOTE_THRESHOLD} move. Round 1 is the round majority and "
        "Dawid-Skene use; its seconds are counted in each method that uses it.",
        "- **PICO vote**: `pico.clean(..., n_iterations=1)`: one MultiSplit iteration and "
        "the Bayesian vote.",
        "- **PICO**: `pico.clean` with its defaults"
        + (
            f" and {', '.join(f'`{k}={v}`' for k, v in meta['pico_options'].items())}"
            if meta["pico_options"]
            else ""
        )
        + ". When the defaults are the vote-only configuration the two columns are one run.",
    ]
    for name, reason in (results["cells"][0].get("not_run", {}) if results["cells"] else {}).items():
        out.append(f"- **{SHORT[name]}**: not in this run: {reason}.")
    out += [
        "",
        "Metrics, against the clean labels: *accuracy after*: fraction of rows whose label "
        "is right after cleaning. *Precision*: changed rows now right / changed rows. "
        "*Recall*: wrong labels made right / wrong labels. *Damage*: right labels made wrong. "
        "*AP of remaining errors*: average precision of finding the rows whose final label "
        "is wrong by sorting on the method's confidence in that label (`pico_confidence` "
        "for PICO; the out-of-fold or mean probability, the vote share or the "
        "Dawid-Skene posterior for the others). *Test accuracy*: a checker trained on the "
        "cleaned labels, scored on the dataset's clean test split. *Seconds*: wall time of "
        "everything the method needs, featurization excluded except for PICO (whose "
        "`clean` call featurizes).",
        "",
        "Noise models (`experiments/suite/scenarios.py`): *uniform* (any other class), "
        "*within-group* (another intent of the same CLINC150 domain / BANKING77 topic), "
        "*confusable* (one of the 3 intents a clean-label checker confuses it with most), "
        "*generic-specific* (half of a class moved into a sibling intent, for as many "
        "sibling pairs as the rate needs), *imbalanced-confusable* (confusable noise on a "
        "subsample whose class sizes fall geometrically to 10%). The rate is the fraction "
        "of labels changed; *noise measured* is the fraction that differs from the clean "
        "labels.",
    ]
    newest = newest_commits(results["cells"], meta.get("updated", []))
    stale_note = (
        "° from an earlier commit than the same column in other cells (see the list of "
        "runs at the top); `--update` with a rerun of the cell replaces it."
    )
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for c in results["cells"]:
        by_dataset.setdefault(c["dataset"], []).append(c)
    for dataset, cells in by_dataset.items():
        marked = any(_stale(c, n, newest) for c in cells for n in c["methods"])
        title = DATASET_TITLE.get(dataset, dataset)
        out += [
            "",
            f"## {title}",
            "",
            f"{cells[0]['classes']} classes; {max(c['rows'] for c in cells)} training rows "
            "(fewer in the imbalanced subsample).",
            "",
            "### Label accuracy after cleaning (%)",
            "",
            *summary_table(cells, "accuracy_after", highest=True, fmt=_pct, newest=newest),
            "",
            "### Damage: right labels made wrong (lower is better)",
            "",
            *summary_table(cells, "damage", highest=False, fmt=lambda v: str(v), newest=newest),
            "",
            "### Test accuracy of a checker trained on the cleaned labels (%)",
            "",
            *summary_table(cells, "test_accuracy", highest=True, fmt=_pct, newest=newest),
            *(["", stale_note] if marked else []),
        ]
        for path in plots.get(dataset, []):
            rel = os.path.relpath(path, doc_dir)
            out += ["", f"![{path.stem}]({rel})"]
        out += ["", *calibration_table(cells)]
        notes = []
        for c in _order(cells):
            lines = behind(c)
            if lines:
                notes += [f"- **{_cell_label(c)}**", *lines]
        out += ["", "### Where PICO's defaults are behind a baseline", ""]
        out += notes or ["Nowhere: PICO has the highest accuracy and the lowest damage in every cell."]
        for c in _order(cells):
            extra = ""
            if c.get("info"):
                extra = " " + ", ".join(f"{k} {v}" for k, v in c["info"].items()) + "."
            out += [
                "",
                f"### {title}, {_cell_label(c)}",
                "",
                f"{c['rows']} rows, {c['classes']} classes, "
                f"{_pct(c['measured_noise_rate'])}% of labels wrong.{extra}",
                "",
                *detail_table(c),
            ]
            sweep = sweep_table(c)
            if sweep:
                out += ["", "PICO's relabel threshold (`--threshold`, default 0.6), read off "
                        "the vote-only run:", "", *sweep]
    for name in results.get("skipped", []):
        out += ["", f"## {name}", "", "Skipped: dataset folder not found."]
    return "\n".join(out) + "\n"
