"""TEST DOUBLE of a remote model API, speaking the real wire protocols over real HTTP.

It stands in for vLLM / OpenAI / Anthropic in tests and benchmarks: a small Starlette app,
served by uvicorn on 127.0.0.1 on a free port in a background thread. Every answer is
scripted; nothing here is a model.

    from openai_test_server import ModelServerDouble, ScriptedModel

    script = {
        "echo": ScriptedModel(answer="You said: {prompt}"),    # {prompt}: last user message
        "slow": ScriptedModel(answer="One two three", token_delay=0.05, first_token_delay=0.2),
        "refuser": ScriptedModel(behaviour="refuse", status=429, error="slow down"),
        "hanger": ScriptedModel(behaviour="hang"),     # never answers: first-token timeout
        "staller": ScriptedModel(behaviour="stall"),   # `cut_after` tokens, then silence
        "dropper": ScriptedModel(behaviour="drop"),    # `cut_after` tokens, then closes
        "failer": ScriptedModel(behaviour="fail"),     # `cut_after` tokens, then an error event
    }
    with ModelServerDouble(script) as server:
        server.openai_base_url     # "http://127.0.0.1:PORT/v1" for OpenAI-compatible clients
        server.anthropic_base_url  # "http://127.0.0.1:PORT" for the Anthropic SDK
        server.requests            # every request received: ReceivedRequest(path, body, headers)
        server.script["echo"] = ScriptedModel(answer="changed")   # scripts may change live

Protocols served:
- OpenAI: POST /v1/chat/completions (streaming SSE chunks with `data: [DONE]`, usage chunk
  when `stream_options.include_usage` is set; or one JSON completion when `stream` is
  false) and GET /v1/models.
- Anthropic: POST /v1/messages with `stream: true` (message_start, content_block_delta,
  message_delta, message_stop events).

The answer is split into word tokens (leading whitespace kept), so usage counts tokens that
way; `token_pattern` (a regex whose matches cover the answer) scripts another tokenizer.
`max_tokens` in the request truncates the answer and the finish reason becomes "length"
("max_tokens" for Anthropic). Unknown model names get a 404 error body.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Behaviour = Literal["answer", "refuse", "hang", "stall", "drop", "fail"]
TOKEN_PATTERN = re.compile(r"\s*\S+|\s+")


@dataclass
class ScriptedModel:
    """What the double does when asked for one model name."""

    answer: str = "Hello from the test double."
    token_delay: float = 0.0
    first_token_delay: float = 0.0
    behaviour: Behaviour = "answer"
    status: int = 400
    error: str = "The test double refuses this request, as scripted."
    cut_after: int = 2
    token_pattern: str | None = None
    # Answers to the follow-up prompts of a conversation, in order (the second user message
    # gets the first); later turns, or none given, get `answer`.
    follow_ups: tuple[str, ...] = ()
    # When given, token number `gate_after` (the first by default) waits until the test sets
    # the gate: a model still writing.
    gate: threading.Event | None = None
    gate_after: int = 0

    def tokens(self, prompt: str, turn: int = 1) -> list[str]:
        pattern = re.compile(self.token_pattern, re.DOTALL) if self.token_pattern else TOKEN_PATTERN
        answer = self.answer
        if 2 <= turn <= len(self.follow_ups) + 1:
            answer = self.follow_ups[turn - 2]
        return pattern.findall(answer.replace("{prompt}", prompt))


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class StreamDroppedAsScripted(Exception):
    """Raised inside a streaming response so the server cuts the connection midway."""


class _Failure:
    """Marks the point where a "fail" script sends its in-stream error event."""


FAILURE = _Failure()


@dataclass
class _Answer:
    model: str
    script: ScriptedModel
    tokens: list[str]
    finish: Literal["stop", "length"]


class ModelServerDouble:
    """Context manager running the double; see the module docstring."""

    def __init__(self, script: Mapping[str, ScriptedModel] | None = None, port: int = 0) -> None:
        self.script: dict[str, ScriptedModel] = dict(script or {})
        self.requests: list[ReceivedRequest] = []
        self._closing = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))  # 0: any free port
        self.port: int = self._socket.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/v1/models", self._openai_models, methods=["GET"]),
                Route("/v1/messages", self._anthropic_messages, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(
            app, log_config=None, access_log=False, timeout_graceful_shutdown=2, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.root_url

    def __enter__(self) -> ModelServerDouble:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the model API test double did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    # --- shared -------------------------------------------------------------------------

    async def _receive(self, request: Request) -> tuple[dict[str, Any], _Answer | None]:
        body = await request.json()
        self.requests.append(ReceivedRequest(request.url.path, body, dict(request.headers)))
        model = str(body.get("model", ""))
        script = self.script.get(model)
        if script is None:
            return body, None
        messages = body.get("messages") or []
        prompt = _last_user_text(messages)
        turn = sum(1 for message in messages if message.get("role") == "user")
        tokens = script.tokens(prompt, turn)
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        finish: Literal["stop", "length"] = "stop"
        if isinstance(max_tokens, int) and len(tokens) > max_tokens:
            tokens, finish = tokens[:max_tokens], "length"
        return body, _Answer(model, script, tokens, finish)

    async def _hang(self) -> None:
        while not self._closing.is_set():
            await asyncio.sleep(0.02)

    async def _paced(self, answer: _Answer) -> AsyncIterator[str | _Failure | None]:
        """The answer's tokens at the scripted pace; None marks a normal end."""
        script = answer.script
        if script.behaviour == "hang":
            await self._hang()
            return
        await asyncio.sleep(script.first_token_delay)
        for index, token in enumerate(answer.tokens):
            if index and script.token_delay:
                await asyncio.sleep(script.token_delay)
            if script.gate is not None and index == script.gate_after:
                while not script.gate.is_set() and not self._closing.is_set():
                    await asyncio.sleep(0.02)
            if script.behaviour in ("stall", "drop", "fail") and index == script.cut_after:
                if script.behaviour == "stall":
                    await self._hang()
                    return
                if script.behaviour == "fail":
                    yield FAILURE
                    return
                raise StreamDroppedAsScripted(f"model {answer.model!r} is scripted to drop")
            yield token
        yield None

    # --- OpenAI -------------------------------------------------------------------------

    async def _openai_models(self, request: Request) -> Response:
        models = [
            {"id": name, "object": "model", "owned_by": "test-double"} for name in self.script
        ]
        return JSONResponse({"object": "list", "data": models})

    async def _openai_chat(self, request: Request) -> Response:
        body, answer = await self._receive(request)
        if answer is None:
            return _openai_error(404, f"The model `{body.get('model')}` does not exist")
        if answer.script.behaviour == "refuse":
            return _openai_error(answer.script.status, answer.script.error)
        if answer.script.behaviour == "fail" and not body.get("stream"):
            return _openai_error(500, answer.script.error)
        if answer.script.behaviour == "hang":
            await self._hang()
            return _openai_error(503, "the test double shut down while hanging")
        if not body.get("stream"):
            return JSONResponse(await self._openai_whole(answer))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            self._openai_chunks(answer, include_usage), media_type="text/event-stream"
        )

    async def _openai_whole(self, answer: _Answer) -> dict[str, Any]:
        text = "".join([token async for token in self._paced(answer) if isinstance(token, str)])
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": answer.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": answer.finish,
                }
            ],
            "usage": _openai_usage(len(answer.tokens)),
        }

    async def _openai_chunks(self, answer: _Answer, include_usage: bool) -> AsyncIterator[str]:
        envelope = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": answer.model,
        }

        def chunk(delta: dict[str, str], finish: str | None, **extra: Any) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            payload = {**envelope, "choices": [choice], **extra}
            return f"data: {json.dumps(payload)}\n\n"

        yield chunk({"role": "assistant", "content": ""}, None)
        async for token in self._paced(answer):
            if token is FAILURE:
                error = {"message": answer.script.error, "type": "server_error", "code": None}
                yield f"data: {json.dumps({'error': error})}\n\n"
            elif token is None:
                yield chunk({}, answer.finish)
                if include_usage:
                    usage = _openai_usage(len(answer.tokens))
                    payload = {**envelope, "choices": [], "usage": usage}
                    yield f"data: {json.dumps(payload)}\n\n"
                yield "data: [DONE]\n\n"
            elif isinstance(token, str):
                yield chunk({"content": token}, None)

    # --- Anthropic ----------------------------------------------------------------------

    async def _anthropic_messages(self, request: Request) -> Response:
        body, answer = await self._receive(request)
        if answer is None:
            return _anthropic_error(404, "not_found_error", f"model: {body.get('model')}")
        if answer.script.behaviour == "refuse":
            return _anthropic_error(
                answer.script.status, "invalid_request_error", answer.script.error
            )
        if answer.script.behaviour == "hang":
            await self._hang()
            return _anthropic_error(529, "overloaded_error", "the test double shut down")
        return StreamingResponse(self._anthropic_events(answer), media_type="text/event-stream")

    async def _anthropic_events(self, answer: _Answer) -> AsyncIterator[str]:
        def event(name: str, payload: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps({'type': name, **payload})}\n\n"

        message = {
            "id": f"msg_{uuid.uuid4().hex}",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": answer.model,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
        yield event("message_start", {"message": message})
        yield event(
            "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
        )
        yield event("ping", {})
        async for token in self._paced(answer):
            if token is FAILURE:
                error = {"type": "overloaded_error", "message": answer.script.error}
                yield event("error", {"error": error})
            elif token is None:
                stop_reason = "end_turn" if answer.finish == "stop" else "max_tokens"
                yield event("content_block_stop", {"index": 0})
                yield event(
                    "message_delta",
                    {
                        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                        "usage": {"output_tokens": len(answer.tokens)},
                    },
                )
                yield event("message_stop", {})
            elif isinstance(token, str):
                delta = {"type": "text_delta", "text": token}
                yield event("content_block_delta", {"index": 0, "delta": delta})


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            # Anthropic and newer OpenAI clients may send a list of content blocks.
            return "".join(block.get("text", "") for block in content or [])
    return ""


def _openai_usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": 1,
        "completion_tokens": completion_tokens,
        "total_tokens": completion_tokens + 1,
    }


def _openai_error(status: int, message: str) -> JSONResponse:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return JSONResponse({"error": error}, status_code=status)


def _anthropic_error(status: int, error_type: str, message: str) -> JSONResponse:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(body, status_code=status)
