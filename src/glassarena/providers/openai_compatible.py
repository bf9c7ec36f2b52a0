"""Streaming chat completions from any server speaking the OpenAI protocol.

vLLM, Ollama, llama.cpp's server, LM Studio, OpenRouter and OpenAI itself all accept
`POST {base_url}/chat/completions` with `stream: true` and answer with server-sent events
whose data is a JSON chunk, ending with `data: [DONE]`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from glassarena.providers.base import (
    ChatMessage,
    FailureKind,
    Finished,
    GenerationSettings,
    ProviderError,
    StreamEvent,
    TextDelta,
    Timeouts,
)
from glassarena.providers.deadlines import Deadlines
from glassarena.providers.loop_client import LoopClient, tls_context
from glassarena.providers.sse import sse_data

ERROR_TEXT_LIMIT = 500
# Streams to one server at once; beyond this, requests wait for a free connection.
MAX_CONNECTIONS = 512


class OpenAICompatibleProvider:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        generation: GenerationSettings,
        api_key: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.generation = generation
        self._api_key = api_key
        self._extra_params = dict(extra_params or {})
        self._timeouts = timeouts or Timeouts()
        self._client = LoopClient(self._new_client, httpx.AsyncClient.aclose)

    def __repr__(self) -> str:
        return f"OpenAICompatibleProvider(model={self.model!r}, base_url={self.base_url!r})"

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]:
        where = f"model {self.model!r} at {self.base_url}"
        deadlines = Deadlines(self._timeouts, where)
        client = self._client.get()
        request = client.build_request(
            "POST",
            f"{self.base_url}/chat/completions",
            json=self.request_body(messages),
            headers=self._headers(),
        )
        try:
            response = await deadlines.wait(client.send(request, stream=True))
        except httpx.TimeoutException as error:
            raise ProviderError("timeout", f"{where}: {type(error).__name__}") from error
        except httpx.HTTPError as error:
            raise ProviderError("unavailable", f"{where}: {error!r}") from error
        try:
            if response.status_code >= 400:
                body = await deadlines.wait(response.aread())
                raise ProviderError(
                    "refused",
                    f"{where} answered HTTP {response.status_code}: {error_message(body)}",
                )
            async for event in _events(response, deadlines, where):
                yield event
        finally:
            await response.aclose()

    def request_body(self, messages: list[ChatMessage]) -> dict[str, Any]:
        """The JSON body sent for a conversation; extra params override, None removes."""
        settings = self.generation
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.generation.conversation(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "seed": settings.seed,
            "stop": list(settings.stop) or None,
        }
        body.update(self._extra_params)
        return {key: value for key, value in body.items() if value is not None}

    async def warm_up(self) -> None:
        await self._client.warm_up()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _new_client(self) -> httpx.AsyncClient:
        connect = self._timeouts.connect
        return httpx.AsyncClient(
            timeout=httpx.Timeout(connect=connect, read=None, write=connect, pool=None),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
            verify=tls_context(),
        )


async def _events(
    response: httpx.Response, deadlines: Deadlines, where: str
) -> AsyncIterator[StreamEvent]:
    finish_reason: str | None = None
    completion_tokens: int | None = None
    received_text = False
    try:
        async for data in deadlines.iterate(sse_data(response.aiter_lines())):
            if data == "[DONE]":
                break
            chunk = _parse_chunk(data, where)
            if "error" in chunk:
                kind: FailureKind = "dropped" if received_text else "refused"
                raise ProviderError(kind, f"{where} sent an error: {error_message(data)}")
            usage = chunk.get("usage")
            if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
                completion_tokens = usage["completion_tokens"]
            for choice in chunk.get("choices") or ():
                if choice.get("index", 0) != 0:
                    continue
                text = (choice.get("delta") or {}).get("content")
                if text:
                    received_text = True
                    deadlines.mark_received()
                    yield TextDelta(text)
                finish_reason = choice.get("finish_reason") or finish_reason
        else:
            if finish_reason is None:
                raise ProviderError("dropped", f"{where} ended the stream before [DONE]")
    except httpx.TimeoutException as error:
        raise ProviderError("timeout", f"{where}: {type(error).__name__}") from error
    except httpx.HTTPError as error:
        if finish_reason is None:
            raise ProviderError("dropped", f"{where} broke off the stream: {error!r}") from error
    if finish_reason == "error":  # OpenRouter's way of ending a stream that failed upstream
        raise ProviderError("dropped", f"{where} ended the answer with finish_reason 'error'")
    yield Finished(completion_tokens=completion_tokens, finish_reason=finish_reason)


def _parse_chunk(data: str, where: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as error:
        raise ProviderError(
            "dropped", f"{where} sent an unreadable chunk ({error}): {data[:ERROR_TEXT_LIMIT]!r}"
        ) from error
    if not isinstance(chunk, dict):
        raise ProviderError("dropped", f"{where} sent a chunk that is not an object: {data!r}")
    return chunk


def error_message(body: bytes | str) -> str:
    """The human part of an error body in the shapes OpenAI-style servers use."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        return text.strip()[:ERROR_TEXT_LIMIT] or "(empty body)"
    if isinstance(payload, dict):
        for key in ("error", "detail", "message"):
            value = payload.get(key)
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])[:ERROR_TEXT_LIMIT]
            if isinstance(value, str) and value:
                return value[:ERROR_TEXT_LIMIT]
    return text.strip()[:ERROR_TEXT_LIMIT]
