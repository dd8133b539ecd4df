"""Which code produced a result: the git commit of the working tree."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

__all__ = ["code_diff_digest", "code_version"]

REPO = Path(__file__).resolve().parents[2]


def code_version() -> str:
    """The git commit of the code that runs (with ``+changes`` when the tree is dirty)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def code_diff_digest() -> str | None:
    """Short SHA-256 of ``git diff HEAD`` (tracked files) when the tree is dirty, else None.

    Tells apart two results from the same ``commit+changes``: the same digest is the
    same uncommitted code.
    """
    try:
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--no-color", "--no-ext-diff"],
            cwd=REPO, capture_output=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return hashlib.sha256(diff).hexdigest()[:12] if diff else None
