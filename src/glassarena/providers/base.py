"""The contract every model backend fulfils: chat messages in, a stream of text deltas out.

A provider is configured once with its contestant's generation settings; callers only pass
the conversation. Failures surface as a single exception type whose `kind` tells the arena
what happened, and whose message is written for the operator (it is logged and stored, while
users see a blinded message chosen by the arena).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

Role = Literal["system", "user", "assistant"]
FailureKind = Literal["refused", "timeout", "dropped", "unavailable"]


class ChatMessage(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    completion_tokens: int | None
    finish_reason: str | None


StreamEvent = TextDelta | Finished


class ProviderError(Exception):
    """A model backend failed.

    kind: "refused" (the backend answered with an error), "timeout" (no answer in time),
    "dropped" (the stream ended before the answer was complete), "unavailable" (the backend
    cannot be reached or loaded).
    """

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: FailureKind = kind
        self.message = message


class GenerationSettings(BaseModel):
    """How a contestant samples; part of its identity, never chosen per request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: PositiveInt = 1024
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def conversation(self, messages: Iterable[ChatMessage]) -> list[ChatMessage]:
        """The messages with this contestant's system prompt in front, when it has one."""
        if self.system_prompt is None:
            return list(messages)
        return [{"role": "system", "content": self.system_prompt}, *messages]


class Timeouts(BaseModel):
    """Seconds allowed for each phase of a remote answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: PositiveFloat = 10.0
    first_token: PositiveFloat = 60.0
    idle: PositiveFloat = 30.0
    total: PositiveFloat = 300.0


class Provider(Protocol):
    """A model backend. Implementations are async generators:

    ```
    async for event in provider.stream([{"role": "user", "content": "Hi"}]):
        ...  # TextDelta(text=...) repeatedly, then exactly one Finished(...)
    ```
    """

    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]: ...


@runtime_checkable
class SupportsWarmUp(Protocol):
    """A provider with slow one-off preparation (loading weights, reading files)."""

    async def warm_up(self) -> None: ...


@runtime_checkable
class SupportsClose(Protocol):
    """A provider holding resources (connection pools) to release at shutdown."""

    async def aclose(self) -> None: ...


async def warm_up(provider: Provider) -> None:
    """Prepare a provider ahead of its first battle, when it has anything to prepare."""
    if isinstance(provider, SupportsWarmUp):
        await provider.warm_up()


async def close(provider: Provider) -> None:
    """Release a provider's resources, when it holds any."""
    if isinstance(provider, SupportsClose):
        await provider.aclose()
