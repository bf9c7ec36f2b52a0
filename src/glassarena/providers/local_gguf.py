"""Embedded GGUF models run in-process through llama-cpp-python (the optional `local` extra).

A llama.cpp context is not thread-safe, so each loaded model has one lock and answers one
request at a time; generation runs in a worker thread and hands text to the event loop as it
comes. Models load on first use (or at warm-up) and stay loaded for the process's lifetime.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

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
from glassarena.providers.prompt_formats import (
    COMPLETION_REPEAT_PENALTY,
    COMPLETION_STOP,
    GEMMA_STOP,
    PREFILL_REPEAT_PENALTY,
    completion_prompt,
    gemma_prompt,
    split_prefill,
)
from glassarena.providers.weights import LOCAL_EXTRA_HINT, PromptFormat

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_types import (
        ChatCompletionRequestMessage,
        CreateChatCompletionStreamResponse,
        CreateCompletionStreamResponse,
    )

CODE_FENCE = "```"
TURN_MARKER_TOKENS = 8  # generous: chat formats spend about 4 tokens per turn on markers
# First token includes waiting for the model's lock behind other requests.
LOCAL_TIMEOUTS = Timeouts(connect=1.0, first_token=300.0, idle=60.0, total=900.0)


def default_threads() -> int:
    """One thread on small machines, else leave two cores to the server and database.

    llama.cpp's threads meet at a barrier for every layer, so one descheduled thread stalls
    all of them: on two busy cores, 32 tokens of SmolLM2 took 0.7 s with one thread and up
    to 7.9 s with two.
    """
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(cores - 2, 8)


@dataclass
class _LoadedModel:
    llama: Llama
    lock: threading.Lock = field(default_factory=threading.Lock)


_loaded: dict[tuple[Path, int, int], _LoadedModel] = {}
_loading_lock = threading.Lock()


def _load(path: Path, n_ctx: int, n_threads: int) -> _LoadedModel:
    key = (path, n_ctx, n_threads)
    with _loading_lock:
        if key not in _loaded:
            try:
                from llama_cpp import Llama
            except ImportError as error:
                raise ProviderError(
                    "unavailable", f"embedded models need llama-cpp-python: {LOCAL_EXTRA_HINT}"
                ) from error
            try:
                llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
            except (ValueError, RuntimeError, OSError) as error:
                raise ProviderError("unavailable", f"could not load {path}: {error}") from error
            _loaded[key] = _LoadedModel(llama)
        return _loaded[key]


# What the worker thread hands to the event loop.
_Item = TextDelta | Finished | ProviderError


class LocalGGUFProvider:
    def __init__(
        self,
        *,
        weights: Path | Callable[[], Path],
        generation: GenerationSettings,
        prompt_format: PromptFormat = "embedded",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        timeouts: Timeouts = LOCAL_TIMEOUTS,
        adapt: Callable[[list[ChatMessage]], list[ChatMessage]] | None = None,
    ) -> None:
        self.generation = generation
        # Rewrites a conversation into one this model can follow (e.g. a shorter prompt).
        self._adapt = adapt
        self.prompt_format = prompt_format
        self._weights = weights
        self._label = weights.name if isinstance(weights, Path) else weights.__name__
        self._n_ctx = n_ctx
        self._n_threads = n_threads or default_threads()
        self._timeouts = timeouts

    def __repr__(self) -> str:
        return f"LocalGGUFProvider(weights={self._label!r}, format={self.prompt_format!r})"

    def model_path(self) -> Path:
        """The GGUF file, located (and for Gemma assembled) on first call."""
        return self._weights() if callable(self._weights) else self._weights

    async def warm_up(self) -> None:
        """Locate and load the model now rather than in the first battle."""
        await asyncio.to_thread(self._model)

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        cancelled = threading.Event()

        def hand_over(item: _Item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                cancelled.set()

        worker = threading.Thread(
            target=self._generate,
            args=(self._conversation(messages), hand_over, cancelled),
            name="glassarena-llama",
            daemon=True,
        )
        deadlines = Deadlines(self._timeouts, f"local model {self._label}")
        worker.start()
        try:
            while True:
                item = await deadlines.wait(queue.get())
                if isinstance(item, ProviderError):
                    raise item
                yield item
                if isinstance(item, Finished):
                    return
                deadlines.mark_received()
        finally:
            # Stops generation between tokens when the caller leaves early or times out.
            cancelled.set()

    def _conversation(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        conversation = self.generation.conversation(messages)
        return self._adapt(conversation) if self._adapt else conversation

    def _model(self) -> _LoadedModel:
        return _load(self.model_path(), self._n_ctx, self._n_threads)

    def _generate(
        self,
        conversation: list[ChatMessage],
        hand_over: Callable[[_Item], None],
        cancelled: threading.Event,
    ) -> None:
        try:
            model = self._model()
            with model.lock:
                if cancelled.is_set():
                    return
                self._check_fits(model.llama, conversation)
                text: list[str] = []
                finish_reason: str | None = None
                for piece, reason in self._pieces(model.llama, conversation):
                    if cancelled.is_set():
                        return
                    if piece:
                        text.append(piece)
                        hand_over(TextDelta(piece))
                    finish_reason = reason or finish_reason
                tokens = model.llama.tokenize("".join(text).encode("utf-8"), add_bos=False)
            hand_over(Finished(completion_tokens=len(tokens), finish_reason=finish_reason))
        except ProviderError as error:
            hand_over(error)
        except ValueError as error:  # how llama-cpp-python rejects a request it cannot run
            hand_over(ProviderError("refused", f"{self._label}: {error}"))
        except Exception as error:
            hand_over(ProviderError("dropped", f"{self._label} failed: {error!r}"))

    def _check_fits(self, llama: Llama, conversation: list[ChatMessage]) -> None:
        # llama.cpp fails on an oversized prompt with an unhelpful array-shape error.
        content = "\n".join(message["content"] for message in conversation)
        turn_markers = TURN_MARKER_TOKENS * len(conversation)
        prompt_tokens = len(llama.tokenize(content.encode("utf-8"), add_bos=True)) + turn_markers
        if prompt_tokens >= self._n_ctx:
            raise ProviderError(
                "refused",
                f"{self._label}: the conversation is about {prompt_tokens} tokens, "
                f"more than the context of {self._n_ctx}",
            )

    def _pieces(
        self, llama: Llama, conversation: list[ChatMessage]
    ) -> Iterator[tuple[str, str | None]]:
        """(text, finish_reason) per streamed chunk, in the model's prompt format.

        A conversation ending in an assistant message is continued from that text (a
        prefill), which is streamed first so that it is part of the answer.
        """
        settings = self.generation
        history, prefill = split_prefill(conversation)
        options: dict[str, Any] = {
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "seed": settings.seed,
        }
        options = {key: value for key, value in options.items() if value is not None}
        stop = list(settings.stop)
        # A prefill that opens a code block ends where the block closes.
        fenced = prefill.count(CODE_FENCE) % 2 == 1
        if fenced:
            stop.append(f"\n{CODE_FENCE}")
        if prefill:
            yield prefill, None
        if self.prompt_format == "embedded" and not prefill:
            yield from self._chat_pieces(llama, history, stop, options)
            return
        if self.prompt_format == "completion":
            prompt = completion_prompt(conversation)
            stop += COMPLETION_STOP
            options["repeat_penalty"] = (
                PREFILL_REPEAT_PENALTY if prefill else COMPLETION_REPEAT_PENALTY
            )
        elif self.prompt_format == "gemma":
            prompt = gemma_prompt(history) + prefill
            stop += GEMMA_STOP
        else:
            prompt = _chat_template_prompt(llama, history) + prefill
        # llama-cpp-python types its result as "a response or, with stream=True, an iterator
        # of chunks" without tying either to `stream`: the casts say which.
        chunks = cast(
            "Iterator[CreateCompletionStreamResponse]",
            llama.create_completion(prompt, stop=stop, stream=True, **options),
        )
        finish_reason: str | None = None
        for chunk in chunks:
            choice = chunk["choices"][0]
            finish_reason = choice["finish_reason"] or finish_reason
            yield choice["text"], choice["finish_reason"]
        if fenced and finish_reason == "stop":
            # The model closed the block (the stop sequence is not part of the text) or ended
            # its answer: either way the block is complete, not cut off.
            yield f"\n{CODE_FENCE}\n", None

    @staticmethod
    def _chat_pieces(
        llama: Llama, history: list[ChatMessage], stop: list[str], options: dict[str, Any]
    ) -> Iterator[tuple[str, str | None]]:
        chat_chunks = cast(
            "Iterator[CreateChatCompletionStreamResponse]",
            llama.create_chat_completion(
                # Our messages are the same role/content dicts, typed as our own TypedDict.
                messages=cast("list[ChatCompletionRequestMessage]", list(history)),
                stop=stop or None,
                stream=True,
                **options,
            ),
        )
        for chat_chunk in chat_chunks:
            chat_choice = chat_chunk["choices"][0]
            text = chat_choice["delta"].get("content")  # absent in the first/last chunk
            yield text if isinstance(text, str) else "", chat_choice["finish_reason"]


def _chat_template_prompt(llama: Llama, history: list[ChatMessage]) -> str:
    """The conversation in the file's own chat template, ending where the model's turn opens,
    so that a prefill can be appended to it."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ProviderError("refused", "a prefilled answer needs a chat template in the GGUF file")

    def token_text(token: int) -> str:
        return llama.detokenize([token]).decode("utf-8", errors="ignore") if token >= 0 else ""

    formatter = Jinja2ChatFormatter(
        template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
        add_generation_prompt=True,
    )
    messages = cast("list[ChatCompletionRequestMessage]", list(history))
    return formatter(messages=messages).prompt
