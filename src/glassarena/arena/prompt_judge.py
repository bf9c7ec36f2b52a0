"""An optional judge model that tags prompt categories, for deployments that have one.

Any server speaking the OpenAI chat-completions protocol (config section `prompt_judge`).
The judge decides the content categories and LMArena's seven hard-prompt criteria; the
language (py3langid), "longer query" (token count) and "multi-turn" (a follow-up was sent)
stay facts the rules measure. The tag records `judge-1:<model>` as its classifier.

The judge is asked while the new battle is stored, so its answer delays the battle's first
event by up to `timeout_seconds`: keep the judge fast, or the timeout short. Whenever the
judge fails (unreachable, slow, an answer that is not the JSON asked for) the battle is
tagged by the rules instead, and the tag says so (`classifier: rules-1`): a battle is never
lost or left untagged because of the judge.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import httpx

from glassarena.battles.prompt_categories import CRITERIA, classify_prompt

logger = logging.getLogger(__name__)

JUDGE_VERSION = "judge-1"
_FLAGS = ("coding", "math", "creative_writing", "instruction_following")
_INSTRUCTIONS = f"""You classify a user's prompt to a chatbot. Answer with one JSON object and
nothing else, with these keys:
- "coding", "math", "creative_writing", "instruction_following": true or false
  (instruction_following: the prompt sets explicit constraints on the answer's format,
  length, style or content);
- "criteria": the list of the criteria the prompt meets, from {list(CRITERIA)}:
  specificity (asks for a specific output), domain_knowledge, complexity (several parts or
  steps), problem_solving, creativity, technical_accuracy, real_world (a real application)."""


class JudgeAnswerError(ValueError):
    """The judge's answer is not the JSON object asked for."""


class PromptJudge:
    """A PromptClassifier (battles/prompt_categories.py) backed by a judge model."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout_seconds,
            transport=transport,
        )
        self._model = model
        self.version = f"{JUDGE_VERSION}:{model}"

    def __call__(self, prompt: str) -> dict[str, Any]:
        measured = classify_prompt(prompt)
        try:
            verdict = self._ask(prompt)
        except (httpx.HTTPError, JudgeAnswerError) as error:
            logger.warning("prompt judge failed (%s); the rules tag this battle", error)
            return measured.category_tag()
        judged = replace(
            measured,
            coding=verdict["coding"],
            math=verdict["math"],
            creative_writing=verdict["creative_writing"],
            instruction_following=verdict["instruction_following"],
            criteria=frozenset(verdict["criteria"]),
            classifier=self.version,
        )
        return judged.category_tag()

    def _ask(self, prompt: str) -> dict[str, Any]:
        response = self._client.post(
            "chat/completions",
            json={
                "model": self._model,
                "messages": [
                    {"role": "system", "content": _INSTRUCTIONS},
                    {"role": "user", "content": prompt},
                ],
                "temperature": 0,
                "stream": False,
            },
        )
        response.raise_for_status()
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise JudgeAnswerError(f"not a chat completion: {error!r}") from None
        return parsed_verdict(content)

    def close(self) -> None:
        self._client.close()


def parsed_verdict(content: object) -> dict[str, Any]:
    """The judge's JSON answer, checked key by key (a code fence around it is allowed)."""
    if not isinstance(content, str):
        raise JudgeAnswerError("the answer is not text")
    text = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
    try:
        verdict = json.loads(text)
    except json.JSONDecodeError as error:
        raise JudgeAnswerError(f"not JSON ({error.msg})") from None
    if not isinstance(verdict, dict):
        raise JudgeAnswerError("not a JSON object")
    for flag in _FLAGS:
        if not isinstance(verdict.get(flag), bool):
            raise JudgeAnswerError(f"{flag!r} is missing or not true/false")
    criteria = verdict.get("criteria")
    if not isinstance(criteria, list) or not all(name in CRITERIA for name in criteria):
        raise JudgeAnswerError(f"'criteria' must be a list of names from {list(CRITERIA)}")
    return verdict
