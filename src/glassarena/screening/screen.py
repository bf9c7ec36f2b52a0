"""Screening: the detectors in order, each on the votes the ones before left counted.

1. influence caps per voter and per IP hash (no statistics needed);
2. sampler concentration per voter and per IP hash (who skips battles without a model);
3. against ratings fitted on established voters' counted votes: Sybil swarms among new or
   low-history voters (the one-vote ones judged by whom they voted for), then per-voter
   disagreement (likelihood) and favouritism;
4. refitted without the voters flagged so far: each model's standing among new or
   low-history voters, overall (model shift) and per time window (bursts).
Every vote stays in the table; a vote that stops counting keeps the first reason found.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from glassarena.screening import detectors
from glassarena.screening.reference import Reference, fit_reference
from glassarena.screening.result import REASON_CODES, ModelShift, ScreeningResult, VoterFlag
from glassarena.screening.settings import ScreeningSettings
from glassarena.screening.table import Codes, VoteTable

# Below this share of established votes, the reference is fitted on every counted vote
# (a young arena has no established crowd yet).
_MIN_ESTABLISHED_SHARE = 0.2
_HOUR = 3_600.0
# Shift tests flag the strongest model (per window) and repeat; this bounds the repeats.
_MAX_SHIFT_ROUNDS = 30


class _Decisions:
    def __init__(self, n: int) -> None:
        self.counted = np.ones(n, dtype=bool)
        self.reason = np.zeros(n, dtype=np.int8)

    def uncount(self, mask: NDArray[np.bool_], reason: str) -> None:
        fresh = mask & self.counted
        self.reason[fresh] = REASON_CODES[reason]
        self.counted &= ~mask


def screen(table: VoteTable, settings: ScreeningSettings | None = None) -> ScreeningResult:
    settings = settings or ScreeningSettings()
    decisions = _Decisions(table.n_votes)
    crowd = int(np.count_nonzero(np.bincount(table.voter, minlength=table.n_voters)))
    if not settings.enabled or crowd < settings.min_crowd_voters:
        return ScreeningResult(decisions.counted, decisions.reason, (), ())
    flags: list[VoterFlag] = []
    actors = [("voter", table.voter, table.voter_names)]
    if table.ip is not None and table.ip_names is not None:
        actors.append(("ip", table.ip, table.ip_names))

    for kind, actor, _ in actors:
        share = settings.voter_share_cap if kind == "voter" else settings.ip_share_cap
        over = detectors.share_cap(table, decisions.counted, actor, share, settings.cap_floor_votes)
        decisions.uncount(over, "voter-cap" if kind == "voter" else "ip-cap")
    cohort_voter = detectors.cohort_voters(
        table, settings.low_history_votes, settings.new_voter_days
    )
    cohort = cohort_voter[table.voter]
    sampler = detectors.Sampler.estimate(table, _basis(decisions.counted, cohort))
    model_sets: list[frozenset[int]] = []
    for kind, actor, names in actors:
        reason = "concentration" if kind == "voter" else "ip-concentration"
        concentrated = detectors.concentration(
            table,
            decisions.counted,
            actor,
            len(names),
            settings.alpha,
            settings.min_voter_votes,
            settings.concentration_set_size,
            sampler,
        )
        model_sets += concentrated.model_sets
        flags += _drop_actors(
            decisions,
            table,
            kind,
            actor,
            names,
            concentrated.actors,
            concentrated.statistic,
            concentrated.model,
            reason,
        )
    # Fellows of the flagged: the same set of models, tested for that set alone.
    shared = detectors.shared_concentration(
        table,
        decisions.counted,
        table.voter,
        table.n_voters,
        settings.alpha,
        settings.min_voter_votes,
        sampler,
        model_sets,
    )
    flags += _drop_actors(
        decisions, table, "voter", table.voter, table.voter_names, *shared, "shared-concentration"
    )

    reference = _reference(table, decisions.counted, cohort, settings)
    swarm_models, drop = detectors.swarm(
        table, decisions.counted, cohort_voter, settings.alpha, sampler, reference
    )
    decisions.uncount(drop, "swarm")
    shifts: list[ModelShift] = [
        ModelShift(str(table.models[model]), "swarm", float("nan"), 0, float("nan"), float("nan"))
        for model in swarm_models
    ]
    if swarm_models:
        reference = _reference(table, decisions.counted, cohort, settings)
    found, z = detectors.disagreement(
        table,
        decisions.counted,
        reference,
        settings.alpha,
        settings.min_voter_votes,
        settings.min_agreement,
    )
    disagreeing = _drop_actors(
        decisions, table, "voter", table.voter, table.voter_names, found, z, None, "disagreement"
    )
    found, z_abs, model = detectors.favouritism(
        table,
        decisions.counted,
        reference,
        settings.alpha,
        settings.min_voter_votes,
        settings.favouritism_margin,
    )
    favours = np.zeros(table.n_votes, dtype=bool)
    for voter, favoured in zip(found.tolist(), model.tolist(), strict=True):
        favours |= (table.voter == voter) & (
            (table.model_a == favoured) | (table.model_b == favoured)
        )
    decisions.uncount(favours, "favouritism")
    votes = np.bincount(table.voter, minlength=table.n_voters)
    favouring = detectors.flags_for(
        "voter", table.voter_names, found, z_abs, model, "favouritism", votes, table.models
    )
    flags += disagreeing + favouring

    if disagreeing or favouring:
        reference = _reference(table, decisions.counted, cohort, settings)
    # Bursts first: a window-limited attack is then removed within its windows only, which
    # costs fewer honest votes than dropping the cohort's votes on a model for all time.
    windows: list[float | None] = [None]
    if table.time is not None:
        windows.insert(0, settings.burst_window_hours * _HOUR)
    before = decisions.counted.copy()
    for window in windows:
        for _ in range(_MAX_SHIFT_ROUNDS):
            found_shifts, drop = detectors.cohort_shifts(
                table, decisions.counted, cohort, reference, settings.alpha, window
            )
            if not found_shifts:
                break
            decisions.uncount(drop, "model-shift" if window is None else "burst")
            shifts += found_shifts
    decisions.uncount(
        detectors.implicated(table, before, decisions.counted, settings.min_voter_votes),
        "implicated",
    )
    return ScreeningResult(decisions.counted, decisions.reason, tuple(flags), tuple(shifts))


def _reference(
    table: VoteTable,
    counted: NDArray[np.bool_],
    cohort: NDArray[np.bool_],
    settings: ScreeningSettings,
) -> Reference:
    return fit_reference(table, _basis(counted, cohort), settings.reference_prior)


def _basis(counted: NDArray[np.bool_], cohort: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The established voters' counted votes, or every counted vote in a young arena."""
    established = counted & ~cohort
    return established if established.sum() >= _MIN_ESTABLISHED_SHARE * counted.sum() else counted


def _drop_actors(
    decisions: _Decisions,
    table: VoteTable,
    kind: str,
    actor: Codes,
    names: NDArray[np.object_],
    found: NDArray[np.intp],
    statistic: NDArray[np.float64],
    model: NDArray[np.intp] | None,
    reason: str,
) -> list[VoterFlag]:
    """Stop counting every vote of the flagged actors; their evidence, for the audit."""
    if len(found) == 0:
        return []
    votes = np.bincount(actor, minlength=len(names))
    flagged = np.zeros(len(names), dtype=bool)
    flagged[found] = True
    decisions.uncount(flagged[actor], reason)
    return detectors.flags_for(kind, names, found, statistic, model, reason, votes, table.models)
