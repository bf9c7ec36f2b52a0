"""Real-shaped apps of every stack, each run by the execution check in real Chromium.

tests/webdev/corpus/<stack>/<case>/ holds one project's files and <case>.json its entry and
the check result it must get: apps that run, and broken ones (a TSX syntax error, a Vue
template that does not compile, a Python traceback, a Mermaid parse error, a package the
offline sandbox lacks...) whose error the check reports as the app's. The checker's browser
has no network; the runtimes come from the installed files through the sandbox's own paths.
All cases are checked together (corpus_checks.py), and each is then its own test.
"""

from __future__ import annotations

import pytest
from corpus_checks import CASES, Case, check_projects

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CheckResult
from glassarena.webdev.runtimes import RuntimeFiles

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def results(chromium_path: str, webdev_runtimes: RuntimeFiles) -> dict[str, CheckResult]:
    checked = check_projects([case.project for case in CASES], chromium_path, webdev_runtimes)
    return {case.id: result for case, result in zip(CASES, checked, strict=True)}


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
