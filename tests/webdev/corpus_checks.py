"""The app corpus of tests/webdev/corpus and its execution checks in real Chromium, shared by
test_stack_corpus.py (each project as stored) and test_corpus_answers.py (what extraction
makes of it written as an answer). A project both modules run is the same input to the
checker, so it is checked once per test session; every distinct project is still checked.

tests/webdev/corpus/<stack>/<case>/ holds one project's files and <case>.json its entry and
the check result it must get.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import AppChecker, BrowserLost, CheckerSettings, CheckResult
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import RuntimeFiles

CORPUS = Path(__file__).parent / "corpus"
# Generous: Pyodide took 26-35 s to start here with 7 sessions sharing 2 cores, and two
# start at once; the limits themselves are tested in test_checker_slots.py.
SETTINGS = CheckerSettings(
    workers=2,
    load_timeout_s=150.0,
    python_load_timeout_s=150.0,
    settle_s=0.5,
    close_timeout_s=20.0,
)
ATTEMPTS = 3


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

ProjectKey = tuple[WebdevStack, str, bool, tuple[tuple[str, str], ...]]
_checked: dict[ProjectKey, CheckResult] = {}


def _key(project: AppProject) -> ProjectKey:
    return (project.stack, project.entry, project.truncated, tuple(sorted(project.files.items())))


def check_projects(
    projects: Sequence[AppProject], chromium_path: str, runtimes: RuntimeFiles
) -> list[CheckResult]:
    """Each project's check result, checking on one checker those not checked before."""
    unchecked = {_key(project): project for project in projects if _key(project) not in _checked}

    async def check(checker: AppChecker, project: AppProject) -> CheckResult:
        # As the server does: a check whose browser another check restarted (a renderer
        # crash, a context that would not close in time on a loaded machine) is not the
        # app's fault, so it is checked again.
        for _attempt in range(ATTEMPTS):
            try:
                return await checker.check_project(project)
            except BrowserLost:
                continue
        raise AssertionError(f"the browser was restarted under every attempt: {project.entry}")

    async def check_all() -> None:
        async with AppChecker(chromium_path, settings=SETTINGS, runtimes=runtimes) as checker:
            results = await asyncio.gather(
                *(check(checker, project) for project in unchecked.values())
            )
        _checked.update(zip(unchecked, results, strict=True))

    if unchecked:
        asyncio.run(check_all())
    return [_checked[_key(project)] for project in projects]
