"""The Anthropic provider (official SDK) against a real HTTP server speaking the Messages API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glassarena.providers.anthropic import AnthropicProvider
from glassarena.providers.base import (
    ChatMessage,
    Finished,
    GenerationSettings,
    ProviderError,
    StreamEvent,
    TextDelta,
    Timeouts,
)
from openai_test_server import ModelServerDouble, ScriptedModel

HELLO: list[ChatMessage] = [{"role": "user", "content": "Say hello"}]
QUICK = Timeouts(connect=5, first_token=1.5, idle=0.5, total=6)


@pytest.fixture
def server() -> Iterator[ModelServerDouble]:
    with ModelServerDouble(
        {
            "claude-double": ScriptedModel(answer="Hello from a double of Claude."),
            "refuser": ScriptedModel(behaviour="refuse", status=400, error="prompt is too long"),
            "hanger": ScriptedModel(behaviour="hang"),
            "staller": ScriptedModel(behaviour="stall"),
            "dropper": ScriptedModel(behaviour="drop", answer="one two three four"),
            "failer": ScriptedModel(behaviour="fail", error="Overloaded"),
        }
    ) as double:
        yield double


def provider(
    server: ModelServerDouble, model: str, generation: GenerationSettings | None = None
) -> AnthropicProvider:
    return AnthropicProvider(
        model=model,
        generation=generation or GenerationSettings(max_tokens=64),
        api_key="test-key",
        base_url=server.anthropic_base_url,
        timeouts=QUICK,
    )


async def collect(provider: AnthropicProvider) -> list[StreamEvent]:
    try:
        return [event async for event in provider.stream(HELLO)]
    finally:
        await provider.aclose()


async def test_streams_text_then_finished(server: ModelServerDouble) -> None:
    events = await collect(provider(server, "claude-double"))
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    assert text == "Hello from a double of Claude."
    assert events[-1] == Finished(completion_tokens=6, finish_reason="end_turn")


async def test_sends_system_prompt_apart_and_generation_settings(
    server: ModelServerDouble,
) -> None:
    generation = GenerationSettings(
        system_prompt="Be terse.", temperature=0.2, max_tokens=3, stop=("END",)
    )
    events = await collect(provider(server, "claude-double", generation))
    assert events[-1] == Finished(completion_tokens=3, finish_reason="max_tokens")
    request = server.requests[-1]
    assert request.path == "/v1/messages"
    # SDK generations differ in the header carrying the key (x-api-key or a Bearer token).
    sent_key = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent_key.removeprefix("Bearer ") == "test-key"
    assert request.body["system"] == "Be terse."
    assert request.body["messages"] == HELLO
    assert request.body["temperature"] == 0.2
    assert request.body["max_tokens"] == 3
    assert request.body["stop_sequences"] == ["END"]


async def test_http_error_is_a_refusal_with_the_server_message(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "refuser"))
    assert caught.value.kind == "refused"
    assert "HTTP 400" in caught.value.message
    assert "prompt is too long" in caught.value.message


@pytest.mark.parametrize(("model", "phase"), [("hanger", "first token"), ("staller", "between")])
async def test_silence_is_a_timeout(server: ModelServerDouble, model: str, phase: str) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, model))
    assert caught.value.kind == "timeout"
    assert phase in caught.value.message


async def test_connection_cut_midway_is_dropped(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "dropper"))
    assert caught.value.kind == "dropped"


async def test_error_event_midway_is_dropped_with_its_message(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "failer"))
    assert caught.value.kind == "dropped"
    assert "Overloaded" in caught.value.message


async def test_unreachable_server_is_unavailable() -> None:
    with ModelServerDouble() as gone:
        base_url = gone.anthropic_base_url
    unreachable = AnthropicProvider(
        model="x", generation=GenerationSettings(), api_key="k", base_url=base_url, timeouts=QUICK
    )
    with pytest.raises(ProviderError) as caught:
        await collect(unreachable)
    assert caught.value.kind == "unavailable"
