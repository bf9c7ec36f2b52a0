"""Dark mode in real Chromium: the system's setting is followed, the header's theme button
overrides it and is remembered; in dark mode the pages pass axe-core (colour contrast
included) and fit a phone's width. The phone screenshots are saved for a look by eye
(GLASSARENA_SCREENSHOTS=<dir> keeps them; otherwise they go to the test's tmp dir)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from arena_server import openai_contestant, running_arena, sse_events, write_config
from test_accessibility import _audit, _blocking

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PAGES = ["/", "/webdev", "/leaderboard", "/me/board", "/integrity"]
ANSWER = "A plain answer with **bold**, `code` and a list:\n\n- one\n- two\n\n```python\nx = 1\n```"


# Records the page's theme at the moment the first element of <body> is inserted.
THEME_WHEN_BODY_STARTS = """
new MutationObserver((records, observer) => {
  if (document.body && document.body.firstElementChild) {
    window.themeWhenBodyStarted = document.documentElement.dataset.theme ?? "unset";
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def _luminance(css_colour: str) -> float:
    """Relative luminance of an `rgb(...)`/`rgba(...)` computed colour."""
    inside = css_colour[css_colour.index("(") + 1 : css_colour.index(")")]
    channels = [float(part) / 255 for part in inside.replace("/", ",").split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _background(page: Any) -> float:
    return _luminance(page.evaluate("() => getComputedStyle(document.body).backgroundColor"))


def _shown_figures(page: Any) -> list[str]:
    """The leaderboard figures on display, each once it has loaded: their addresses."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('.plot img')]
            .filter((image) => getComputedStyle(image).display !== 'none')
            .every((image) => image.complete && image.naturalWidth > 0)"""
    )
    shown: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('.plot img')]
            .filter((image) => getComputedStyle(image).display !== 'none')
            .map((image) => image.getAttribute('src'))"""
    )
    return shown


def _fits(page: Any) -> list[int]:
    widths: list[int] = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return widths


def _more_votes(client: httpx.Client, votes_before: int) -> None:
    """Four more counted votes, so that the boards have rows."""
    for choice in ("a", "b", "tie", "b"):
        events = sse_events(client.post("/api/battles", json={"prompt": "Say hi"}).text)
        battle_id = events[0]["battle_id"]
        assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": choice}).is_success
    deadline = time.monotonic() + 30
    while client.get("/leaderboard.json").json().get("watermark") != votes_before + 4:
        assert time.monotonic() < deadline, "the leaderboard never reached the votes"
        time.sleep(0.2)


def test_dark_pages_pass_axe_and_fit_a_phone(tmp_path: Path, browser: Any) -> None:
    shots = Path(os.environ.get("GLASSARENA_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with ModelServerDouble({"m": ScriptedModel(answer=ANSWER)}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("lab-model", double.openai_base_url, "m"),
                openai_contestant("other-model", double.openai_base_url, "m"),
            ],
        )
        with running_arena(tmp_path, config) as server:
            context = browser.new_context(
                bypass_csp=True, color_scheme="dark", viewport=PHONE, base_url=server.url
            )
            page = context.new_page()
            findings = []
            # The revealed arena in dark mode: answers with code, the reveal, reasons, share.
            page.goto("/")
            assert _background(page) < 0.05, "the arena is not dark"
            page.fill("textarea#prompt", "Show me some code")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])")
            page.click("button.vote[data-choice=a]")
            page.wait_for_selector(".pane.revealed")
            page.click("[data-role=share-button]")
            shared = page.wait_for_selector("a[data-role=shared-link]").get_attribute("href")
            findings.append(_blocking("/ (revealed, dark)", _audit(page)))
            assert _fits(page)[0] <= _fits(page)[1], f"/ (revealed) scrolls: {_fits(page)}"
            page.screenshot(path=shots / "dark-arena-revealed.png", full_page=True)

            with httpx.Client(base_url=server.url, timeout=60) as client:
                # Another voter's votes give the boards rows; this browser's own vote gives
                # it a personal board (once the public board has ratings).
                _more_votes(client, votes_before=1)
            for path in [*PAGES, str(shared)]:
                response = page.goto(path)
                assert response is not None and response.ok, path
                page.wait_for_load_state("load")
                assert _background(page) < 0.05, f"{path} is not dark"
                if path == "/leaderboard":  # its four figures, drawn dark
                    figures = _shown_figures(page)
                    assert len(figures) == 4 and all("theme=dark" in src for src in figures)
                findings.append(_blocking(f"{path} (dark)", _audit(page)))
                widths = _fits(page)
                assert widths[0] <= widths[1], f"{path} scrolls sideways at 390 px: {widths}"
                name = path.strip("/").split("/")[0] or "arena"
                page.screenshot(path=shots / f"dark-{name}.png", full_page=True)
            context.close()
    blocking = "\n".join(finding for finding in findings if finding)
    assert not blocking, blocking
    assert len(list(shots.glob("dark-*.png"))) == len(PAGES) + 2


def test_the_theme_button_overrides_the_system_and_is_remembered(
    tmp_path: Path, browser: Any
) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Hi.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("lab-model", double.openai_base_url, "m"),
                openai_contestant("other-model", double.openai_base_url, "m"),
            ],
        )
        with running_arena(tmp_path, config) as server:
            context = browser.new_context(color_scheme="light", base_url=server.url)
            page = context.new_page()
            page.goto("/leaderboard")
            toggle = page.locator("[data-role=theme-toggle]")
            assert toggle.inner_text() == "Theme: auto"
            assert _background(page) > 0.8  # the system says light
            assert not any("theme=dark" in src for src in _shown_figures(page))
            toggle.click()
            assert toggle.inner_text() == "Theme: dark"
            assert _background(page) < 0.05
            # Another page, the same choice, set before any of the page's content exists (so
            # before its first paint): no flash of the system's theme.
            page.add_init_script(THEME_WHEN_BODY_STARTS)
            page.goto("/integrity")
            assert page.evaluate("() => window.themeWhenBodyStarted") == "dark"
            assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
            assert _background(page) < 0.05
            page.locator("[data-role=theme-toggle]").click()
            assert _background(page) > 0.8  # "light", whatever the system says
            page.emulate_media(color_scheme="dark")
            assert _background(page) > 0.8
            page.locator("[data-role=theme-toggle]").click()  # back to the system's: dark
            assert page.locator("[data-role=theme-toggle]").inner_text() == "Theme: auto"
            assert _background(page) < 0.05
            context.close()
