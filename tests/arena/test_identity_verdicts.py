"""The identity-leak verdict is judged when a turn finishes and stored with the battle; the
vote reads it instead of the texts, and judges the texts only where no stored verdict serves
(battles stored before the verdict existed, a guard configured differently since)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service

from glassarena.arena.identity_guard import REVEALED_MESSAGE, IdentityGuard, IdentityVerdict
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.arena.voter import Voter
from glassarena.battles.record import Winner
from glassarena.providers.base import ChatMessage
from glassarena.storage.battle_view import BattleView
from glassarena.storage.database import Database

SELF_IDENTIFIES = f"{REVEALED_MESSAGE} (answer A identifies itself as 'Claude')"


class Saying(ScriptedProvider):
    """Answers turn n with `replies[n - 1]`."""

    def __init__(self, *replies: str) -> None:
        super().__init__("said")
        self.replies = replies

    def reply(self, messages: list[ChatMessage]) -> str:
        return self.replies[sum(message["role"] == "user" for message in messages) - 1]


def _service(
    database: Database,
    *replies: str,
    guard: IdentityGuard | None = None,
    organization: str = "unknown",
) -> ArenaService:
    return make_service(
        database,
        {name: Saying(*replies) for name in MODEL_NAMES},
        identity_guard=guard or IdentityGuard(),
        organizations=dict.fromkeys(MODEL_NAMES, organization),
    )


async def _finished(service: ArenaService, voter: Voter, prompt: str = "Say hello.") -> str:
    live = await service.start(voter, BattleRequest(prompt=prompt))
    async for _ in live.events():
        pass
    return live.battle_id


def _reads(service: ArenaService) -> list[bool]:
    """Records, for each battle the service reads, whether it read the texts."""
    reads: list[bool] = []
    read: Callable[..., BattleView | None] = service.repository.battle

    def recording(public_id: str, *, texts: bool = True, turns: bool = True) -> BattleView | None:
        reads.append(texts)
        return read(public_id, texts=texts, turns=turns)

    service.repository.battle = recording  # type: ignore[method-assign]
    return reads


def _stored(service: ArenaService, battle_id: str) -> IdentityVerdict | None:
    battle = service.repository.battle(battle_id, texts=False)
    assert battle is not None
    return IdentityVerdict.from_stored(battle.identity_verdict)


async def test_the_verdict_is_stored_with_the_turn_and_the_vote_reads_no_texts(
    database: Database,
) -> None:
    service = _service(database, "Hello, I am Claude.")
    voter = service.voter("v", "203.0.113.9")
    battle_id = await _finished(service, voter)
    stored = _stored(service, battle_id)
    assert stored is not None and stored.leak is not None
    assert stored.leak.rule == "self-identifies"

    reads = _reads(service)
    reveal = service.vote(voter, battle_id, Winner.MODEL_A)
    assert reads == [False]
    assert not reveal.counted and reveal.not_counted_reason == SELF_IDENTIFIES


async def test_a_clean_battle_counts_without_reading_texts(database: Database) -> None:
    service = _service(database, "Hello! How can I help?")
    voter = service.voter("v", "203.0.113.9")
    battle_id = await _finished(service, voter)
    reads = _reads(service)
    reveal = service.vote(voter, battle_id, Winner.TIE)
    assert reads == [False] and reveal.counted and reveal.not_counted_reason is None


async def test_a_battle_stored_without_a_verdict_is_judged_from_its_texts(
    database: Database,
) -> None:
    """As a battle finished before migration 0008 is: its column is NULL."""
    service = _service(database, "Hello, I am Claude.")
    voter = service.voter("v", "203.0.113.9")
    battle_id = await _finished(service, voter)
    with database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE battles SET identity_verdict = NULL"))
    reads = _reads(service)
    reveal = service.vote(voter, battle_id, Winner.MODEL_B)
    assert reads == [False, True]
    assert not reveal.counted and reveal.not_counted_reason == SELF_IDENTIFIES


async def test_a_verdict_from_a_guard_configured_otherwise_is_judged_again(
    database: Database,
) -> None:
    before = _service(database, "Hello, I am Claude.", guard=IdentityGuard(enabled=False))
    voter = before.voter("v", "203.0.113.9")
    battle_id = await _finished(before, voter)
    stored = _stored(before, battle_id)
    assert stored is not None and stored.leak is None  # the guard was off

    after = _service(database, "Hello, I am Claude.")  # restarted with the guard on
    reads = _reads(after)
    reveal = after.vote(voter, battle_id, Winner.MODEL_A)
    assert reads == [False, True]
    assert not reveal.counted and reveal.not_counted_reason == SELF_IDENTIFIES


async def test_a_follow_up_is_judged_with_every_turn_of_the_battle(database: Database) -> None:
    """Turn 1's answers name their own organization unprompted; turn 2's prompt names it, so
    over the whole battle the voter learns nothing the prompts did not say (the guard's rule,
    applied at the vote as before)."""
    service = _service(
        database,
        "Anthropic tools are handy for this.",
        "They make assistants.",
        organization="Anthropic",
    )
    voter = service.voter("v", "203.0.113.9")
    battle_id = await _finished(service, voter)
    first = _stored(service, battle_id)
    assert first is not None and first.leak is not None and first.leak.rule == "names-itself"

    live = await service.follow_up(voter, battle_id, "What does Anthropic make?")
    async for _ in live.events():
        pass
    second = _stored(service, battle_id)
    assert second is not None and second.leak is None
    assert service.vote(voter, battle_id, Winner.MODEL_A).counted
