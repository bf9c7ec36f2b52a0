"""The battle API: start a battle, ask a follow-up, vote, read the state.

Starting and follow-ups answer with a text/event-stream of the service's blinded events.
Errors raised before the stream starts (bad prompt, rate limit, unknown battle) are JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import StreamingResponse

from glassarena.arena.live import LiveBattle
from glassarena.arena.reveal import BattleState
from glassarena.arena.service import BattleRequest
from glassarena.arena.shared_turns import event_id
from glassarena.vocabulary import (
    SIDES,
    BattleKind,
    BattleMode,
    VoteChoice,
    VoteReason,
    WebdevStack,
)
from glassarena.web.dependencies import ServiceDependency, VoterDependency
from glassarena.web.event_stream import event_stream_response

if TYPE_CHECKING:
    from glassarena.webdev.previews import WebdevPreviews

# A transport guard only: the configured prompt limit, enforced by the service, is lower
# and comes with a friendlier message.
MAX_REQUEST_PROMPT_CHARS = 1_000_000
MAX_BATTLE_ID_CHARS = 100
MAX_REQUEST_NOTE_CHARS = 10_000

router = APIRouter(prefix="/api/battles")


class StartBattle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: BattleMode = BattleMode.ANONYMOUS
    kind: BattleKind = BattleKind.TEXT
    prompt: str | None = Field(default=None, max_length=MAX_REQUEST_PROMPT_CHARS)
    models: list[str] = Field(default_factory=list, max_length=2)
    stack: WebdevStack | None = None  # WebDev only; None: the arena's default stack


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(max_length=MAX_REQUEST_PROMPT_CHARS)


class CastVote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: VoteChoice


@router.post("", name="start_battle")
async def start_battle(
    body: StartBattle, request: Request, service: ServiceDependency, voter: VoterDependency
) -> StreamingResponse:
    live = await service.start(
        voter,
        BattleRequest(
            mode=body.mode,
            kind=body.kind,
            prompt=body.prompt,
            models=tuple(body.models),
            stack=body.stack,
        ),
    )
    events: AsyncIterable[Mapping[str, Any]] = _with_ids(live)
    if body.kind.webdev:
        state = await asyncio.to_thread(service.battle_state, voter, live.battle_id)
        events = _with_previews(request, state, events)
    return event_stream_response(events)


@router.post("/{battle_id}/turns", name="follow_up")
async def follow_up(
    battle_id: str,
    body: FollowUp,
    request: Request,
    service: ServiceDependency,
    voter: VoterDependency,
) -> StreamingResponse:
    live = await service.follow_up(voter, battle_id[:MAX_BATTLE_ID_CHARS], body.prompt)
    state = await asyncio.to_thread(service.battle_state, voter, live.battle_id)
    return event_stream_response(_with_previews(request, state, _with_ids(live)))


async def _with_ids(live: LiveBattle) -> AsyncIterator[dict[str, Any]]:
    async for position, event in live.numbered():
        yield {**event, "id": event_id(live.turn, position)}


def _with_previews(
    request: Request, state: BattleState, events: AsyncIterable[Mapping[str, Any]]
) -> AsyncIterable[Mapping[str, Any]]:
    """WebDev battles get their live app previews added to the stream: each side's app in
    the battle's stack, a follow-up's as an edit of that side's earlier answers."""
    if not state.kind.webdev:
        return events
    previews: WebdevPreviews = request.app.state.webdev_previews
    earlier: dict[str, list[str]] = {
        side: [turn.answers[side].text for turn in state.turns[:-1] if side in turn.answers]
        for side in SIDES
    }
    sides = SIDES[: state.mode.models]
    return previews.with_previews(events, state.webdev_stack, earlier, sides)


@router.get("/{battle_id}/events", name="battle_events")
async def battle_events(
    battle_id: str, request: Request, service: ServiceDependency, voter: VoterDependency
) -> StreamingResponse:
    """The latest turn again from its start (or after `Last-Event-ID`), then live: how a
    client that lost its connection catches up, on this node or any other. Generation never
    depended on that connection."""
    events = _identified(service.numbered_events(voter, battle_id[:MAX_BATTLE_ID_CHARS]))
    # Pulling the first event here makes an unknown battle a JSON error, not a broken stream.
    first = await anext(events)
    state = await asyncio.to_thread(service.battle_state, voter, first["battle_id"])
    return event_stream_response(
        _with_previews(request, state, _starting_with(first, events)),
        request.headers.get("last-event-id"),
    )


async def _identified(
    numbered: AsyncIterator[tuple[str | None, dict[str, Any]]],
) -> AsyncIterator[dict[str, Any]]:
    async for identifier, event in numbered:
        yield event if identifier is None else {**event, "id": identifier}


async def _starting_with(
    first: dict[str, Any], rest: AsyncIterator[dict[str, Any]]
) -> AsyncIterator[dict[str, Any]]:
    yield first
    async for event in rest:
        yield event


@router.post("/{battle_id}/vote", name="vote")
async def vote(
    battle_id: str, body: CastVote, service: ServiceDependency, voter: VoterDependency
) -> dict[str, Any]:
    # The vote is one short database transaction; a thread keeps it off the event loop,
    # where the other battles' streams are being served.
    reveal = await asyncio.to_thread(
        service.vote, voter, battle_id[:MAX_BATTLE_ID_CHARS], body.choice.winner
    )
    return reveal.to_dict()


class GiveReasons(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Transport guards only: the service checks the words and the note's real limit.
    reasons: list[Annotated[str, Field(max_length=50)]] = Field(
        default_factory=list, max_length=len(VoteReason)
    )
    note: str | None = Field(default=None, max_length=MAX_REQUEST_NOTE_CHARS)


@router.post("/{battle_id}/reasons", name="vote_reasons")
async def give_reasons(
    battle_id: str, body: GiveReasons, service: ServiceDependency, voter: VoterDependency
) -> dict[str, Any]:
    given = await asyncio.to_thread(
        service.give_reasons, voter, battle_id[:MAX_BATTLE_ID_CHARS], body.reasons, body.note
    )
    return {"reasons": [reason.value for reason in given.reasons], "note": given.note}


@router.get("/{battle_id}", name="battle_state")
async def battle_state(
    battle_id: str, service: ServiceDependency, voter: VoterDependency
) -> dict[str, Any]:
    state = await asyncio.to_thread(service.battle_state, voter, battle_id[:MAX_BATTLE_ID_CHARS])
    return state.to_dict()
