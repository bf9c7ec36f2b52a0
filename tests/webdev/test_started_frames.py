"""Frames started before their app is written (`harness.build_boot_document`), in Chromium.

A battle page starts each side's frame when the turn starts, so the stack's runtimes load
(and Pyodide boots) while the answer streams, and posts the app into it when the answer is
done. Shown here: each stack's started frame waits with its runtime up, then runs the app
posted to it as the app's own document would (its errors too); a message from the other
app's frame is refused (the attack first: a sibling frame posts a rigged app to it); and in
a real WebDev battle the Python apps run in the frames started while the models were still
writing, then restart from their own documents on Reload.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Frame, Page, sync_playwright
from starlette.applications import Starlette
from starlette.routing import Mount

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CHROMIUM_ARGS
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.harness import (
    STATE_ATTRIBUTE,
    CompiledApp,
    boot_document_is_compiled,
    boot_payload,
    build_boot_document,
    build_document,
    loads_compiled,
)
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import RuntimeFiles
from glassarena.webdev.sandbox import MemoryAppStore, SandboxPolicy, iframe_attributes, sandbox_app
from openai_test_server import ModelServerDouble, ScriptedModel

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from arena_server import openai_contestant, running_arena, write_config
from corpus_checks import CASES as CORPUS_CASES
from live_server import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORPUS_PROJECTS = {case.id: case.project for case in CORPUS_CASES}
LOAD_TIMEOUT_MS = 120_000
# (corpus case, what the app shows when it ran, or None: the app's error is expected)
CASES = {
    "python/fizzbuzz": ("#output", "FizzBuzz"),
    "python/zero_division": None,
    "mermaid/flowchart": ("#diagram", None),
    "mermaid/parse_error": None,
    "react/counter_card": ("#root", None),
    "vue/script_setup_counter": ("#app", None),
}


def corpus_project(case: str) -> AppProject:
    return CORPUS_PROJECTS[case]


class SandboxServer:
    """The arena's sandbox route (documents and runtimes) on a real HTTP port."""

    def __init__(self, runtimes: RuntimeFiles) -> None:
        self.store, self.policy = MemoryAppStore(), SandboxPolicy()
        self.port = free_port()
        app = Starlette(
            routes=[Mount(self.policy.path_prefix, sandbox_app(self.store, self.policy, runtimes))]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the sandbox server did not start"
            time.sleep(0.02)

    def frame_html(
        self, document: str, stack: WebdevStack, side: int = 0, compiled: bool = False
    ) -> str:
        token = self.store.put_app(document, stack, compiled)
        attributes = iframe_attributes(self.policy, token, f"App {side}", side)
        attributes["src"] = f"http://127.0.0.1:{self.port}{attributes['src']}"
        rendered = " ".join(f'{name}="{value}"' for name, value in attributes.items())
        return f"<iframe {rendered}></iframe>"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def sandbox(webdev_runtimes: RuntimeFiles) -> Iterator[SandboxServer]:
    server = SandboxServer(webdev_runtimes)
    yield server
    server.close()


@pytest.fixture(scope="module")
def compiled(chromium_path: str, webdev_runtimes: RuntimeFiles) -> dict[str, CompiledApp]:
    """The React and Vue cases compiled on the server, as the arena does before posting."""

    async def compile_all() -> dict[str, CompiledApp]:
        compiler = AppCompiler(chromium_path, webdev_runtimes)
        await compiler.start()
        try:
            results = {}
            for case in CASES:
                project = corpus_project(case)
                if compiler.can_compile(project):
                    result = await compiler.compile(project)
                    assert result is not None, f"{case} did not compile on the server"
                    results[case] = result
            return results
        finally:
            await compiler.close()

    return asyncio.run(compile_all())


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=[*CHROMIUM_ARGS])
        yield launched
        launched.close()


def state_of(frame: Frame, state: str) -> None:
    frame.locator(f"html[{STATE_ATTRIBUTE}='{state}']").wait_for(
        state="attached", timeout=LOAD_TIMEOUT_MS
    )


def frame_number(page: Page, index: int) -> Frame:
    page.wait_for_function(f"document.querySelectorAll('iframe').length > {index}")
    handle = page.locator("iframe").nth(index).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def post(page: Page, index: int, payload: object) -> None:
    page.evaluate(
        "([index, payload]) => document.querySelectorAll('iframe')[index]"
        ".contentWindow.postMessage(payload, '*')",
        [index, payload],
    )


@pytest.mark.parametrize("case", list(CASES))
def test_a_started_frame_runs_the_app_posted_to_it_as_the_apps_own_document_would(
    case: str, sandbox: SandboxServer, compiled: dict[str, CompiledApp], browser: Browser
) -> None:
    project = corpus_project(case)
    app = compiled.get(case)
    payload = boot_payload(project, app)
    assert payload is not None
    boot = build_boot_document(project.stack, sandbox.policy.runtimes_path)
    own = build_document(project, sandbox.policy.runtimes_path, app)
    outcomes = []
    # Each served as the arena serves it: a compiled app's page and a started React or Vue
    # frame with the policy of the runtimes they load.
    for document, posted, compiled_page in (
        (boot, payload, boot_document_is_compiled(project.stack)),
        (own, None, loads_compiled(project.stack, app)),
    ):
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message, errors=errors: errors.append(message.text))
        page.set_content(sandbox.frame_html(document, project.stack, compiled=compiled_page))
        frame = frame_number(page, 0)
        if posted is not None:
            state_of(frame, "waiting")  # the runtime is up before the app arrives
            assert frame.evaluate("document.body.innerText.trim()") == ""
            post(page, 0, posted)
        expected = CASES[case]
        state_of(frame, "ready" if expected else "error")
        shown = ""
        if expected:
            selector, text = expected
            frame.locator(selector).first.wait_for(state="attached")
            shown = frame.locator(selector).first.inner_text()
            if text:
                assert text in shown
        outcomes.append((shown, [error for error in errors if "Error" in error][:1]))
        page.close()
    assert outcomes[0] == outcomes[1]


RIGGED = 'print("rigged by the other frame")'
SIBLING_APP = (
    "<!DOCTYPE html><html><body><script>\n"
    "addEventListener('message', (event) => {\n"
    "  if (event.data !== 'go') return;\n"
    f"  const rigged = {{entry: 'main.py', files: {{'main.py': {json.dumps(RIGGED)}}}}};\n"
    "  for (let index = 0; index < parent.frames.length; index += 1) {\n"
    "    for (let time = 0; time < 5; time += 1) parent.frames[index].postMessage(rigged, '*');\n"
    "  }\n"
    "  document.documentElement.setAttribute('data-posted', 'yes');\n"
    "});\n"
    "</script></body></html>"
)


def test_a_started_frame_refuses_an_app_posted_by_the_other_frame(
    sandbox: SandboxServer, browser: Browser
) -> None:
    page = browser.new_page()
    boot = build_boot_document(WebdevStack.PYTHON, sandbox.policy.runtimes_path)
    page.set_content(
        sandbox.frame_html(boot, WebdevStack.PYTHON, 0)
        + sandbox.frame_html(SIBLING_APP, WebdevStack.HTML, 1)
    )
    started, sibling = frame_number(page, 0), frame_number(page, 1)
    state_of(started, "waiting")
    # The attack: the other app posts a rigged app into the waiting frame (and everywhere).
    post(page, 1, "go")
    sibling.locator("html[data-posted='yes']").wait_for(state="attached")
    # Its messages were queued first; then the battle page posts the real app.
    post(page, 0, boot_payload(corpus_project("python/fizzbuzz"), None))
    state_of(started, "ready")
    output = started.locator("#output").inner_text()
    assert "FizzBuzz" in output and "rigged" not in output
    page.close()


WAITING_MODEL_TIMEOUTS = {"connect": 10.0, "first_token": 300.0, "idle": 60.0, "total": 600.0}
PYTHON_ANSWER = """A small script:

```python
for number in range(1, 6):
    print(f"{label} line {{number}}")
```
"""


def test_python_apps_run_in_frames_started_while_the_models_were_writing(
    tmp_path: Path, browser: Browser, webdev_runtimes: RuntimeFiles
) -> None:
    gate = threading.Event()
    script = {
        f"{label}-upstream": ScriptedModel(answer=PYTHON_ANSWER.format(label=label), gate=gate)
        for label in ("alpha", "beta")
    }
    with ModelServerDouble(script) as double:
        contestants = [
            openai_contestant(f"{label}-model", double.openai_base_url, f"{label}-upstream")
            for label in ("alpha", "beta")
        ]
        for contestant in contestants:  # the models wait for the test before their first token
            contestant["provider"]["timeouts"] = WAITING_MODEL_TIMEOUTS
        config = write_config(tmp_path, contestants=contestants)
        with running_arena(tmp_path, config) as server:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url + "/webdev")
            page.select_option("select#stack", "python")
            page.fill("textarea#prompt", "Print five numbered lines.")
            page.keyboard.press("Enter")
            # Both frames start and boot Python while the models have not written a word.
            started = page.locator(".pane .app-preview.app-booting iframe")
            started.nth(1).wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
            for side in ("a", "b"):
                frame = page.frame_locator(f'.pane[data-side="{side}"] .app-booting iframe')
                frame.locator(f"html[{STATE_ATTRIBUTE}='waiting']").wait_for(
                    state="attached", timeout=LOAD_TIMEOUT_MS
                )
            assert page.locator(".app-preview:not(.app-booting)").count() == 0
            for status in page.locator('.pane [data-role="status"]').all():
                assert status.get_attribute("data-state") == "streaming"
            gate.set()
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])", timeout=90_000)
            for side in ("a", "b"):
                app = page.frame_locator(f'.pane[data-side="{side}"] .app-preview iframe')
                app.locator(f"html[{STATE_ATTRIBUTE}='ready']").wait_for(
                    state="attached", timeout=LOAD_TIMEOUT_MS
                )
                assert "line 5" in app.locator("#output").inner_text()
                # The app ran in the started frame: its document holds no app of its own.
                project = app.locator("#glassarena-project").text_content() or ""
                assert '"files"' not in project
            assert page.locator(".app-preview.app-booting").count() == 0
            assert page.locator(".app-preview iframe").count() == 2

            # Reload starts the app again from its own document, which holds it.
            pane = page.locator('.pane[data-side="a"]')
            pane.locator('.app-toolbar [data-action="reload"]').click()
            reloaded = page.frame_locator('.pane[data-side="a"] .app-preview iframe')
            reloaded.locator(f"html[{STATE_ATTRIBUTE}='ready']").wait_for(
                state="attached", timeout=LOAD_TIMEOUT_MS
            )
            assert '"files"' in (reloaded.locator("#glassarena-project").text_content() or "")
            assert "line 5" in reloaded.locator("#output").inner_text()
            page.close()
