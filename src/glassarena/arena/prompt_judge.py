"""An optional judge model that tags prompt categories, for deployments that have one.

Any server speaking the OpenAI chat-completions protocol (config section `prompt_judge`).
The judge decides the content categories and LMArena's seven hard-prompt criteria; the
language (py3langid), "longer query" (token count) and "multi-turn" (a follow-up was sent)
stay facts the rules measure. The tag records `judge-1:<model>` as its classifier.

The judge is never on the voter's path: a new battle is stored with the rules' tag
(`classifier: rules-1`) and starts streaming at once; the arena asks the judge afterwards,
in the background (ArenaService), and the judge's tag replaces the rules' one when it
arrives, unless the battle was voted on meanwhile (a vote keeps the tag it was counted
under). Whenever the judge fails (unreachable, slower than `timeout_seconds` in all, an
answer that is not the JSON asked for) the rules' tag simply stays: a battle is never lost,
delayed or left untagged because of the judge.
"""

from __future__ import annotations

import asyncio
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
    """Tags a prompt with a judge model's verdict (see the module docstring)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout_seconds,
            transport=transport,
        )
        self._model = model
        # httpx's timeout bounds each read; a server trickling bytes must not hold a task.
        self.timeout_seconds = timeout_seconds
        self.version = f"{JUDGE_VERSION}:{model}"

    async def tag(self, prompt: str) -> dict[str, Any] | None:
        """The judge's `category_tag` for `prompt`; None (and a log line) when it failed."""
        measured = classify_prompt(prompt)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                verdict = await self._ask(prompt)
        except (httpx.HTTPError, JudgeAnswerError, TimeoutError) as error:
            logger.warning("prompt judge failed (%r); the rules' tag stays", error)
            return None
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

    async def _ask(self, prompt: str) -> dict[str, Any]:
        response = await self._client.post(
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

    async def aclose(self) -> None:
        await self._client.aclose()


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
