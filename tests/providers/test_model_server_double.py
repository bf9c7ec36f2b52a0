"""The test double speaks the real protocols: the official OpenAI SDK reads it unaided."""

from __future__ import annotations

import httpx
import pytest

from openai_test_server import ModelServerDouble, ScriptedModel

openai = pytest.importorskip("openai")


def test_official_openai_client_streams_from_the_double() -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Streamed by the book.")}) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
        chunks = list(
            client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        client.close()
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streamed by the book."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_official_openai_client_reads_whole_answers_models_and_errors() -> None:
    script = {
        "m": ScriptedModel(answer="All at once."),
        "no": ScriptedModel(behaviour="refuse", status=403, error="not for you"),
    }
    with ModelServerDouble(script) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
        completion = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Hi"}]
        )
        assert completion.choices[0].message.content == "All at once."
        assert completion.usage is not None and completion.usage.completion_tokens == 3
        assert sorted(model.id for model in client.models.list()) == ["m", "no"]
        with pytest.raises(openai.PermissionDeniedError, match="not for you"):
            client.chat.completions.create(model="no", messages=[{"role": "user", "content": "Hi"}])
        client.close()


def test_prompt_placeholder_and_live_script_changes() -> None:
    with ModelServerDouble({"echo": ScriptedModel(answer="You said: {prompt}")}) as server:
        body = {"model": "echo", "messages": [{"role": "user", "content": "hello"}]}
        first = httpx.post(f"{server.openai_base_url}/chat/completions", json=body).json()
        server.script["echo"] = ScriptedModel(answer="changed")
        second = httpx.post(f"{server.openai_base_url}/chat/completions", json=body).json()
    assert first["choices"][0]["message"]["content"] == "You said: hello"
    assert second["choices"][0]["message"]["content"] == "changed"
    assert [request.body["model"] for request in server.requests] == ["echo", "echo"]
