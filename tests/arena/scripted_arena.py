"""A small arena for service tests: scripted providers implementing the Provider protocol.

The scripted providers are unit-test doubles only; nothing user-facing uses them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from glassarena.arena.identity_guard import IdentityGuard
from glassarena.arena.pacing import StreamPacing
from glassarena.arena.prompt_judge import PromptJudge
from glassarena.arena.ratelimit import MemoryRateLimiter, RateLimiter, RateLimits
from glassarena.arena.roster import ContestantToRegister, Roster
from glassarena.arena.sampling import UniformPairs
from glassarena.arena.service import ArenaLimits, ArenaService
from glassarena.arena.shared_turns import SharedTurns
from glassarena.arena.voter import IpHasher
from glassarena.arena.votes import AnonymousCompletedBattles, IdentityGuarded
from glassarena.providers.base import (
    ChatMessage,
    Finished,
    Provider,
    ProviderError,
    StreamEvent,
    TextDelta,
)
from glassarena.storage.database import Database
from glassarena.storage.integrity import IntegrityStore
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.vote_log import DatabaseVoteLog


class ScriptedProvider:
    """Answers every conversation with `reply(messages)`, in a few deltas.

    Replies carry a `signature` (not the model's name), so tests can tell the sides apart
    while checking that nothing reveals which model is which.
    """

    def __init__(
        self,
        signature: str,
        *,
        fail: str | None = None,
        gate: asyncio.Event | None = None,
        delay: float = 0.0,
    ) -> None:
        self.signature = signature
        self.fail = fail
        self.gate = gate
        self.delay = delay
        self.conversations: list[list[ChatMessage]] = []

    def reply(self, messages: list[ChatMessage]) -> str:
        turn = sum(message["role"] == "user" for message in messages)
        return f"Reply {self.signature} to turn {turn}."

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]:
        self.conversations.append(list(messages))
        text = self.reply(messages)
        words = text.split(" ")
        for position, word in enumerate(words):
            if self.gate is not None and position == 1:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
            yield TextDelta(word if position == 0 else " " + word)
            if self.fail and position == 1:
                raise ProviderError(self.fail, f"{self.signature} at upstream.example failed")
        yield Finished(completion_tokens=len(words), finish_reason="stop")


MODEL_NAMES = ("alpha-model", "beta-model", "gamma-model")
SECRET = "test-secret-for-ip-hashing-0123456789"


# Paced as in the arena (both sides' text in the same chunks on the same ticks), on ticks
# fifty times shorter: at the default 50 ms a scripted answer takes half a second to stream,
# which the hundreds of battles these tests play would spend waiting. test_pacing.py and the
# pacing tests of test_service.py check the pacing itself.
TEST_PACING = StreamPacing(tick_seconds=0.001)


def make_service(
    database: Database,
    providers: Mapping[str, Provider],
    *,
    rate_limits: RateLimits | None = None,
    limits: ArenaLimits | None = None,
    fingerprint_suffix: str = "",
    rate_limiter: RateLimiter | None = None,
    pacing: StreamPacing | None = None,
    reveal_timings: bool = False,
    organizations: Mapping[str, str] | None = None,
    identity_guard: IdentityGuard | None = None,
    prompt_judge: PromptJudge | None = None,
    tone_style: bool = False,
    shared_turns: SharedTurns | None = None,
) -> ArenaService:
    """A service on `database`; with `identity_guard`, battles that reveal a model's identity
    do not count (as the arena's bootstrap sets it up)."""
    repository = ArenaRepository(database)
    to_register = [
        ContestantToRegister(
            name=name,
            provider_kind="scripted",
            settings={"name": name},
            settings_fingerprint=f"fp-{name}{fingerprint_suffix}",
            provider=provider,
            organization=(organizations or {}).get(name, "unknown"),
        )
        for name, provider in providers.items()
    ]
    roster = Roster.register(repository, to_register)
    if organizations:  # recorded as the arena records them at startup
        IntegrityStore(database).describe_versions(
            [(m.version_id, m.organization, m.family, m.open_weights) for m in roster]
        )
    return ArenaService(
        repository=repository,
        roster=roster,
        sampling=UniformPairs(),
        acceptance=AnonymousCompletedBattles()
        if identity_guard is None
        else IdentityGuarded(AnonymousCompletedBattles(), identity_guard),
        identity_guard=identity_guard,
        vote_log=DatabaseVoteLog(),
        rate_limiter=rate_limiter or MemoryRateLimiter(),
        ip_hasher=IpHasher(SECRET),
        rate_limits=rate_limits,
        limits=limits,
        pacing=pacing or TEST_PACING,
        reveal_timings=reveal_timings,
        prompt_judge=prompt_judge,
        tone_style=tone_style,
        shared_turns=shared_turns,
    )
