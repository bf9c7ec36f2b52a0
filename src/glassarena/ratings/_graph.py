"""Can the maximum-likelihood ratings exist? Checked on the comparison graph before fitting.

The MLE is finite and unique exactly when the directed "beat" graph (an edge i -> j when i
won, or tied, at least once against j) is strongly connected (Zermelo 1929, Ford 1957).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from glassarena.ratings._pairs import PairTable
from glassarena.ratings.errors import DisconnectedGraphError, PerfectSeparationError


def require_finite_mle(models: NDArray[np.str_], table: PairTable) -> None:
    """Raise DisconnectedGraphError or PerfectSeparationError when no finite MLE exists."""
    n = table.n_models
    if n < 2:
        raise DisconnectedGraphError([list(models)])
    undirected = _graph(table.first, table.second, n)
    parts, labels = connected_components(undirected, directed=False)
    if parts > 1:
        raise DisconnectedGraphError([models[labels == part].tolist() for part in range(parts)])

    wins, totals = table.pair_sums()
    first_beat = wins > 0
    second_beat = totals - wins > 0
    winners = np.concatenate([table.first[first_beat], table.second[second_beat]])
    losers = np.concatenate([table.second[first_beat], table.first[second_beat]])
    groups, labels = connected_components(
        _graph(winners, losers, n), directed=True, connection="strong"
    )
    if groups == 1:
        return
    winner_group, loser_group = labels[winners], labels[losers]
    across = winner_group != loser_group
    beaten = np.zeros(groups, dtype=bool)
    beaten[loser_group[across]] = True
    beat_someone = np.zeros(groups, dtype=bool)
    beat_someone[winner_group[across]] = True
    unbeaten = [models[labels == group].tolist() for group in np.flatnonzero(~beaten)]
    winless = [models[labels == group].tolist() for group in np.flatnonzero(~beat_someone)]
    if groups == 2:
        # Two groups state one fact twice ("X never lost" = "the rest never won"); name the
        # smaller side, which is where the extra battles are needed.
        if len(unbeaten[0]) < len(winless[0]):
            winless = []
        elif len(winless[0]) < len(unbeaten[0]):
            unbeaten = []
    raise PerfectSeparationError(unbeaten=unbeaten, winless=winless)


def _graph(source: NDArray[np.intp], target: NDArray[np.intp], n: int) -> coo_matrix:
    return coo_matrix((np.ones(len(source)), (source, target)), shape=(n, n))
