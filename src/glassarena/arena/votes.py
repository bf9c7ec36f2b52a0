"""Which votes count towards the leaderboard.

Every vote is stored; this seam decides whether it is *counted*. Only a blind comparison
says anything about which model people prefer: a vote cast with the names visible (named
mode) or on a single model is kept for the record but never enters the ratings. Nor does a
vote on recorded answers that are public: the voter could have looked up who wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from glassarena.arena.voter import Voter

PRACTICE_REASON = (
    "Practice battle: these answers are public, so anyone could look up which model wrote "
    "them; votes here are stored but never ranked."
)


@dataclass(frozen=True, slots=True)
class VoteContext:
    mode: str
    kind: str
    category: str
    battle_failed: bool
    voter: Voter
    answers_public: bool = False  # recorded answers anyone can look up (a practice battle)


@dataclass(frozen=True, slots=True)
class Verdict:
    counted: bool
    reason: str | None = None  # why it does not count, for the operator


class VoteAcceptance(Protocol):
    def judge(self, context: VoteContext) -> Verdict: ...


class AnonymousCompletedBattles:
    """Counts votes on anonymous battles whose answers all completed without failure."""

    def judge(self, context: VoteContext) -> Verdict:
        if context.mode != "anonymous":
            return Verdict(False, f"{context.mode}-mode votes never enter the leaderboard")
        if context.battle_failed:
            return Verdict(False, "a model failed to answer in this battle")
        if context.answers_public:
            return Verdict(False, PRACTICE_REASON)
        return Verdict(True)
