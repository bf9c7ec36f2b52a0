"""The execution check of every WebDev answer, run by the server and stored with the battle.

The arena service calls `WebdevChecks.answer_finished` once a WebDev answer is stored as done,
whether or not anyone is watching the stream. The answer is queued in the database
(`AppCheckStore.enqueue`), and checks are taken from that queue by whichever node of the
deployment is free: the node that queued it, at once, or any other when it polls. A node
holds a lease on the check it runs and renews it while the check runs; the check is stored
and taken off the queue in one transaction. If a node dies mid-check, its lease expires and
another node runs the check again, so every queued check is stored exactly once, whichever
nodes come and go. A check whose runs were interrupted `max_attempts` times (an app that
takes its node down, say) is stored as "not checked" rather than tried forever.

The app is extracted, checked on the bounded Chromium pool, and the outcome (app found or
why not, its code size, what the check saw and its screenshot) is written to the
`app_checks` table, read back after the vote, exported and counted on the leaderboard.

A full check pool is retried with a growing wait; when it stays full the answer is stored as
"not checked: busy" rather than dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

from glassarena.arena.shared_turns import node_name
from glassarena.storage.app_checks import AppCheckStore, ClaimedCheck, StoredAppCheck
from glassarena.storage.database import Database
from glassarena.webdev.checker import AppChecker, BrowserLost, CheckerBusy, CheckResult
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.extract import ExtractedProject, code_style, extract_turns
from glassarena.webdev.runtimes import RuntimeFiles
from glassarena.webdev.sandbox import SandboxPolicy
from glassarena.webdev.summary import RunShare, run_shares

logger = logging.getLogger(__name__)

BUSY_RETRY_DELAYS_S: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0)
# The leaderboard's "apps that run" is one grouped query, kept this long per worker so that a
# page view does not cost a query.
RUN_SHARES_MAX_AGE_S = 10.0
# How long a node's hold on a check lasts without renewal: how soon another node runs a check
# whose node died. Renewed every third of it while the check runs.
LEASE_S = 30.0
# How often an idle node looks for checks queued by others (or freed by a dead node's lease).
POLL_S = 5.0
MAX_ATTEMPTS = 3


class WebdevChecks:
    def __init__(
        self,
        store: AppCheckStore,
        checker: AppChecker | None,
        busy_retry_delays_s: Sequence[float] = BUSY_RETRY_DELAYS_S,
        *,
        owner: str | None = None,
        lease_s: float = LEASE_S,
        poll_s: float = POLL_S,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.store = store
        self.checker = checker
        self.owner = owner or node_name()
        self._busy_retry_delays_s = tuple(busy_retry_delays_s)
        self._lease_s = lease_s
        self._poll_s = poll_s
        self._max_attempts = max_attempts
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._run_shares: dict[str, tuple[float, dict[str, RunShare]]] = {}

    def answer_finished(self, battle_id: str, turn: int, side: str, answer: str) -> None:
        """Queue one finished answer's check and start on it (the service's hook)."""
        task = asyncio.create_task(
            self._queue_and_run(battle_id, turn, side),
            name=f"webdev check {battle_id}:{turn}:{side}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def check_unchecked(self, limit: int = 1000) -> int:
        """Queue finished answers that have no stored or queued check, then run queued checks
        until none is left free; how many this node ran."""
        await asyncio.to_thread(self.store.enqueue_unchecked, "webdev", limit)
        return await self._run_queued()

    def start(self) -> None:
        """Work through the shared queue in the background until `aclose`: at once, then
        whenever this node queues a check, and every `poll_s` for the other nodes' checks."""
        self._poller = asyncio.create_task(self._poll(), name="webdev check queue")

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
        """Wait for the checks this node queued to be run (tests and orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop; checks still running stay queued and are run by another node (or this one
        after its restart) once their lease expires."""
        tasks = [*self._tasks, *([self._poller] if self._poller else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.checker is not None:
            await self.checker.close()

    async def _queue_and_run(self, battle_id: str, turn: int, side: str) -> None:
        try:
            await asyncio.to_thread(self.store.enqueue, battle_id, turn, side)
        except Exception:
            logger.exception(
                "execution check %s:%s:%s could not be queued; a node queues it when it starts",
                battle_id,
                turn,
                side,
            )
            return
        if self._poller is not None:
            self._wake.set()  # the poller runs it, within this node's own concurrency
            return
        await self._run_queued()

    async def _poll(self) -> None:
        first = True
        while True:
            try:
                if first:
                    queued = await asyncio.to_thread(self.store.enqueue_unchecked, "webdev")
                    if queued:
                        logger.info("queued %d finished WebDev answers without a check", queued)
                    first = False
                # As many checks at once as the Chromium pool runs; the rest wait queued.
                parallel = self.checker.settings.workers if self.checker is not None else 1
                await asyncio.gather(*(self._run_queued() for _ in range(parallel)))
            except Exception:
                logger.exception("the execution check queue could not be read; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()

    async def _run_queued(self) -> int:
        ran = 0
        while True:
            claimed = await asyncio.to_thread(self.store.claim, self.owner, self._lease_s)
            if claimed is None:
                return ran
            await self._run_claimed(claimed)
            ran += 1

    async def _run_claimed(self, claimed: ClaimedCheck) -> None:
        where = f"{claimed.battle_id}:{claimed.turn}:{claimed.side}"
        try:
            history = await asyncio.to_thread(
                self.store.side_history, claimed.battle_id, claimed.turn, claimed.side
            )
        except Exception:
            logger.exception("execution check %s: no battle history; it stays queued", where)
            return
        # A follow-up's answer edits the app of the side's earlier answers.
        app = extract_turns([*history.earlier_answers, claimed.text], history.stack)[-1]
        if claimed.attempts > self._max_attempts:
            result = CheckResult.failed(
                f"not checked: the check was interrupted {claimed.attempts - 1} times"
            )
        else:
            async with self._holding(claimed):
                result = await self._run(app)
        record = _record(app, claimed.text, result)
        try:
            stored = await asyncio.to_thread(
                self.store.complete, claimed, record, result.screenshot_png
            )
        except Exception:
            logger.exception("execution check %s could not be stored; it stays queued", where)
            return
        logger.info(
            "execution check %s %s by %s (attempt %d)",
            where,
            "stored" if stored else "already stored",
            self.owner,
            claimed.attempts,
        )

    @contextlib.asynccontextmanager
    async def _holding(self, claimed: ClaimedCheck) -> AsyncIterator[None]:
        """Renew the lease on `claimed` while the block runs."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self._lease_s / 3)
                try:
                    mine = await asyncio.to_thread(
                        self.store.renew, claimed.job_id, self.owner, self._lease_s
                    )
                except Exception:
                    logger.exception("the lease on execution check %s lapsed", claimed.job_id)
                    continue
                if not mine:
                    logger.warning("execution check %s was taken by another node", claimed.job_id)
                    return

        renewing = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)

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
    *,
    owner: str | None = None,
    lease_s: float = LEASE_S,
    compiler: AppCompiler | None = None,
) -> WebdevChecks:
    """Checks stored in the arena's database; run when Chromium exists (launched on first use).
    `compiler` is the previews', so that checks load the documents voters see."""
    checker = (
        AppChecker(chromium_path, policy, runtimes=runtimes, compiler=compiler)
        if chromium_path
        else None
    )
    return WebdevChecks(AppCheckStore(database), checker, owner=owner, lease_s=lease_s)


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
