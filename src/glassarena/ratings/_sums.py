"""Weighted sums by index: `np.bincount` with weights, typed as the floats it returns."""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray


def sums_by_index(index: ArrayLike, weights: ArrayLike, length: int) -> NDArray[np.float64]:
    """`out[i]` = the sum of `weights` where `index == i`, for i < `length` (or more)."""
    # numpy's stubs type every bincount as integer counts; with weights it sums as float64.
    return cast("NDArray[np.float64]", np.bincount(index, weights, length))
