"""The hostile apps of test_hostile_apps.py, rewritten as React, Vue and Python apps
(hostile_stacks.py), each run in real Chromium inside the arena-like page, all contained:
the same outside checks (URL, cookie, storage, secret, dialogs, pop-ups, downloads, the
arena's request log, the TCP listener, the vote button's response time) and each app's own.
Besides the two documents, the only requests the arena may see are for the runtime files
of the app's stack.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from arena_host import ArenaHost, Listener, running_arena_host
from playwright.sync_api import Browser, sync_playwright
from test_hostile_apps import SPECIFIC_CHECKS, assert_contained, listener, open_battle

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CHROMIUM_ARGS
from glassarena.webdev.runtimes import RuntimeFiles, runtimes_for

pytestmark = pytest.mark.browser

__all__ = ["listener"]  # a fixture shared with test_hostile_apps.py

STACKS = (WebdevStack.REACT, WebdevStack.VUE, WebdevStack.PYTHON)
# Pyodide starts in seconds on an idle machine, several times that on a busy CI runner.
REPORT_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    # As in test_hostile_apps.py, with room for Pyodide beside the huge DOM: at 256 MB the
    # Python frame runs out of memory before huge_dom can report (contained, but unproven).
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_ARGS, "--js-flags=--max-old-space-size=512"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def host(webdev_runtimes: RuntimeFiles) -> Iterator[ArenaHost]:
    with running_arena_host(runtimes=webdev_runtimes) as running:
        yield running


def runtime_files(host: ArenaHost, stack: WebdevStack) -> frozenset[str]:
    base = host.policy.runtimes_path
    return frozenset(
        runtime.url(base, path) for runtime in runtimes_for(stack) for path in runtime.files
    )


@pytest.mark.parametrize("name", sorted(SPECIFIC_CHECKS))
@pytest.mark.parametrize("stack", STACKS, ids=[stack.value for stack in STACKS])
def test_hostile_app_in_another_stack_is_contained(
    browser: Browser, host: ArenaHost, listener: Listener, stack: WebdevStack, name: str
) -> None:
    battle = open_battle(browser, host, listener, name, stack, REPORT_TIMEOUT_S)
    SPECIFIC_CHECKS[name](battle, battle.reports(name)[-1])
    assert_contained(battle, host, listener, runtime_files(host, stack))
