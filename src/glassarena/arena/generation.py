"""Stream one side's answer from its provider, timing it and turning failures into results.

What the user sees of a failure is chosen here, from the failure's kind only: a provider's own
message may name the model or its host, so it is stored for the operator and never shown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from glassarena.providers.base import ChatMessage, Finished, Provider, ProviderError, TextDelta
from glassarena.storage.repository import AnswerResult
from glassarena.vocabulary import AnswerStatus

logger = logging.getLogger(__name__)

USER_FAILURE_MESSAGES = {
    "refused": "This model declined to answer or returned an error.",
    "timeout": "This model took too long to answer.",
    "dropped": "This model's answer was cut off before it finished.",
    "unavailable": "This model is not available right now.",
}


def user_failure_message(kind: str | None) -> str:
    return USER_FAILURE_MESSAGES.get(kind or "", "This model could not answer.")


async def generate_answer(
    provider: Provider,
    messages: list[ChatMessage],
    on_text: Callable[[str], None],
    timeout_seconds: float,
) -> AnswerResult:
    """Stream the answer, calling `on_text` for every delta; never raises a provider failure."""
    started = time.monotonic()
    first_token: float | None = None
    parts: list[str] = []
    finished: Finished | None = None
    try:
        async with asyncio.timeout(timeout_seconds):
            async for event in provider.stream(messages):
                if isinstance(event, TextDelta):
                    if not event.text:
                        continue
                    if first_token is None:
                        first_token = time.monotonic() - started
                    parts.append(event.text)
                    on_text(event.text)
                elif isinstance(event, Finished):
                    finished = event
                    break
        if finished is None:
            raise ProviderError("dropped", "the stream ended without a finish event")
    except ProviderError as error:
        return _failed(parts, error.kind, error.message, first_token, started)
    except TimeoutError:
        reason = f"no complete answer within {timeout_seconds:g} seconds"
        return _failed(parts, "timeout", reason, first_token, started)
    except Exception as error:  # a provider bug must fail one battle, not the server
        logger.exception("provider raised an unexpected error")
        reason = f"unexpected {type(error).__name__}: {error}"
        return _failed(parts, "dropped", reason, first_token, started)
    return AnswerResult(
        text="".join(parts),
        status=AnswerStatus.DONE,
        first_token_seconds=first_token,
        total_seconds=time.monotonic() - started,
        completion_tokens=finished.completion_tokens,
        finish_reason=finished.finish_reason,
    )


def _failed(
    parts: list[str], kind: str, reason: str, first_token: float | None, started: float
) -> AnswerResult:
    return AnswerResult(
        text="".join(parts),
        status=AnswerStatus.FAILED,
        failure_kind=kind,
        failure_reason=reason,
        first_token_seconds=first_token,
        total_seconds=time.monotonic() - started,
    )
