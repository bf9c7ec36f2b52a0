"""The optional judge model tags prompt categories over the real OpenAI protocol, in the
background after the battle is stored with the rules' tag; whenever it fails or is slow, the
rules' tag stays, and the voter never waits for it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest
from scripted_arena import ScriptedProvider, make_service

from glassarena.arena.bootstrap import _prompt_judge
from glassarena.arena.config import ConfigError, load_config
from glassarena.arena.prompt_judge import JudgeAnswerError, PromptJudge, parsed_verdict
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.battles.categories import category_names
from glassarena.battles.prompt_categories import RULES_VERSION, rule_based_tag
from glassarena.storage.database import Database
from glassarena.vocabulary import Winner
from openai_test_server import ModelServerDouble, ScriptedModel

VERDICT = {
    "coding": False,
    "math": True,
    "creative_writing": False,
    "instruction_following": True,
    "criteria": ["specificity", "domain_knowledge", "complexity", "problem_solving",
                 "creativity", "technical_accuracy"],
}  # fmt: skip
PROMPT = "Wie viele Primzahlen gibt es unter hundert? Antworte in einem Satz."


async def _judged(base_url: str, timeout_seconds: float = 5.0) -> dict | None:
    judge = PromptJudge(base_url=base_url, model="judge", timeout_seconds=timeout_seconds)
    try:
        return await judge.tag(PROMPT)
    finally:
        await judge.aclose()


async def test_the_judge_decides_the_content_categories_and_criteria() -> None:
    script = {"judge": ScriptedModel(answer=json.dumps(VERDICT))}
    with ModelServerDouble(script) as server:
        tag = await _judged(server.openai_base_url)
        (request,) = server.requests
    assert tag is not None
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"][-1] == {"role": "user", "content": PROMPT}
    assert tag["classifier"] == "judge-1:judge"
    assert tag["language"] == "de"  # measured, not judged
    names = category_names(tag)
    assert {"math", "instruction_following", "hard_prompts", "language_de"} <= names
    assert "coding" not in names


@pytest.mark.parametrize(
    "script",
    [
        ScriptedModel(answer="I think this is a math question."),  # not JSON
        ScriptedModel(answer=json.dumps({**VERDICT, "math": "yes"})),  # wrong type
        ScriptedModel(answer=json.dumps({**VERDICT, "criteria": ["vibes"]})),  # unknown name
        ScriptedModel(behaviour="refuse", status=500),
        ScriptedModel(behaviour="hang"),
        # Every read within httpx's timeout, the whole answer far beyond the deadline.
        ScriptedModel(answer=json.dumps(VERDICT), token_delay=0.2),
    ],
    ids=["prose", "wrong-type", "unknown-criterion", "server-error", "timeout", "trickle"],
)
async def test_a_failing_judge_gives_no_tag_within_its_deadline(script: ScriptedModel) -> None:
    with ModelServerDouble({"judge": script}) as server:
        started = time.monotonic()
        tag = await _judged(server.openai_base_url, timeout_seconds=0.5)
        elapsed = time.monotonic() - started
    assert tag is None
    assert elapsed < 5


def test_a_fenced_json_answer_is_accepted_and_junk_is_not() -> None:
    assert parsed_verdict("```json\n" + json.dumps(VERDICT) + "\n```")["math"] is True
    with pytest.raises(JudgeAnswerError, match="criteria"):
        parsed_verdict(json.dumps({**VERDICT, "criteria": [{"a": 1}]}))


def _config(tmp_path: Path, judge: str) -> Path:
    path = tmp_path / "arena.yaml"
    path.write_text(
        "contestants:\n"
        "  - name: house-model\n"
        "    provider: {kind: openai, base_url: 'http://127.0.0.1:8001/v1', model: qwen}\n"
        "    organization: unknown\n" + judge
    )
    return path


def test_the_config_names_a_judge_or_leaves_the_rules(tmp_path: Path) -> None:
    rules = load_config(_config(tmp_path, ""))
    assert _prompt_judge(rules) is None
    judged = load_config(
        _config(
            tmp_path,
            "prompt_judge:\n  model: judge\n  base_url: http://127.0.0.1:9/v1\n"
            "  api_key_env: JUDGE_KEY\n",
        ),
        environ={"JUDGE_KEY": "secret"},
    )
    assert judged.prompt_judge_api_key == "secret"
    assert isinstance(_prompt_judge(judged), PromptJudge)


def test_a_judge_key_that_is_not_set_is_named_with_its_line(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "prompt_judge:\n  model: judge\n  base_url: http://127.0.0.1:9/v1\n"
        "  api_key_env: JUDGE_KEY\n",
    )
    with pytest.raises(ConfigError, match="JUDGE_KEY is not set") as raised:
        load_config(path, environ={})
    assert "arena.yaml:8" in str(raised.value)


# -- in the arena: the judge runs after the battle is stored, off the voter's path -------------


def _judged_service(
    database: Database, base_url: str, timeout_seconds: float
) -> tuple[ArenaService, PromptJudge]:
    providers = {name: ScriptedProvider(name[0]) for name in ("alpha-model", "beta-model")}
    judge = PromptJudge(base_url=base_url, model="judge", timeout_seconds=timeout_seconds)
    limits = RateLimits(battles_per_minute_per_voter=1000, votes_per_minute_per_voter=1000)
    return make_service(database, providers, rate_limits=limits, prompt_judge=judge), judge


async def _answered(service: ArenaService, prompt: str = PROMPT) -> str:
    live = await service.start(service.voter("judged", "192.0.2.41"), BattleRequest(prompt=prompt))
    async for _ in live.events():
        pass
    return live.battle_id


def _tag(service: ArenaService, battle_id: str) -> dict:
    battle = service.repository.battle(battle_id)
    assert battle is not None and battle.prompt_categories is not None
    return dict(battle.prompt_categories)


async def _until(condition, what: str, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_slow_judge_delays_nothing_and_its_tag_arrives_later(database: Database) -> None:
    slow = ScriptedModel(answer=json.dumps(VERDICT), first_token_delay=2.0)
    with ModelServerDouble({"judge": slow}) as server:
        service, judge = _judged_service(database, server.openai_base_url, timeout_seconds=20)
        started = time.monotonic()
        battle_id = await _answered(service)
        # Both answers streamed and the battle can be voted on before the judge answered.
        assert time.monotonic() - started < 2.0
        assert _tag(service, battle_id) == rule_based_tag(PROMPT)
        await _until(lambda: _tag(service, battle_id)["classifier"] == "judge-1:judge", "judge")
        assert {"math", "hard_prompts", "language_de"} <= category_names(_tag(service, battle_id))
        await service.aclose()
        await judge.aclose()


async def test_a_failing_judge_leaves_the_rules_tag_and_the_vote_untouched(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "glassarena.arena.prompt_judge")
    with ModelServerDouble({"judge": ScriptedModel(behaviour="refuse", status=500)}) as server:
        service, judge = _judged_service(database, server.openai_base_url, timeout_seconds=2)
        battle_id = await _answered(service)
        voter = service.voter("judged", "192.0.2.41")
        reveal = service.vote(voter, battle_id, Winner.MODEL_A)
        assert reveal.winner == Winner.MODEL_A
        await _until(lambda: "prompt judge failed" in caplog.text, "the judge's failure")
        assert _tag(service, battle_id) == rule_based_tag(PROMPT)
        assert _tag(service, battle_id)["classifier"] == RULES_VERSION
        await service.aclose()
        await judge.aclose()


async def test_a_hanging_judge_times_out_in_the_background(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "glassarena.arena.prompt_judge")
    with ModelServerDouble({"judge": ScriptedModel(behaviour="hang")}) as server:
        service, judge = _judged_service(database, server.openai_base_url, timeout_seconds=0.5)
        started = time.monotonic()
        battle_id = await _answered(service)
        assert time.monotonic() - started < 5
        await _until(lambda: "prompt judge failed" in caplog.text, "the judge's timeout")
        assert _tag(service, battle_id)["classifier"] == RULES_VERSION
        await service.aclose()
        await judge.aclose()


async def test_a_judge_answering_after_the_vote_leaves_the_counted_tag(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "glassarena.arena.service")
    slow = ScriptedModel(answer=json.dumps(VERDICT), first_token_delay=2.0)
    with ModelServerDouble({"judge": slow}) as server:
        service, judge = _judged_service(database, server.openai_base_url, timeout_seconds=20)
        battle_id = await _answered(service)
        service.vote(service.voter("judged", "192.0.2.41"), battle_id, Winner.MODEL_B)
        await _until(lambda: "voted on before the prompt judge" in caplog.text, "the judge")
        assert _tag(service, battle_id) == rule_based_tag(PROMPT)
        (logged,) = service.repository.counted_votes_in_log(1)
        assert logged.prompt_categories == rule_based_tag(PROMPT)
        await service.aclose()
        await judge.aclose()


async def test_a_follow_up_before_the_judge_answers_stays_multi_turn(database: Database) -> None:
    slow = ScriptedModel(answer=json.dumps(VERDICT), first_token_delay=2.0)
    with ModelServerDouble({"judge": slow}) as server:
        service, judge = _judged_service(database, server.openai_base_url, timeout_seconds=20)
        battle_id = await _answered(service)
        follow = await service.follow_up(
            service.voter("judged", "192.0.2.41"), battle_id, "Und unter tausend?"
        )
        async for _ in follow.events():
            pass
        await _until(lambda: _tag(service, battle_id)["classifier"] == "judge-1:judge", "judge")
        assert {"multi_turn", "math"} <= category_names(_tag(service, battle_id))
        await service.aclose()
        await judge.aclose()
