"""PICO: Probabilistic Iterative COrrection of labels.

Finds and fixes wrong labels in classification datasets. Start with :func:`clean`::

    import pico
    result = pico.clean(texts, labels)
    result.labels, result.confidence, result.status

The public names are loaded on first use, so ``import pico`` (and ``pico --help``)
stays fast; engines such as Ray and Spark are imported only by the modules that use
them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "clean": ".api",
    "check": ".trigger",
    "CheckResult": ".trigger",
    "Cleaner": ".api",
    "CleanResult": ".api",
    "IterativeCorrector": ".corrector",
    "BayesianVote": ".vote",
    "SoftmaxRegression": ".checkers",
    "NearestCentroid": ".checkers",
    "PicoError": ".exceptions",
    "InvalidInputError": ".exceptions",
    "MissingDependencyError": ".exceptions",
}

__all__ = [
    "__version__",
    "clean",
    "check",
    "CheckResult",
    "Cleaner",
    "CleanResult",
    "IterativeCorrector",
    "BayesianVote",
    "SoftmaxRegression",
    "NearestCentroid",
    "PicoError",
    "InvalidInputError",
    "MissingDependencyError",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pico' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
