"""The run summary: counts, per-class changes, confused pairs; no computation of labels."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .corrector import STATUSES

__all__ = ["build_summary", "format_check", "format_summary", "load_summary", "noise_entries"]


def build_summary(
    *,
    given: np.ndarray,
    labels: np.ndarray,
    status: np.ndarray,
    corrector: Any,
    keep: np.ndarray,
    groups: np.ndarray | None,
    options: dict[str, Any],
    timings: dict[str, float],
    n_features: int,
    top_pairs: int = 20,
) -> dict[str, Any]:
    """JSON-ready summary of a cleaning run.

    Parameters
    ----------
    given, labels, status : ndarray of shape (N,)
        Given labels, corrected labels and row statuses for all rows.
    corrector : IterativeCorrector
        The fitted corrector (labeled rows only).
    keep : ndarray
        Indices of the labeled rows.
    groups : ndarray or None
        Duplicate-group id of each labeled row.
    options, timings : dict
        Recorded as they are.
    n_features : int
        Width of the feature matrix.
    top_pairs : int, default=20
        Confused pairs listed.
    """
    counts = Counter(status.tolist())
    g = given[keep].astype(str)
    f = labels[keep].astype(str)
    changed = g != f
    pairs = Counter(zip(g[changed].tolist(), f[changed].tolist()))
    per_class: dict[str, dict[str, Any]] = {}
    reliability = np.diag(corrector.noise_)
    st = status[keep]
    for ci, c in enumerate(corrector.classes_.astype(str).tolist()):
        mine = g == c
        per_class[c] = {
            "given": int(mine.sum()),
            "final": int((f == c).sum()),
            "relabeled_away": int((mine & changed).sum()),
            "relabeled_into": int(((f == c) & changed).sum()),
            "review": int((mine & (st == "review")).sum()),
            "estimated_reliability": round(float(reliability[ci]), 4),
        }
    emptied = [c for c, v in per_class.items() if v["given"] > 0 and v["final"] == 0]
    duplicates: dict[str, int] = {
        "groups": 0,
        "rows": 0,
        "conflicting_groups": 0,
        "conflicting_rows": 0,
        "conflicting_rows_relabeled": 0,
        "conflicting_groups_resolved": 0,
    }
    if groups is not None:
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
        duplicates = {
            "groups": int((sizes > 1).sum()),
            "rows": int(dup_rows.sum()),
            "conflicting_groups": int(conflict.sum()),
            "conflicting_rows": int(rows.sum()),
            "conflicting_rows_relabeled": int((rows & changed).sum()),
            "conflicting_groups_resolved": int((conflict & ~unresolved).sum()),
        }
    n_labeled = len(keep)
    return {
        "rows": len(status),
        "labeled_rows": int(n_labeled),
        "classes": len(corrector.classes_),
        "features": int(n_features),
        "status_counts": {s: int(counts.get(s, 0)) for s in STATUSES},
        "changed": int(changed.sum()),
        "changed_fraction": round(float(changed.mean()) if n_labeled else 0.0, 6),
        "estimated_noise_rate": round(
            float(corrector.iterations_[-1]["estimated_noise_rate"]), 6
        ),
        "iterations": corrector.iterations_,
        "checker_fits": int(corrector.n_fits_),
        "top_confused_pairs": [
            {"from": a, "to": b, "count": int(n)} for (a, b), n in pairs.most_common(top_pairs)
        ],
        "per_class": per_class,
        "emptied_classes": emptied,
        "guarded_classes": {k: int(v) for k, v in corrector.guarded_classes_.items()},
        "noise_matrix": noise_entries(corrector.classes_, corrector.noise_),
        "duplicates": duplicates,
        "options": options,
        "timings": timings,
    }


def load_summary(run_dir: Path) -> dict[str, Any]:
    """The summary.json of a run directory, or an error saying what RUN_DIR must be."""
    from .exceptions import InvalidInputError
    from .run import read_json_file

    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise InvalidInputError(
            f"{run_dir} holds no finished run (no summary.json); pass the folder a finished "
            "pico clean wrote (its --run-dir), or finish the run with pico clean --resume"
        )
    summary = read_json_file(path, "the run's summary")
    if not isinstance(summary.get("options"), dict):
        raise InvalidInputError(
            f"{path} is damaged: it has no options. Run pico clean again to rewrite it"
        )
    return summary


def noise_entries(classes: Any, noise: np.ndarray, floor: float = 0.005) -> dict[str, Any]:
    """The fitted noise matrix, sparse: its diagonal and the off-diagonal entries >= floor.

    ``T[c, l]`` is the probability that an example of true class c was given label l.

    Examples
    --------
    >>> noise_entries(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.001, 0.999]]))
    {'classes': ['a', 'b'], 'diagonal': [0.9, 0.999], 'off': [['a', 'b', 0.1]]}
    """
    names = [str(c) for c in np.asarray(classes).tolist()]
    off = noise.copy()
    np.fill_diagonal(off, 0.0)
    rows, cols = np.nonzero(off >= floor)
    return {
        "classes": names,
        "diagonal": [round(float(v), 4) for v in np.diag(noise)],
        "off": [[names[i], names[j], round(float(off[i, j]), 4)]
                for i, j in zip(rows.tolist(), cols.tolist())],
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
    collapsed = summary.get("collapsed_pairs") or []
    if collapsed:
        lines.append(
            "collapsed pairs (given label ~ class most of whose rows it carries: rows, rows "
            "still labeled as that class; counted in the estimate):"
        )
        lines += [
            f"  {p['given']} ~ {p['like']}: {p['rows']:.1f}, {p['like_rows']}"
            for p in collapsed[:top]
        ]
    lookalike = summary.get("lookalike_pairs") or []
    if lookalike:
        lines.append(
            "look-alike pairs (given label ~ class its rows look like: rows, of which the "
            "estimate counts):"
        )
        lines += [
            f"  {p['given']} ~ {p['like']}: {p['rows']:.1f}, {p['vote_rows']:.1f}"
            for p in lookalike[:top]
        ]
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
