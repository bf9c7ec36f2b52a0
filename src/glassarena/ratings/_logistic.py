"""The logistic function and the normal quantile, in numpy and the standard library.

scipy.special has both, but importing it costs about 0.2 s of CPU (it loads scipy's array-API
layer), a fifth of a whole `glassarena rank` over a million battles. `expit` through tanh is
one ufunc pass, never overflows, and agrees with scipy's to 2.2e-16 absolute.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray


def expit(x: ArrayLike) -> NDArray[np.float64]:
    """1 / (1 + e^-x), elementwise, as 0.5 + 0.5 tanh(x / 2)."""
    out = np.multiply(x, 0.5, out=np.empty(np.shape(x)))
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def normal_quantile(probability: float) -> float:
    """The standard normal's quantile (scipy.stats.norm.ppf) of one probability."""
    return NormalDist().inv_cdf(probability)
