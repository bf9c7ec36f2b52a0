"""Embedded models: locating the shipped weights, and real llama.cpp generations."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from glassarena.providers.base import (
    ChatMessage,
    Finished,
    GenerationSettings,
    ProviderError,
    TextDelta,
)
from glassarena.providers.local_gguf import LocalGGUFProvider
from glassarena.providers.prompt_formats import gemma_prompt
from glassarena.providers.weights import (
    BUILTIN_WEIGHTS,
    default_cache_dir,
    smollm2_135m_instruct,
)

GGUF_MAGIC = b"GGUF"


def test_smollm2_is_found_inside_its_distribution() -> None:
    path = smollm2_135m_instruct()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == GGUF_MAGIC


def test_gemma_prompt_uses_turns_and_folds_the_system_prompt_into_the_first_user_turn() -> None:
    prompt = gemma_prompt(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Name a colour."},
        ]
    )
    assert prompt == (
        "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nName a colour.<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


async def test_a_missing_file_is_unavailable(tmp_path: Path) -> None:
    provider = LocalGGUFProvider(weights=tmp_path / "absent.gguf", generation=GenerationSettings())
    with pytest.raises(ProviderError) as caught:
        [event async for event in provider.stream([{"role": "user", "content": "Hi"}])]
    assert caught.value.kind == "unavailable"
    assert "absent.gguf" in caught.value.message


async def generate(
    weights_name: str, prompt: str, cache_dir: Path | None = None
) -> tuple[str, Finished, int]:
    weights = BUILTIN_WEIGHTS[weights_name]
    provider = LocalGGUFProvider(
        weights=weights.locator(cache_dir or default_cache_dir()),
        generation=GenerationSettings(max_tokens=16, temperature=0.0, seed=1),
        prompt_format=weights.prompt_format,
    )
    await provider.warm_up()
    events = [event async for event in provider.stream([{"role": "user", "content": prompt}])]
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    finished = events[-1]
    assert isinstance(finished, Finished)
    return "".join(deltas), finished, len(deltas)


@pytest.mark.llama
async def test_smollm2_streams_a_real_answer() -> None:
    text, finished, delta_count = await generate("smollm2-135m-instruct", "What is 2 + 2?")
    assert text.strip()
    assert delta_count > 1  # streamed, not delivered in one piece
    assert finished.completion_tokens is not None
    assert 0 < finished.completion_tokens <= 16
    assert finished.finish_reason in ("stop", "length")


@pytest.mark.llama
async def test_gemma_is_assembled_into_the_cache_and_streams(tmp_path: Path) -> None:
    text, finished, _ = await generate("gemma-3-270m", "Name a colour.", cache_dir=tmp_path)
    assembled = tmp_path / "gemma-3-270m-q4_k_m.gguf"
    assert assembled.read_bytes()[:4] == GGUF_MAGIC
    assert text.strip()
    assert "<end_of_turn>" not in text
    assert finished.completion_tokens is not None
    assert 0 < finished.completion_tokens <= 16


def smollm2(max_tokens: int = 8, n_ctx: int = 2048) -> LocalGGUFProvider:
    weights = BUILTIN_WEIGHTS["smollm2-135m-instruct"]
    return LocalGGUFProvider(
        weights=weights.locator(default_cache_dir()),
        generation=GenerationSettings(max_tokens=max_tokens, temperature=0.0),
        prompt_format=weights.prompt_format,
        n_ctx=n_ctx,
    )


@pytest.mark.llama
async def test_a_prompt_longer_than_the_context_is_refused_clearly() -> None:
    provider = smollm2(n_ctx=64)
    with pytest.raises(ProviderError) as caught:
        [e async for e in provider.stream([{"role": "user", "content": "word " * 200}])]
    assert caught.value.kind == "refused"
    assert "more than the context of 64" in caught.value.message


@pytest.mark.llama
async def test_concurrent_requests_share_one_model_and_both_finish() -> None:
    provider = smollm2()
    ask: list[ChatMessage] = [{"role": "user", "content": "Name a fruit."}]

    async def answer() -> str:
        events = [event async for event in provider.stream(ask)]
        assert isinstance(events[-1], Finished)
        return "".join(event.text for event in events if isinstance(event, TextDelta))

    first, second = await asyncio.gather(answer(), answer())
    assert first == second  # greedy decoding: the same answer, not interleaved text


@pytest.mark.llama
async def test_leaving_early_stops_generation() -> None:
    provider = smollm2(max_tokens=400)
    stream = provider.stream([{"role": "user", "content": "Write a long story."}])
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    # Stopped within a token or two; finishing 400 tokens would take several seconds.
    deadline = time.monotonic() + 2.0
    while any(t.name == "glassarena-llama" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "generation went on after the caller left"
        await asyncio.sleep(0.01)
