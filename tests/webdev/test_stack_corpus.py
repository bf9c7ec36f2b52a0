"""Real-shaped apps of every stack, each run by the execution check in real Chromium.

tests/webdev/corpus/<stack>/<case>/ holds one project's files and <case>.json its entry and
the check result it must get: apps that run, and broken ones (a TSX syntax error, a Vue
template that does not compile, a Python traceback, a Mermaid parse error, a package the
offline sandbox lacks...) whose error the check reports as the app's. The checker's browser
has no network; the runtimes come from the installed files through the sandbox's own paths.
All cases are checked once, on one checker, and each is then its own test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import AppChecker, BrowserLost, CheckerSettings, CheckResult
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import RuntimeFiles

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).parent / "corpus"
# Generous: Pyodide took 26-35 s to start here with 7 sessions sharing 2 cores, and two
# start at once; the limits themselves are tested in test_checker_slots.py.
SETTINGS = CheckerSettings(workers=2, load_timeout_s=150.0, settle_s=0.5, close_timeout_s=20.0)


@dataclass(frozen=True)
class Case:
    stack: WebdevStack
    name: str
    project: AppProject
    expect: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.stack.value}/{self.name}"


def load_corpus() -> list[Case]:
    cases = []
    for description in sorted(CORPUS.glob("*/*.json")):
        stack = WebdevStack(description.parent.name)
        folder = description.with_suffix("")
        files = {
            path.relative_to(folder).as_posix(): path.read_text()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        meta = json.loads(description.read_text())
        project = AppProject(stack, files, meta["entry"])
        cases.append(Case(stack, folder.name, project, meta["expect"]))
    return cases


CASES = load_corpus()


@pytest.fixture(scope="module")
def results(chromium_path: str, webdev_runtimes: RuntimeFiles) -> dict[str, CheckResult]:
    async def check_all() -> dict[str, CheckResult]:
        async with AppChecker(
            chromium_path, settings=SETTINGS, runtimes=webdev_runtimes
        ) as checker:

            async def check(project: AppProject) -> CheckResult:
                # As the server does: a check whose browser another check restarted (a context
                # that would not close in time, on a loaded machine) is not the app's fault.
                for _ in range(2):
                    with contextlib.suppress(BrowserLost):
                        return await checker.check_project(project)
                return await checker.check_project(project)

            checked = await asyncio.gather(*(check(case.project) for case in CASES))
        return {case.id: result for case, result in zip(CASES, checked, strict=True)}

    return asyncio.run(check_all())


def test_every_stack_has_at_least_five_cases_including_broken_ones() -> None:
    for stack in WebdevStack:
        of_stack = [case for case in CASES if case.stack is stack]
        assert len(of_stack) >= 5, stack
        assert any(not case.expect["runs"] for case in of_stack), stack
        assert any(case.expect["runs"] for case in of_stack), stack


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_check_result_is_as_expected(case: Case, results: dict[str, CheckResult]) -> None:
    result = results[case.id]
    seen = result.to_json()
    expect = case.expect
    assert result.failure is None, seen
    assert result.loaded == expect["loaded"], seen
    assert result.rendered == expect["rendered"], seen
    assert result.runs == expect["runs"], seen
    assert result.load_ms is not None and result.load_ms > 0
    assert result.screenshot_png is not None
    errors = result.uncaught_errors + result.console_errors
    if "error" in expect:
        assert any(expect["error"] in error for error in result.uncaught_errors), seen
    elif expect["runs"]:
        assert errors == [], seen
