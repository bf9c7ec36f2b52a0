"""In real Chromium: a battle in which a model names itself never counts, and the voter is
told why after the vote (the identity-leak guard, arena/identity_guard.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arena_server import openai_contestant, running_arena, write_config

from glassarena.arena.identity_guard import REVEALED_MESSAGE
from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser


def test_a_model_that_names_itself_makes_the_battle_not_count(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    models = {
        "talkative": ScriptedModel(answer="Hello! I am Claude, an assistant made by Anthropic."),
        "plain": ScriptedModel(answer="Hello! How can I help you today?"),
    }
    with ModelServerDouble(models) as double:
        contestants = [
            openai_contestant("claude-test", double.openai_base_url, "talkative")
            | {"organization": "Anthropic"},
            openai_contestant("plain-test", double.openai_base_url, "plain"),
        ]
        config = write_config(tmp_path, contestants=contestants)
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.fill("textarea#prompt", "Say hello.")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])")
            # Before the vote, the name is in the answer text (the model said it), but the
            # arena itself names nobody.
            page.click("button.vote[data-choice=a]")
            page.wait_for_selector(".pane.revealed")
            notice = page.inner_text("[data-role=notice]")
            assert REVEALED_MESSAGE in notice.lower(), notice

            [line] = page.request.get(server.url + "/integrity/log.jsonl").text().splitlines()
            entry = json.loads(line)
            assert entry["counted"] is False
            assert REVEALED_MESSAGE in entry["not_counted_reason"]
            page.close()
