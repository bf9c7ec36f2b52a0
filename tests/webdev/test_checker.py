"""The execution check in real Chromium: results, time limits, crashes, and no leaked browsers."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from glassarena.webdev.checker import AppChecker, CheckerBusy, CheckerSettings, CheckResult
from glassarena.webdev.summary import apps_that_run

pytestmark = pytest.mark.browser

WORKING_APP = """<!DOCTYPE html><html><head><style>body{background:#fff}</style></head>
<body><h1 id="t">Counter</h1><button id="b">0</button>
<script>document.getElementById('b').onclick = () => {};
document.getElementById('t').textContent = 'Counter ready';</script></body></html>"""
THROWING_APP = (
    "<!DOCTYPE html><html><body><h1>Hi</h1><script>undefinedFunction();</script></body></html>"
)
BLANK_APP = "<!DOCTYPE html><html><body><script>const x = 1;</script></body></html>"
LEAKY_APP = """<!DOCTYPE html><html><body><h1>Weather</h1>
<script>fetch('https://api.example.com/weather').catch(() => {});</script></body></html>"""
HANGING_APP = (
    "<!DOCTYPE html><html><body><h1>Spin</h1><script>while (true) {}</script></body></html>"
)
LATE_HANG_APP = """<!DOCTYPE html><html><body><h1>Spin later</h1>
<script>setTimeout(() => { while (true) {} }, 0);</script></body></html>"""
MEMORY_BOMB_APP = """<!DOCTYPE html><html><body><h1>Bomb</h1><script>
const hoard = []; while (true) { hoard.push(new Array(1000000).fill(Math.random())); }
</script></body></html>"""
FAST = CheckerSettings(
    load_timeout_s=3.0, settle_s=0.2, screenshot_timeout_s=2.0, heap_limit_mb=128
)


def chromium_processes_of(root_pid: int) -> set[int]:
    """Chromium processes descending from `root_pid` (other people's browsers not counted)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        names[int(entry.name)] = command
    found = set()
    for pid, command in names.items():
        if "chrom" not in command:
            continue
        ancestor = parents.get(pid)
        while ancestor and ancestor != root_pid:
            ancestor = parents.get(ancestor)
        if ancestor == root_pid:
            found.add(pid)
    return found


async def test_a_working_app_loads_renders_and_runs(chromium_path: str) -> None:
    async with AppChecker(chromium_path, settings=FAST) as checker:
        result = await checker.check(WORKING_APP)
    assert result.loaded and result.rendered and result.runs
    assert result.failure is None
    assert result.uncaught_errors == [] and result.console_errors == []
    assert result.load_ms is not None and 0 < result.load_ms < 3000
    assert result.screenshot_png is not None and result.screenshot_png.startswith(b"\x89PNG")


async def test_errors_blank_pages_and_blocked_requests_are_recorded(chromium_path: str) -> None:
    async with AppChecker(chromium_path, settings=FAST) as checker:
        throwing, blank, leaky = await asyncio.gather(
            checker.check(THROWING_APP), checker.check(BLANK_APP), checker.check(LEAKY_APP)
        )
    assert throwing.loaded and throwing.rendered and not throwing.runs
    assert any("undefinedFunction" in error for error in throwing.uncaught_errors)
    assert blank.loaded and not blank.rendered and not blank.runs
    # The sandbox refuses the request; the app still runs, and the refusal is on record.
    assert leaky.runs
    assert any("connect-src" in error for error in leaky.console_errors)


async def test_the_checker_applies_the_same_sandbox_as_the_preview(chromium_path: str) -> None:
    probe = """<!DOCTYPE html><html><body><h1 id="o">?</h1><script>
    let cookie; try { cookie = document.cookie; } catch (e) { cookie = e.name; }
    document.getElementById('o').textContent = cookie;
    if (cookie !== 'SecurityError') { throw new Error('not sandboxed: ' + cookie); }
    </script></body></html>"""
    async with AppChecker(chromium_path, settings=FAST) as checker:
        result = await checker.check(probe)
    assert result.runs, result


async def test_hanging_and_crashing_apps_are_cut_off_and_the_next_check_runs(
    chromium_path: str,
) -> None:
    async with AppChecker(chromium_path, settings=FAST) as checker:
        started = time.perf_counter()
        hang = await checker.check(HANGING_APP)
        hang_s = time.perf_counter() - started
        late_hang = await checker.check(LATE_HANG_APP)
        bomb = await checker.check(MEMORY_BOMB_APP)
        after = await checker.check(WORKING_APP)
    assert not hang.loaded and hang.failure is not None and hang.failure.startswith("timeout")
    assert hang_s < FAST.load_timeout_s + FAST.close_timeout_s
    assert late_hang.failure is not None and late_hang.failure.startswith("timeout")
    assert not late_hang.runs
    assert bomb.failure is not None and bomb.failure.startswith("crashed"), bomb
    assert after.runs, after


async def test_a_dead_browser_is_relaunched(chromium_path: str) -> None:
    async with AppChecker(chromium_path, settings=FAST) as checker:
        assert (await checker.check(WORKING_APP)).runs
        assert checker._browser is not None
        await checker._browser.close()
        assert (await checker.check(WORKING_APP)).runs
        assert checker.browser_launches == 2


async def test_a_burst_is_bounded_by_the_pool_and_leaks_no_browser(chromium_path: str) -> None:
    before = chromium_processes_of(os.getpid())
    apps = [WORKING_APP, THROWING_APP, BLANK_APP, LATE_HANG_APP, MEMORY_BOMB_APP] * 10
    async with AppChecker(chromium_path, settings=FAST) as checker:
        pending = [checker.submit(app) for app in apps]
        peak_pages = 0
        while not all(future.done() for future in pending):
            browser = checker._browser
            if browser is not None and browser.is_connected():
                pages = sum(len(context.pages) for context in browser.contexts)
                peak_pages = max(peak_pages, pages)
            await asyncio.sleep(0.05)
        results = [future.result() for future in pending]
        during = chromium_processes_of(os.getpid())
    await asyncio.sleep(0.5)
    after = chromium_processes_of(os.getpid())
    assert len(results) == 50
    working = [result for app, result in zip(apps, results, strict=True) if app == WORKING_APP]
    assert all(result.runs for result in working), [result.failure for result in working]
    assert sum(result.runs for result in results) == 10
    assert peak_pages <= FAST.workers
    assert during, "the checker's Chromium was not found while it ran"
    assert after == before, f"leaked Chromium processes: {sorted(after - before)}"


async def test_a_full_queue_says_busy_instead_of_growing(chromium_path: str) -> None:
    settings = CheckerSettings(workers=1, max_queued=2, load_timeout_s=3.0, settle_s=0.1)
    async with AppChecker(chromium_path, settings=settings) as checker:
        # No await in between: the worker has not taken a job yet, so the queue is full.
        accepted = [checker.submit(HANGING_APP), checker.submit(HANGING_APP)]
        with pytest.raises(CheckerBusy, match="2 app checks are already queued"):
            checker.submit(WORKING_APP)
        assert checker.queued == 2
        for future in accepted:
            future.cancel()


def test_results_round_trip_through_json() -> None:
    result = CheckResult(True, True, 12.5, ["boom"], ["blocked"], None, b"\x89PNG")
    record = result.to_json()
    assert "screenshot_png" not in record and record["runs"] is False
    assert CheckResult.from_json(record) == CheckResult(
        True, True, 12.5, ["boom"], ["blocked"], None
    )


def test_run_share_per_model_with_intervals() -> None:
    ran = CheckResult(True, True, 10.0, [], [], None)
    threw = CheckResult(True, True, 10.0, ["TypeError"], [], None)
    shares = apps_that_run(
        [("alpha", ran)] * 9
        + [("alpha", threw)]
        + [("beta", ran), ("beta", CheckResult.failed("no runnable app: the answer has no code"))]
    )
    assert [share.model for share in shares] == ["alpha", "beta"]
    alpha, beta = shares
    assert (alpha.answers, alpha.runs, alpha.share) == (10, 9, 0.9)
    assert alpha.lower == pytest.approx(0.5958, abs=1e-3) and alpha.upper == pytest.approx(
        0.9821, abs=1e-3
    )
    assert (beta.answers, beta.runs, beta.share) == (2, 1, 0.5)
    assert 0.0 < beta.lower < 0.5 < beta.upper < 1.0
