"""The detectors. Each looks at the votes still counted and says which to stop counting.

All tests are calibrated under the honest model the board itself assumes (Bradley-Terry
with ties as half a win, battles drawn by the arena's sampler), with a Bonferroni correction
over everything tested, so a detector fires on an honest board with probability <= alpha.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from glassarena.ratings._logistic import expit
from glassarena.screening.blocks import actor_blocks, chunks
from glassarena.screening.reference import Reference, critical_z
from glassarena.screening.result import ModelShift, VoterFlag
from glassarena.screening.table import Codes, VoteTable

Mask = NDArray[np.bool_]
_DAY = 86_400.0


def time_order(table: VoteTable, positions: NDArray[np.intp]) -> NDArray[np.intp]:
    """These (ascending) positions, oldest vote first (file order without times)."""
    if table.time is None:
        return positions
    return positions[np.argsort(table.time[positions], kind="stable")]


def share_cap(table: VoteTable, counted: Mask, actor: Codes, share: float, floor: int) -> Mask:
    """Votes beyond an actor's share of one model's counted votes (the later ones)."""
    m = table.n_models
    positions = np.flatnonzero(counted)
    totals = np.bincount(table.model_a[positions], minlength=m) + np.bincount(
        table.model_b[positions], minlength=m
    )
    cap = np.maximum(floor, np.floor(share * totals))
    over = np.zeros(table.n_votes, dtype=bool)
    for block in actor_blocks(actor, positions):
        _mark_over_cap(table, block, actor, cap, over)
    return over


def _mark_over_cap(
    table: VoteTable,
    positions: NDArray[np.intp],
    actor: Codes,
    cap: NDArray[np.float64],
    over: Mask,
) -> None:
    """Set `over` at the votes beyond the cap among `positions` (every vote of its actors)."""
    m = table.n_models
    # Only an (actor, model) with more votes than the model's cap can pass it: counting
    # finds those, and only their votes need ordering by time.
    n = len(positions)
    who = actor[positions].astype(np.int64)
    keys = side_keys(table, positions, who)
    pair, inverse, count = group(keys, (int(actor.max()) + 1) * m)
    beyond = count > cap[pair % m]
    if not beyond.any():
        return
    involved = time_order(table, positions[beyond[inverse[:n]] | beyond[inverse[n:]]])
    occurrence_a, occurrence_b = _occurrences(table, involved, actor)
    passed = (occurrence_a > cap[table.model_a[involved]]) | (
        occurrence_b > cap[table.model_b[involved]]
    )
    over[involved[passed]] = True


def side_keys(
    table: VoteTable, positions: NDArray[np.intp], who: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The (actor, model) key, actor * M + model, of each vote's model a, then of each
    vote's model b: a vote involves both models, so an actor's count per model takes both."""
    m = table.n_models
    return np.concatenate([who * m + table.model_a[positions], who * m + table.model_b[positions]])


# Up to this many possible keys, grouping counts into an array instead of sorting.
_DENSE_KEYS = 1 << 24


def group(
    keys: NDArray[np.int64], size: int
) -> tuple[NDArray[np.int64], NDArray[np.intp], NDArray[np.int64]]:
    """`np.unique(keys, return_inverse=True, return_counts=True)` for keys in [0, size),
    without a sort when the key space is small enough to count into (the detectors group
    millions of (voter, model) keys on every pass)."""
    if size > _DENSE_KEYS:
        unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        return unique, inverse.ravel(), counts
    every = np.bincount(keys, minlength=size)
    unique = np.flatnonzero(every)
    index = np.zeros(size, dtype=np.intp)
    index[unique] = np.arange(len(unique))
    return unique.astype(np.int64), index[keys], every[unique]


def _occurrences(
    table: VoteTable, positions: NDArray[np.intp], actor: Codes
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For each vote (in `positions`' order), the 1-based count of the actor's votes so far
    that involve its model a, and its model b, on either side."""
    n = len(positions)
    who = actor[positions].astype(np.int64)
    keys = side_keys(table, positions, who)
    when = np.concatenate([np.arange(n), np.arange(n)])
    # one composite integer per (key, time): a plain sort orders by key, then by time
    order = np.argsort(keys * (n + 1) + when)
    sorted_keys = keys[order]
    boundary = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    run_start = np.flatnonzero(boundary)
    run_id = np.cumsum(boundary) - 1
    occurrence = np.empty(2 * n, dtype=np.int64)
    occurrence[order] = np.arange(2 * n) - run_start[run_id] + 1
    return occurrence[:n], occurrence[n:]


@dataclass(frozen=True)
class Sampler:
    """What the arena's sampler shows voters, estimated from the battles in a basis (the
    established voters' votes, so that a flood of rigged votes on one model cannot make the
    other models look rare and honest voters look skewed): per model the share of battles
    involving it, per pair the share of battles between the two."""

    model: NDArray[np.float64]
    pair: NDArray[np.float64]

    @classmethod
    def estimate(cls, table: VoteTable, basis: Mask) -> Sampler:
        m = table.n_models
        total = max(int(basis.sum()), 1)
        pair = np.zeros((m, m))
        np.add.at(pair, (table.model_a[basis], table.model_b[basis]), 1.0)
        pair = (pair + pair.T) / total
        counts = np.bincount(table.model_a[basis], minlength=m) + np.bincount(
            table.model_b[basis], minlength=m
        )
        return cls(np.maximum(counts, 1) / total, pair)


def concentration(
    table: VoteTable,
    counted: Mask,
    actor: Codes,
    n_actors: int,
    alpha: float,
    min_votes: int,
    max_set: int,
    sampler: Sampler,
) -> Concentrated:
    """Actors whose votes fall on a few models far more often than the sampler shows them.

    An honest voter's battles are draws from the arena's sampler; a voter who votes only
    when the target (or the target and its rivals) appears, skipping the rest, covers a
    small set of models no honest voter covers. For each actor and s = 1..max_set the set is
    the actor's s most frequent models; its votes touching the set are compared with a
    binomial at the share of the sampler's battles that touch the set (the models' shares
    less the battles between two of them, counted twice). The Bonferroni count is every
    possible set: actors * C(M, s). Returns the flagged actors with their evidence.
    """
    m = table.n_models
    positions, n_votes, eligible = _eligible(counted, actor, n_actors, min_votes)
    eligible_actors = int(eligible.sum())
    if eligible_actors == 0 or len(positions) == 0:
        return Concentrated(*_no_actors(), [])
    # Only eligible actors are tested, and each actor's test sees only its own votes.
    positions = positions[eligible[actor[positions]]]
    sizes = min(max_set, m)
    top = np.full((n_actors, sizes), -1, dtype=np.int64)  # each actor's models, by frequency
    # per actor and s: its votes whose best-ranked model is its s-th most frequent
    touching = np.zeros((n_actors, sizes), dtype=np.int64)
    for block in actor_blocks(actor, positions):
        _rank_models(table, block, actor, n_actors, top, touching)
    # Imported here: scipy.stats takes most of a second, and the server, which imports the
    # screening package for its settings, never screens itself.
    from scipy.stats import binom

    best_log_p = np.zeros(n_actors)
    best_size = np.ones(n_actors, dtype=np.int64)
    log_sets = np.log(float(m))  # log C(M, s), accumulated below
    covered = np.zeros(n_actors)
    rate = np.zeros(n_actors)
    for size in range(1, sizes + 1):
        if size > 1:
            log_sets += np.log((m - size + 1) / size)
        covered += touching[:, size - 1]
        newest = top[:, size - 1]
        has = newest >= 0
        rate[has] += sampler.model[newest[has]]
        for earlier in range(size - 1):
            rate[has] -= sampler.pair[newest[has], top[has, earlier]]
        active = (n_votes >= min_votes) & (covered > 0)
        log_p = np.zeros(n_actors)
        log_p[active] = binom.logsf(
            covered[active] - 1, n_votes[active], np.clip(rate[active], 1e-12, 1.0)
        )
        corrected = log_p + log_sets + np.log(max_set)
        best_size[corrected < best_log_p] = size
        best_log_p = np.minimum(best_log_p, corrected)
    threshold = np.log(alpha / eligible_actors)
    flagged = np.flatnonzero(best_log_p < threshold)
    model_sets = [
        frozenset(top[actor_code, : best_size[actor_code]].tolist()) for actor_code in flagged
    ]
    return Concentrated(
        flagged.astype(np.intp),
        -best_log_p[flagged] / np.log(10.0),
        top[flagged, 0].astype(np.intp),
        model_sets,
    )


@dataclass(frozen=True)
class Concentrated:
    """Actors flagged by `concentration`: their -log10 p-value, most frequent model, and the
    set of models their votes were found concentrated on."""

    actors: NDArray[np.intp]
    statistic: NDArray[np.float64]
    model: NDArray[np.intp]
    model_sets: list[frozenset[int]]


def _eligible(
    counted: Mask, actor: Codes, n_actors: int, min_votes: int
) -> tuple[NDArray[np.intp], NDArray[np.int64], Mask]:
    """The counted votes' positions, each actor's number of them, and whether it has enough
    to be tested."""
    positions = np.flatnonzero(counted)
    n_votes = np.bincount(actor[positions], minlength=n_actors)
    return positions, n_votes, n_votes >= min_votes


# At most this many distinct model sets of flagged actors are looked for in the others'
# votes (the most shared first): each costs one pass over the votes.
_SHARED_SETS = 8


def shared_concentration(
    table: VoteTable,
    counted: Mask,
    actor: Codes,
    n_actors: int,
    alpha: float,
    min_votes: int,
    sampler: Sampler,
    model_sets: Sequence[frozenset[int]],
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """Actors whose votes fall on a set of models that `concentration` found other actors'
    votes concentrated on, far more often than the sampler shows that set.

    The omnipresent attacker's identities all vote in battles of the target and its rivals.
    Where those are the arena's most sampled models, that set covers much of every honest
    voter's battles too, and an identity with 50 votes can stay under `concentration`'s
    limit, which allows for every set of up to `max_set` models an actor might have
    favoured. Once its fellows are flagged, the set is known: each remaining actor is
    tested for that set alone (a binomial at the share of the sampler's battles touching
    it), with Bonferroni over the actors and the sets tested. Returns flagged actors, their
    -log10 p-value and a model of the set that flagged them (its lowest code)."""
    ranked = [model_set for model_set, _ in Counter(model_sets).most_common(_SHARED_SETS)]
    positions, n_votes, eligible = _eligible(counted, actor, n_actors, min_votes)
    if not ranked or not eligible.any():
        return _no_actors()
    from scipy.stats import binom  # see `concentration`

    best_log_p = np.zeros(n_actors)
    best_set = np.zeros(n_actors, dtype=np.int64)
    for number, model_set in enumerate(ranked):
        members = np.array(sorted(model_set), dtype=np.intp)
        in_set = np.zeros(table.n_models, dtype=bool)
        in_set[members] = True
        share = sampler.model[members].sum() - sampler.pair[np.ix_(members, members)].sum() / 2
        covered = np.zeros(n_actors)
        for chunk in chunks(positions):
            touching = in_set[table.model_a[chunk]] | in_set[table.model_b[chunk]]
            covered += np.bincount(actor[chunk], touching, n_actors)
        log_p = np.zeros(n_actors)
        active = eligible & (covered > 0)
        log_p[active] = binom.logsf(
            covered[active] - 1, n_votes[active], np.clip(share, 1e-12, 1.0)
        )
        better = log_p < best_log_p
        best_set[better] = number
        best_log_p = np.minimum(best_log_p, log_p)
    threshold = np.log(alpha / (int(eligible.sum()) * len(ranked)))
    flagged = np.flatnonzero(best_log_p < threshold)
    first = np.array([min(model_set) for model_set in ranked], dtype=np.intp)
    return flagged.astype(np.intp), -best_log_p[flagged] / np.log(10.0), first[best_set[flagged]]


def _rank_models(
    table: VoteTable,
    positions: NDArray[np.intp],
    actor: Codes,
    n_actors: int,
    top: NDArray[np.int64],
    touching: NDArray[np.int64],
) -> None:
    """For the actors of `positions` (all their votes): their most frequent models into
    `top`, and into `touching[:, s]` their votes whose best-ranked model is the s-th."""
    m = table.n_models
    sizes = top.shape[1]
    who = actor[positions].astype(np.int64)
    keys = side_keys(table, positions, who)
    pair, inverse, k = group(keys, n_actors * m)
    del keys
    pair_actor, pair_model = pair // m, pair % m
    # rank of each model within its actor, most frequent first (ties: the lower model code)
    most = int(k.max()) + 1
    order = np.argsort(pair_actor * most + (most - 1 - k), kind="stable")
    first_of_actor = np.r_[True, pair_actor[order][1:] != pair_actor[order][:-1]]
    start = np.maximum.accumulate(np.where(first_of_actor, np.arange(len(order)), 0))
    rank = np.empty(len(pair), dtype=np.int64)
    rank[order] = np.arange(len(order)) - start
    within = rank < sizes
    top[pair_actor[within], rank[within]] = pair_model[within]
    n = len(positions)
    vote_rank = np.minimum(rank[inverse[:n]], rank[inverse[n:]])  # best-ranked model touched
    near = vote_rank < sizes
    cells = who[near] * sizes + vote_rank[near]
    touching += np.bincount(cells, minlength=touching.size).reshape(touching.shape)


def swarm(
    table: VoteTable,
    counted: Mask,
    cohort_voter: Mask,
    alpha: float,
    sampler: Sampler,
    reference: Reference,
) -> tuple[list[int], Mask]:
    """Many short-lived voters each of whose votes all involve the same model.

    A voter with n >= 2 votes has all of them involve model m with probability q_m ** n
    under the sampler. A voter with a single vote always "involves" two models, so for them
    what counts is the model they voted *for*: m wins a random battle with probability
    sum_j pair(m, j) * P(m beats j) under the sampler and the reference ratings (ties
    counted half, so this over-states strict wins and errs towards not flagging). The
    numbers of such cohort voters, with several votes and with one, are compared per model
    with their expectations (Poisson tails, Bonferroni over both tests and the models). A
    Sybil swarm of identities casting one, two or three votes each, always for the target,
    stands out however many identities it uses; a one-vote swarm is invisible to every
    per-voter test and, among thousands of honest new voters, too small for the cohort's
    rating shift. Returns the flagged models and the votes of those voters.
    """
    m = table.n_models
    positions = np.flatnonzero(counted & cohort_voter[table.voter])
    voters = table.voter[positions]
    n_votes = np.bincount(voters, minlength=table.n_voters)
    drop = np.zeros(table.n_votes, dtype=bool)
    if len(positions) == 0:
        return [], drop
    # the model shared by all of a voter's votes, if any: counted per (voter, model), a
    # block of voters at a time (in a young arena every voter is in the cohort)
    shared = [
        _shared_model(table, block, n_votes) for block in actor_blocks(table.voter, positions)
    ]
    shared_voter, shared_model = (np.concatenate(part) for part in zip(*shared, strict=True))
    observed = np.bincount(shared_model, minlength=m)
    sizes = n_votes[n_votes >= 2]
    expected = np.array([np.sum(q_m**sizes) for q_m in sampler.model])
    lone = positions[n_votes[voters] == 1]
    outcome = table.outcome[lone]
    voted_for = np.where(
        outcome == 1.0, table.model_a[lone], np.where(outcome == 0.0, table.model_b[lone], -1)
    )
    lone_observed = np.bincount(voted_for[voted_for >= 0], minlength=m)
    beats = expit(reference.strength[:, None] - reference.strength[None, :])
    lone_expected = len(lone) * (sampler.pair * beats).sum(axis=1)
    # Two tests per model, apart: pooled, the many honest one-vote voters would drown a
    # swarm of two- or three-vote identities that no honest crowd produces.
    limit = alpha / (2 * m)
    from scipy.stats import poisson  # see `concentration`

    many = (observed >= 2) & (poisson.sf(observed - 1, np.maximum(expected, 1e-12)) < limit)
    lone_p = poisson.sf(lone_observed - 1, np.maximum(lone_expected, 1e-12))
    one = (lone_observed >= 2) & (lone_p < limit)
    flagged = np.flatnonzero(many | one)
    swarm_voters = np.zeros(table.n_voters, dtype=bool)
    swarm_voters[shared_voter[many[shared_model]]] = True
    drop[positions[swarm_voters[voters]]] = True
    # every one-vote voter on a flagged model, whichever way they voted: the swarm's
    # misrecognitions go too, and the honest one-vote voters lose wins and losses alike
    drop[lone[one[table.model_a[lone]] | one[table.model_b[lone]]]] = True
    return flagged.tolist(), drop


def _shared_model(
    table: VoteTable, positions: NDArray[np.intp], n_votes: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The voters among `positions` (every vote of theirs) with two votes or more, all
    involving one model; and that model."""
    m = table.n_models
    keys = side_keys(table, positions, table.voter[positions].astype(np.int64))
    pair, _, k = group(keys, table.n_voters * m)
    pair_voter, pair_model = pair // m, pair % m
    single = (k == n_votes[pair_voter]) & (n_votes[pair_voter] >= 2)
    return pair_voter[single], pair_model[single]


def implicated(table: VoteTable, before: Mask, after: Mask, min_votes: int) -> Mask:
    """Voters who lost more than half of their counted votes to the shift and burst tests:
    all their votes sat on flagged models, which is how an attacker who only votes on the
    target and its rivals looks, and not how an honest voter does."""
    voters = table.voter
    had = np.bincount(voters[before], minlength=table.n_voters)
    lost = np.bincount(voters[before & ~after], minlength=table.n_voters)
    guilty = (had >= min_votes) & (lost * 2 > had)
    return guilty[voters]


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
    n = table.n_voters
    n_votes, score, variance = np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n)
    for chunk in chunks(np.flatnonzero(counted)):
        gap = reference.strength[table.model_a[chunk]] - reference.strength[table.model_b[chunk]]
        p = 1.0 / (1.0 + np.exp(-min_agreement * gap))
        voters = table.voter[chunk]
        n_votes += np.bincount(voters, minlength=n)
        score += np.bincount(voters, (table.outcome[chunk] - p) * gap, n)
        variance += np.bincount(voters, gap**2 * p * (1 - p), n)
    variance *= reference.dispersion
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
    positions = np.flatnonzero(counted)
    n = table.n_voters
    beta = np.ones(n)
    for _ in range(steps):
        score, curvature = np.zeros(n), np.zeros(n)
        for chunk in chunks(positions):
            gap = (
                reference.strength[table.model_a[chunk]] - reference.strength[table.model_b[chunk]]
            )
            voters = table.voter[chunk]
            p = 1.0 / (1.0 + np.exp(-beta[voters] * gap))
            score += np.bincount(voters, (table.outcome[chunk] - p) * gap, n)
            curvature += np.bincount(voters, gap**2 * p * (1 - p), n)
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
    n_votes = np.bincount(table.voter[counted], minlength=table.n_voters)
    tests = int((n_votes >= min_votes).sum()) * m
    if tests == 0:
        return _no_actors()
    # Only eligible voters are tested, and each voter's test sees only their own votes.
    counted = counted & (n_votes >= min_votes)[table.voter]
    beta = voter_agreement(table, counted, reference)
    limit = critical_z(alpha, tests)
    found = [
        _favoured(table, block, reference, beta, margin, limit)
        for block in actor_blocks(table.voter, np.flatnonzero(counted))
    ]
    if not found:
        return _no_actors()
    voters, z, models = (np.concatenate(part) for part in zip(*found, strict=True))
    return voters.astype(np.intp), z, models.astype(np.intp)


def _favoured(
    table: VoteTable,
    positions: NDArray[np.intp],
    reference: Reference,
    beta: NDArray[np.float64],
    margin: float,
    limit: float,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """The (voter, z, model) of the favouritism tests beyond `limit` among `positions`
    (every vote of their voters)."""
    m = table.n_models
    model_a, model_b = table.model_a[positions], table.model_b[positions]
    gap = reference.strength[model_a] - reference.strength[model_b]
    who = table.voter[positions].astype(np.int64)
    p = 1.0 / (1.0 + np.exp(-beta[who] * gap))
    residual = table.outcome[positions] - p
    weight = p * (1 - p)
    keys = side_keys(table, positions, who)
    pair, inverse, votes_on = group(keys, table.n_voters * m)
    score = np.abs(np.bincount(inverse, np.concatenate([residual, -residual]), len(pair)))
    score -= margin * votes_on
    variance = reference.dispersion * np.bincount(inverse, np.concatenate([weight, weight]))
    eligible = variance > 0
    z = np.zeros(len(pair))
    z[eligible] = score[eligible] / np.sqrt(variance[eligible])
    hit = eligible & (z > limit)
    return pair[hit] // m, z[hit], pair[hit] % m


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
    residuals (won - expected) over the cohort's votes, the expectation allowing for the
    window's share of random verdicts (`_lapse`). Its variance is the sampling variance (at
    the window's own dispersion) plus the uncertainty of the reference ratings it is
    measured against (g' C g with g the gradient of the sum in the strengths): a model
    rated on few established votes is not flagged for what its own interval already allows.
    The sums are taken a block of votes at a time (each window's share of random verdicts
    first, then everything that depends on it): in a young arena every vote is a cohort
    vote, and a dozen arrays per vote were gigabytes at ten million.
    """
    m = table.n_models
    chosen = np.flatnonzero(counted & cohort)
    if len(chosen) == 0:
        return [], np.zeros(table.n_votes, dtype=bool)
    windows = _CohortWindows(table, chosen, window_seconds)
    lapse = _lapse(table, reference, windows)
    sums = _ShiftSums(table, reference, windows, lapse)
    groups = sums.groups
    # Random verdicts are never ties, so they vary more than the established votes' ties
    # let them: each window's cohort gets its own dispersion, never below the reference's.
    dispersion = np.maximum(
        reference.dispersion, sums.squares / np.maximum(sums.window_bernoulli, 1e-12)
    )
    window_of = groups // m
    variance = dispersion[window_of] * sums.bernoulli
    gradient = sums.gradient
    gradient[np.arange(len(groups)), groups % m] -= sums.slope
    variance += np.einsum("gi,ij,gj->g", gradient, reference.covariance, gradient)
    z = sums.score / np.sqrt(np.maximum(variance, 1e-12))
    limit = critical_z(alpha, len(groups))
    # Only the strongest group per window is flagged per call: a target inflated by rigged
    # votes drags its opponents' residuals down too, and those shadows vanish once its votes
    # stop counting. The caller repeats until nothing is left above the limit.
    order = np.lexsort((-np.abs(z), window_of))
    strongest = order[np.r_[True, window_of[order][1:] != window_of[order][:-1]]]
    flagged = strongest[np.abs(z[strongest]) > limit]
    reason = "model-shift" if window_seconds is None else "burst"
    shifts = []
    drop = np.zeros(table.n_votes, dtype=bool)
    if len(flagged):
        # A cohort vote stops counting when either side's (window, model) group is flagged.
        hit = np.zeros(len(groups), dtype=bool)
        hit[flagged] = True
        for block in chunks(chosen):
            window = windows.of(block) * m
            on = hit[np.searchsorted(groups, window + table.model_a[block])]
            on |= hit[np.searchsorted(groups, window + table.model_b[block])]
            drop[block[on]] = True
    for index in flagged:
        model = int(groups[index] % m)
        window_index = int(window_of[index])
        start = end = None
        if window_seconds is not None:
            end = windows.newest - window_index * window_seconds
            start = end - window_seconds
        count = sums.count[index]
        shifts.append(
            ModelShift(
                model=str(table.models[model]),
                reason=reason,
                z=float(z[index]),
                cohort_votes=int(count),
                observed_win_share=float(sums.won[index] / count),
                expected_win_share=float(sums.expected[index] / count),
                window_start=start,
                window_end=end,
            )
        )
    return shifts, drop


class _CohortWindows:
    """The cohort's votes and the time window of each (0 for the newest; all 0 without)."""

    def __init__(self, table: VoteTable, chosen: NDArray[np.intp], seconds: float | None) -> None:
        self.chosen = chosen
        self._seconds = seconds
        self._time = table.time
        self.newest = 0.0
        self.count = 1
        if seconds is not None:
            assert table.time is not None
            self.newest = float(table.time.max())
            self.count = int(self.of(chosen).max()) + 1

    def of(self, positions: NDArray[np.intp]) -> NDArray[np.int64]:
        if self._seconds is None:
            return np.zeros(len(positions), dtype=np.int64)
        assert self._time is not None
        return np.floor((self.newest - self._time[positions]) / self._seconds).astype(np.int64)


def _lapse(table: VoteTable, reference: Reference, windows: _CohortWindows) -> NDArray[np.float64]:
    """Per window, the share of random verdicts in its cohort votes.

    Random votes (noise voters, careless newcomers) flatten every model towards a 50 % win
    share at once: the strong all look under-rated and the weak over-rated. That is no
    shift of any one model, and flagging models for it would take the honest newcomers'
    votes on them along. So the cohort is predicted as a mixture, P(a wins) = (1 - e) *
    p_ratings + e / 2, with e per window by least squares (closed form; a mix of honest and
    random voters is exactly such a mixture), and only what a model does beyond that counts
    as its shift. e is kept within [0, 1]: a cohort that follows the ratings more closely
    than they predict is not sharpened.
    """
    numerator = np.zeros(windows.count)
    denominator = np.zeros(windows.count)
    for block in chunks(windows.chosen):
        window = windows.of(block)
        followed = reference.win_probability(table, block)
        centred = followed - 0.5
        numerator += np.bincount(window, (followed - table.outcome[block]) * centred, windows.count)
        denominator += np.bincount(window, centred**2, windows.count)
    lapse: NDArray[np.float64] = np.clip(numerator / np.maximum(denominator, 1e-12), 0.0, 1.0)
    return lapse


class _ShiftSums:
    """The per-group and per-window sums `cohort_shifts` tests, taken block by block.

    A group is (window, model), numbered window * models + model; `groups` lists those
    with cohort votes, ascending."""

    def __init__(
        self,
        table: VoteTable,
        reference: Reference,
        windows: _CohortWindows,
        lapse: NDArray[np.float64],
    ) -> None:
        m = table.n_models
        present = [
            np.unique(windows.of(block) * m + side[block])
            for block in chunks(windows.chosen)
            for side in (table.model_a, table.model_b)
        ]
        self.groups = np.unique(np.concatenate(present))
        g = len(self.groups)
        self.count, self.score, self.won = np.zeros(g), np.zeros(g), np.zeros(g)
        self.expected, self.bernoulli, self.slope = np.zeros(g), np.zeros(g), np.zeros(g)
        # of each group's score in the strengths, g x m (flat while summed)
        self.gradient: NDArray[np.float64] = np.zeros(g * m)
        self.squares = np.zeros(windows.count)
        self.window_bernoulli = np.zeros(windows.count)
        for block in chunks(windows.chosen):
            self._add(table, reference, windows, lapse, block)
        self.gradient = self.gradient.reshape(g, m)

    def _add(
        self,
        table: VoteTable,
        reference: Reference,
        windows: _CohortWindows,
        lapse: NDArray[np.float64],
        block: NDArray[np.intp],
    ) -> None:
        m, g, w = table.n_models, len(self.groups), windows.count
        window = windows.of(block)
        followed = reference.win_probability(table, block)
        share = lapse[window]
        p = followed + share * (0.5 - followed)
        outcome = table.outcome[block]
        residual = outcome - p
        bernoulli = p * (1 - p)
        self.squares += np.bincount(window, residual**2, w)
        self.window_bernoulli += np.bincount(window, bernoulli, w)
        slope = (1 - share) * followed * (1 - followed)  # d p / d strength gap
        a, b = table.model_a[block], table.model_b[block]
        # Side a wins with p, side b with 1 - p; each side's residual is its own.
        for model, opponent, sign in ((a, b, 1.0), (b, a, -1.0)):
            group = np.searchsorted(self.groups, window * m + model)
            self.count += np.bincount(group, minlength=g)
            self.score += np.bincount(group, sign * residual, g)
            self.won += np.bincount(group, outcome if sign > 0 else 1 - outcome, g)
            self.expected += np.bincount(group, p if sign > 0 else 1 - p, g)
            self.bernoulli += np.bincount(group, bernoulli, g)
            self.slope += np.bincount(group, slope, g)
            # +slope at each opponent (the -slope at the model itself is added at the end)
            self.gradient += np.bincount(group * m + opponent, slope, g * m)


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


def _no_actors() -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    return np.zeros(0, np.intp), np.zeros(0), np.zeros(0, np.intp)
