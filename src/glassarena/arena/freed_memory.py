"""Handing memory the C allocator keeps after large computations back to the system.

glibc serves numpy's temporaries of a few MiB from its heaps (after a first large free it
raises its mmap threshold to 32 MiB), one heap per worker thread; what is freed below a
longer-lived allocation stays in the process. A server that fits style-controlled boards
over millions of votes after every vote would hold the fits' peak for good: with 2,000,000
votes, 12 rounds of four fits left 656 MiB resident, and 330 MiB with a trim after each round
(`benchmarks/bench_style_memory.py --rounds 12`). `malloc_trim(0)` returns the free pages
of every heap, in milliseconds; where the C library has no such call this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
