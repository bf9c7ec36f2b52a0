"""Streaming answers from Anthropic's native Messages API, through the official SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic

from glassarena.providers.base import (
    ChatMessage,
    Finished,
    GenerationSettings,
    ProviderError,
    StreamEvent,
    TextDelta,
    Timeouts,
)
from glassarena.providers.deadlines import Deadlines
from glassarena.providers.loop_client import LoopClient

DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicProvider:
    def __init__(
        self,
        *,
        model: str,
        generation: GenerationSettings,
        api_key: str | None,
        base_url: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.generation = generation
        self._api_key = api_key
        self._timeouts = timeouts or Timeouts()
        self._client = LoopClient(self._new_client, anthropic.AsyncAnthropic.close)

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, base_url={self.base_url!r})"

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]:
        where = f"Anthropic model {self.model!r} at {self.base_url}"
        deadlines = Deadlines(self._timeouts, where)
        system, turns = self._split_system(messages)
        settings = self.generation
        # Any: the values are splatted into the SDK's typed keyword arguments.
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": settings.max_tokens,
            "messages": turns,
            "system": system,
            "stop_sequences": list(settings.stop) or None,
        }
        # This SDK generation no longer types the sampling fields; the API still takes them.
        sampling = {"temperature": settings.temperature, "top_p": settings.top_p}
        sampling = {key: value for key, value in sampling.items() if value is not None}
        if sampling:
            request["extra_body"] = sampling
        stop_reason: str | None = None
        output_tokens: int | None = None
        completed = False
        try:
            events = await deadlines.wait(
                self._client.get().messages.create(
                    stream=True,
                    **{key: value for key, value in request.items() if value is not None},
                )
            )
        except anthropic.APIStatusError as error:
            raise ProviderError(
                "refused", f"{where} answered HTTP {error.status_code}: {_error_message(error)}"
            ) from error
        except anthropic.APITimeoutError as error:
            raise ProviderError("timeout", f"{where}: {type(error).__name__}") from error
        except anthropic.APIConnectionError as error:
            raise ProviderError("unavailable", f"{where}: {error!r}") from error
        try:
            async with events:
                async for event in deadlines.iterate(aiter(events)):
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        if event.delta.text:
                            deadlines.mark_received()
                            yield TextDelta(event.delta.text)
                    elif event.type == "message_delta":
                        stop_reason = event.delta.stop_reason or stop_reason
                        output_tokens = event.usage.output_tokens
                    elif event.type == "message_stop":
                        completed = True
        except anthropic.APIStatusError as error:
            # An `error` event inside the stream, e.g. overloaded_error.
            raise ProviderError(
                "dropped", f"{where} sent an error midway: {_error_message(error)}"
            ) from error
        except Exception as error:
            if not isinstance(error, anthropic.APIConnectionError) and not _is_transport(error):
                raise
            raise ProviderError("dropped", f"{where} broke off the stream: {error!r}") from error
        if not completed:
            raise ProviderError("dropped", f"{where} ended the stream before message_stop")
        yield Finished(completion_tokens=output_tokens, finish_reason=stop_reason)

    async def warm_up(self) -> None:
        await self._client.warm_up()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _split_system(self, messages: list[ChatMessage]) -> tuple[str | None, list[ChatMessage]]:
        """Anthropic takes the system prompt apart from the turns."""
        conversation = self.generation.conversation(messages)
        system = [message["content"] for message in conversation if message["role"] == "system"]
        turns = [message for message in conversation if message["role"] != "system"]
        return ("\n\n".join(system) or None), turns

    def _new_client(self) -> anthropic.AsyncAnthropic:
        connect = self._timeouts.connect
        return anthropic.AsyncAnthropic(
            api_key=self._api_key,
            base_url=self.base_url,
            max_retries=0,
            timeout=anthropic.Timeout(connect=connect, read=None, write=connect, pool=None),
        )


def _error_message(error: anthropic.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        detail = body.get("error")
        if isinstance(detail, dict) and detail.get("message"):
            return str(detail["message"])
    return error.message


def _is_transport(error: Exception) -> bool:
    """Whether an error comes from the HTTP layer under the SDK.

    The SDK passes errors met while reading a stream through unwrapped, and its HTTP library
    differs between generations (httpx, httpx2), so the check goes by the defining package.
    """
    return type(error).__module__.partition(".")[0] in {"httpx", "httpx2", "httpcore"}
