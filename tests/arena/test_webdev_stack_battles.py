"""WebDev battles are asked in a stack: stored with it, prompted in it turn after turn,
ranked on its board, carried in the vote log and the export, and counted in "apps that run"
per stack."""

from __future__ import annotations

import json

import pytest
from scripted_arena import ScriptedProvider, make_service

from glassarena.arena.errors import InvalidRequest
from glassarena.arena.export import exported_battles
from glassarena.arena.leaderboard_refresher import LeaderboardRefresher
from glassarena.arena.log_audit import read_log, recompute_served, served_json
from glassarena.arena.log_export import export_lines
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.battles.record import Winner
from glassarena.storage.app_checks import AppCheckStore, StoredAppCheck
from glassarena.storage.database import Database
from glassarena.vocabulary import WebdevStack
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPT, WEBDEV_SYSTEM_PROMPTS


def _service(database: Database, providers: dict[str, ScriptedProvider]) -> ArenaService:
    limits = RateLimits(battles_per_minute_per_voter=1000, votes_per_minute_per_voter=1000)
    return make_service(database, providers, rate_limits=limits)


async def _battle(
    service: ArenaService, stack: WebdevStack | None, follow_up: str | None = None
) -> str:
    voter = service.voter("stacked", "192.0.2.41")
    live = await service.start(
        voter, BattleRequest(kind="webdev", prompt="A counter app.", stack=stack)
    )
    async for _ in live.events():
        pass
    if follow_up is not None:
        follow = await service.follow_up(voter, live.battle_id, follow_up)
        async for _ in follow.events():
            pass
    return live.battle_id


async def test_the_stack_is_stored_and_asked_for_in_every_turn(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = _service(database, providers)
    battle_id = await _battle(service, WebdevStack.REACT, follow_up="Make the button red.")
    battle = service.repository.battle(battle_id)
    assert battle is not None and battle.webdev_stack is WebdevStack.REACT
    voter = service.voter("stacked", "192.0.2.41")
    assert service.battle_state(voter, battle_id).webdev_stack is WebdevStack.REACT
    conversations = [c for p in providers.values() for c in p.conversations]
    assert len(conversations) == 4
    react_prompt = {"role": "system", "content": WEBDEV_SYSTEM_PROMPTS[WebdevStack.REACT]}
    assert all(conversation[0] == react_prompt for conversation in conversations)
    assert "```tsx" in react_prompt["content"] and "Tailwind" in react_prompt["content"]
    # The follow-up carries the side's own earlier answer: the code the model edits.
    follow_ups = [c for c in conversations if len(c) > 2]
    assert len(follow_ups) == 2
    for conversation in follow_ups:
        assert [message["role"] for message in conversation] == [
            "system",
            "user",
            "assistant",
            "user",
        ]
        assert conversation[2]["content"].endswith("to turn 1.")


async def test_without_a_stack_the_arena_default_is_asked(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = _service(database, providers)
    battle_id = await _battle(service, None)
    battle = service.repository.battle(battle_id)
    assert battle is not None and battle.webdev_stack is service.webdev_stack
    conversation = next(c for p in providers.values() for c in p.conversations)
    assert conversation[0]["content"] == WEBDEV_SYSTEM_PROMPTS[service.webdev_stack]
    # The service's own default (a deployment sets another through its settings).
    assert service.webdev_stack is WebdevStack.HTML
    assert WEBDEV_SYSTEM_PROMPTS[WebdevStack.HTML] == WEBDEV_SYSTEM_PROMPT


async def test_a_stack_is_refused_outside_webdev_and_an_unknown_one_everywhere(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = _service(database, providers)
    voter = service.voter("stacked", "192.0.2.41")
    with pytest.raises(InvalidRequest, match="Only WebDev"):
        await service.start(voter, BattleRequest(prompt="Hi", stack=WebdevStack.VUE))
    with pytest.raises(InvalidRequest, match="stack must be one of"):
        await service.start(
            voter,
            BattleRequest(kind="webdev", prompt="Hi", stack="svelte"),  # type: ignore[arg-type]
        )


async def test_text_battles_have_no_stack(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = _service(database, providers)
    voter = service.voter("stacked", "192.0.2.41")
    live = await service.start(voter, BattleRequest(prompt="Hello"))
    async for _ in live.events():
        pass
    battle = service.repository.battle(live.battle_id)
    assert battle is not None and battle.webdev_stack is None


async def test_stack_boards_rank_their_battles_and_follow_from_the_log(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = _service(database, providers)
    voter = service.voter("stacked", "192.0.2.41")
    winners = [Winner.MODEL_A, Winner.MODEL_B, Winner.TIE]
    stacks = [WebdevStack.REACT, WebdevStack.REACT, WebdevStack.VUE]
    for number in range(12):
        battle_id = await _battle(service, stacks[number % 3])
        service.vote(voter, battle_id, winners[number % 3])
    refresher = LeaderboardRefresher(service.repository)
    refresher.refresh()
    react = refresher.snapshot("webdev_react")
    vue = refresher.snapshot("webdev_vue")
    webdev = refresher.snapshot("webdev")
    python = refresher.snapshot("webdev_python")
    assert react is not None and vue is not None and webdev is not None and python is not None
    assert (react.votes, vue.votes, webdev.votes, python.votes) == (8, 4, 12, 0)

    lines = [line.decode() for line in export_lines(service.repository)]
    stacks_logged = [json.loads(line).get("webdev_stack") for line in lines]
    assert stacks_logged.count("react") == 8 and stacks_logged.count("vue") == 4
    entries = read_log(lines, "log.jsonl")
    for snapshot in (react, vue):
        served = served_json(snapshot.to_dict())
        assert recompute_served(entries, json.loads(served)) == served

    exported = exported_battles(service.repository)
    assert list(exported["webdev_stack"]) == [stack.value for stack in stacks] * 4


def _check(runs: bool, stack: str | None) -> StoredAppCheck:
    return StoredAppCheck(
        app_found=stack is not None,
        truncated=False,
        note=None,
        lines_of_code=3,
        code_blocks=1,
        checked=stack is not None,
        loaded=runs,
        rendered=runs,
        runs=runs,
        load_ms=12.0 if runs else None,
        stack=stack,
    )


async def test_apps_that_run_are_counted_per_stack_and_each_turn_is_checked(
    database: Database, providers: dict[str, ScriptedProvider]
) -> None:
    service = _service(database, providers)
    store = AppCheckStore(database)
    react = await _battle(service, WebdevStack.REACT, follow_up="Add a reset button.")
    vue = await _battle(service, WebdevStack.VUE)
    # Turn 1 of the React battle: both run; turn 2: side a's edit broke its app.
    store.save(react, 1, "a", _check(True, "react"), None)
    store.save(react, 1, "b", _check(True, "react"), None)
    store.save(react, 2, "a", _check(False, "react"), None)
    store.save(react, 2, "b", _check(True, "html"), None)
    store.save(vue, 1, "a", _check(False, None), None)
    store.save(vue, 1, "b", _check(True, "vue"), None)
    checks = store.for_battle(react)
    assert {key: check.runs for key, check in checks.items()} == {
        (1, "a"): True,
        (1, "b"): True,
        (2, "a"): False,
        (2, "b"): True,
    }
    assert checks[(2, "b")].stack == "html"  # asked for React, written as one HTML page

    def total(category: str) -> tuple[int, int]:
        counts = store.run_counts(category)
        return sum(count.answers for count in counts), sum(count.runs for count in counts)

    assert total("webdev_react") == (4, 3)
    assert total("webdev_vue") == (2, 1)
    assert total("webdev") == (6, 4)
    assert total("webdev_python") == (0, 0)

    history = store.side_history(react, 2, "a")
    assert history.stack is WebdevStack.REACT
    assert len(history.earlier_answers) == 1
    assert history.earlier_answers[0].endswith("to turn 1.")
