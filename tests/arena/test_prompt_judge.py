"""The optional judge model tags prompt categories over the real OpenAI protocol; whenever it
fails, the rules tag the battle instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glassarena.arena.bootstrap import _prompt_classifier
from glassarena.arena.config import ConfigError, load_config
from glassarena.arena.prompt_judge import JudgeAnswerError, PromptJudge, parsed_verdict
from glassarena.battles.categories import category_names
from glassarena.battles.prompt_categories import RULES_VERSION, rule_based_tag
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


def test_the_judge_decides_the_content_categories_and_criteria() -> None:
    script = {"judge": ScriptedModel(answer=json.dumps(VERDICT))}
    with ModelServerDouble(script) as server:
        judge = PromptJudge(base_url=server.openai_base_url, model="judge")
        tag = judge(PROMPT)
        judge.close()
        (request,) = server.requests
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
    ],
    ids=["prose", "wrong-type", "unknown-criterion", "server-error", "timeout"],
)
def test_a_failing_judge_leaves_the_rules_tag(script: ScriptedModel) -> None:
    with ModelServerDouble({"judge": script}) as server:
        judge = PromptJudge(base_url=server.openai_base_url, model="judge", timeout_seconds=0.5)
        tag = judge(PROMPT)
        judge.close()
    assert tag == rule_based_tag(PROMPT)
    assert tag["classifier"] == RULES_VERSION


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
    assert _prompt_classifier(rules) is rule_based_tag
    judged = load_config(
        _config(
            tmp_path,
            "prompt_judge:\n  model: judge\n  base_url: http://127.0.0.1:9/v1\n"
            "  api_key_env: JUDGE_KEY\n",
        ),
        environ={"JUDGE_KEY": "secret"},
    )
    assert judged.prompt_judge_api_key == "secret"
    assert isinstance(_prompt_classifier(judged), PromptJudge)


def test_a_judge_key_that_is_not_set_is_named_with_its_line(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "prompt_judge:\n  model: judge\n  base_url: http://127.0.0.1:9/v1\n"
        "  api_key_env: JUDGE_KEY\n",
    )
    with pytest.raises(ConfigError, match="JUDGE_KEY is not set") as raised:
        load_config(path, environ={})
    assert "arena.yaml:8" in str(raised.value)
