"""docs/benchmarks-real.md: the extra cells (real noise, few-shot intents, the catch-all).

Drawn from the suite's JSON results (``experiments/evaluate.py --datasets
hint3-curekart hint3-sofmattress clinc150-fewshot clinc150-catchall``), like
``report.py`` draws docs/benchmarks-key.md.
"""

from __future__ import annotations

from typing import Any

from . import methods as M
from .report import SHORT, _methods_present, _num, _pct, summary_table
from .scenarios import (
    CATCH_ALL_RATE,
    EXTRA_DATASETS,
    FEWSHOT_CLASSES,
    FEWSHOT_MAX_ROWS,
    FEWSHOT_MIN_ROWS,
    FEWSHOT_RATE,
    SMALL_CLASS_ROWS,
)

TITLE = "Real noise, few-shot intents and the catch-all"

CELL_TEXT = {
    "hint3-curekart": (
        "HINT3 curekart, REAL noise: the bot's train and test files as one dataset; the "
        "published (v1) labels are the input, the corrected (v2) labels the truth. "
        "`NO_NODES_DETECTED` is the catch-all."
    ),
    "hint3-sofmattress": (
        "HINT3 sofmattress, REAL noise: as curekart."
    ),
    "clinc150-fewshot": (
        f"CLINC150 training rows with {FEWSHOT_CLASSES} intents drawn at random, each cut to "
        f"{FEWSHOT_MIN_ROWS}-{FEWSHOT_MAX_ROWS} rows (size drawn uniformly), then "
        f"within-domain noise on {FEWSHOT_RATE:.0%} of the whole subsample (each flipped row "
        "to another intent of its domain, drawn uniformly: the cut intents receive about as "
        "many wrong rows as the full ones)."
    ),
    "clinc150-catchall": (
        "CLINC150 training rows plus all 1,200 out-of-scope rows of `oos.csv` under the one "
        f"label `oos`; {CATCH_ALL_RATE:.0%} of all rows relabeled, half of them in-scope rows "
        "sent to `oos`, half `oos` rows sent to an in-scope intent drawn uniformly."
    ),
}


def _cell_name(c: dict[str, Any]) -> str:
    return str(c["key"])


def _order(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {name: i for i, name in enumerate(EXTRA_DATASETS)}
    return sorted(cells, key=lambda c: (rank.get(c["dataset"], 99), c["key"]))


def _int(x: Any) -> str:
    return "n/a" if x is None else str(x)


def _right_of(n: int | None, right: int | None) -> str:
    if not n:
        return "0"
    return f"{n} ({right}, {100 * (right or 0) / n:.0f}%)"


def cross_table(
    cells: list[dict[str, Any]], key: str, *, highest: bool, fmt: Any
) -> list[str]:
    """Cells down, methods across, one metric; the best value of each row in bold."""

    def wrong(c: dict[str, Any]) -> str:
        rate = c["measured_noise_rate"]
        return f"{round(rate * c['rows'])} ({_pct(rate, 1)}%)"

    return summary_table(cells, key, highest=highest, fmt=fmt, order=_order, label=_cell_name,
                         noise=("wrong labels", wrong))


def cell_table(c: dict[str, Any]) -> list[str]:
    """Every method on one cell: accuracy, changes, damage, review ranking, review rows."""
    lines = [
        "| method | accuracy before | accuracy after | changes (right, precision) | damaged "
        "| review AP | sent to review (truly wrong) | test accuracy | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in _methods_present([c]):
        m = c["methods"][name]
        review = (
            "-" if "review" not in m else f"{m['review']} ({m['review_wrong']})"
        )
        test = "n/a" if m.get("test_accuracy") is None else _pct(m["test_accuracy"])
        lines.append(
            f"| {name} | {_pct(m['accuracy_before'])} | {_pct(m['accuracy_after'])} "
            f"| {_right_of(m['changed'], m['fixed'])} | {m['damage']} "
            f"| {_num(m.get('review_ap'))} | {review} | {test} | {m['seconds']:.1f} |"
        )
    return lines


def small_table(c: dict[str, Any]) -> list[str]:
    """What each method did to the rows of the small intents."""
    names = [n for n in _methods_present([c]) if "small_classes" in c["methods"][n]]
    if not names or not c.get("small_classes"):
        return []
    first = c["methods"][names[0]]["small_classes"]
    lines = [
        f"Small intents (at most {SMALL_CLASS_ROWS} rows under the true labels: "
        f"{len(c['small_classes'])}, {first['rows']} rows, {first['right_before']} of them "
        "with a right given label): *moved out* are right labels of those rows made wrong, "
        "*fixed* wrong labels of those rows made right, *wrongly moved in* rows of other "
        "intents given a small intent's label by the method.",
        "",
        "| method | right rows moved out | fixed | wrongly moved in |",
        "|---|---:|---:|---:|",
    ]
    for name in names:
        s = c["methods"][name]["small_classes"]
        lines.append(
            f"| {name} | {s['damage']} | {s['fixed']} | {s['wrongly_moved_in']} |"
        )
    return lines


def catch_all_table(c: dict[str, Any]) -> list[str]:
    """Each method's changes into and out of the catch-all, and how many are right."""
    names = [n for n in _methods_present([c]) if "catch_all" in c["methods"][n]]
    if not names or not c.get("catch_all"):
        return []
    label = c["catch_all"]
    lines = [
        f"Changes into and out of the catch-all `{label}` (in brackets: how many are right): "
        f"*into*: rows given another label that the method moved to `{label}`; *out*: rows "
        f"given `{label}` that it moved to an intent; *true `{label}` moved out*: rows whose "
        f"given and true label is `{label}`, moved out (damage to the catch-all); *other*: "
        "changes between two intents.",
        "",
        f"| method | into `{label}` | out of `{label}` | true `{label}` moved out | other |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in names:
        f = c["methods"][name]["catch_all"]
        lines.append(
            f"| {name} | {_right_of(f['into'], f['into_right'])} "
            f"| {_right_of(f['out'], f['out_right'])} | {f['catch_all_damage']} "
            f"| {f['other']} |"
        )
    return lines


def render_real_markdown(results: dict[str, Any]) -> str:
    """The whole page."""
    meta = results["meta"]
    mach = meta["machine"]
    total = meta.get("total_seconds")
    cells = results["cells"]
    shared = meta.get("shared_splits") or {
        "n_branches": M.SHARED_BRANCHES, "n_folds": M.SHARED_FOLDS
    }
    versions = ", ".join(
        f"{k} {mach[k]}" for k in ("pico", "numpy", "scikit-learn", "cleanlab", "crowd-kit")
    )
    commit = meta.get("commit", "unknown")
    if meta.get("diff_digest"):
        commit += f" (uncommitted changes, diff digest {meta['diff_digest']})"
    out = [
        f"# {TITLE}",
        "",
        f"Generated by `{meta['command'].strip()}` on {meta['date'][:10]} ({meta['date']}, "
        f"code at commit {commit})"
        + (f"; the run took {total / 60:.1f} minutes" if total is not None else "")
        + ". Do not edit by hand: rerun the command to regenerate this page and its raw "
        "results (`experiments/results/evaluate-real.json`); `--report-only` with the same "
        "`--datasets` redraws it from them.",
        "",
        f"- Machine: {mach['cpu_count']} cores ({mach['processor']}), Python {mach['python']}, "
        f"{mach['platform']}.",
        f"- Versions: {versions}.",
        f"- `--jobs {meta['jobs']}` worker processes for every method's checkers; seed "
        f"{meta['seed']} for noise, folds and checkers.",
    ]
    if meta.get("rendered_by"):
        out.append(f"- Page drawn from the saved results by `{meta['rendered_by'].strip()}`.")
    if meta.get("quick"):
        out += ["", "**Quick mode**: small subsamples; checks the suite runs, measures nothing."]
    out += [
        "",
        "The evaluation suite's methods ([benchmarks-key.md](benchmarks-key.md#what-is-compared): "
        "the same TF-IDF features and `SoftmaxRegression()` checker; MultiSplit votes on "
        f"{shared['n_branches']} branches x {shared['n_folds']} folds) on data where "
        "cleaning is hard: real mistakes, intents with a handful of rows, and an "
        "out-of-scope catch-all class.",
        "",
        "## The cells",
        "",
    ]
    for c in _order(cells):
        text = CELL_TEXT.get(c["dataset"], "")
        info = ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in c.get("info", {}).items()
            if k not in ("small_classes", "catch_all")
        )
        out.append(
            f"- **{c['key']}**: {text} {c['rows']} rows, {c['classes']} classes, "
            f"{round(c['measured_noise_rate'] * c['rows'])} wrong labels "
            f"({_pct(c['measured_noise_rate'])}%)"
            + (f"; {info}" if info else "")
            + ("" if c.get("test_split", True) else "; no clean test split")
            + "."
        )
    scores: dict[str, str] = {}
    for c in cells:
        for name, m in c["methods"].items():
            if m.get("review_score"):
                scores.setdefault(name, m["review_score"])
    out += [
        "",
        "Metrics, against the true labels: *accuracy before / after* cleaning; *changes*: "
        "labels the method changed on its own, with how many of them are now right and "
        "that fraction (precision); *damaged*: right labels made wrong; *review AP*: "
        "average precision (scikit-learn's `average_precision_score`) of the method's "
        "per-row score at ranking the rows whose GIVEN label is wrong first (the order a "
        "person would review them in; the error rate is what a random order scores); *sent "
        "to review*: PICO's rows with status `review`, and how many of them carry a wrong "
        "given label; *test accuracy*: a checker trained on the cleaned labels, scored on "
        "the dataset's clean test split (n/a: HINT3 has none); *seconds*: wall time.",
        "",
        "The review score of each method (higher: the given label is more likely wrong):",
        "",
        "| method | review score |",
        "|---|---|",
        *[f"| {SHORT[n]} | {scores[n]} |" for n in M.METHODS if n in scores],
    ]
    if not cells:
        out += ["", "No cell ran."]
    else:
        out += [
            "",
            "## Summary",
            "",
            "### Label accuracy after cleaning (%)",
            "",
            *cross_table(cells, "accuracy_after", highest=True, fmt=_pct),
            "",
            "### Damage: right labels made wrong (lower is better)",
            "",
            *cross_table(cells, "damage", highest=False, fmt=_int),
            "",
            "### Review AP: wrong given labels ranked first (higher is better)",
            "",
            *cross_table(cells, "review_ap", highest=True, fmt=_num),
        ]
    for c in _order(cells):
        out += ["", f"## {c['key']}", "", *cell_table(c)]
        small = small_table(c)
        if small:
            out += ["", *small]
        flows = catch_all_table(c)
        if flows:
            out += ["", *flows]
        reasons = {
            name: m["review_reasons"] for name, m in c["methods"].items()
            if m.get("review_reasons") and "same_run_as" not in m
        }
        for name, counts in reasons.items():
            out += [
                "",
                f"{name}: moves left to review, by reason: "
                + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".",
            ]
    for name in results.get("skipped", []):
        out += ["", f"## {name}", "", "Skipped: dataset folder not found."]
    return "\n".join(out) + "\n"
