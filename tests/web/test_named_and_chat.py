"""Side-by-side named mode and single-model chat, in real Chromium."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from arena_server import openai_contestant, running_arena, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/glassarena-screenshots")
CODE_ANSWER = (
    "Here is how:\n\n```python\ndef greet(name: str) -> str:\n    return f'Hello, {name}!'\n```\n\n"
    "1. Call it.\n2. **Enjoy** the `str`."
)


def _config(tmp_path: Path, double: ModelServerDouble) -> Path:
    return write_config(
        tmp_path,
        contestants=[
            openai_contestant("aurora-small", double.openai_base_url, "plain"),
            openai_contestant("boreal-large", double.openai_base_url, "code"),
            openai_contestant("cirrus-mini", double.openai_base_url, "plain"),
        ],
    )


@pytest.fixture
def double() -> ModelServerDouble:
    script = {
        "plain": ScriptedModel(answer="You said: {prompt}", token_delay=0.01),
        "code": ScriptedModel(answer=CODE_ANSWER, token_delay=0.01),
    }
    with ModelServerDouble(script) as server:
        yield server  # type: ignore[misc]


def test_named_battle_with_follow_up_is_stored_but_never_counted(
    tmp_path: Path, browser, double: ModelServerDouble
) -> None:  # type: ignore[no-untyped-def]
    with running_arena(tmp_path, _config(tmp_path, double)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url + "/side-by-side")
        page.select_option("select[name=model_a]", "cirrus-mini")
        page.select_option("select[name=model_b]", "boreal-large")
        page.fill("textarea#prompt", "How do I greet someone in Python?")
        page.click("button[data-role=send]")
        page.wait_for_selector("button.vote[data-choice=b]:not([disabled])")
        assert page.locator(".pane-title").all_inner_texts() == ["cirrus-mini", "boreal-large"]
        # Rendered on the server: highlighted code, a list, bold text.
        answer_b = page.locator(".pane[data-side=b] .message.assistant .message-body").last
        assert answer_b.locator("pre.code span.k").count() >= 1
        assert answer_b.locator("ol li").count() == 2 and answer_b.locator("strong").count() == 1

        page.fill("textarea#prompt", "And in French?")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelectorAll('.pane[data-side=a] .message.user').length === 2"
        )
        page.wait_for_selector("button.vote[data-choice=b]:not([disabled])")
        assert "You said: And in French?" in page.inner_text(".pane[data-side=a]")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "side-by-side.png"), full_page=True)

        page.click("button.vote[data-choice=b]")
        page.wait_for_selector(".pane.revealed")
        assert "never count" in page.inner_text("[data-role=notice]")
        page.close()
    with sqlite3.connect(tmp_path / "arena.db") as connection:
        votes = connection.execute("SELECT winner, counted FROM votes").fetchall()
    assert votes == [("model_b", 0)]


def test_single_model_chat_streams_one_answer(
    tmp_path: Path, browser, double: ModelServerDouble
) -> None:  # type: ignore[no-untyped-def]
    with running_arena(tmp_path, _config(tmp_path, double)) as server:
        page = browser.new_page()
        page.goto(server.url + "/chat")
        page.select_option("select[name=model_a]", "aurora-small")
        page.fill("textarea#prompt", "Hello there")
        page.click("button[data-role=send]")
        page.wait_for_selector(".pane-status[data-state=done]")
        assert page.locator(".pane").count() == 1
        assert page.locator("button.vote").count() == 0
        assert "You said: Hello there" in page.inner_text(".message.assistant")
        assert page.inner_text(".pane-title") == "aurora-small"
        assert page.locator("textarea#prompt").is_enabled()  # the conversation goes on
        page.close()
