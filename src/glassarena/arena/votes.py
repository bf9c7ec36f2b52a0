"""Which votes count towards the leaderboard.

Every vote is stored; this seam decides whether it is *counted*. Only a blind comparison
says anything about which model people prefer: a vote cast with the names visible (named
mode) or on a single model is kept for the record but never enters the ratings. Nor does a
vote on recorded answers that are public: the voter could have looked up who wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from glassarena.arena.identity_guard import REVEALED_MESSAGE, IdentityGuard, SideIdentity
from glassarena.arena.voter import Voter
from glassarena.vocabulary import BattleKind, BattleMode

PRACTICE_REASON = (
    "Practice battle: these answers are public, so anyone could look up which model wrote "
    "them; votes here are stored but never ranked."
)


@dataclass(frozen=True, slots=True)
class VoteContext:
    mode: BattleMode
    kind: BattleKind
    category: str
    voter: Voter
    answers_public: bool = False  # recorded answers anyone can look up (a practice battle)
    transcript: BattleTranscript | None = None  # for IdentityGuarded; None: not checked


@dataclass(frozen=True, slots=True)
class Verdict:
    counted: bool
    reason: str | None = None  # why it does not count, for the operator


class VoteAcceptance(Protocol):
    def judge(self, context: VoteContext) -> Verdict: ...


class AnonymousCompletedBattles:
    """Counts votes on anonymous battles (a battle with a failed answer takes no vote)."""

    def judge(self, context: VoteContext) -> Verdict:
        if context.mode is not BattleMode.ANONYMOUS:
            return Verdict(False, f"{context.mode}-mode votes never enter the leaderboard")
        if context.answers_public:
            return Verdict(False, PRACTICE_REASON)
        return Verdict(True)


@dataclass(frozen=True, slots=True)
class BattleTranscript:
    """What the identity-leak guard reads: every turn's prompt, each side's answers and who
    each side is. The service fills it in `VoteContext.transcript` where it has the texts."""

    prompts: tuple[str, ...]
    answers: Mapping[str, tuple[str, ...]]  # side ("a", "b") -> its answers, turn by turn
    contestants: Mapping[str, SideIdentity]


class IdentityGuarded:
    """A battle that revealed a model's identity does not count, whatever `inner` says."""

    def __init__(self, inner: VoteAcceptance, guard: IdentityGuard | None = None) -> None:
        self.inner = inner
        self.guard = guard or IdentityGuard()

    def judge(self, context: VoteContext) -> Verdict:
        transcript = context.transcript
        if transcript is not None:
            leak = self.guard.check(transcript.prompts, transcript.answers, transcript.contestants)
            if leak is not None:
                return Verdict(False, f"{REVEALED_MESSAGE} ({leak.describe()})")
        return self.inner.judge(context)
