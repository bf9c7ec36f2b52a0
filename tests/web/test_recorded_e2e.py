"""Recorded-answer battles in real Chromium, on the shipped LLMFAO data (CC BY 4.0)."""

from __future__ import annotations

from pathlib import Path

import pytest
from arena_server import running_arena, write_config

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/glassarena-screenshots")
LLMFAO_SET = {
    "name": "llmfao",
    "format": "llmfao",
    "path": "builtin:llmfao",
    "attribution": "LLMFAO by Dmitry Ustalov; CC BY 4.0",
    "contestants": "all",
}


def test_recorded_battle_vote_and_reveal(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, recorded_sets=[LLMFAO_SET])
    with running_arena(tmp_path, config) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url + "/recorded")
        credit = page.inner_text(".credit")
        assert "LLMFAO" in credit and "CC BY 4.0" in credit
        # The shipped answers are public: the page says these are practice battles.
        assert "Practice battle" in page.inner_text("[data-role=practice-note]")

        page.click("button[data-role=new-battle]")
        page.wait_for_selector("button.vote[data-choice=a]:not([disabled])", timeout=30_000)
        prompt = page.inner_text("[data-role=recorded-prompt-text]")
        assert prompt.strip()
        answers = page.locator(".message.assistant .message-body").all_inner_texts()
        assert len(answers) == 2 and all(answer.strip() for answer in answers)
        assert page.locator(".pane-title").all_inner_texts() == ["Model A", "Model B"]
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "recorded.png"), full_page=True)

        page.click("button.vote[data-choice=a]")
        page.wait_for_selector(".pane.revealed")
        names = page.locator(".pane-title").all_inner_texts()
        assert all(name not in ("Model A", "Model B") for name in names)
        assert page.locator(".pane.winner[data-side=a]").count() == 1
        notice = page.inner_text("[data-role=notice]")
        assert "stored" in notice and "never ranked" in notice
        page.close()
