"""The OpenAI-compatible provider against a real HTTP server speaking the OpenAI protocol."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from glassarena.providers.base import (
    ChatMessage,
    Finished,
    GenerationSettings,
    ProviderError,
    StreamEvent,
    TextDelta,
    Timeouts,
)
from glassarena.providers.openai_compatible import OpenAICompatibleProvider
from openai_test_server import ModelServerDouble, ScriptedModel

HELLO: list[ChatMessage] = [{"role": "user", "content": "Say hello"}]
QUICK = Timeouts(connect=5, first_token=1.5, idle=0.5, total=6)


@pytest.fixture
def server() -> Iterator[ModelServerDouble]:
    with ModelServerDouble(
        {
            "chatty": ScriptedModel(answer="Hello there, arena fan!", token_delay=0.001),
            "echo": ScriptedModel(answer="You said: {prompt}"),
            "refuser": ScriptedModel(behaviour="refuse", status=429, error="Rate limit reached"),
            "broken": ScriptedModel(behaviour="refuse", status=503, error="engine overloaded"),
            "hanger": ScriptedModel(behaviour="hang"),
            "staller": ScriptedModel(behaviour="stall", answer="one two three four"),
            "dropper": ScriptedModel(behaviour="drop", answer="one two three four"),
            "failer": ScriptedModel(behaviour="fail", error="upstream overloaded"),
            "slowpoke": ScriptedModel(answer="a b c d e f", token_delay=0.2),
        }
    ) as double:
        yield double


def provider(
    server: ModelServerDouble, model: str, generation: GenerationSettings | None = None, **kwargs
) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        base_url=server.openai_base_url,
        model=model,
        generation=generation or GenerationSettings(max_tokens=64),
        timeouts=kwargs.pop("timeouts", QUICK),
        **kwargs,
    )


async def collect(provider: OpenAICompatibleProvider) -> list[StreamEvent]:
    try:
        return [event async for event in provider.stream(HELLO)]
    finally:
        await provider.aclose()


async def test_streams_text_deltas_then_finished_with_usage(server: ModelServerDouble) -> None:
    events = await collect(provider(server, "chatty"))
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert len(deltas) == 4
    assert "".join(deltas) == "Hello there, arena fan!"
    assert events[-1] == Finished(completion_tokens=4, finish_reason="stop")


async def test_sends_generation_settings_system_prompt_and_api_key(
    server: ModelServerDouble,
) -> None:
    generation = GenerationSettings(
        system_prompt="Be brief.", temperature=0.3, top_p=0.9, max_tokens=2, seed=7, stop=("\n",)
    )
    chosen = provider(
        server, "echo", generation, api_key="sk-test", extra_params={"repetition_penalty": 1.1}
    )
    events = await collect(chosen)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "You said:"
    assert events[-1] == Finished(completion_tokens=2, finish_reason="length")
    request = server.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    for key, value in {"temperature": 0.3, "top_p": 0.9, "max_tokens": 2, "seed": 7}.items():
        assert request.body[key] == value
    assert request.body["stop"] == ["\n"]
    assert request.body["repetition_penalty"] == 1.1


async def test_extra_params_can_remove_a_field(server: ModelServerDouble) -> None:
    events = await collect(provider(server, "chatty", extra_params={"stream_options": None}))
    assert "stream_options" not in server.requests[-1].body
    assert events[-1] == Finished(completion_tokens=None, finish_reason="stop")


@pytest.mark.parametrize(
    ("model", "status", "message"),
    [("refuser", 429, "Rate limit reached"), ("broken", 503, "engine overloaded")],
)
async def test_http_errors_are_refusals_carrying_the_server_message(
    server: ModelServerDouble, model: str, status: int, message: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, model))
    assert caught.value.kind == "refused"
    assert f"HTTP {status}" in caught.value.message
    assert message in caught.value.message


async def test_unknown_model_is_refused(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "no-such-model"))
    assert caught.value.kind == "refused"
    assert "no-such-model" in caught.value.message


async def test_no_first_token_in_time_is_a_timeout(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "hanger"))
    assert caught.value.kind == "timeout"
    assert "before the first token" in caught.value.message


async def test_silence_between_chunks_is_a_timeout(server: ModelServerDouble) -> None:
    received: list[str] = []
    chosen = provider(server, "staller")
    with pytest.raises(ProviderError) as caught:
        async for event in chosen.stream(HELLO):
            if isinstance(event, TextDelta):
                received.append(event.text)
    await chosen.aclose()
    assert caught.value.kind == "timeout"
    assert "between chunks" in caught.value.message
    assert "".join(received) == "one two"


async def test_total_time_limit(server: ModelServerDouble) -> None:
    limits = Timeouts(connect=2, first_token=1, idle=1, total=0.5)
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "slowpoke", timeouts=limits))
    assert caught.value.kind == "timeout"
    assert "in total" in caught.value.message


async def test_connection_cut_midway_is_dropped(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "dropper"))
    assert caught.value.kind == "dropped"


async def test_error_event_midway_is_dropped_with_its_message(server: ModelServerDouble) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(provider(server, "failer"))
    assert caught.value.kind == "dropped"
    assert "upstream overloaded" in caught.value.message


async def test_unreachable_server_is_unavailable() -> None:
    with ModelServerDouble() as gone:
        base_url = gone.openai_base_url
    chosen = OpenAICompatibleProvider(
        base_url=base_url, model="x", generation=GenerationSettings(), timeouts=QUICK
    )
    with pytest.raises(ProviderError) as caught:
        await collect(chosen)
    assert caught.value.kind == "unavailable"


async def test_many_concurrent_streams_through_one_provider(server: ModelServerDouble) -> None:
    shared = provider(server, "slowpoke", timeouts=Timeouts(first_token=10, idle=10, total=30))

    async def answer() -> str:
        events = [event async for event in shared.stream(HELLO)]
        assert isinstance(events[-1], Finished)
        return "".join(event.text for event in events if isinstance(event, TextDelta))

    started = time.monotonic()
    answers = await asyncio.gather(*(answer() for _ in range(40)))
    await shared.aclose()
    assert answers == ["a b c d e f"] * 40
    # Streams overlap: 40 answers of 1 s each finish in far less than 40 s.
    assert time.monotonic() - started < 15
