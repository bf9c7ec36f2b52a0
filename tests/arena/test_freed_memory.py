"""Freed memory goes back to the system after large computations (glibc's malloc_trim)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# A child process, so that what this test's own allocations leave does not count. It
# reproduces what the style fits leave: temporaries of a few MiB from a worker thread, each
# freed under a small allocation that outlives it, which glibc keeps in the thread's heap.
CHILD = """
import sys, threading
from pathlib import Path
import numpy as np
from glassarena.arena.freed_memory import release_freed_memory

def resident_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

kept = []
def fit():
    np.ones(8 << 20, dtype=np.uint8)  # one large free raises glibc's mmap threshold
    temporaries = []
    for _ in range(100):
        temporaries.append(np.ones(4 << 20, dtype=np.uint8))
        kept.append(bytearray(64))
    del temporaries

worker = threading.Thread(target=fit)
worker.start()
worker.join()
before = resident_mib()
released = release_freed_memory()
print(before, resident_mib(), released)
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_freed_temporaries_go_back_to_the_system() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    )
    before, after, released = result.stdout.split()
    assert released == "True"
    # 400 MiB of temporaries were freed: glibc kept most of them, the trim hands them back.
    assert int(before) - int(after) >= 200, result.stdout
