"""The detectors. Each looks at the votes still counted and says which to stop counting.

All tests are calibrated under the honest model the board itself assumes (Bradley-Terry
with ties as half a win, battles drawn by the arena's sampler), with a Bonferroni correction
over everything tested, so a detector fires on an honest board with probability <= alpha.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from glassarena.screening.reference import Reference, critical_z
from glassarena.screening.result import ModelShift, VoterFlag
from glassarena.screening.table import VoteTable

Mask = NDArray[np.bool_]
_DAY = 86_400.0


def time_order(table: VoteTable, mask: Mask) -> NDArray[np.intp]:
    """Positions of the votes in `mask`, oldest first (file order without times)."""
    positions = np.flatnonzero(mask)
    if table.time is None:
        return positions
    return positions[np.argsort(table.time[positions], kind="stable")]


def share_cap(
    table: VoteTable, counted: Mask, actor: NDArray[np.intp], share: float, floor: int
) -> Mask:
    """Votes beyond an actor's share of one model's counted votes (the later ones)."""
    m = table.n_models
    positions = time_order(table, counted)
    totals = np.bincount(table.model_a[positions], minlength=m) + np.bincount(
        table.model_b[positions], minlength=m
    )
    cap = np.maximum(floor, np.floor(share * totals))
    over = np.zeros(table.n_votes, dtype=bool)
    for side in (table.model_a, table.model_b):
        model = side[positions]
        occurrence = _occurrences_both_sides(table, positions, actor, model)
        over[positions[occurrence > cap[model]]] = True
    return over


def _occurrences_both_sides(
    table: VoteTable, positions: NDArray[np.intp], actor: NDArray[np.intp], model: NDArray[np.intp]
) -> NDArray[np.int64]:
    """For each vote (in `positions`' order), the 1-based count of the actor's votes so far
    that involve `model` on either side."""
    m = table.n_models
    n = len(positions)
    who = actor[positions].astype(np.int64)
    keys = np.concatenate([who * m + table.model_a[positions], who * m + table.model_b[positions]])
    when = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((when, keys))
    sorted_keys = keys[order]
    boundary = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    run_start = np.flatnonzero(boundary)
    run_id = np.cumsum(boundary) - 1
    occurrence = np.empty(2 * n, dtype=np.int64)
    occurrence[order] = np.arange(2 * n) - run_start[run_id] + 1
    wanted = who * m + model
    # the occurrence of this vote under `wanted` sits in the a half or the b half
    from_a = occurrence[:n]
    from_b = occurrence[n:]
    return np.where(keys[:n] == wanted, from_a, from_b)


def concentration(
    table: VoteTable,
    counted: Mask,
    actor: NDArray[np.intp],
    n_actors: int,
    settings_alpha: float,
    min_votes: int,
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """Actors whose votes involve one model far more often than the sampler shows it.

    Under honest use the battles a voter sees are draws from the arena's sampler, whose
    per-model frequency q_m is the share of all battles involving m; a voter who only votes
    when the target appears (and skips the rest) has a binomial excess no honest voter shows.
    Returns flagged actors, their -log10 p-value and the model concerned.
    """
    m = table.n_models
    q = (
        np.bincount(table.model_a, minlength=m) + np.bincount(table.model_b, minlength=m)
    ) / table.n_votes
    who = actor[counted].astype(np.int64)
    n_votes = np.bincount(who, minlength=n_actors)
    keys = np.concatenate([who * m + table.model_a[counted], who * m + table.model_b[counted]])
    pair, k = np.unique(keys, return_counts=True)
    pair_actor, pair_model = pair // m, pair % m
    eligible = n_votes[pair_actor] >= min_votes
    tests = int((n_votes >= min_votes).sum()) * m
    if tests == 0:
        return _no_actors()
    log_p = binom.logsf(k[eligible] - 1, n_votes[pair_actor[eligible]], q[pair_model[eligible]])
    hit = log_p < np.log(settings_alpha / tests)
    return _worst_per_actor(
        pair_actor[eligible][hit], -log_p[hit] / np.log(10.0), pair_model[eligible][hit]
    )


def disagreement(
    table: VoteTable,
    counted: Mask,
    reference: Reference,
    alpha: float,
    min_votes: int,
    min_agreement: float,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Voters whose votes follow the ratings significantly less than `min_agreement`.

    Each voter is modelled as following P(a wins) = expit(beta * (strength_a - strength_b)):
    the crowd has beta near 1, a coin-flipper 0, a voter siding with the weaker model < 0.
    The one-sided score test of beta >= min_agreement (scaled by the observed dispersion,
    since ties shrink the variance) is the likelihood check of FastChat's offline outlier
    analysis with an explicit effect size: an honest but careless voter with hundreds of
    votes is not flagged merely because a large sample makes any imperfection significant.
    """
    gap = reference.strength[table.model_a] - reference.strength[table.model_b]
    p = 1.0 / (1.0 + np.exp(-min_agreement * gap))
    voters = table.voter[counted]
    n = table.n_voters
    n_votes = np.bincount(voters, minlength=n)
    score = np.bincount(voters, ((table.outcome - p) * gap)[counted], n)
    variance = reference.dispersion * np.bincount(voters, (gap**2 * p * (1 - p))[counted], n)
    eligible = (n_votes >= min_votes) & (variance > 0)
    z = np.zeros(n)
    z[eligible] = score[eligible] / np.sqrt(variance[eligible])
    limit = critical_z(alpha, int(eligible.sum()), two_sided=False)
    flagged = np.flatnonzero(eligible & (z < -limit))
    return flagged, z[flagged]


def voter_agreement(
    table: VoteTable, counted: Mask, reference: Reference, steps: int = 8
) -> NDArray[np.float64]:
    """Per voter, the beta of P(a wins) = expit(beta * strength gap) by Newton steps from 1,
    kept within [0, 1]: the ratings followed fully, partly, or not at all."""
    gap = (reference.strength[table.model_a] - reference.strength[table.model_b])[counted]
    outcome = table.outcome[counted]
    voters = table.voter[counted]
    n = table.n_voters
    beta = np.ones(n)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-beta[voters] * gap))
        score = np.bincount(voters, (outcome - p) * gap, n)
        curvature = np.bincount(voters, gap**2 * p * (1 - p), n)
        beta = np.clip(beta + score / np.maximum(curvature, 1e-9), 0.0, 1.0)
    return beta


def favouritism(
    table: VoteTable,
    counted: Mask,
    reference: Reference,
    alpha: float,
    min_votes: int,
    margin: float,
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """Voters whose win share for one model beats (or falls short of) its rating's
    prediction by significantly more than `margin`: a matter of taste stays within it, a
    voter who always picks the target (about +0.5) does not. Returns every flagged
    (voter, model) pair: the evidence is about that model, so only those votes stop counting.

    The prediction is the voter's own: ratings scaled by how closely this voter follows
    them (`voter_agreement`), so a careless voter, whose weak models win half the time, is
    not mistaken for a fan of every weak model."""
    m = table.n_models
    gap = (reference.strength[table.model_a] - reference.strength[table.model_b])[counted]
    beta = voter_agreement(table, counted, reference)
    p = 1.0 / (1.0 + np.exp(-beta[table.voter[counted]] * gap))
    residual = table.outcome[counted] - p
    weight = p * (1 - p)
    who = table.voter[counted].astype(np.int64)
    n_votes = np.bincount(who, minlength=table.n_voters)
    keys = np.concatenate([who * m + table.model_a[counted], who * m + table.model_b[counted]])
    pair, inverse, votes_on = np.unique(keys, return_inverse=True, return_counts=True)
    score = np.abs(np.bincount(inverse, np.concatenate([residual, -residual]), len(pair)))
    score -= margin * votes_on
    variance = reference.dispersion * np.bincount(inverse, np.concatenate([weight, weight]))
    pair_actor = pair // m
    eligible = (n_votes[pair_actor] >= min_votes) & (variance > 0)
    tests = int((n_votes >= min_votes).sum()) * m
    if tests == 0:
        return _no_actors()
    z = np.zeros(len(pair))
    z[eligible] = score[eligible] / np.sqrt(variance[eligible])
    hit = eligible & (z > critical_z(alpha, tests))
    return pair_actor[hit].astype(np.intp), z[hit], (pair % m)[hit].astype(np.intp)


def cohort_shifts(
    table: VoteTable,
    counted: Mask,
    cohort: Mask,
    reference: Reference,
    alpha: float,
    window_seconds: float | None,
) -> tuple[list[ModelShift], Mask]:
    """Models the cohort rates differently from the reference, overall or (with a window)
    within one time window; and the cohort votes on them, which stop counting.

    Per group (model, or window and model) the statistic is the sum of the model's
    residuals (won - expected) over the cohort's votes. Its variance is the sampling
    variance plus the uncertainty of the reference ratings it is measured against
    (g' C g with g the gradient of the sum in the strengths): a model rated on few
    established votes is not flagged for what its own interval already allows.
    """
    m = table.n_models
    chosen = np.flatnonzero(counted & cohort)
    if len(chosen) == 0:
        return [], np.zeros(table.n_votes, dtype=bool)
    window = np.zeros(len(chosen), dtype=np.int64)
    newest = 0.0
    if window_seconds is not None:
        assert table.time is not None
        newest = float(table.time.max())
        window = np.floor((newest - table.time[chosen]) / window_seconds).astype(np.int64)
    p = reference.win_probability(table)[chosen]
    weight = p * (1 - p)
    residual = table.outcome[chosen] - p
    a, b = table.model_a[chosen], table.model_b[chosen]
    group = np.concatenate([window * m + a, window * m + b])
    opponent = np.concatenate([b, a])
    side_residual = np.concatenate([residual, -residual])
    side_won = np.concatenate([table.outcome[chosen], 1 - table.outcome[chosen]])
    side_expected = np.concatenate([p, 1 - p])
    side_weight = np.concatenate([weight, weight])
    groups, inverse = np.unique(group, return_inverse=True)
    g_count = np.bincount(inverse, minlength=len(groups))
    score = np.bincount(inverse, side_residual, len(groups))
    total_weight = np.bincount(inverse, side_weight, len(groups))
    # gradient of each group's score in the strengths: -W at the model, +w at each opponent
    gradient = np.zeros((len(groups), m))
    np.add.at(gradient, (inverse, opponent), side_weight)
    gradient[np.arange(len(groups)), groups % m] -= total_weight
    rating_variance = np.einsum("gi,ij,gj->g", gradient, reference.covariance, gradient)
    variance = reference.dispersion * total_weight + rating_variance
    z = score / np.sqrt(np.maximum(variance, 1e-12))
    limit = critical_z(alpha, len(groups))
    # Only the strongest group per window is flagged per call: a target inflated by rigged
    # votes drags its opponents' residuals down too, and those shadows vanish once its votes
    # stop counting. The caller repeats until nothing is left above the limit.
    window_of = groups // m
    order = np.lexsort((-np.abs(z), window_of))
    strongest = order[np.r_[True, window_of[order][1:] != window_of[order][:-1]]]
    flagged = strongest[np.abs(z[strongest]) > limit]
    won = np.bincount(inverse, side_won, len(groups))
    expected = np.bincount(inverse, side_expected, len(groups))
    reason = "model-shift" if window_seconds is None else "burst"
    shifts = []
    drop = np.zeros(table.n_votes, dtype=bool)
    for index in flagged:
        model = int(groups[index] % m)
        window_index = int(groups[index] // m)
        start = end = None
        in_window = np.ones(len(chosen), dtype=bool)
        if window_seconds is not None:
            end = newest - window_index * window_seconds
            start = end - window_seconds
            in_window = window == window_index
        drop[chosen[in_window & ((a == model) | (b == model))]] = True
        shifts.append(
            ModelShift(
                model=str(table.models[model]),
                reason=reason,
                z=float(z[index]),
                cohort_votes=int(g_count[index]),
                observed_win_share=float(won[index] / g_count[index]),
                expected_win_share=float(expected[index] / g_count[index]),
                window_start=start,
                window_end=end,
            )
        )
    return shifts, drop


def cohort_voters(table: VoteTable, low_history_votes: int, new_voter_days: float) -> Mask:
    """Per voter: fewer than `low_history_votes` votes, or first seen within the last days."""
    votes = np.bincount(table.voter, minlength=table.n_voters)
    cohort = votes < low_history_votes
    if table.time is not None:
        first_seen = np.full(table.n_voters, np.inf)
        np.minimum.at(first_seen, table.voter, table.time)
        cohort |= first_seen >= table.time.max() - new_voter_days * _DAY
    return cohort


def flags_for(
    kind: str,
    names: NDArray[np.object_],
    actors: NDArray[np.intp],
    statistic: NDArray[np.float64],
    models: NDArray[np.intp] | None,
    reason: str,
    votes: NDArray[np.int64],
    model_names: NDArray[np.str_],
) -> list[VoterFlag]:
    return [
        VoterFlag(
            kind=kind,
            name=str(names[actor]),
            reason=reason,
            votes=int(votes[actor]),
            statistic=float(statistic[i]),
            model=None if models is None else str(model_names[models[i]]),
        )
        for i, actor in enumerate(actors.tolist())
    ]


def _worst_per_actor(
    actor: NDArray[np.int64], statistic: NDArray[np.float64], model: NDArray[np.int64]
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """One row per actor: its strongest evidence."""
    if len(actor) == 0:
        return _no_actors()
    order = np.lexsort((-statistic, actor))
    first = np.r_[True, actor[order][1:] != actor[order][:-1]]
    keep = order[first]
    return actor[keep].astype(np.intp), statistic[keep], model[keep].astype(np.intp)


def _no_actors() -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    return np.zeros(0, np.intp), np.zeros(0), np.zeros(0, np.intp)

