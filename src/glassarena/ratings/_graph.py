"""Can the maximum-likelihood ratings exist? Checked on the comparison graph before fitting.

The MLE is finite and unique exactly when the directed "beat" graph (an edge i -> j when i
won, or tied, at least once against j) is strongly connected (Zermelo 1929, Ford 1957).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from glassarena.ratings._pairs import PairTable
from glassarena.ratings.errors import DisconnectedGraphError, PerfectSeparationError

if TYPE_CHECKING:
    from scipy.sparse import coo_matrix


def require_finite_mle(models: NDArray[np.str_], table: PairTable) -> None:
    """Raise DisconnectedGraphError or PerfectSeparationError when no finite MLE exists."""
    n = table.n_models
    if n < 2:
        raise DisconnectedGraphError([list(models)])
    wins, totals = table.pair_sums()
    first_beat = wins > 0
    second_beat = totals - wins > 0
    winners = np.concatenate([table.first[first_beat], table.second[second_beat]])
    losers = np.concatenate([table.second[first_beat], table.first[second_beat]])
    if n <= _DENSE_MODELS and _strongly_connected(winners, losers, n):
        return
    # Only a board that cannot be rated needs its parts named: scipy's graph routines (a
    # tenth of a second to import) are loaded for that, not for every fit.
    from scipy.sparse.csgraph import connected_components

    undirected = _graph(table.first, table.second, n)
    parts, labels = connected_components(undirected, directed=False)
    if parts > 1:
        raise DisconnectedGraphError([models[labels == part].tolist() for part in range(parts)])
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


# Up to this many models the "beat" graph is checked as a dense matrix (n^2 booleans).
_DENSE_MODELS = 4_096


def _strongly_connected(winners: NDArray[np.intp], losers: NDArray[np.intp], n: int) -> bool:
    """Whether every model reaches, and is reached from, the first one along beat edges."""
    beats = np.zeros((n, n), dtype=bool)
    beats[winners, losers] = True
    return _reaches_all(beats) and _reaches_all(beats.T)


def _reaches_all(edges: NDArray[np.bool_]) -> bool:
    """Breadth-first from node 0; each node expands once, so O(n^2) in all."""
    seen = np.zeros(len(edges), dtype=bool)
    seen[0] = True
    frontier = seen.copy()
    while frontier.any():
        frontier = edges[frontier].any(axis=0) & ~seen
        seen |= frontier
    return bool(seen.all())


def _graph(source: NDArray[np.intp], target: NDArray[np.intp], n: int) -> coo_matrix:
    from scipy.sparse import coo_matrix

    return coo_matrix((np.ones(len(source)), (source, target)), shape=(n, n))
