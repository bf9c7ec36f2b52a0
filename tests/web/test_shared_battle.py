"""A shareable link to a finished battle: made only after the vote and only when its voter
asks, never derivable from anything the client received before; the shared page shows the
battle read-only and never who voted."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from arena_server import openai_contestant, running_arena, sse_events, write_config

from glassarena.web.voter_cookie import COOKIE_NAME
from openai_test_server import ModelServerDouble, ScriptedModel

PROMPT = "Name a prime number between 10 and 20."
NOTE = "my private note 7f3a"
HOSTILE = 'Thirteen. <img src=x onerror="alert(1)"><script>alert(2)</script>'


def _arena(tmp_path: Path, base_url: str) -> Path:
    return write_config(
        tmp_path,
        contestants=[
            openai_contestant("left-model", base_url, "plain"),
            openai_contestant("right-model", base_url, "hostile"),
        ],
    )


def _shares(tmp_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "arena.db") as connection:
        return connection.execute("SELECT battle_id, token FROM battle_shares").fetchall()


def test_the_link_exists_only_after_the_vote_and_shows_no_voter(tmp_path: Path) -> None:
    script = {"plain": ScriptedModel(answer="Eleven."), "hostile": ScriptedModel(answer=HOSTILE)}
    with ModelServerDouble(script) as double:
        config = _arena(tmp_path, double.openai_base_url)
        with (
            running_arena(tmp_path, config) as server,
            httpx.Client(base_url=server.url, timeout=60) as voter,
            httpx.Client(base_url=server.url, timeout=60) as stranger,
        ):
            # Everything the voter's client receives before the vote.
            received = [voter.get("/").text]
            started = voter.post("/api/battles", json={"prompt": PROMPT})
            received.append(started.text)
            battle_id = sse_events(started.text)[0]["battle_id"]
            received.append(voter.get(f"/api/battles/{battle_id}").text)
            received.append(voter.get(f"/api/battles/{battle_id}/events").text)

            refused = voter.post(f"/api/battles/{battle_id}/share", json={})
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "share_before_vote"
            received.append(refused.text)
            assert _shares(tmp_path) == []  # nothing exists that could be found
            assert not any("/shared/" in text for text in received)
            # The battle id is no share token: the page is not there under it.
            assert stranger.get(f"/shared/{battle_id}").status_code == 404
            assert voter.get(f"/shared/{battle_id}").status_code == 404

            # Someone else's battle cannot be shared, before or after its vote.
            assert stranger.post(f"/api/battles/{battle_id}/share", json={}).status_code == 404
            voted = voter.post(f"/api/battles/{battle_id}/vote", json={"choice": "b"})
            assert voted.status_code == 200
            assert "/shared/" not in voted.text  # a link is made only when asked for
            reasons = {"reasons": ["correct", "shorter"], "note": NOTE}
            assert voter.post(f"/api/battles/{battle_id}/reasons", json=reasons).is_success
            assert stranger.post(f"/api/battles/{battle_id}/share", json={}).status_code == 404
            assert _shares(tmp_path) == []

            shared = voter.post(f"/api/battles/{battle_id}/share", json={})
            assert shared.status_code == 200, shared.text
            path = shared.json()["path"]
            assert re.fullmatch(r"/shared/[A-Za-z0-9_-]{24}", path)
            assert battle_id not in path
            again = voter.post(f"/api/battles/{battle_id}/share", json={})
            assert again.json()["path"] == path and len(_shares(tmp_path)) == 1

            # Anybody with the link, without any cookie of the arena's, reads the battle.
            with httpx.Client(base_url=server.url, timeout=60) as anybody:
                page = anybody.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert page.headers["x-robots-tag"] == "noindex"
            html = page.text
            assert PROMPT in html and "Eleven." in html and "Thirteen." in html
            revealed = voted.json()["models"]  # the sides are drawn at random
            models = re.findall(r'data-role="shared-model">([^<]+)<', html)
            assert models == [f"A: {revealed['a']['name']}", f"B: {revealed['b']['name']}"]
            assert f"<strong>{revealed['b']['name']}</strong> (side B) was better" in html
            assert "correct, shorter" in html
            # Never who voted, nor the voter's own words, nor the answer's markup alive.
            voter_id = voter.cookies[COOKIE_NAME]
            assert voter_id not in html and voter_id.split(".")[0] not in html
            assert NOTE not in html
            assert "<img" not in html and "<script>alert" not in html  # shown as text only

            missing = stranger.get("/shared/not-a-token", headers={"Accept": "text/html"})
            assert missing.status_code == 404 and "no shared battle" in missing.text


@pytest.mark.browser
def test_the_share_button_appears_after_the_vote(tmp_path: Path, browser: Any) -> None:
    with ModelServerDouble({"plain": ScriptedModel(answer="Eleven."),
                            "hostile": ScriptedModel(answer="Seventeen.")}) as double:  # fmt: skip
        config = _arena(tmp_path, double.openai_base_url)
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            assert not page.locator("[data-role=share]").is_visible()
            page.fill("textarea#prompt", PROMPT)
            page.click("button[data-role=send]")
            page.wait_for_selector(".battle.voting-open")
            assert not page.locator("[data-role=share]").is_visible()
            page.click("button.vote[data-choice=tie]")
            page.wait_for_selector(".pane.revealed")
            page.click("[data-role=share-button]")
            link = page.wait_for_selector("a[data-role=shared-link]")
            href = link.get_attribute("href")
            assert href is not None and href.startswith("/shared/")
            link.click()
            page.wait_for_url("**/shared/*")
            assert page.locator("[data-role=shared-verdict]").inner_text().endswith("a tie.")
            # Which model sat on which side was drawn at random.
            answers = page.locator("[data-role=shared-answer]").all_inner_texts()
            assert sorted(answers) == ["Eleven.", "Seventeen."]
            page.close()
