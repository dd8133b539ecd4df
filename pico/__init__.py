"""PICO: Probabilistic Iterative COrrection of labels.

Finds and fixes wrong labels in classification datasets. Start with :func:`clean`::

    import pico
    result = pico.clean(texts, labels)
    result.labels, result.confidence, result.status

Only numpy, scipy, scikit-learn and pandas are needed by this package's core; engines
such as Ray and Spark are imported lazily by the modules that use them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import Cleaner, CleanResult, clean
from .checkers import NearestCentroid, SoftmaxRegression
from .corrector import IterativeCorrector
from .exceptions import InvalidInputError, MissingDependencyError, PicoError
from .vote import BayesianVote

__all__ = [
    "__version__",
    "clean",
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
