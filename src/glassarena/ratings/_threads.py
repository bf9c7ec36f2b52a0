"""One BLAS thread for a fit's dense algebra.

A fit's matrices are models x models (plus a few style features), too small for a second
OpenBLAS thread to pay off; yet after each call that thread spins waiting for more work.
Measured on 1M battles, a Bradley-Terry fit burnt 30-60 % more CPU time with two threads
than with one, and on a shared 2-core machine at load 2 its median wall time was 0.26 s
against 0.10 s.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any, cast

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    # Built on first use, when numpy's and scipy's BLAS libraries are already loaded.
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """Limit BLAS to one thread inside the block; the previous setting comes back after."""
    # threadpoolctl ships no type information, hence the cast.
    return cast("AbstractContextManager[Any]", _controller().limit(limits=1, user_api="blas"))
