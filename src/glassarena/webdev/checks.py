"""The execution check of every WebDev answer, run by the server and stored with the battle.

The arena service calls `WebdevChecks.answer_finished` once a WebDev answer is stored as done,
whether or not anyone is watching the stream. The app is extracted, checked on the bounded
Chromium pool, and the outcome (app found or why not, its code size, what the check saw and
its screenshot) is written to the `app_checks` table, read back after the vote, exported and
counted on the leaderboard.

A full check queue is retried with a growing wait; when it stays full the answer is stored as
"not checked: busy" rather than dropped silently. Checks still running when a server stops
are lost; `check_unchecked` (run when the server starts) checks the finished answers that
have no stored result, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from glassarena.storage.app_checks import AppCheckStore, StoredAppCheck
from glassarena.storage.database import Database
from glassarena.webdev.checker import AppChecker, BrowserLost, CheckerBusy, CheckResult
from glassarena.webdev.extract import ExtractedProject, code_style, extract_turns
from glassarena.webdev.runtimes import RuntimeFiles
from glassarena.webdev.sandbox import SandboxPolicy
from glassarena.webdev.summary import RunShare, run_shares

logger = logging.getLogger(__name__)

BUSY_RETRY_DELAYS_S: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0)
# The leaderboard's "apps that run" is one grouped query, kept this long per worker so that a
# page view does not cost a query.
RUN_SHARES_MAX_AGE_S = 10.0


class WebdevChecks:
    def __init__(
        self,
        store: AppCheckStore,
        checker: AppChecker | None,
        busy_retry_delays_s: Sequence[float] = BUSY_RETRY_DELAYS_S,
    ) -> None:
        self.store = store
        self.checker = checker
        self._busy_retry_delays_s = tuple(busy_retry_delays_s)
        self._tasks: set[asyncio.Task[None]] = set()
        self._run_shares: dict[str, tuple[float, dict[str, RunShare]]] = {}

    def answer_finished(self, battle_id: str, turn: int, side: str, answer: str) -> None:
        """Start checking one finished answer in the background (the service's hook)."""
        task = asyncio.create_task(
            self._check_and_store(battle_id, turn, side, answer),
            name=f"webdev check {battle_id}:{turn}:{side}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def check_unchecked(self, limit: int = 1000) -> int:
        """Check, one after another, finished answers that have no stored check; how many."""
        unchecked = await asyncio.to_thread(self.store.unchecked_answers, "webdev", limit)
        for answer in unchecked:
            await self._check_and_store(answer.battle_id, answer.turn, answer.side, answer.text)
        return len(unchecked)

    def start_checking_unchecked(self) -> None:
        """Run `check_unchecked` in the background (at server start)."""
        task = asyncio.create_task(self._unchecked_in_background(), name="webdev unchecked")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def for_battle(self, battle_id: str) -> dict[tuple[int, str], StoredAppCheck]:
        return await asyncio.to_thread(self.store.for_battle, battle_id)

    async def run_shares(self, category: str = "webdev") -> dict[str, RunShare]:
        """Per model label, the share of its checked answers whose app runs."""
        cached = self._run_shares.get(category)
        if cached is not None and time.monotonic() - cached[0] < RUN_SHARES_MAX_AGE_S:
            return cached[1]
        counts = await asyncio.to_thread(self.store.run_counts, category)
        shares = {
            share.model: share
            for share in run_shares((count.model, count.answers, count.runs) for count in counts)
        }
        self._run_shares[category] = (time.monotonic(), shares)
        return shares

    async def wait_for_checks(self) -> None:
        """Wait for the checks under way (tests and orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop; checks still running are lost and read as "not checked yet"."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.checker is not None:
            await self.checker.close()

    async def _unchecked_in_background(self) -> None:
        try:
            checked = await self.check_unchecked()
        except Exception:
            logger.exception("finished WebDev answers without a check could not be checked")
            return
        if checked:
            logger.info("checked %d finished WebDev answers that had no stored check", checked)

    async def _check_and_store(self, battle_id: str, turn: int, side: str, answer: str) -> None:
        try:
            history = await asyncio.to_thread(self.store.side_history, battle_id, turn, side)
        except Exception:
            logger.exception("execution check %s:%s:%s: no battle history", battle_id, turn, side)
            return
        # A follow-up's answer edits the app of the side's earlier answers.
        app = extract_turns([*history.earlier_answers, answer], history.stack)[-1]
        result = await self._run(app)
        record = _record(app, answer, result)
        try:
            await asyncio.to_thread(
                self.store.save, battle_id, turn, side, record, result.screenshot_png
            )
        except Exception:
            logger.exception("execution check %s:%s:%s could not be stored", battle_id, turn, side)

    async def _run(self, app: ExtractedProject) -> CheckResult:
        if app.project is None:
            return CheckResult.failed(app.reason or "no runnable app")
        if self.checker is None:
            return CheckResult.failed("not checked: this server has no Chromium")
        delays = iter(self._busy_retry_delays_s)
        lost_browser_retries = 1
        while True:
            try:
                return await self.checker.check_project(app.project)
            except CheckerBusy as busy:
                delay = next(delays, None)
                if delay is None:
                    return CheckResult.failed(f"not checked: {busy}")
                await asyncio.sleep(delay)
            except BrowserLost as lost:
                # Another app's check restarted the browser: not this app's fault.
                if not lost_browser_retries:
                    return CheckResult.failed(f"not checked: {lost}")
                lost_browser_retries -= 1
            except Exception:
                logger.exception("execution check failed")
                return CheckResult.failed("not checked: the checker failed, see server log")


def build_checks(
    database: Database,
    chromium_path: str | None,
    policy: SandboxPolicy,
    runtimes: RuntimeFiles | None = None,
) -> WebdevChecks:
    """Checks stored in the arena's database; run when Chromium exists (launched on first use)."""
    checker = AppChecker(chromium_path, policy, runtimes=runtimes) if chromium_path else None
    return WebdevChecks(AppCheckStore(database), checker)


def _record(app: ExtractedProject, answer: str, result: CheckResult) -> StoredAppCheck:
    style = code_style(answer)
    checked = app.runnable and not (result.failure or "").startswith("not checked")
    return StoredAppCheck(
        app_found=app.runnable,
        truncated=app.truncated,
        note=app.reason,
        lines_of_code=style.lines_of_code,
        code_blocks=style.code_blocks,
        checked=checked,
        loaded=result.loaded,
        rendered=result.rendered,
        runs=result.runs,
        load_ms=result.load_ms,
        uncaught_errors=list(result.uncaught_errors),
        console_errors=list(result.console_errors),
        failure=result.failure,
        has_screenshot=result.screenshot_png is not None,
        stack=app.stack.value if app.runnable and app.stack is not None else None,
    )
