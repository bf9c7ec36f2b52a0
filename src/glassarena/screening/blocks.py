"""Votes taken a block at a time, for the detectors that hold several arrays per vote.

Their temporaries then stay tens of MiB however many votes the arena holds: all at once,
at ten million votes, they were a gigabyte on top of the votes themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from glassarena.screening.table import Codes

_BLOCK = 1 << 20


def chunks(positions: NDArray[np.intp]) -> Iterator[NDArray[np.intp]]:
    """`positions` in slices of at most _BLOCK votes."""
    return (positions[start : start + _BLOCK] for start in range(0, len(positions), _BLOCK))


def actor_blocks(actor: Codes, positions: NDArray[np.intp]) -> Iterator[NDArray[np.intp]]:
    """`positions` in blocks of about _BLOCK votes (ascending), each holding every vote of
    its actors, so that per-actor statistics can be computed block by block."""
    if len(positions) <= _BLOCK:
        yield positions
        return
    who = actor[positions]
    votes = np.bincount(who)
    # Actors fill the blocks in code order: each goes where its first vote would fall.
    block_of_actor = ((np.cumsum(votes) - votes) // _BLOCK).astype(np.int32)
    block = block_of_actor[who]
    del who
    for number in range(int(block_of_actor[-1]) + 1):
        chosen = positions[block == number]
        if len(chosen):
            yield chosen
