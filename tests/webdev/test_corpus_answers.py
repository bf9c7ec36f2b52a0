"""The app corpus as models answer it: each case of tests/webdev/corpus written out as an
answer (prose around fenced blocks; several files under their names), extracted, and the
extracted app run by the execution check in real Chromium with the case's expected result.

test_stack_corpus.py runs the corpus projects as stored; this runs what extraction makes of
the answers, so the whole path from a model's text to the check result is covered. An
extracted project identical to a stored one is checked once for both (corpus_checks.py).
"""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from corpus_checks import CASES, Case, check_projects

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CheckResult
from glassarena.webdev.extract import ExtractedProject, extract_project
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import RuntimeFiles

FENCES = {
    ".tsx": "tsx",
    ".ts": "ts",
    ".jsx": "jsx",
    ".js": "javascript",
    ".vue": "vue",
    ".py": "python",
    ".mmd": "mermaid",
    ".html": "html",
    ".css": "css",
}


def answer_for(case: Case) -> str:
    """How a model would answer with the case's files: one file as a bare fenced block,
    several each under a bold heading naming it."""
    files = case.project.files
    if len(files) == 1:
        ((path, code),) = files.items()
        fence = FENCES[PurePosixPath(path).suffix]
        return f"Here is the app:\n\n```{fence}\n{code}\n```\n\nIt needs nothing else to run.\n"
    parts = [f"The app has {len(files)} files.\n"]
    for path, code in files.items():
        parts.append(f"**{path}**\n```{FENCES[PurePosixPath(path).suffix]}\n{code}\n```\n")
    parts.append("Open it and try it.\n")
    return "\n".join(parts)


EXTRACTED = {case.id: extract_project(answer_for(case), asked=case.stack) for case in CASES}


@pytest.fixture(scope="module")
def results(chromium_path: str, webdev_runtimes: RuntimeFiles) -> dict[str, CheckResult]:
    runnable = [case for case in CASES if EXTRACTED[case.id].project is not None]
    projects = [_project(EXTRACTED[case.id]) for case in runnable]
    checked = check_projects(projects, chromium_path, webdev_runtimes)
    return {case.id: result for case, result in zip(runnable, checked, strict=True)}


def _project(extracted: ExtractedProject) -> AppProject:
    assert extracted.project is not None
    return extracted.project


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_answer_extracts_to_the_case_files(case: Case) -> None:
    extracted = EXTRACTED[case.id]
    if extracted.project is None:
        # A component-less React file is no app to extraction; the corpus expects it not
        # to run either.
        assert not case.expect["runs"] and extracted.reason is not None
        return
    assert extracted.stack is case.stack, extracted.reason
    if case.stack is WebdevStack.HTML and len(case.project.files) > 1:
        # An HTML app's stylesheets and scripts are inlined into its one page.
        (document,) = extracted.project.files.values()
        for code in case.project.files.values():
            assert all(
                line in document
                for line in code.splitlines()
                if "<link" not in line and "<script src" not in line
            ), code
        return
    assert sorted(extracted.project.files.values()) == sorted(case.project.files.values())
    if len(case.project.files) > 1:
        assert set(extracted.project.files) == set(case.project.files)


@pytest.mark.browser
@pytest.mark.parametrize(
    "case",
    [case for case in CASES if EXTRACTED[case.id].project is not None],
    ids=[case.id for case in CASES if EXTRACTED[case.id].project is not None],
)
def test_the_extracted_app_gets_the_expected_check(
    case: Case, results: dict[str, CheckResult]
) -> None:
    result = results[case.id]
    seen = result.to_json()
    assert result.failure is None, seen
    assert (result.loaded, result.rendered, result.runs) == (
        case.expect["loaded"],
        case.expect["rendered"],
        case.expect["runs"],
    ), seen
    if "error" in case.expect:
        assert any(case.expect["error"] in error for error in result.uncaught_errors), seen
