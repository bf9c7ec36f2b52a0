"""Bootstrap on aggregated counts: resampling battles is a multinomial draw over the cells.

A cell holds the battles of one pair with one outcome (and one weight); drawing N battles
with replacement from the table is the same as drawing cell counts from
Multinomial(N, count / N). Rounds are fitted in vectorised batches, warm-started at the
full-data estimate, so a round costs a few batched Newton steps and never touches rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from glassarena.ratings._newton import fit_pairs_batch
from glassarena.ratings._pairs import PairTable

BATCH_CELLS = 4_000_000


def bootstrap_pairs(
    table: PairTable,
    theta: NDArray[np.float64],
    prior: float,
    rounds: int,
    rng: np.random.Generator,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[NDArray[np.float64], int]:
    """Strengths (natural log scale) for each round, and how many rounds had no finite MLE."""
    n_battles = round(table.n_battles)
    probability = table.cell_count / table.cell_count.sum()
    batch = max(1, min(rounds, BATCH_CELLS // max(len(probability), table.n_models**2)))
    samples = np.empty((rounds, table.n_models))
    unstable = 0
    for start in range(0, rounds, batch):
        size = min(batch, rounds - start)
        counts = rng.multinomial(n_battles, probability, size=size).astype(np.float64)
        wins, totals = table.pair_sums(counts)
        fitted, converged = fit_pairs_batch(
            table.first, table.second, wins, totals, table.n_models, prior, theta
        )
        samples[start : start + size] = fitted
        unstable += int((~converged).sum())
        if progress is not None:
            progress(start + size, rounds)
    return samples, unstable
