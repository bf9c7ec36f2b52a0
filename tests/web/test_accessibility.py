"""An accessibility check of the public pages with axe-core in real Chromium.

axe-core (MPL-2.0) is vendored under tests/web/vendor/axe-core so the check runs offline.
The pages forbid inline scripts (CSP ``script-src 'self'``); only this test's browser
context bypasses the policy so the audit script can be injected.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from arena_server import openai_contestant, running_arena, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
BLOCKING_IMPACTS = {"serious", "critical"}
PAGES = ["/", "/webdev", "/leaderboard", "/integrity", "/me/board"]


def _audit(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it stands, with the nodes it was found on."""
    page.add_script_tag(content=AXE_SOURCE)
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return list(result["violations"])


def _summary(path: str, violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
        lines.append(f"{path}: {violation['id']} ({violation['impact']}) on {targets}")
    return "\n".join(lines)


def _blocking(path: str, violations: list[dict[str, Any]]) -> str:
    """The serious and critical findings, summarised; the others are only printed."""
    minor = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
    if minor:
        print(_summary(path, minor))  # shown with -s; moderate/minor findings do not fail
    return _summary(path, [v for v in violations if v["impact"] in BLOCKING_IMPACTS])


def test_pages_have_no_serious_accessibility_violations(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with ModelServerDouble({"m": ScriptedModel(answer="A plain answer.")}) as double:
        contestants = [
            openai_contestant("lab-model", double.openai_base_url, "m"),
            openai_contestant("other-model", double.openai_base_url, "m"),
        ]
        config = write_config(tmp_path, contestants=contestants)
        with running_arena(tmp_path, config) as server:
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            findings = []
            for path in PAGES:
                response = page.goto(server.url + path)
                assert response is not None and response.ok, path
                findings.append(_blocking(path, _audit(page)))

            # The arena page once a battle has been voted: both answers and the reveal shown.
            page.goto(server.url + "/")
            page.fill("textarea#prompt", "Which is better?")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])")
            page.click("button.vote[data-choice=a]")
            page.wait_for_selector(".pane.revealed")
            findings.append(_blocking("/ (revealed)", _audit(page)))

            # The boards once they hold a rated vote: tables, charts and the log head.
            deadline = time.monotonic() + 20
            while page.request.get(server.url + "/leaderboard.json").json().get("watermark") != 1:
                assert time.monotonic() < deadline, "the leaderboard never reached the vote"
                time.sleep(0.2)
            for path in ["/leaderboard", "/integrity", "/me/board"]:
                page.goto(server.url + path)
                findings.append(_blocking(f"{path} (after a vote)", _audit(page)))
            context.close()
    blocking = "\n".join(finding for finding in findings if finding)
    assert not blocking, blocking
