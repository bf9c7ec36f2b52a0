"""React and Vue apps compiled once on the server (`AppCompiler`), then checked as voters
see them.

Every React and Vue app of the corpus is compiled in the compiler's warm page and checked by
an `AppChecker` sharing that compiler, the way the arena wires them: the apps that run still
run, with only React and ReactDOM (or Vue) loaded, and the broken ones still fail with their
own error (a TSX syntax error, a Vue script's syntax error or template error does not
compile, so that app gets the in-page harness, whose Babel or vue3-sfc-loader reports it as
before).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from corpus_checks import CASES, SETTINGS, Case

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import AppChecker, BrowserLost, CheckResult
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.harness import CompiledApp, build_document
from glassarena.webdev.previews import InProcessPreviewStore, WebdevPreviews
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import (
    BABEL,
    REACT_DOM,
    RUNTIMES,
    TAILWIND,
    VUE,
    VUE_SFC_LOADER,
    RuntimeFiles,
)
from glassarena.webdev.sandbox import unpack_document

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REACT_CASES = [case for case in CASES if case.stack is WebdevStack.REACT]
VUE_CASES = [case for case in CASES if case.stack is WebdevStack.VUE]
SCRIPT_FILES = (".tsx", ".ts", ".jsx", ".js", ".vue")
# Broken before they run: not compiled, so that their pages report the error as before.
NOT_COMPILED = {"react/jsx_syntax_error", "vue/script_syntax_error", "vue/template_missing_end_tag"}
SHEET_APP = AppProject(
    WebdevStack.REACT,
    {
        "App.tsx": (
            'import "./card.css";\n'
            "export default function App() {\n"
            '  return <p className="card md:p-8">Hi</p>;\n'
            "}\n"
        ),
        "card.css": "@tailwind utilities;\n.card { @apply rounded-xl bg-rose-500; }\n",
    },
    "App.tsx",
)
VUE_SHEET_APP = AppProject(
    WebdevStack.VUE,
    {
        "App.vue": (
            '<script setup lang="ts">\n'
            'import Badge from "./Badge.vue";\n'
            "const label: string = 'Hi';\n"
            "</script>\n"
            '<template><p class="card md:p-8"><Badge :text="label" /></p></template>\n'
            "<style>\n.card { @apply rounded-xl bg-rose-500; }\n</style>\n"
        ),
        "Badge.vue": (
            '<script setup lang="ts">\ndefineProps<{ text: string }>();\n</script>\n'
            '<template><span class="badge">{{ text }}</span></template>\n'
            "<style scoped>\n.badge { letter-spacing: 3px; }\n</style>\n"
        ),
    },
    "App.vue",
)
# Extra.vue is imported only when the app runs: the compile still includes it.
VUE_LAZY_APP = AppProject(
    WebdevStack.VUE,
    {
        "App.vue": (
            "<script setup>\n"
            'import { defineAsyncComponent } from "vue";\n'
            'const Extra = defineAsyncComponent(() => import("./Extra.vue"));\n'
            "</script>\n"
            "<template><Extra /></template>\n"
        ),
        "Extra.vue": '<template><p class="text-lg">Loaded later</p></template>\n',
    },
    "App.vue",
)


@dataclass(frozen=True)
class Outcome:
    compiled: CompiledApp | None
    document: str
    result: CheckResult


@pytest.fixture(scope="module")
def outcomes(chromium_path: str, webdev_runtimes: RuntimeFiles) -> dict[str, Outcome]:
    async def compile_and_check() -> dict[str, Outcome]:
        compiler = AppCompiler(chromium_path, webdev_runtimes, timeout_s=60.0)
        await compiler.start()
        try:
            async with AppChecker(
                chromium_path, settings=SETTINGS, runtimes=webdev_runtimes, compiler=compiler
            ) as checker:

                async def outcome(project: AppProject) -> Outcome:
                    compiled = await compiler.compile(project)
                    document = await checker.document(project)
                    for _ in range(2):
                        with contextlib.suppress(BrowserLost):
                            return Outcome(compiled, document, await checker.check_project(project))
                    return Outcome(compiled, document, await checker.check_project(project))

                done = await asyncio.gather(
                    *(outcome(case.project) for case in REACT_CASES + VUE_CASES),
                    outcome(SHEET_APP),
                    outcome(VUE_SHEET_APP),
                    outcome(VUE_LAZY_APP),
                )
        finally:
            await compiler.close()
        names = [*(case.id for case in REACT_CASES + VUE_CASES), "sheet", "vue sheet", "vue lazy"]
        return dict(zip(names, done, strict=True))

    return asyncio.run(compile_and_check())


def script_of(runtime: str) -> str:
    return f"/sandbox/runtimes/{RUNTIMES[runtime].key}/"


@pytest.mark.parametrize(
    "case", REACT_CASES + VUE_CASES, ids=[case.id for case in REACT_CASES + VUE_CASES]
)
def test_a_compiled_app_checks_as_in_its_page(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.id]
    seen = outcome.result.to_json()
    expect = case.expect
    assert outcome.result.failure is None, seen
    assert (outcome.result.loaded, outcome.result.rendered, outcome.result.runs) == (
        expect["loaded"],
        expect["rendered"],
        expect["runs"],
    ), seen
    if "error" in expect:
        assert any(expect["error"] in error for error in outcome.result.uncaught_errors), seen
    elif expect["runs"]:
        assert outcome.result.uncaught_errors + outcome.result.console_errors == [], seen
    in_page = BABEL if case.stack is WebdevStack.REACT else VUE_SFC_LOADER
    if case.id in NOT_COMPILED:
        # Not compiled: its page compiles it, and Babel or vue3-sfc-loader reports the error.
        assert outcome.compiled is None
        assert script_of(in_page) in outcome.document
        return
    assert outcome.compiled is not None
    assert outcome.document == build_document(case.project, "/sandbox/runtimes", outcome.compiled)
    # The page loads React (or Vue) alone: no Babel or vue3-sfc-loader, no Tailwind build.
    assert script_of(REACT_DOM if case.stack is WebdevStack.REACT else VUE) in outcome.document
    assert script_of(in_page) not in outcome.document
    assert script_of(TAILWIND) not in outcome.document
    scripts = {path for path in case.project.files if path.endswith(SCRIPT_FILES)}
    if case.stack is WebdevStack.REACT:
        assert set(outcome.compiled.modules) == scripts
    else:
        # By vue3-sfc-loader's module ids: as imported, the extension left out or not.
        names = scripts | {path.rsplit(".", 1)[0] for path in scripts}
        assert {path.lstrip("/") for path in outcome.compiled.modules} <= names


def test_tailwind_css_is_built_for_the_classes_the_files_name(
    outcomes: dict[str, Outcome],
) -> None:
    compiled = outcomes["react/counter_card"].compiled
    assert compiled is not None
    for rule in (".bg-indigo-600", ".rounded-2xl", ".hover\\:bg-gray-300", ".text-6xl"):
        assert rule in compiled.css
    assert ".bg-rose-500" not in compiled.css  # only what the app names


def test_an_apps_tailwind_sheet_is_compiled_into_its_css(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["sheet"]
    assert outcome.result.runs, outcome.result.to_json()
    assert outcome.compiled is not None
    css = outcome.compiled.css
    assert ".card" in css and "--color-rose-500" in css and "@apply" not in css
    assert ".md\\:p-8" in css


async def test_a_vue_apps_styles_are_compiled_scoped_into_its_css(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["vue sheet"]
    assert outcome.result.runs, outcome.result.to_json()
    assert outcome.compiled is not None
    assert set(outcome.compiled.modules) == {"/App.vue", "/Badge.vue"}
    css = outcome.compiled.css
    assert ".card" in css and "--color-rose-500" in css and "@apply" not in css
    assert ".md\\:p-8" in css
    # The scoped style, for the component's scope id, which its module sets.
    (scoped,) = [line for line in css.splitlines() if "letter-spacing: 3px" in line]
    scope = scoped.split("[", 1)[1].split("]", 1)[0]
    assert scope.startswith("data-v-") and scope in outcome.compiled.modules["/Badge.vue"]


def test_a_vue_module_imported_when_the_app_runs_is_compiled_too(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["vue lazy"]
    assert outcome.result.runs, outcome.result.to_json()
    assert outcome.result.uncaught_errors + outcome.result.console_errors == []
    assert outcome.compiled is not None
    assert set(outcome.compiled.modules) == {"/App.vue", "/Extra.vue"}


async def test_a_compile_past_its_limit_leaves_the_app_to_its_page(
    chromium_path: str, webdev_runtimes: RuntimeFiles
) -> None:
    compiler = AppCompiler(chromium_path, webdev_runtimes, timeout_s=60.0)
    await compiler.start()
    try:
        compiler.timeout_s = 0.000_001
        assert await compiler.compile(REACT_CASES[0].project) is None
        compiler.timeout_s = 60.0
        # A fresh page after the one given up on.
        assert await compiler.compile(SHEET_APP) is not None
    finally:
        await compiler.close()


async def test_the_previews_compile_the_app_while_the_answer_still_streams(
    chromium_path: str, webdev_runtimes: RuntimeFiles
) -> None:
    compiler = AppCompiler(chromium_path, webdev_runtimes, timeout_s=60.0)
    await compiler.start()
    previews = WebdevPreviews(InProcessPreviewStore(), compiler=compiler)
    code = REACT_CASES[0].project.files[REACT_CASES[0].project.entry]
    answer = f"Here is the app:\n\n```tsx\n{code}```\n"
    under_way: list[bool] = []

    async def events() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "battle"}
        yield {"type": "delta", "side": "a", "text": answer[:30]}
        yield {"type": "delta", "side": "a", "text": answer[30:]}
        # The code block has closed, the answer has not ended: its app is compiling.
        under_way.append(len(compiler._pending) == 1)
        await asyncio.gather(*compiler._pending.values())
        yield {"type": "delta", "side": "a", "text": "\nIt counts up and down.\n"}
        yield {"type": "done", "side": "a"}

    try:
        out = [event async for event in previews.with_previews(events(), WebdevStack.REACT)]
    finally:
        await previews.aclose()
    assert under_way == [True]
    # The finished answer's app was that one: compiled once, and its page loads no Babel.
    assert len(compiler._compiled) == 1
    (app,) = [event for event in out if event["type"] == "app"]
    token = app["frame"]["src"].rsplit("/", 1)[-1]
    stored = await previews.store.get_app(token)
    assert stored is not None
    stack, document, compiled = unpack_document(stored)
    assert stack is WebdevStack.REACT
    assert script_of(REACT_DOM) in document and script_of(BABEL) not in document
    # Served with the policy of the runtimes it loads: no Babel, no Tailwind.
    assert compiled


@pytest.mark.parametrize("stack", [WebdevStack.REACT, WebdevStack.VUE, WebdevStack.HTML])
async def test_a_react_or_vue_battle_starts_the_compiler_and_others_do_not(
    chromium_path: str, webdev_runtimes: RuntimeFiles, stack: WebdevStack
) -> None:
    compiler = AppCompiler(chromium_path, webdev_runtimes, timeout_s=60.0)
    previews = WebdevPreviews(InProcessPreviewStore(), compiler=compiler)

    async def battle() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "battle"}

    try:
        assert [event async for event in previews.with_previews(battle(), stack)]
        if stack is not WebdevStack.HTML:
            assert compiler._starting is not None
            await compiler._starting
            assert compiler._page is not None and not compiler._page.is_closed()
        else:
            assert compiler._starting is None and compiler._browser is None
    finally:
        await previews.aclose()
