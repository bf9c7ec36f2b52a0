"""The whole arena in real Chromium: a battle between two variants of the real embedded
SmolLM2 model, a vote, the reveal, and the vote on the leaderboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from arena_server import running_arena, write_config

pytestmark = [pytest.mark.browser, pytest.mark.llama, pytest.mark.slow]

SCREENSHOTS = Path("/tmp/glassarena-screenshots")


def _smollm2(name: str, n_ctx: int, temperature: float) -> dict[str, object]:
    # Different context sizes load two llama.cpp instances, so both sides generate at once.
    return {
        "name": name,
        "organization": "Hugging Face",
        "provider": {"kind": "local", "weights": "smollm2-135m-instruct", "n_ctx": n_ctx},
        "generation": {"temperature": temperature, "max_tokens": 40, "seed": 7},
    }


def test_battle_vote_reveal_and_leaderboard(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    config = write_config(
        tmp_path,
        limits={"answer_timeout_seconds": 120},
        contestants=[
            _smollm2("smollm2-careful", 1024, 0.0),
            _smollm2("smollm2-lively", 2048, 0.9),
        ],
    )
    with running_arena(tmp_path, config) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url + "/")
        assert page.locator(".pane-title").all_inner_texts() == ["Model A", "Model B"]
        assert page.locator("button.vote:not([disabled])").count() == 0

        page.fill("textarea#prompt", "What is the capital of France? Answer in one sentence.")
        page.keyboard.press("Enter")
        # Each side is seen streaming text (a tiny model may finish one side before the other
        # starts, so the check watches each pane rather than one instant), and the vote stays
        # closed while any side is still streaming.
        page.wait_for_function(
            """() => {
                const watch = (window.__watch ??= {streamed: {}, votingWhileStreaming: false});
                const streaming = [...document.querySelectorAll(".pane .message-body.streaming")];
                for (const body of streaming) {
                    const side = body.closest(".pane").dataset.side;
                    if (body.textContent.length) watch.streamed[side] = true;
                }
                const open = document.querySelectorAll("button.vote:not([disabled])").length;
                if (streaming.length && open) watch.votingWhileStreaming = true;
                return Object.keys(watch.streamed).length === 2;
            }""",
            timeout=120_000,
            polling=10,
        )
        page.wait_for_selector("button.vote[data-choice=tie]:not([disabled])", timeout=120_000)
        assert page.evaluate("window.__watch.votingWhileStreaming") is False
        answers = page.locator(".message.assistant .message-body").all_inner_texts()
        assert len(answers) == 2 and all(answer.strip() for answer in answers)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "arena-before-vote.png"), full_page=True)

        page.click("button.vote[data-choice=tie]")
        page.wait_for_selector(".pane.revealed")
        titles = " ".join(page.locator(".pane-title").all_inner_texts())
        assert "smollm2-careful" in titles and "smollm2-lively" in titles
        assert "counts toward the leaderboard" in page.inner_text("[data-role=notice]")
        page.screenshot(path=str(SCREENSHOTS / "arena-revealed.png"), full_page=True)

        for _ in range(40):
            page.goto(server.url + "/leaderboard")
            count = page.locator("[data-role=vote-count]")
            if count.count() and count.first.inner_text().startswith("1 counted vote"):
                break
            page.wait_for_timeout(500)
        else:
            pytest.fail("the vote never appeared on the leaderboard")
        table = page.inner_text(".leaderboard-table")
        assert "smollm2-careful" in table and "smollm2-lively" in table
        page.screenshot(path=str(SCREENSHOTS / "leaderboard.png"), full_page=True)
        page.close()
