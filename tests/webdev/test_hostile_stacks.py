"""The hostile apps of test_hostile_apps.py, rewritten as React, Vue and Python apps
(hostile_stacks.py), each run in real Chromium inside the arena-like page, all contained:
the same outside checks (URL, cookie, storage, secret, dialogs, pop-ups, downloads, the
arena's request log, the TCP listener, the vote button's response time) and each app's own.
Besides the two documents, the only requests the arena may see are for the runtime files
of the app's stack. The React and Vue rewrites run a second time compiled on the server, as the
arena serves them, where the only runtimes fetched are React and ReactDOM, or Vue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest
from arena_host import ArenaHost, Listener, running_arena_host
from playwright.sync_api import Browser, sync_playwright
from test_hostile_apps import SPECIFIC_CHECKS, assert_contained, listener, open_battle

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CHROMIUM_ARGS
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.harness import CompiledApp
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import COMPILED_RUNTIMES, RUNTIMES, RuntimeFiles, runtimes_for

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


@pytest.fixture(scope="module")
def compile_app(
    chromium_path: str, webdev_runtimes: RuntimeFiles
) -> Iterator[Callable[[AppProject], CompiledApp | None]]:
    """The arena's compiler, on an event loop of its own beside these synchronous tests."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    compiler = AppCompiler(chromium_path, webdev_runtimes, timeout_s=60.0)
    asyncio.run_coroutine_threadsafe(compiler.start(), loop).result()

    def compile_project(project: AppProject) -> CompiledApp | None:
        return asyncio.run_coroutine_threadsafe(compiler.compile(project), loop).result()

    yield compile_project
    asyncio.run_coroutine_threadsafe(compiler.close(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


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


@pytest.mark.parametrize("name", sorted(SPECIFIC_CHECKS))
@pytest.mark.parametrize("stack", list(COMPILED_RUNTIMES), ids=[s.value for s in COMPILED_RUNTIMES])
def test_hostile_app_compiled_on_the_server_is_contained(
    browser: Browser,
    host: ArenaHost,
    listener: Listener,
    compile_app: Callable[[AppProject], CompiledApp | None],
    stack: WebdevStack,
    name: str,
) -> None:
    battle = open_battle(browser, host, listener, name, stack, REPORT_TIMEOUT_S, compile_app)
    SPECIFIC_CHECKS[name](battle, battle.reports(name)[-1])
    # Its page loads React and ReactDOM (or Vue) alone, under the policy of those alone: not
    # even Babel or vue3-sfc-loader.
    base = host.policy.runtimes_path
    compiled_only = frozenset(
        RUNTIMES[runtime].url(base, path)
        for runtime in COMPILED_RUNTIMES[stack]
        for path in RUNTIMES[runtime].files
    )
    assert_contained(battle, host, listener, compiled_only)
