"""Shared test setup: the repository root on ``sys.path`` and an env-overridable seed.

Set ``PICO_TEST_SEED`` to rerun the seeded tests with another seed (hmmlearn's
``HMMLEARN_SEED`` pattern); the seed in use is printed so a failure can be replayed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _seed_from_env() -> int:
    raw = os.environ.get("PICO_TEST_SEED", "0")
    try:
        return int(raw)
    except ValueError as e:
        raise pytest.UsageError(
            f"PICO_TEST_SEED must be an integer; got {raw!r}. Unset it or pass e.g. 0."
        ) from e


@pytest.fixture
def seed() -> int:
    """Seed of the randomized tests; override with ``PICO_TEST_SEED=<int>``."""
    value = _seed_from_env()
    print(f"PICO_TEST_SEED={value}")
    return value
