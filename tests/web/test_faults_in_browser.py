"""What a person sees when things go wrong, in real Chromium: a failed model marks the
battle failed and voting stays closed; a refused prompt is explained and kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from arena_server import (
    GENEROUS_RATE_LIMITS,
    openai_contestant,
    running_arena,
    within_one_minute_window,
    write_config,
)

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser


def test_failed_model_marks_the_battle_failed(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    script = {
        "fine": ScriptedModel(answer="All good here."),
        "dropper": ScriptedModel(behaviour="drop", answer="one two three four", cut_after=2),
    }
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("steady", double.openai_base_url, "fine"),
                openai_contestant("flaky", double.openai_base_url, "dropper"),
            ],
        )
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.fill("textarea#prompt", "Tell me something")
            page.click("button[data-role=send]")
            page.wait_for_selector(".pane.failed")
            page.wait_for_selector("button[data-role=new-battle]:visible")
            assert "cut off" in page.inner_text(".pane.failed .answer-error")
            assert page.inner_text(".pane.failed [data-role=status]") == "Failed"
            assert "will not count" in page.inner_text("[data-role=notice]")
            assert page.locator("button.vote:not([disabled])").count() == 0
            assert page.locator("textarea#prompt").is_disabled()
            assert "flaky" not in page.content() and "steady" not in page.content()
            page.close()


def test_rate_limited_prompt_is_explained_and_kept(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with ModelServerDouble({"m": ScriptedModel(answer="Hi.")}) as double:
        config = write_config(
            tmp_path,
            rate_limits={**GENEROUS_RATE_LIMITS, "battles_per_minute_per_voter": 1},
            contestants=[
                openai_contestant(name, double.openai_base_url, "m") for name in ("p", "q")
            ],
        )
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            within_one_minute_window(40)  # both battles asked for within one minute
            page.fill("textarea#prompt", "First question")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=tie]:not([disabled])")
            page.click("button.vote[data-choice=tie]")
            page.click("button[data-role=new-battle]")
            page.fill("textarea#prompt", "Second question")
            page.click("button[data-role=send]")
            page.wait_for_selector("[data-role=notice][data-tone=error]")
            assert "Too many battles" in page.inner_text("[data-role=notice]")
            assert page.input_value("textarea#prompt") == "Second question"
            assert page.locator("textarea#prompt").is_enabled()
            page.close()
