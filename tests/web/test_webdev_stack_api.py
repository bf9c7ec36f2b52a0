"""The WebDev page offers the stacks with the deployment's default chosen, and the battle API
takes the stack, stores it with the battle and asks the models for it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPTS
from openai_test_server import ModelServerDouble, ScriptedModel

VUE_ANSWER = "```vue\n<template><p>hi</p></template>\n```\n"


def test_the_stack_is_chosen_on_the_page_and_sent_with_the_battle(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer=VUE_ANSWER)}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "m") for name in ("one", "two")
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            page = client.get("/webdev").text
            options = re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', page)
            assert [value for value, _, _ in options] == [stack.value for stack in WebdevStack]
            assert [value for value, selected, _ in options if selected] == ["react"]
            assert ("react", " selected", "React + TypeScript + Tailwind") in options

            started = client.post(
                "/api/battles", json={"kind": "webdev", "stack": "vue", "prompt": "A greeting."}
            )
            assert started.status_code == 200, started.text
            events = sse_events(started.text)
            battle_id = events[0]["battle_id"]
            apps = [event for event in events if event["type"] == "app"]
            assert [app["stack"] for app in apps] == ["vue", "vue"]
            state = client.get(f"/api/battles/{battle_id}").json()
            assert state["webdev_stack"] == "vue"
            asked = double.requests[-1].body["messages"][0]
            assert asked == {"role": "system", "content": WEBDEV_SYSTEM_PROMPTS[WebdevStack.VUE]}

            # Without a stack, the deployment's default is asked.
            default = client.post("/api/battles", json={"kind": "webdev", "prompt": "Hi."})
            default_id = sse_events(default.text)[0]["battle_id"]
            assert client.get(f"/api/battles/{default_id}").json()["webdev_stack"] == "react"

            text_with_stack = client.post(
                "/api/battles", json={"kind": "text", "stack": "vue", "prompt": "Hi."}
            )
            assert text_with_stack.status_code == 400, text_with_stack.text
            unknown = client.post(
                "/api/battles", json={"kind": "webdev", "stack": "svelte", "prompt": "Hi."}
            )
            assert unknown.status_code == 422
