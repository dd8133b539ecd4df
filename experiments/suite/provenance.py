"""Which code produced a result: the git commit of the working tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["code_version"]

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
