"""Execution checks run by the server for each finished answer and stored with the battle."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from glassarena.storage.app_checks import AnswerNotStored, AppCheckStore, StoredAppCheck
from glassarena.storage.database import Database, open_database
from glassarena.storage.repository import AnswerResult, ArenaRepository
from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import (
    AppChecker,
    BrowserLost,
    CheckerBusy,
    CheckerSettings,
    CheckResult,
)
from glassarena.webdev.checks import WebdevChecks
from glassarena.webdev.sandbox import SandboxPolicy

APP_ANSWER = "Here:\n```html\n<!DOCTYPE html><html><body><h1>Hi</h1></body></html>\n```\n"
BROKEN_APP = "```html\n<body><p>x</p><script>throw new Error('boom')</script></body>\n```"
PROSE_ANSWER = "I would rather explain than build: a counter needs a button and a number."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'arena.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    database = open_database(url)
    yield database
    database.dispose()


def stored_battle(
    repository: ArenaRepository, battle_id: str, answers: dict[str, str], category: str = "webdev"
) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "fp-alpha")
    beta = repository.ensure_version("beta", "openai", {}, "fp-beta")
    repository.create_battle(
        public_id=battle_id,
        mode="anonymous",
        kind=category,
        category=category,
        model_a_id=alpha.version_id,
        model_b_id=beta.version_id,
        voter_id="voter",
        ip_hash="ip",
        prompt="build a page",
    )
    for side, text in answers.items():
        repository.finish_answer(battle_id, 1, side, AnswerResult(text=text, status="done"))


def sample_check(runs: bool) -> StoredAppCheck:
    return StoredAppCheck(
        app_found=True,
        truncated=False,
        note=None,
        lines_of_code=3,
        code_blocks=1,
        checked=True,
        loaded=True,
        rendered=runs,
        runs=runs,
        load_ms=12.5,
        uncaught_errors=[] if runs else ["Error: boom"],
        console_errors=[],
        failure=None,
    )


def test_a_check_is_stored_once_per_answer_with_its_screenshot(database: Database) -> None:
    repository = ArenaRepository(database)
    stored_battle(repository, "battle-1", {"a": APP_ANSWER, "b": PROSE_ANSWER})
    store = AppCheckStore(database)
    assert store.save("battle-1", 1, "a", sample_check(True), b"\x89PNG-a")
    # The first check stands: a second one for the same answer is ignored.
    assert not store.save("battle-1", 1, "a", sample_check(False), None)
    checks = store.for_battle("battle-1")
    assert set(checks) == {(1, "a")}
    assert checks[(1, "a")].runs and checks[(1, "a")].has_screenshot
    assert checks[(1, "a")].load_ms == 12.5
    assert store.screenshot("battle-1", 1, "a") == b"\x89PNG-a"
    assert store.screenshot("battle-1", 1, "b") is None
    assert set(store.all_checks()) == {("battle-1", 1, "a")}


def test_a_check_for_an_unknown_answer_is_an_error_naming_it(database: Database) -> None:
    with pytest.raises(AnswerNotStored, match="battle nope turn 1 side a"):
        AppCheckStore(database).save("nope", 1, "a", sample_check(True), None)


def test_run_counts_per_model_in_the_category(database: Database) -> None:
    repository = ArenaRepository(database)
    store = AppCheckStore(database)
    stored_battle(repository, "b1", {"a": APP_ANSWER, "b": BROKEN_APP})
    stored_battle(repository, "b2", {"a": APP_ANSWER, "b": APP_ANSWER})
    stored_battle(repository, "t1", {"a": APP_ANSWER, "b": APP_ANSWER}, category="text")
    store.save("b1", 1, "a", sample_check(True), None)
    store.save("b1", 1, "b", sample_check(False), None)
    store.save("b2", 1, "a", sample_check(True), None)
    store.save("b2", 1, "b", sample_check(True), None)
    store.save("t1", 1, "a", sample_check(False), None)
    # An app nobody checked (queue full) says nothing about its model: it is left out.
    not_checked = StoredAppCheck(**{**sample_check(False).__dict__, "checked": False})
    stored_battle(repository, "b3", {"a": APP_ANSWER})
    store.save("b3", 1, "a", not_checked, None)
    counts = {count.model: (count.answers, count.runs) for count in store.run_counts("webdev")}
    assert counts == {"alpha": (2, 2), "beta": (2, 1)}


async def test_finished_answers_are_checked_and_stored_without_a_client(
    database: Database,
) -> None:
    repository = ArenaRepository(database)
    stored_battle(repository, "battle-2", {"a": APP_ANSWER, "b": PROSE_ANSWER})
    checks = WebdevChecks(AppCheckStore(database), checker=None)
    checks.answer_finished("battle-2", 1, "a", APP_ANSWER)
    checks.answer_finished("battle-2", 1, "b", PROSE_ANSWER)
    await checks.wait_for_checks()
    stored = await checks.for_battle("battle-2")
    assert stored[(1, "a")].app_found and not stored[(1, "a")].checked
    assert stored[(1, "a")].failure == "not checked: this server has no Chromium"
    assert stored[(1, "a")].lines_of_code == 1 and stored[(1, "a")].code_blocks == 1
    assert not stored[(1, "b")].app_found and not stored[(1, "b")].runs
    assert (stored[(1, "b")].failure or "").startswith("no runnable app")


class AlwaysBusy(AppChecker):
    """A real checker whose queue is full: every submission is refused."""

    def __init__(self) -> None:
        self.attempts = 0
        self.policy = SandboxPolicy()
        self.runtimes = None
        self.compiler = None

    async def check(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> CheckResult:
        self.attempts += 1
        raise CheckerBusy("the check queue is full")

    async def close(self) -> None:
        return None


async def test_a_busy_pool_is_retried_then_recorded_honestly(database: Database) -> None:
    repository = ArenaRepository(database)
    stored_battle(repository, "battle-3", {"a": APP_ANSWER})
    busy = AlwaysBusy()
    checks = WebdevChecks(AppCheckStore(database), busy, busy_retry_delays_s=(0.01, 0.01))
    checks.answer_finished("battle-3", 1, "a", APP_ANSWER)
    await checks.wait_for_checks()
    stored = await checks.for_battle("battle-3")
    assert busy.attempts == 3
    assert not stored[(1, "a")].checked
    assert stored[(1, "a")].failure == "not checked: the check queue is full"
    assert store_counts(database) == {}


class LosesTheBrowser(AppChecker):
    """A real checker whose browser another check restarts under the first `losses` checks."""

    def __init__(self, losses: int) -> None:
        self.attempts = 0
        self.losses = losses
        self.policy = SandboxPolicy()
        self.runtimes = None
        self.compiler = None

    async def check(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> CheckResult:
        self.attempts += 1
        if self.attempts <= self.losses:
            raise BrowserLost("the browser was restarted during the check")
        return CheckResult(True, True, 5.0, [], [], None)

    async def close(self) -> None:
        return None


async def test_a_check_whose_browser_was_restarted_runs_again(database: Database) -> None:
    repository = ArenaRepository(database)
    stored_battle(repository, "battle-5", {"a": APP_ANSWER, "b": APP_ANSWER})
    once = LosesTheBrowser(losses=1)
    checks = WebdevChecks(AppCheckStore(database), once)
    checks.answer_finished("battle-5", 1, "a", APP_ANSWER)
    await checks.wait_for_checks()
    assert once.attempts == 2
    assert (await checks.for_battle("battle-5"))[(1, "a")].runs

    # Lost twice: recorded as not checked, which counts neither for nor against the model.
    always = LosesTheBrowser(losses=10)
    checks = WebdevChecks(AppCheckStore(database), always)
    checks.answer_finished("battle-5", 1, "b", APP_ANSWER)
    await checks.wait_for_checks()
    stored = (await checks.for_battle("battle-5"))[(1, "b")]
    assert always.attempts == 2 and not stored.checked
    assert stored.failure == "not checked: the browser was restarted during the check"
    assert store_counts(database) == {"alpha": (1, 1)}


def store_counts(database: Database) -> dict[str, tuple[int, int]]:
    return {c.model: (c.answers, c.runs) for c in AppCheckStore(database).run_counts()}


@pytest.mark.browser
async def test_real_chromium_checks_are_stored_with_screenshots(
    database: Database, chromium_path: str
) -> None:
    repository = ArenaRepository(database)
    stored_battle(repository, "battle-4", {"a": APP_ANSWER, "b": BROKEN_APP})
    checker = AppChecker(chromium_path, settings=CheckerSettings(settle_s=0.1))
    checks = WebdevChecks(AppCheckStore(database), checker)
    checks.answer_finished("battle-4", 1, "a", APP_ANSWER)
    checks.answer_finished("battle-4", 1, "b", BROKEN_APP)
    await asyncio.wait_for(checks.wait_for_checks(), timeout=60)
    await checks.aclose()
    stored = await checks.for_battle("battle-4")
    assert stored[(1, "a")].runs and stored[(1, "a")].checked
    assert stored[(1, "a")].load_ms is not None
    assert not stored[(1, "b")].runs and stored[(1, "b")].checked
    assert any("boom" in error for error in stored[(1, "b")].uncaught_errors)
    png = checks.store.screenshot("battle-4", 1, "a")
    assert png is not None and png.startswith(b"\x89PNG")
    assert store_counts(database) == {"alpha": (1, 1), "beta": (1, 0)}


def test_export_carries_each_sides_check_without_screenshots(database: Database) -> None:
    from glassarena.arena.export import exported_battles
    from glassarena.storage.vote_log import DatabaseVoteLog

    repository = ArenaRepository(database)
    store = AppCheckStore(database)
    stored_battle(repository, "voted-1", {"a": APP_ANSWER, "b": BROKEN_APP})
    repository.finish_turn("voted-1", failure_reason=None, style_a=None, style_b=None)
    store.save("voted-1", 1, "a", sample_check(True), b"\x89PNG")
    repository.record_vote(
        "voted-1",
        winner="model_a",
        voter_id="voter",
        ip_hash="f" * 64,
        counted=True,
        not_counted_reason=None,
        log=DatabaseVoteLog().append,
    )
    (record,) = exported_battles(repository, app_checks=store).to_dict("records")
    assert record["app_check_a"]["runs"] is True and record["app_check_a"]["turn"] == 1
    assert record["app_check_a"]["lines_of_code"] == 3
    assert "screenshot_png" not in record["app_check_a"]
    assert record["app_check_b"] is None  # never checked
    without = exported_battles(repository).to_dict("records")[0]
    assert "app_check_a" not in without


async def test_answers_left_unchecked_by_a_stopped_server_are_checked_later(
    database: Database,
) -> None:
    repository = ArenaRepository(database)
    stored_battle(repository, "left-1", {"a": APP_ANSWER, "b": PROSE_ANSWER})
    stored_battle(repository, "text-1", {"a": APP_ANSWER, "b": APP_ANSWER}, category="text")
    store = AppCheckStore(database)
    store.save("left-1", 1, "b", sample_check(False), None)  # b was checked before the stop
    checks = WebdevChecks(store, checker=None)
    assert await checks.check_unchecked() == 1  # only a: b was checked, text-1 is no WebDev
    assert await checks.check_unchecked() == 0
    assert (await checks.for_battle("left-1"))[(1, "a")].app_found
