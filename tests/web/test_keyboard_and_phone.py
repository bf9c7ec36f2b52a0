"""Keyboard voting on the battle page, and the pages people open on a phone fit its width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from arena_server import openai_contestant, running_arena, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

PHONE = {"width": 390, "height": 844}


def _two_contestants(tmp_path: Path, base_url: str) -> Path:
    return write_config(
        tmp_path,
        contestants=[
            openai_contestant("left-model", base_url, "m"),
            openai_contestant("right-model", base_url, "m"),
        ],
    )


def test_keys_vote_once_voting_opens_but_not_while_typing(tmp_path: Path, browser: Any) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="A plain answer.")}) as double:
        config = _two_contestants(tmp_path, double.openai_base_url)
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            assert "3" in page.inner_text("[data-role=vote-keys] kbd >> nth=4")
            page.fill("textarea#prompt", "Say hello")
            page.click("button[data-role=send]")
            page.wait_for_selector(".battle.voting-open")
            # A key pressed inside a text field is text, not a vote.
            page.evaluate(
                """() => document.querySelector('textarea#prompt').dispatchEvent(
                     new KeyboardEvent('keydown', {key: '1', bubbles: true}))"""
            )
            assert page.locator(".pane.revealed").count() == 0
            assert page.locator("button.vote:not([disabled])").count() == 4
            page.click(".vote-prompt")  # focus leaves the prompt box, as a click elsewhere does
            page.keyboard.press("b")
            page.wait_for_selector(".pane.revealed")
            assert page.locator(".pane.winner").get_attribute("data-side") == "b"
            assert page.locator("button.vote.chosen").get_attribute("data-choice") == "b"
            # After the vote the keys do nothing more.
            page.keyboard.press("1")
            assert page.locator("button.vote:not([disabled])").count() == 0
            page.close()


@pytest.mark.parametrize("path", ["/", "/leaderboard", "/integrity"])
def test_pages_fit_a_phone_without_horizontal_scrolling(
    tmp_path: Path, browser: Any, path: str
) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="A plain answer.")}) as double:
        config = _two_contestants(tmp_path, double.openai_base_url)
        with running_arena(tmp_path, config) as server:
            page = browser.new_page(viewport=PHONE)
            page.goto(server.url + path)
            page.wait_for_load_state("load")
            widths = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], f"{path} scrolls sideways at 390 px: {widths}"
            page.close()
