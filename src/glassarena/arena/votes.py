"""Which votes count towards the leaderboard.

Every vote is stored; this seam decides whether it is *counted*. Only a blind comparison
says anything about which model people prefer: a vote cast with the names visible (named
mode) or on a single model is kept for the record but never enters the ratings. Nor does a
vote on recorded answers that are public: the voter could have looked up who wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from glassarena.arena.identity_guard import (
    REVEALED_MESSAGE,
    IdentityGuard,
    IdentityVerdict,
    Leak,
    SideIdentity,
)
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
    # For IdentityGuarded: the battle's texts where they were read; None: not checked, unless
    # `read_transcript` can read them.
    transcript: BattleTranscript | None = None
    # The verdict stored when the battle's latest turn finished, and who each side is now: a
    # verdict for the same guard and sides spares the vote reading the texts.
    identity_verdict: IdentityVerdict | None = None
    contestants: Mapping[str, SideIdentity] = field(default_factory=dict)
    # Reads the texts when no stored verdict serves (older battles, a changed configuration).
    read_transcript: Callable[[], BattleTranscript] | None = None


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
        leak = self._leak(context)
        if leak is not None:
            return Verdict(False, f"{REVEALED_MESSAGE} ({leak.describe()})")
        return self.inner.judge(context)

    def _leak(self, context: VoteContext) -> Leak | None:
        if not self.guard.enabled:
            return None
        stored = context.identity_verdict
        if stored is not None and stored.judged_by == self.guard.judged_by(context.contestants):
            return stored.leak
        transcript = context.transcript
        if transcript is None and context.read_transcript is not None:
            transcript = context.read_transcript()
        if transcript is None:
            return None
        return self.guard.check(transcript.prompts, transcript.answers, transcript.contestants)
