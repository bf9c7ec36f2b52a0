"""The arena service: battles, blinding, follow-ups, failures, votes and their acceptance."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service

from glassarena.arena.errors import (
    AlreadyVoted,
    BattleBusy,
    BattleClosed,
    BattleFailed,
    InvalidRequest,
    NotFound,
    PromptEmpty,
    PromptTooLong,
    RateLimited,
    ServiceUnavailable,
    UnknownModel,
    VotingNotOpen,
)
from glassarena.arena.pacing import StreamPacing, word_chunks
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaLimits, ArenaService, BattleRequest
from glassarena.battles.record import Winner
from glassarena.providers.base import ChatMessage, Finished, StreamEvent, TextDelta
from glassarena.storage.database import Database
from glassarena.storage.schema import Battle
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPT

SECRET_WORDS = (*MODEL_NAMES, "scripted", "version")


async def _finish(service: ArenaService, voter, request: BattleRequest | None = None) -> str:
    live = await service.start(voter, request or BattleRequest(prompt="Tell me a joke."))
    async for _ in live.events():
        pass
    return live.battle_id


def _blinded(payload: object) -> bool:
    text = json.dumps(payload).lower()
    return not any(word in text for word in SECRET_WORDS)


async def test_events_stream_both_sides_and_stay_blinded(service: ArenaService, voter) -> None:
    live = await service.start(voter, BattleRequest(prompt="Tell me a joke."))
    events = [event async for event in live.events()]

    assert events[0] == {
        "type": "battle",
        "battle_id": live.battle_id,
        "turn": 1,
        "prompt": "Tell me a joke.",
    }
    assert events[-1] == {"type": "complete", "voting_open": True}
    texts = {
        side: "".join(e["text"] for e in events if e["type"] == "delta" and e["side"] == side)
        for side in "ab"
    }
    assert texts["a"].startswith("Reply S") and texts["b"].startswith("Reply S")
    assert texts["a"] != texts["b"]
    assert {(e["type"], e["side"]) for e in events if e["type"] == "done"} == {
        ("done", "a"),
        ("done", "b"),
    }
    assert _blinded(events)
    state = service.battle_state(voter, live.battle_id)
    assert state.voting_open and state.reveal is None
    assert _blinded(state.to_dict())


async def test_battle_ids_are_random_and_unrelated_to_models(service: ArenaService, voter) -> None:
    ids = {await _finish(service, voter) for _ in range(5)}
    assert len(ids) == 5
    assert all(len(battle_id) >= 24 and _blinded(battle_id) for battle_id in ids)


async def test_vote_reveals_names_and_versions_but_no_timings(
    service: ArenaService, voter, database: Database
) -> None:
    battle_id = await _finish(service, voter)
    reveal = service.vote(voter, battle_id, Winner.MODEL_B)
    data = reveal.to_dict()
    assert data["winner"] == "model_b" and data["counted"] is True
    assert {data["models"]["a"]["name"], data["models"]["b"]["name"]} <= set(MODEL_NAMES)
    assert data["models"]["a"]["name"] != data["models"]["b"]["name"]
    assert data["models"]["a"]["version"] == 1
    # Timings next to names would be labelled data for telling models apart by their
    # streams: hidden from voters by default (they used to be in every reveal)...
    assert data["timings"] is None
    json.dumps(data)  # the web layer sends it as is
    state = service.battle_state(voter, battle_id)
    assert state.status == "voted" and state.vote == "model_b" and not state.voting_open
    assert state.reveal == reveal and state.to_dict()["reveal"]["timings"] is None
    assert service.repository.counted_votes()[0].winner == "model_b"
    # ...and kept in storage for the operator.
    with database.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT first_token_seconds, total_seconds, completion_tokens FROM answers")
        ).all()
    assert len(stored) == 2 and all(row[2] == 5 and row[1] >= row[0] > 0 for row in stored)


async def test_the_operator_may_show_timings_in_the_reveal(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = make_service(database, providers, reveal_timings=True)
    voter = service.voter("timings", "198.51.100.4")
    battle_id = await _finish(service, voter)
    data = service.vote(voter, battle_id, Winner.TIE).to_dict()
    timing = data["timings"][0]["a"]
    assert timing["total_seconds"] >= timing["first_token_seconds"] > 0
    assert timing["completion_tokens"] == 5
    assert service.battle_state(voter, battle_id).to_dict()["reveal"]["timings"] == data["timings"]


async def test_a_model_never_meets_itself_and_sides_are_random(database: Database) -> None:
    two = {name: ScriptedProvider(f"S{i}") for i, name in enumerate(MODEL_NAMES[:2])}
    service = make_service(database, two, rate_limits=RateLimits(battles_per_minute_per_voter=99))
    voter = service.voter("pairs", "198.51.100.1")
    seen = set()
    for _ in range(24):
        battle_id = await _finish(service, voter)
        battle = service.repository.load_battle(battle_id)
        assert battle is not None and battle.model_b is not None
        assert battle.model_a.name != battle.model_b.name
        seen.add((battle.model_a.name, battle.model_b.name))
    assert seen == {(MODEL_NAMES[0], MODEL_NAMES[1]), (MODEL_NAMES[1], MODEL_NAMES[0])}


async def test_follow_up_continues_each_conversation_with_its_history(
    service: ArenaService, voter, providers: dict[str, ScriptedProvider]
) -> None:
    battle_id = await _finish(service, voter)
    live = await service.follow_up(voter, battle_id, "Another one, please.")
    events = [event async for event in live.events()]
    assert events[0]["turn"] == 2 and events[-1]["voting_open"] is True

    battle = service.repository.load_battle(battle_id)
    assert battle is not None and battle.model_b is not None
    for side, version in (("a", battle.model_a), ("b", battle.model_b)):
        provider = providers[version.name]
        first_answer = battle.turns[0].answers[0 if side == "a" else 1].text
        assert provider.conversations[-1] == [
            {"role": "user", "content": "Tell me a joke."},
            {"role": "assistant", "content": first_answer},
            {"role": "user", "content": "Another one, please."},
        ]
        assert battle.turns[1].answers[0 if side == "a" else 1].text.endswith("turn 2.")
    state = service.battle_state(voter, battle_id)
    assert [turn.turn for turn in state.turns] == [1, 2]
    tokens = battle.style_a["sum_assistant_a_tokens"]  # type: ignore[index]
    assert tokens > battle.turns[1].answers[0].style["sum_assistant_a_tokens"]  # type: ignore[index]


async def test_votes_on_missing_or_foreign_battles_are_not_found(
    service: ArenaService, voter
) -> None:
    with pytest.raises(NotFound):
        service.vote(voter, "no-such-battle", Winner.TIE)
    battle_id = await _finish(service, voter)
    stranger = service.voter("someone-else", "192.0.2.55")
    for attempt in (
        lambda: service.vote(stranger, battle_id, Winner.TIE),
        lambda: service.battle_state(stranger, battle_id),
    ):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(NotFound):
        await service.follow_up(stranger, battle_id, "hi")


async def test_a_second_vote_is_refused(service: ArenaService, voter) -> None:
    battle_id = await _finish(service, voter)
    service.vote(voter, battle_id, Winner.MODEL_A)
    with pytest.raises(AlreadyVoted) as raised:
        service.vote(voter, battle_id, Winner.MODEL_B)
    assert raised.value.status == 409
    assert [vote.winner for vote in service.repository.counted_votes()] == ["model_a"]
    with pytest.raises(BattleClosed):
        await service.follow_up(voter, battle_id, "one more")


async def test_voting_opens_only_when_both_answers_finished(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    gate = asyncio.Event()
    for provider in providers.values():
        provider.gate = gate
    service = make_service(database, providers)
    voter = service.voter("impatient", "192.0.2.1")
    live = await service.start(voter, BattleRequest(prompt="Slowly, please."))
    await asyncio.sleep(0.05)
    with pytest.raises(VotingNotOpen):
        service.vote(voter, live.battle_id, Winner.MODEL_A)
    with pytest.raises(BattleBusy):
        await service.follow_up(voter, live.battle_id, "and?")
    assert service.battle_state(voter, live.battle_id).generating
    gate.set()
    async for _ in live.events():
        pass
    assert service.vote(voter, live.battle_id, Winner.MODEL_A).counted


async def test_a_disconnected_client_loses_nothing(service: ArenaService, voter) -> None:
    live = await service.start(voter, BattleRequest(prompt="Tell me a joke."))
    stream = live.events()
    await anext(stream)  # the client reads one event, then goes away
    await stream.aclose()
    replay = service.events(voter, live.battle_id)
    events = [event async for event in replay]
    assert events[-1] == {"type": "complete", "voting_open": True}
    state = service.battle_state(voter, live.battle_id)
    assert all(answer.status == "done" for answer in state.turns[0].answers.values())
    # After generation, the events are rebuilt from the database.
    rebuilt = [event async for event in service.events(voter, live.battle_id)]
    assert rebuilt[-1] == {"type": "complete", "voting_open": True}
    assert "".join(e["text"] for e in rebuilt if e.get("side") == "a" and "text" in e) == "".join(
        e["text"] for e in events if e.get("side") == "a" and "text" in e
    )


@pytest.mark.parametrize("kind", ["refused", "timeout", "dropped", "unavailable"])
async def test_a_provider_failure_fails_the_battle_blindly(
    database: Database, providers: dict[str, ScriptedProvider], kind: str
) -> None:
    for provider in providers.values():
        provider.fail = kind
    service = make_service(database, providers)
    voter = service.voter("unlucky", "192.0.2.2")
    live = await service.start(voter, BattleRequest(prompt="Hello"))
    events = [event async for event in live.events()]
    failed = [event for event in events if event["type"] == "failed"]
    assert {event["side"] for event in failed} == {"a", "b"}
    assert events[-1] == {"type": "complete", "voting_open": False}
    # The provider's own message names its host; users only see a generic one.
    assert _blinded(events) and "upstream.example" not in json.dumps(events)
    with pytest.raises(BattleFailed):
        service.vote(voter, live.battle_id, Winner.MODEL_A)
    with pytest.raises(BattleFailed):
        await service.follow_up(voter, live.battle_id, "again?")
    battle = service.repository.load_battle(live.battle_id)
    assert battle is not None and battle.status == "failed"
    assert f"{kind}: S" in (battle.failure_reason or "")
    assert service.repository.counted_votes() == []
    state = service.battle_state(voter, live.battle_id)
    assert not state.voting_open and _blinded(state.to_dict())


async def test_a_slow_provider_times_out(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    next(iter(providers.values())).delay = 5.0
    service = make_service(database, providers, limits=ArenaLimits(answer_timeout_seconds=0.2))
    voter = service.voter("waiting", "192.0.2.3")
    request = BattleRequest(mode="named", prompt="hi", models=(MODEL_NAMES[0], MODEL_NAMES[1]))
    live = await service.start(voter, request)
    events = [event async for event in live.events()]
    assert {"type": "failed", "side": "a", "message": "This model took too long to answer."} in (
        events
    )
    assert {"type": "done", "side": "b"} in events


async def test_named_mode_votes_are_stored_but_never_counted(service: ArenaService, voter) -> None:
    request = BattleRequest(mode="named", prompt="hi", models=(MODEL_NAMES[2], MODEL_NAMES[0]))
    battle_id = await _finish(service, voter, request)
    state = service.battle_state(voter, battle_id)
    assert state.reveal is not None and state.reveal.models["a"].name == MODEL_NAMES[2]
    reveal = service.vote(voter, battle_id, Winner.MODEL_A)
    assert reveal.counted is False
    assert service.repository.counted_votes() == []
    stored = service.repository.load_battle(battle_id)
    assert stored is not None and stored.vote is not None and stored.vote.winner == "model_a"


async def test_single_mode_talks_to_one_model(service: ArenaService, voter) -> None:
    request = BattleRequest(mode="single", prompt="hi", models=(MODEL_NAMES[1],))
    live = await service.start(voter, request)
    events = [event async for event in live.events()]
    assert {event.get("side") for event in events if "side" in event} == {"a"}
    assert service.vote(voter, live.battle_id, Winner.MODEL_A).counted is False
    assert service.repository.counted_votes() == []


async def test_requests_are_validated(service: ArenaService, voter) -> None:
    cases = [
        (BattleRequest(prompt=None), PromptEmpty),
        (BattleRequest(prompt="   \n"), PromptEmpty),
        (BattleRequest(prompt="x" * 8_001), PromptTooLong),
        (BattleRequest(prompt="hi", models=(MODEL_NAMES[0], MODEL_NAMES[1])), InvalidRequest),
        (BattleRequest(mode="named", prompt="hi", models=(MODEL_NAMES[0],)), InvalidRequest),
        (BattleRequest(mode="named", prompt="hi", models=(MODEL_NAMES[0],) * 2), InvalidRequest),
        (BattleRequest(mode="named", prompt="hi", models=("nobody", MODEL_NAMES[0])), UnknownModel),
        (BattleRequest(mode="duel", prompt="hi"), InvalidRequest),  # type: ignore[arg-type]
        (BattleRequest(kind="poetry", prompt="hi"), InvalidRequest),  # type: ignore[arg-type]
    ]
    for request, error in cases:
        with pytest.raises(error):
            await service.start(voter, request)
    with pytest.raises(PromptTooLong, match="8,001 characters; the limit is 8,000"):
        await service.start(voter, BattleRequest(prompt="x" * 8_001))
    with pytest.raises(InvalidRequest, match="choice must be one of"):
        service.vote(voter, "anything", "left")
    assert service.repository.counted_votes() == []


async def test_starting_battles_is_rate_limited(database: Database, providers) -> None:
    service = make_service(
        database, providers, rate_limits=RateLimits(battles_per_minute_per_voter=2)
    )
    voter = service.voter("eager", "192.0.2.4")
    await _finish(service, voter)
    await _finish(service, voter)
    with pytest.raises(RateLimited) as raised:
        await service.start(voter, BattleRequest(prompt="third"))
    assert raised.value.status == 429 and 1 <= raised.value.retry_after <= 60
    other = service.voter("patient", "192.0.2.5")
    await _finish(service, other)


async def test_votes_are_capped_per_day(database: Database, providers) -> None:
    limits = RateLimits(battles_per_minute_per_voter=99, votes_per_day_per_ip=2)
    service = make_service(database, providers, rate_limits=limits)
    voters = [service.voter(f"sock-{n}", "192.0.2.6") for n in range(3)]
    battles = [await _finish(service, voter) for voter in voters]
    service.vote(voters[0], battles[0], Winner.TIE)
    service.vote(voters[1], battles[1], Winner.TIE)
    with pytest.raises(RateLimited):
        service.vote(voters[2], battles[2], Winner.TIE)


async def test_the_raw_ip_is_never_stored(service: ArenaService, database: Database) -> None:
    ip = "198.51.100.231"
    voter = service.voter("privacy", ip)
    assert ip not in voter.ip_hash
    battle_id = await _finish(service, voter)
    service.vote(voter, battle_id, Winner.MODEL_A)
    with database.engine.connect() as connection:
        for table in ("battles", "votes", "vote_log", "turns", "answers", "model_versions"):
            rows = connection.execute(sa.text(f"SELECT * FROM {table}")).all()
            assert rows and ip not in repr(rows), table
        stored = connection.execute(sa.text("SELECT ip_hash FROM votes")).scalar()
    assert stored == voter.ip_hash and len(stored) == 64


async def test_an_interrupted_battle_is_failed_not_open_forever(
    service: ArenaService, voter, database: Database
) -> None:
    battle_id = await _finish(service, voter)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(Battle)
            .where(Battle.public_id == battle_id)
            .values(status="generating", updated_at=long_ago)
        )
    state = service.battle_state(voter, battle_id)
    assert state.status == "failed" and not state.voting_open
    with pytest.raises(BattleFailed):
        service.vote(voter, battle_id, Winner.MODEL_A)


async def test_closing_the_service_fails_unfinished_battles(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    gate = asyncio.Event()
    for provider in providers.values():
        provider.gate = gate
    service = make_service(database, providers)
    voter = service.voter("shutdown", "192.0.2.9")
    live = await service.start(voter, BattleRequest(prompt="never finishes"))
    await asyncio.sleep(0.05)
    await service.aclose()
    events = [event async for event in live.events()]
    assert events[-1] == {"type": "complete", "voting_open": False}
    assert service.battle_state(voter, live.battle_id).status == "failed"


async def test_a_battle_takes_at_most_max_turns_prompts(database: Database, providers) -> None:
    service = make_service(database, providers, limits=ArenaLimits(max_turns=2))
    voter = service.voter("chatty", "192.0.2.40")
    battle_id = await _finish(service, voter)
    live = await service.follow_up(voter, battle_id, "second")
    async for _ in live.events():
        pass
    with pytest.raises(BattleClosed, match="limit of 2 prompts"):
        await service.follow_up(voter, battle_id, "third")
    assert service.battle_state(voter, battle_id).voting_open


async def test_changed_or_removed_models_end_a_battle_without_naming_them(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = make_service(database, providers)
    voter = service.voter("returning", "192.0.2.41")
    battle_id = await _finish(service, voter)
    # The arena restarts with new settings for every model: new versions.
    changed = {name: ScriptedProvider(f"T{i}") for i, name in enumerate(MODEL_NAMES)}
    restarted = make_service(database, changed, fingerprint_suffix="-v2")
    with pytest.raises(BattleClosed, match="updated since it started") as raised:
        await restarted.follow_up(voter, battle_id, "still there?")
    assert _blinded(raised.value.message)
    # ...or without them at all.
    emptied = make_service(database, {"delta-model": ScriptedProvider("D")})
    with pytest.raises(BattleClosed, match="no longer available") as raised:
        await emptied.follow_up(voter, battle_id, "hello?")
    assert _blinded(raised.value.message)
    # The battle is still open, and its vote still goes to the versions that answered.
    reveal = emptied.vote(voter, battle_id, Winner.MODEL_A)
    assert reveal.models["a"].version == 1
    assert [v.version for v in service.repository.versions(MODEL_NAMES[0])] == [1, 2]


async def test_webdev_battles_ask_for_an_app_and_rank_apart(
    service: ArenaService, voter, providers: dict[str, ScriptedProvider]
) -> None:
    request = BattleRequest(kind="webdev", prompt="A snake game.")
    battle_id = await _finish(service, voter, request)
    live = await service.follow_up(voter, battle_id, "Make it faster.")
    async for _ in live.events():
        pass
    conversations = [c for p in providers.values() for c in p.conversations]
    assert len(conversations) == 4
    for conversation in conversations:
        assert conversation[0] == {"role": "system", "content": WEBDEV_SYSTEM_PROMPT}
        assert conversation[1] == {"role": "user", "content": "A snake game."}
    service.vote(voter, battle_id, Winner.TIE)
    assert [vote.category for vote in service.repository.counted_votes()] == ["webdev"]


async def test_a_storage_outage_is_a_503_and_acknowledges_nothing(
    service: ArenaService, voter, monkeypatch: pytest.MonkeyPatch
) -> None:
    battle_id = await _finish(service, voter)
    original = service.repository.record_vote

    def outage(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("INSERT INTO votes", {}, Exception("server closed"))

    monkeypatch.setattr(service.repository, "record_vote", outage)
    with pytest.raises(ServiceUnavailable) as raised:
        service.vote(voter, battle_id, Winner.MODEL_A)
    assert raised.value.status == 503
    assert service.repository.counted_votes() == []
    monkeypatch.setattr(service.repository, "record_vote", original)
    assert service.vote(voter, battle_id, Winner.MODEL_A).counted


async def test_another_worker_replays_a_battle_once_it_is_answered(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    gate = asyncio.Event()
    for provider in providers.values():
        provider.gate = gate
    generating_worker = make_service(database, providers)
    other_worker = make_service(database, providers)
    voter = generating_worker.voter("roaming", "192.0.2.60")
    live = await generating_worker.start(voter, BattleRequest(prompt="Across workers?"))

    async def replay() -> list[dict]:
        return [event async for event in other_worker.events(voter, live.battle_id)]

    replaying = asyncio.create_task(replay())
    await asyncio.sleep(0.7)  # the other worker is polling storage meanwhile
    assert not replaying.done()
    gate.set()
    events = await asyncio.wait_for(replaying, timeout=10)
    direct = [event async for event in live.events()]
    assert events[0] == direct[0] and events[-1] == direct[-1]
    for side in "ab":
        text = "".join(e["text"] for e in direct if e["type"] == "delta" and e["side"] == side)
        assert {"type": "delta", "side": side, "text": text} in events
    assert other_worker.vote(voter, live.battle_id, Winner.TIE).counted


async def test_the_models_start_while_the_battle_is_stored_and_it_is_acknowledged_after(
    service: ArenaService, voter, providers: dict[str, ScriptedProvider], monkeypatch
) -> None:
    may_commit = threading.Event()
    original = service.repository.create_battle

    def slow_create_battle(**battle):  # type: ignore[no-untyped-def]
        may_commit.wait(timeout=10)
        original(**battle)

    monkeypatch.setattr(service.repository, "create_battle", slow_create_battle)
    starting = asyncio.create_task(service.start(voter, BattleRequest(prompt="Quick!")))
    for _ in range(200):
        if sum(len(provider.conversations) for provider in providers.values()) == 2:
            break
        await asyncio.sleep(0.01)
    assert sum(len(provider.conversations) for provider in providers.values()) == 2
    assert not starting.done()  # the battle is not acknowledged before it is committed
    may_commit.set()
    live = await starting
    assert service.repository.load_battle(live.battle_id) is not None
    events = [event async for event in live.events()]
    assert events[0]["type"] == "battle" and events[-1] == {"type": "complete", "voting_open": True}
    assert service.vote(voter, live.battle_id, Winner.TIE).winner == "tie"


async def test_a_battle_that_cannot_be_stored_is_a_503_and_stops_generating(
    service: ArenaService, voter, database: Database, monkeypatch
) -> None:
    def outage(**battle):  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("INSERT INTO battles", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service.repository, "create_battle", outage)
    with pytest.raises(ServiceUnavailable):
        await service.start(voter, BattleRequest(prompt="Anyone?"))
    for _ in range(100):
        if not service._tasks:
            break
        await asyncio.sleep(0.01)
    assert not service._tasks and not service._live
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM answers")).scalar() == 0


async def test_a_vote_on_an_interrupted_battle_fails_it(
    service: ArenaService, voter, database: Database
) -> None:
    battle_id = await _finish(service, voter)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(Battle)
            .where(Battle.public_id == battle_id)
            .values(status="generating", updated_at=long_ago)
        )
    with pytest.raises(BattleFailed):
        service.vote(voter, battle_id, Winner.MODEL_A)
    assert service.battle_state(voter, battle_id).status == "failed"
    assert service.repository.counted_votes() == []


async def test_the_reveal_after_a_vote_matches_the_stored_battle_turn_by_turn(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = make_service(database, providers, reveal_timings=True)
    voter = service.voter("turns", "198.51.100.5")
    battle_id = await _finish(service, voter)
    for prompt in ("And another?", "One more?"):
        live = await service.follow_up(voter, battle_id, prompt)
        async for _ in live.events():
            pass
    reveal = service.vote(voter, battle_id, Winner.BOTH_BAD)
    assert reveal.timings is not None
    assert len(reveal.timings) == 3 and all(set(turn) == {"a", "b"} for turn in reveal.timings)
    assert service.battle_state(voter, battle_id).reveal == reveal


async def test_both_sides_stream_at_once(database: Database) -> None:
    paced = {name: ScriptedProvider(f"S{i}", delay=0.02) for i, name in enumerate(MODEL_NAMES)}
    service = make_service(database, paced)
    voter = service.voter("concurrent", "198.51.100.9")
    live = await service.start(voter, BattleRequest(prompt="Race."))
    events = [event async for event in live.events()]
    first_done = next(i for i, event in enumerate(events) if event["type"] == "done")
    sides_before_any_finished = {
        event["side"] for event in events[:first_done] if event["type"] == "delta"
    }
    # Sequential generation would finish one side before the other sends a word.
    assert sides_before_any_finished == {"a", "b"}
    await service.aclose()


class _TokenisedProvider:
    """Says `text` in the pieces `split` makes of it: one tokenizer, one speed."""

    def __init__(self, text: str, split: Callable[[str], list[str]], delay: float) -> None:
        self.text, self.split, self.delay = text, split, delay

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]:
        pieces = self.split(self.text)
        for piece in pieces:
            await asyncio.sleep(self.delay)
            yield TextDelta(piece)
        yield Finished(completion_tokens=len(pieces), finish_reason="stop")


def _by_words(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text)


def _by_three_characters(text: str) -> list[str]:
    return [text[index : index + 3] for index in range(0, len(text), 3)]


async def test_two_tokenizers_and_speeds_give_indistinguishable_streams(
    database: Database,
) -> None:
    text = "Paris is the capital of France. " * 6
    providers = {
        "word-tokenizer-fast": _TokenisedProvider(text, _by_words, 0.0),
        "char-tokenizer-slow": _TokenisedProvider(text, _by_three_characters, 0.003),
    }
    pacing = StreamPacing(tick_seconds=0.02, chunk_chars=16)
    service = make_service(database, providers, pacing=pacing)
    voter = service.voter("tokenizers", "198.51.100.12")
    live = await service.start(voter, BattleRequest(prompt="Capital of France?"))
    loop = asyncio.get_running_loop()
    timed = [(loop.time(), event) async for event in live.events()]
    deltas = {
        side: [(t, e["text"]) for t, e in timed if e["type"] == "delta" and e["side"] == side]
        for side in "ab"
    }
    # Before pacing, side a sent one event per provider token: 36 against 64 here.
    expected = list(word_chunks(text, 16))
    assert [chunk for _, chunk in deltas["a"]] == expected
    assert [chunk for _, chunk in deltas["b"]] == expected
    # Same ticks for both sides: the faster model waited for the slower one.
    assert all(
        abs(time_a - time_b) < 0.005
        for (time_a, _), (time_b, _) in zip(deltas["a"], deltas["b"], strict=True)
    )
    done = [i for i, (_, e) in enumerate(timed) if e["type"] == "done"]
    last_delta = max(i for i, (_, e) in enumerate(timed) if e["type"] == "delta")
    assert len(done) == 2 and min(done) > last_delta - 1
    await service.aclose()


async def test_a_failure_mid_stream_delivers_the_partial_text_then_the_failure(
    database: Database,
) -> None:
    providers = {
        MODEL_NAMES[0]: ScriptedProvider("S0", fail="dropped"),
        MODEL_NAMES[1]: ScriptedProvider("S1"),
    }
    service = make_service(database, providers)
    voter = service.voter("partial", "198.51.100.13")
    live = await service.start(voter, BattleRequest(prompt="Go."))
    events = [event async for event in live.events()]
    battle = service.repository.load_battle(live.battle_id)
    assert battle is not None
    failing = "a" if battle.model_a.name == MODEL_NAMES[0] else "b"
    failed_at = next(i for i, e in enumerate(events) if e["type"] == "failed")
    assert events[failed_at]["side"] == failing
    partial = "".join(
        e["text"] for e in events[:failed_at] if e["type"] == "delta" and e["side"] == failing
    )
    assert partial == "Reply S0"  # two words, then the provider dropped
    assert not any(e.get("side") == failing for e in events[failed_at + 1 :])
    assert events[-1] == {"type": "complete", "voting_open": False}
