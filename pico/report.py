"""The run summary: counts, per-class changes, confused pairs; no computation of labels."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .corrector import STATUSES
from .results import CheckEstimate, RunSummary

__all__ = ["build_summary", "check_reason", "format_check", "format_summary", "noise_entries"]


def build_summary(
    *,
    given: np.ndarray,
    labels: np.ndarray,
    status: np.ndarray,
    keep: np.ndarray,
    groups: np.ndarray | None,
    options: dict[str, Any],
    timings: dict[str, float],
    corrector: Any = None,
    classes: np.ndarray | None = None,
    n_features: int | None = None,
    estimated_noise_rate: float | None = None,
    checker_fits: int = 0,
    top_pairs: int = 20,
) -> RunSummary:
    """The summary of a cleaning run (:class:`~pico.results.RunSummary`).

    Parameters
    ----------
    given, labels, status : ndarray of shape (N,)
        Given labels, corrected labels and row statuses for all rows.
    keep : ndarray
        Indices of the labeled rows.
    groups : ndarray or None
        Duplicate-group id of each labeled row.
    options, timings : dict
        Recorded as they are.
    corrector : IterativeCorrector, optional
        The fitted corrector (labeled rows only): the classes, the iterations, the
        checker fits and the noise matrix come from it. Without one (the trigger
        cleaned nothing) they come from ``classes``, ``estimated_noise_rate`` and
        ``checker_fits``, and there is no noise matrix.
    n_features : int, optional
        Width of the feature matrix.
    top_pairs : int, default=20
        Confused pairs listed.
    """
    counts = Counter(status.tolist())
    g = given[keep].astype(str)
    f = labels[keep].astype(str)
    changed = g != f
    pairs = Counter(zip(g[changed].tolist(), f[changed].tolist()))
    reliability: list[float | None]
    if corrector is not None:
        classes = corrector.classes_
        reliability = [round(float(r), 4) for r in corrector.noise_matrix_.diagonal]
        estimated_noise_rate = corrector.iterations_[-1]["estimated_noise_rate"]
        checker_fits = corrector.n_fits_
    if classes is None or estimated_noise_rate is None:
        raise ValueError("build_summary needs a corrector, or classes and estimated_noise_rate")
    if corrector is None:
        reliability = [None] * len(classes)
    per_class: dict[str, dict[str, Any]] = {}
    st = status[keep]
    for ci, c in enumerate(classes.astype(str).tolist()):
        mine = g == c
        per_class[c] = {
            "given": int(mine.sum()),
            "final": int((f == c).sum()),
            "relabeled_away": int((mine & changed).sum()),
            "relabeled_into": int(((f == c) & changed).sum()),
            "review": int((mine & (st == "review")).sum()),
            "estimated_reliability": reliability[ci],
        }
    emptied = [c for c, v in per_class.items() if v["given"] > 0 and v["final"] == 0]
    n_labeled = len(keep)
    return RunSummary(
        rows=len(status),
        labeled_rows=int(n_labeled),
        classes=len(classes),
        features=None if n_features is None else int(n_features),
        status_counts={s: int(counts.get(s, 0)) for s in STATUSES},
        changed=int(changed.sum()),
        changed_fraction=round(float(changed.mean()) if n_labeled else 0.0, 6),
        estimated_noise_rate=round(float(estimated_noise_rate), 6),
        iterations=corrector.iterations_ if corrector is not None else [],
        checker_fits=int(checker_fits),
        top_confused_pairs=[
            {"from": a, "to": b, "count": int(n)} for (a, b), n in pairs.most_common(top_pairs)
        ],
        per_class=per_class,
        emptied_classes=emptied,
        guarded_classes=(
            {k: int(v) for k, v in corrector.guarded_classes_.items()}
            if corrector is not None else {}
        ),
        noise_matrix=(
            noise_entries(corrector.classes_, corrector.noise_matrix_)
            if corrector is not None else None
        ),
        duplicates=_duplicates(groups, g, f, changed),
        options=options,
        timings=timings,
    )


def _duplicates(
    groups: np.ndarray | None, g: np.ndarray, f: np.ndarray, changed: np.ndarray
) -> dict[str, int]:
    """Groups of identical texts among the labeled rows, and those whose labels conflict."""
    if groups is None:
        return dict.fromkeys(
            ("groups", "rows", "conflicting_groups", "conflicting_rows",
             "conflicting_rows_relabeled", "conflicting_groups_resolved"), 0
        )
    _, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    dup_rows = sizes[inverse] > 1
    conflict = np.zeros(len(sizes), dtype=bool)
    unresolved = np.zeros(len(sizes), dtype=bool)
    first: dict[int, str] = {}
    final_first: dict[int, str] = {}
    for gi, lab, fin in zip(inverse.tolist(), g.tolist(), f.tolist()):
        if first.setdefault(gi, lab) != lab:
            conflict[gi] = True
        if final_first.setdefault(gi, fin) != fin:
            unresolved[gi] = True
    rows = conflict[inverse]
    return {
        "groups": int((sizes > 1).sum()),
        "rows": int(dup_rows.sum()),
        "conflicting_groups": int(conflict.sum()),
        "conflicting_rows": int(rows.sum()),
        "conflicting_rows_relabeled": int((rows & changed).sum()),
        "conflicting_groups_resolved": int((conflict & ~unresolved).sum()),
    }


def noise_entries(classes: Any, noise: Any, floor: float = 0.005) -> dict[str, Any]:
    """The fitted noise matrix, sparse: its diagonal and the off-diagonal entries >= floor.

    ``T[c, l]`` is the probability that an example of true class c was given label l.
    ``noise`` is a :class:`~pico.vote.noise.NoiseMatrix` (as fitted: never made dense)
    or a dense (K, K) array.

    Examples
    --------
    >>> noise_entries(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.001, 0.999]]))
    {'classes': ['a', 'b'], 'diagonal': [0.9, 0.999], 'off': [['a', 'b', 0.1]]}
    """
    from .vote.noise import NoiseMatrix

    names = [str(c) for c in np.asarray(classes).tolist()]
    if not isinstance(noise, NoiseMatrix):
        noise = NoiseMatrix.from_dense(np.asarray(noise, dtype=np.float64))
    rows, cols, values = noise.off_diagonal(floor)
    return {
        "classes": names,
        "diagonal": [round(float(v), 4) for v in noise.diagonal],
        "off": [[names[i], names[j], round(float(v), 4)]
                for i, j, v in zip(rows.tolist(), cols.tolist(), values.tolist())],
    }


def format_summary(summary: dict[str, Any], *, output: str | None = None) -> str:
    """A few human-readable lines about a run (printed to stderr by the CLI).

    Examples
    --------
    >>> s = {"rows": 10, "labeled_rows": 9, "classes": 2, "changed": 1,
    ...      "changed_fraction": 1 / 9, "estimated_noise_rate": 0.1,
    ...      "status_counts": {"kept": 7, "relabeled": 1, "review": 1, "skipped": 1},
    ...      "top_confused_pairs": [{"from": "a", "to": "b", "count": 1}],
    ...      "duplicates": {"conflicting_groups": 0, "conflicting_rows": 0},
    ...      "iterations": [{}], "checker_fits": 20, "timings": {"total_seconds": 1.5}}
    >>> print(format_summary(s).splitlines()[0])
    pico: 10 rows, 9 labeled, 2 classes; estimated noise 10.0%
    """
    sc = summary["status_counts"]
    lines = [
        f"pico: {summary['rows']} rows, {summary['labeled_rows']} labeled, "
        f"{summary['classes']} classes; estimated noise {100 * summary['estimated_noise_rate']:.1f}%",
        f"  relabeled {sc['relabeled']} ({100 * summary['changed_fraction']:.2f}%), "
        f"review {sc['review']}, kept {sc['kept']}, skipped {sc['skipped']}",
    ]
    dup = summary["duplicates"]
    if dup.get("conflicting_groups"):
        resolved = dup.get("conflicting_groups_resolved", 0)
        outcome = (
            "each now carries one label"
            if resolved == dup["conflicting_groups"]
            else f"{resolved} now carry one label, the others keep their given labels"
        )
        lines.append(
            f"  {dup['conflicting_groups']} identical texts carried conflicting labels "
            f"({dup['conflicting_rows']} rows); {outcome}"
        )
    pairs = summary["top_confused_pairs"][:5]
    if pairs:
        lines.append(
            "  most frequent changes: "
            + ", ".join(f"{p['from']} -> {p['to']} ({p['count']})" for p in pairs)
        )
    held = {k: v for k, v in (summary.get("review_reasons") or {}).items() if v}
    if held:
        words = {
            "protected": "out of protected intents",
            "catch_all": "into or out of the catch-all intent below the odds' break-even",
            "weak_class": "out of intents the checkers cannot recognise",
            "low_confidence": "below the confidence threshold",
        }
        lines.append(
            "  moves left to review: "
            + ", ".join(f"{n} {words.get(k, k)}" for k, n in held.items())
        )
    guarded = summary.get("guarded_classes") or {}
    if guarded:
        lines.append(
            "  classes that would have lost more than max_class_loss of their rows (the "
            "weakest moves went to review): "
            + ", ".join(f"{c} ({n})" for c, n in list(guarded.items())[:5])
            + (" ..." if len(guarded) > 5 else "")
        )
    if summary.get("emptied_classes"):
        lines.append(f"  classes left without rows: {', '.join(summary['emptied_classes'])}")
    n_iter = len(summary["iterations"])
    lines.append(
        f"  {n_iter} iteration{'s' if n_iter != 1 else ''}, {summary['checker_fits']} "
        "checker fits, "
        f"{summary['timings']['total_seconds']:.1f} s"
    )
    if output:
        lines.append(f"  wrote {output}")
    return "\n".join(lines)


def check_reason(estimate: CheckEstimate) -> str:
    """The check's recommendation in one sentence, quoting the summary's rounded rates.

    Examples
    --------
    >>> estimate = CheckEstimate(0.02, (0.01, 0.03), 0.02, 0.02, 2.0, 2, 0.03, [], [], [], [],
    ...                          0.0, [], False, False, [])
    >>> check_reason(estimate)
    'estimated 2.0% (1.0-3.0%) wrong labels, not above 3%: cleaning is not needed'
    """
    shown = estimate.shown
    low, high = shown["interval"]
    pct = f"{100 * shown['noise_rate']:.1f}% ({100 * low:.1f}-{100 * high:.1f}%)"
    threshold = f"{100 * estimate.noise_threshold:g}%"
    if not estimate.clean:
        reason = f"estimated {pct} wrong labels, not above {threshold}: cleaning is not needed"
    elif estimate.everything:
        reason = (
            f"estimated {pct} wrong labels, above {threshold}, spread over most classes: "
            "clean the whole dataset"
        )
    else:
        reason = (
            f"estimated {pct} wrong labels, above {threshold}, mostly in "
            f"{len(estimate.focus)} of {estimate.n_classes} classes: clean those"
        )
    collapsed, lookalike = estimate.collapsed_pairs, estimate.lookalike_pairs
    if collapsed:
        pairs_say = "1 class has most of its rows" if len(collapsed) == 1 else (
            f"{len(collapsed)} classes have most of their rows"
        )
        reason += (
            f"; {pairs_say} labeled as another class (counted in the estimate: see "
            "collapsed pairs)"
        )
    if lookalike and estimate.lookalike_excess >= 1.0:  # rows the vote does not count
        pairs_say = "1 pair of classes looks" if len(lookalike) == 1 else (
            f"{len(lookalike)} pairs of classes look"
        )
        reason += (
            f"; {pairs_say} alike to the checkers: if that is mislabeling rather than "
            f"overlapping classes, up to {100 * shown['noise_rate_upper']:.1f}% of labels "
            "are wrong"
        )
    return reason


def format_check(summary: dict[str, Any], *, top: int = 10) -> str:
    """The result of ``pico check`` as a few human-readable lines.

    Examples
    --------
    >>> s = {"input": "a.csv", "rows": 100, "checked_rows": 100, "unknown_label_rows": 0,
    ...      "noise_rate": 0.1, "interval": [0.08, 0.12], "expected_wrong_rows": 10.0,
    ...      "recommendation": {"reason": "clean"}, "checker_fits": 2, "seconds": 1.0,
    ...      "classes": [{"label": "a", "rows": 50, "expected_wrong": 8.0,
    ...                   "noise_rate": 0.16}],
    ...      "pairs": [{"given": "a", "probable": "b", "expected_rows": 6.0}],
    ...      "conflicting_duplicates": []}
    >>> print(format_check(s).splitlines()[1])
    estimated wrong labels: 10.0% (95% sampling interval 8.0-12.0%), about 10 rows
    """
    lines = [
        f"pico check: {summary['input']}: {summary['rows']} rows, {summary['checked_rows']} "
        f"checked ({summary['checker_fits']} checker fits, {summary['seconds']:.1f} s)",
        f"estimated wrong labels: {100 * summary['noise_rate']:.1f}% (95% sampling interval "
        f"{100 * summary['interval'][0]:.1f}-{100 * summary['interval'][1]:.1f}%), about "
        f"{summary['expected_wrong_rows']:.0f} rows",
        f"recommendation: {summary['recommendation']['reason']}",
    ]
    if summary.get("unknown_label_rows"):
        lines.append(
            f"{summary['unknown_label_rows']} rows carry labels the reference does not have "
            "(new classes); they were not checked"
        )
    classes = [c for c in summary["classes"] if c["expected_wrong"] >= 0.5][:top]
    if classes:
        lines.append("classes with the most estimated wrong labels (rows, wrong, rate):")
        lines += [
            f"  {c['label']}: {c['rows']}, {c['expected_wrong']:.1f}, {100 * c['noise_rate']:.1f}%"
            for c in classes
        ]
    if summary["pairs"]:
        lines.append("most confused pairs (given label -> probable class: rows):")
        lines += [
            f"  {p['given']} -> {p['probable']}: {p['expected_rows']:.1f}"
            for p in summary["pairs"][:top]
        ]
    for key, title, last in (
        ("collapsed_pairs", ("collapsed pairs (given label ~ class most of whose rows it "
                             "carries: rows, rows still labeled as that class; counted in "
                             "the estimate):"), "{like_rows}"),
        ("lookalike_pairs", ("look-alike pairs (given label ~ class its rows look like: "
                             "rows, of which the estimate counts):"), "{vote_rows:.1f}"),
    ):
        listed = summary.get(key) or []
        if listed:
            lines.append(title)
            lines += [("  {given} ~ {like}: {rows:.1f}, " + last).format(**p)
                      for p in listed[:top]]
    dups = summary["conflicting_duplicates"]
    if dups:
        lines.append(
            f"{len(dups)} identical texts carry conflicting labels, e.g. rows "
            + "; ".join(
                f"{', '.join(map(str, d['rows'][:4]))} ({' / '.join(d['labels'])})"
                for d in dups[:3]
            )
        )
    return "\n".join(lines)
