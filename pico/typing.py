"""Type aliases shared across pico (numpy and scipy only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

__all__ = ["FeatureMatrix", "FloatArray", "IntArray", "LabelLike", "Texts"]

#: Labels as given by the user: any sequence of hashable values.
LabelLike = Union[Sequence[Any], npt.NDArray[Any]]
#: Features: dense (N, D) array or scipy sparse (N, D) matrix.
FeatureMatrix = Union[npt.NDArray[np.floating[Any]], sp.spmatrix, sp.sparray]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Texts = Sequence[str]
