"""In real Chromium: vote, give reasons with the keyboard, and see them on the board."""

from __future__ import annotations

from pathlib import Path

import pytest
from arena_server import openai_contestant, running_arena, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser


def _battle(page, choice: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("textarea#prompt", "Which is better?")
    page.click("button[data-role=send]")
    page.wait_for_selector(f"button.vote[data-choice={choice}]:not([disabled])")
    assert page.locator("[data-role=reasons]").is_hidden()  # nothing to give before the vote
    page.click(f"button.vote[data-choice={choice}]")
    page.wait_for_selector(".pane.revealed")


def test_vote_with_reasons_then_see_them_on_the_board(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with ModelServerDouble({"m": ScriptedModel(answer="A plain answer.")}) as double:
        contestants = [openai_contestant(n, double.openai_base_url, "m") for n in ("left", "right")]
        config = write_config(tmp_path, contestants=contestants)
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            _battle(page, "b")
            winner = page.locator(".pane[data-side=b] .pane-title").inner_text().split(" ")[0]
            page.wait_for_selector("[data-role=reasons]:visible")

            # Keyboard only: Space ticks a chip, Tab moves on, Enter on the button sends.
            page.focus("[data-role=reasons] input[value=correct]")
            page.keyboard.press("Space")
            page.keyboard.press("Tab")  # clearer
            page.keyboard.press("Tab")  # more complete
            page.keyboard.press("Space")
            page.focus("textarea#reason-note")
            page.keyboard.type("Straight to the point.")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.dataset.role") == "send-reasons"
            page.keyboard.press("Enter")
            page.wait_for_selector("[data-role=notice]:has-text('reasons are saved')")
            assert page.locator("[data-role=reasons]").is_hidden()

            # A tie prefers nobody: no reasons are asked for.
            page.click("button[data-role=new-battle]")
            _battle(page, "tie")
            assert page.locator("[data-role=reasons]").is_hidden()

            page.goto(server.url + "/leaderboard")
            summary = page.locator(f"[data-role=reason-summary][data-model='{winner}']")
            text = summary.inner_text()
            assert f"People who preferred {winner} said:" in text
            assert "correct 1" in text and "more complete 1" in text and "clearer" not in text
            assert "1 vote with reasons, 1 with a note" in text
            assert page.locator("[data-role=reason-summary]").count() == 1
