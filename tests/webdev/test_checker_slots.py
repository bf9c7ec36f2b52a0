"""A hostile app holds one checker slot for a bounded time and delays no one else beyond it.

Measured in real Chromium: one app spins forever while other battles' checks are queued
behind it; they go on through the other worker and all finish within
(their number × a normal check's time + the spinner's slot limit).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import AppChecker, BrowserLost, CheckerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETTINGS = CheckerSettings(
    workers=2,
    load_timeout_s=3.0,
    python_load_timeout_s=3.0,
    settle_s=0.2,
    screenshot_timeout_s=2.0,
    close_timeout_s=2.0,
)
WORKING_APP = "<!DOCTYPE html><html><body><h1 id='t'>Counter</h1><button>0</button></body></html>"
SPINNING_APP = (
    "<!DOCTYPE html><html><body><h1>Spin</h1><script>while (true) {}</script></body></html>"
)
SLOW_APP = """<!DOCTYPE html><html><body><h1>Slow</h1><script>
const until = Date.now() + 2000; while (Date.now() < until) {}</script></body></html>"""
OTHERS = 8


def test_the_documented_bounds_follow_from_the_limits() -> None:
    assert SETTINGS.slot_limit_s == 3.0 + 0.2 + 2.0 + 2.0 + 2.0
    defaults = CheckerSettings()
    # Python apps have the longest load limit (30 s), so they bound the slot.
    assert defaults.check_limit_for(WebdevStack.REACT) == 8.0 + 0.5 + 3.0 + 5.0
    assert defaults.check_limit_s == defaults.check_limit_for(WebdevStack.PYTHON) == 38.5
    assert defaults.slot_limit_s == 43.5
    assert defaults.longest_wait_s == (200 // 2 + 2) * 43.5


async def test_a_spinning_app_delays_other_checks_only_within_the_bound(
    chromium_path: str,
) -> None:
    async with AppChecker(chromium_path, settings=SETTINGS) as checker:
        normal_s = []
        for _ in range(3):
            started = time.perf_counter()
            assert (await checker.check(WORKING_APP)).runs
            normal_s.append(time.perf_counter() - started)
        normal = max(normal_s)

        started = time.perf_counter()
        finished: dict[int, float] = {}
        futures = [checker.submit(SPINNING_APP)] + [
            checker.submit(WORKING_APP) for _ in range(OTHERS)
        ]

        def note_finish(index: int) -> Callable[[object], None]:
            def note(_: object) -> None:
                finished[index] = time.perf_counter() - started

            return note

        for index, future in enumerate(futures):
            future.add_done_callback(note_finish(index))
        results = await asyncio.gather(*futures)

    spinner, *others = results
    assert spinner.failure is not None and spinner.failure.startswith("timeout"), spinner
    assert all(result.runs for result in others), others
    bound = OTHERS * normal + SETTINGS.slot_limit_s
    last = max(finished[index] for index in range(1, OTHERS + 1))
    print(
        f"normal check {normal:.2f} s (max of 3); spinner held its slot {finished[0]:.2f} s "
        f"(limit {SETTINGS.slot_limit_s:g} s); {OTHERS} checks queued behind it done after "
        f"{last:.2f} s (bound {bound:.2f} s); first after {finished[1]:.2f} s"
    )
    assert finished[0] <= SETTINGS.slot_limit_s
    # The other worker went on while the spinner held its slot.
    assert finished[1] < finished[0]
    assert last <= bound


async def test_a_check_whose_browser_is_restarted_under_it_is_not_blamed(
    chromium_path: str,
) -> None:
    async with AppChecker(chromium_path, settings=SETTINGS) as checker:
        assert (await checker.check(WORKING_APP)).runs
        slow = checker.submit(SLOW_APP)
        while checker._browser is None or not any(
            context.pages for context in checker._browser.contexts
        ):
            await asyncio.sleep(0.02)
        # What another check whose context would not close does to this one.
        await checker._recycle_browser(checker._browser)
        with pytest.raises(BrowserLost):
            await slow
        assert (await checker.check(WORKING_APP)).runs
