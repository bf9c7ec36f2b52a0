"""Base models answer through a completion prompt; small models build WebDev apps from a
prefilled answer. The real-model tests run the shipped weights (marked `llama`)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from glassarena.arena.config import load_config
from glassarena.arena.config.providers import build_provider
from glassarena.providers.base import ChatMessage, GenerationSettings, TextDelta
from glassarena.providers.local_gguf import LocalGGUFProvider
from glassarena.providers.prompt_formats import completion_prompt, text_digest
from glassarena.providers.weights import BUILTIN_WEIGHTS, default_cache_dir
from glassarena.webdev.extract import extract_app
from glassarena.webdev.prompt import (
    SMALL_MODEL_WEBDEV_PROMPT,
    WEBDEV_PREFILL,
    WEBDEV_SYSTEM_PROMPT,
    small_model_webdev_conversation,
)

# Everyday prompts, each with words an on-topic answer would use (any one suffices).
EVERYDAY = {
    "Name a colour.": {"blue", "red", "green", "yellow", "colour", "color"},
    "How do I boil an egg?": {"egg", "boil", "water"},
    "Why is the sky blue?": {"sky", "blue", "light", "sun"},
    "Suggest a name for a cat.": {"cat", "name"},
    "Give me a tip for studying.": {"study", "studying", "learn", "read", "time"},
}


def test_the_completion_prompt_is_a_question_and_answer_document() -> None:
    prompt = completion_prompt(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]
    )
    assert prompt.startswith("Be brief.\n\nQuestion: What is the capital of Italy?\nAnswer: ")
    assert prompt.endswith("\n\nQuestion: Hi?\nAnswer:")
    assert "<start_of_turn>" not in prompt


def test_a_prefilled_completion_continues_the_answer_without_examples() -> None:
    prompt = completion_prompt(
        [{"role": "user", "content": "A clock"}, {"role": "assistant", "content": "```html"}]
    )
    assert prompt == "Below are questions, each followed by a short, helpful answer.\n\n" + (
        "Question: A clock\nAnswer:\n```html"
    )


def test_webdev_conversations_get_the_short_prompt_and_a_prefill() -> None:
    webdev: list[ChatMessage] = [
        {"role": "system", "content": WEBDEV_SYSTEM_PROMPT},
        {"role": "user", "content": "A counter"},
    ]
    assert small_model_webdev_conversation(webdev) == [
        {"role": "system", "content": SMALL_MODEL_WEBDEV_PROMPT},
        {"role": "user", "content": "A counter"},
        {"role": "assistant", "content": WEBDEV_PREFILL},
    ]
    text: list[ChatMessage] = [{"role": "user", "content": "Hi"}]
    assert small_model_webdev_conversation(text) == text


def test_the_prompt_format_is_part_of_the_version(tmp_path: Path) -> None:
    entry = """\
        contestants:
          - name: gemma
            organization: Google
            provider: {kind: local, weights: gemma-3-270m%s}
        """
    versions = {}
    for name, extra in {"default": "", "completion": ", prompt_format: completion"}.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(entry % extra))
        versions[name] = load_config(path).contestant("gemma")
    chat = tmp_path / "chat.yaml"
    chat.write_text(textwrap.dedent(entry % ", prompt_format: gemma"))
    turns = load_config(chat).contestant("gemma")
    assert versions["default"].settings["prompt_format"] == "completion"
    assert versions["default"].settings_fingerprint == versions["completion"].settings_fingerprint
    assert turns.settings_fingerprint != versions["default"].settings_fingerprint
    assert isinstance(build_provider(versions["default"]), LocalGGUFProvider)


def test_editing_our_prompt_texts_makes_a_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "arena.yaml"
    path.write_text(
        "contestants:\n"
        "  - name: gemma\n"
        "    organization: Google\n"
        "    provider: {kind: local, weights: gemma-3-270m}\n"
    )
    before = load_config(path).contestant("gemma").settings_fingerprint
    monkeypatch.setattr(
        "glassarena.arena.config.providers.COMPLETION_PROMPT_DIGEST", text_digest("edited")
    )
    edited_examples = load_config(path).contestant("gemma").settings_fingerprint
    monkeypatch.setattr("glassarena.webdev.prompt.SMALL_MODEL_WEBDEV_DIGEST", text_digest("new"))
    edited_webdev = load_config(path).contestant("gemma").settings_fingerprint
    assert len({before, edited_examples, edited_webdev}) == 3


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


async def _answer(provider: LocalGGUFProvider, messages: list[ChatMessage]) -> str:
    events = [event async for event in provider.stream(messages)]
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def _provider(
    weights_name: str,
    max_tokens: int,
    adapt: Callable[[list[ChatMessage]], list[ChatMessage]] | None = None,
) -> LocalGGUFProvider:
    weights = BUILTIN_WEIGHTS[weights_name]
    return LocalGGUFProvider(
        weights=weights.locator(default_cache_dir()),
        generation=GenerationSettings(max_tokens=max_tokens, temperature=0.0, seed=1),
        prompt_format=weights.prompt_format,
        n_ctx=1024,
        n_threads=1,
        adapt=adapt,
    )


@pytest.mark.llama
async def test_gemma_answers_everyday_prompts_on_topic_without_repeating_them() -> None:
    gemma = _provider("gemma-3-270m", max_tokens=24)
    for prompt, topic in EVERYDAY.items():
        answer = await _answer(gemma, [{"role": "user", "content": prompt}])
        assert answer.strip(), prompt
        assert _words(answer) & topic, f"{prompt!r} -> {answer!r}"
        # The old chat-turn prompt made Gemma echo the question over and over.
        assert prompt.lower() not in answer.lower(), f"{prompt!r} -> {answer!r}"
        assert "Question:" not in answer


@pytest.mark.parametrize("weights_name", ["smollm2-135m-instruct", "gemma-3-270m"])
@pytest.mark.llama
async def test_small_models_write_an_app_from_the_prefill(weights_name: str) -> None:
    provider = _provider(weights_name, max_tokens=120, adapt=small_model_webdev_conversation)
    answer = await _answer(
        provider,
        [
            {"role": "system", "content": WEBDEV_SYSTEM_PROMPT},
            {"role": "user", "content": "A counter app with a button."},
        ],
    )
    assert answer.startswith(WEBDEV_PREFILL)
    app = extract_app(answer)
    assert app.html is not None, answer
    assert app.html.startswith("<!DOCTYPE html>\n<html>")
