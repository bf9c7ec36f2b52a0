"""WebDev stacks benchmark: from "the answer is complete" to "the app is loaded", per stack,
and the size each runtime adds.

For each stack, one real-shaped app of tests/webdev/corpus is turned into its document
(`harness.build_document`), stored, and loaded by Chromium from a real HTTP server serving the
sandbox route and the installed runtimes, top-level under the app's CSP. The timed span ends
when the app is loaded: the harness's `data-glassarena` state (the app built and mounted, the
script run, the diagram drawn), or `load` for HTML. A React or Vue app is compiled by a warm
`AppCompiler` as the arena does, `--compile`:

- `server` (default): inside the timed span, as when the answer ends with its code block;
- `ahead`: before it, as when prose follows the code block (the previews start the compile
  when the block closes, `AppCompiler.compile_ahead`);
- `page`: not at all: Babel (or vue3-sfc-loader) and Tailwind's browser build in the page
  (the path before `AppCompiler`, and still the one of an app that does not compile on the
  server).

`--start`: when the app's frame starts.

- `own` (default): the app's own document is loaded once the answer is complete;
- `early`: as the battle page does for every stack but HTML, the frame is started when the
  turn starts (`harness.build_boot_document`, in a parent page, with the arena's iframe
  attributes), so its runtimes load (Pyodide boots) while the answer streams; the timed span
  runs from posting the app into it (`boot_payload`) to the loaded app. The boot itself (frame
  created -> runtime up, `waiting`) is printed apart: the timed span is what a voter waits
  when the answer streams for at least that long.

Each load gets an app of its own (its entry ends with a numbered comment), so no compile is
answered from the compiler's per-app cache. Two series per stack:

- first load: a fresh browser context each time (nothing cached): Pyodide's target is 2 s;
- cached: one context, one warm-up load, then each load in a new page with the runtimes in
  the browser's cache (and its compiled-code cache), as for a voter's second battle: the
  React and Vue target is a p95 of 300 ms.

The browser's cache does not make the second series faster: an app's origin is opaque, and
Chromium neither reads nor fills its HTTP cache (nor the compiled code kept with it) for an
opaque origin's requests (seen with the DevTools protocol: no runtime response of the second
and later loads came from the cache).

Run: .venv/bin/python benchmarks/bench_stacks.py [--runs 20] [--first-loads 5]
[--compile server|ahead|page] [--start own|early] [--stacks react,vue]
(after `glassarena runtimes install`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import uvicorn
from playwright.async_api import BrowserContext, async_playwright
from starlette.applications import Starlette
from starlette.routing import Mount

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from live_server import free_port

from glassarena.vocabulary import WebdevStack
from glassarena.web.settings import Settings
from glassarena.webdev.checker import CHROMIUM_ARGS
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.harness import (
    BOOTED_STACKS,
    STATE_ATTRIBUTE,
    boot_payload,
    build_boot_document,
    build_document,
)
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import COMPILED_RUNTIMES, RUNTIMES, STACK_RUNTIMES, RuntimeFiles
from glassarena.webdev.sandbox import (
    MemoryAppStore,
    SandboxPolicy,
    iframe_attributes,
    sandbox_app,
)

CHROMIUM = "/usr/bin/chromium"
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "webdev" / "corpus"
APPS = {
    WebdevStack.HTML: "html/single_document",
    WebdevStack.REACT: "react/counter_card",
    WebdevStack.VUE: "vue/script_setup_counter",
    WebdevStack.PYTHON: "python/fizzbuzz",
    WebdevStack.MERMAID: "mermaid/flowchart",
}
COMMENTS = {
    WebdevStack.HTML: "<!-- load {} -->",
    WebdevStack.REACT: "// load {}",
    WebdevStack.VUE: "<!-- load {} -->",
    WebdevStack.PYTHON: "# load {}",
    WebdevStack.MERMAID: "%% load {}",
}
TARGETS_MS = {WebdevStack.REACT: 300.0, WebdevStack.VUE: 300.0}
FIRST_LOAD_TARGETS_MS = {WebdevStack.PYTHON: 2000.0}


def corpus_project(stack: WebdevStack, case: str) -> AppProject:
    folder = CORPUS / case
    meta = json.loads(folder.with_suffix(".json").read_text())
    files = {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    return AppProject(stack, files, meta["entry"])


class Server:
    def __init__(self, store: MemoryAppStore, policy: SandboxPolicy, runtimes: RuntimeFiles):
        self.port = free_port()
        app = Starlette(routes=[Mount(policy.path_prefix, sandbox_app(store, policy, runtimes))])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def numbered(project: AppProject, number: int) -> AppProject:
    """`project` as a different app, so that it is compiled afresh: its entry ends with a
    comment naming the load."""
    comment = COMMENTS[project.stack].format(number)
    files = {**project.files, project.entry: f"{project.files[project.entry]}\n{comment}\n"}
    return AppProject(project.stack, files, project.entry)


async def load_once(
    context: BrowserContext,
    store: MemoryAppStore,
    policy: SandboxPolicy,
    origin: str,
    project: AppProject,
    compiler: AppCompiler | None,
    compile_ahead: bool,
) -> float:
    """Milliseconds from the finished answer (here: its project) to the loaded app."""
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    if compile_ahead and compiler is not None:
        await compiler.compile(project)
    started = time.perf_counter()
    compiled = await compiler.compile(project) if compiler is not None else None
    if compiler is not None and compiler.can_compile(project) and compiled is None:
        raise RuntimeError(f"{project.stack}: the benchmark app did not compile")
    document = build_document(project, policy.runtimes_path, compiled)
    token = store.put_app(document, project.stack)
    await page.goto(f"{origin}{policy.path_prefix}/{token}", wait_until="load", timeout=120_000)
    if project.stack is not WebdevStack.HTML:
        await page.locator(f"html[{STATE_ATTRIBUTE}='ready']").wait_for(
            state="attached", timeout=120_000
        )
    elapsed = (time.perf_counter() - started) * 1000
    await page.close()
    if errors:
        raise RuntimeError(f"{project.stack}: the benchmark app failed: {errors}")
    return elapsed


async def load_started(
    context: BrowserContext,
    store: MemoryAppStore,
    policy: SandboxPolicy,
    origin: str,
    project: AppProject,
    compiler: AppCompiler | None,
) -> tuple[float, float]:
    """Milliseconds from the finished answer to the loaded app in a frame started with the
    turn, and the milliseconds that frame took to boot before it."""
    compiled = await compiler.compile(project) if compiler is not None else None
    payload = boot_payload(project, compiled)
    if payload is None:
        raise RuntimeError(f"{project.stack}: the benchmark app cannot run in a started frame")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    token = store.put_app(build_boot_document(project.stack, policy.runtimes_path), project.stack)
    attributes = iframe_attributes(policy, token, "App A")
    attributes["src"] = origin + attributes["src"]
    frame_tag = "<iframe " + " ".join(f'{k}="{v}"' for k, v in attributes.items()) + "></iframe>"
    booting = time.perf_counter()
    await page.set_content(frame_tag)
    handle = await page.locator("iframe").element_handle()
    frame = await handle.content_frame() if handle is not None else None
    assert frame is not None
    await frame.locator(f"html[{STATE_ATTRIBUTE}='waiting']").wait_for(
        state="attached", timeout=120_000
    )
    boot = (time.perf_counter() - booting) * 1000
    started = time.perf_counter()
    await page.evaluate(
        "(app) => document.querySelector('iframe').contentWindow.postMessage(app, '*')", payload
    )
    await frame.locator(f"html[{STATE_ATTRIBUTE}='ready']").wait_for(
        state="attached", timeout=120_000
    )
    elapsed = (time.perf_counter() - started) * 1000
    await page.close()
    if any("Error" in error for error in errors):
        raise RuntimeError(f"{project.stack}: the benchmark app failed: {errors}")
    return elapsed, boot


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(
    runs: int, first_loads: int, stacks: list[WebdevStack], compile_mode: str, start: str
) -> None:
    runtimes = RuntimeFiles(Settings().runtimes_directory())
    missing = runtimes.missing()
    if missing:
        raise SystemExit(
            f"runtimes missing ({', '.join(r.key for r in missing)}): run "
            "`glassarena runtimes install`"
        )
    store, policy = MemoryAppStore(), SandboxPolicy()
    # Warm, as the arena's is once started.
    compiler = None if compile_mode == "page" else AppCompiler(CHROMIUM, runtimes)
    if compiler is not None:
        await compiler.start()
    with Server(store, policy, runtimes) as server:
        origin = f"http://127.0.0.1:{server.port}"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
            )
            print(
                f"{'stack':10} {'first load ms (p50 / p95)':>28} {'cached ms (p50 / p95)':>24}"
                f"  target"
            )
            boots: dict[WebdevStack, list[float]] = {}
            for stack in stacks:
                project = corpus_project(stack, APPS[stack])

                async def load(
                    context: BrowserContext,
                    app: AppProject,
                    early: bool = start == "early" and stack in BOOTED_STACKS,
                ) -> float:
                    if early:
                        elapsed, boot = await load_started(
                            context, store, policy, origin, app, compiler
                        )
                        boots.setdefault(app.stack, []).append(boot)
                        return elapsed
                    return await load_once(
                        context, store, policy, origin, app, compiler, compile_mode == "ahead"
                    )

                first = []
                for number in range(first_loads):
                    context = await browser.new_context()
                    first.append(await load(context, numbered(project, number)))
                    await context.close()
                context = await browser.new_context()
                await load(context, numbered(project, first_loads))  # warms the cache
                cached = [
                    await load(context, numbered(project, first_loads + 1 + number))
                    for number in range(runs)
                ]
                await context.close()
                target = ""
                if stack in TARGETS_MS:
                    verdict = "met" if p95(cached) <= TARGETS_MS[stack] else "MISSED"
                    target = f"cached p95 <= {TARGETS_MS[stack]:g} ms: {verdict}"
                if stack in FIRST_LOAD_TARGETS_MS:
                    verdict = "met" if p95(first) <= FIRST_LOAD_TARGETS_MS[stack] else "MISSED"
                    target = f"first load p95 <= {FIRST_LOAD_TARGETS_MS[stack]:g} ms: {verdict}"
                print(
                    f"{stack.value:10} {statistics.median(first):14.0f} / {p95(first):7.0f}"
                    f"   {statistics.median(cached):12.0f} / {p95(cached):7.0f}  {target}",
                    flush=True,
                )
            for stack, boot in boots.items():
                print(
                    f"{stack.value:10} frame started with the turn: boot (created -> runtime up)"
                    f" p50 / p95 {statistics.median(boot):.0f} / {p95(boot):.0f} ms"
                )
            await browser.close()
    if compiler is not None:
        await compiler.close()


def sizes() -> None:
    print(f"\n{'runtime':24} {'served MB':>9} {'npm tarball MB':>15}  stacks")
    for runtime in RUNTIMES.values():
        stacks = ", ".join(s.value for s, names in STACK_RUNTIMES.items() if runtime.name in names)
        print(
            f"{runtime.key:24} {runtime.size_bytes / 1e6:9.2f} {runtime.tarball_bytes / 1e6:15.2f}"
            f"  {stacks}"
        )
    total = sum(runtime.size_bytes for runtime in RUNTIMES.values())
    print(f"{'all':24} {total / 1e6:9.2f}")
    for stack, names in STACK_RUNTIMES.items():
        added = sum(RUNTIMES[name].size_bytes for name in names)
        print(f"  a {stack.value} app loads {added / 1e6:.2f} MB of runtimes")
    for stack, compiled_runtimes in COMPILED_RUNTIMES.items():
        compiled = sum(RUNTIMES[name].size_bytes for name in compiled_runtimes)
        print(
            f"  a {stack.value} app compiled on the server loads {compiled / 1e6:.2f} MB "
            "of runtimes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--first-loads", type=int, default=5)
    parser.add_argument(
        "--stacks", default=",".join(stack.value for stack in APPS), help="comma-separated"
    )
    parser.add_argument(
        "--compile",
        choices=("server", "ahead", "page"),
        default="server",
        help="where and when a React or Vue app is compiled (see the module's docstring)",
    )
    parser.add_argument(
        "--start",
        choices=("own", "early"),
        default="own",
        help="when the app's frame starts (see the module's docstring)",
    )
    args = parser.parse_args()
    stacks = [WebdevStack(value) for value in args.stacks.split(",")]
    sizes()
    print(f"\nReact and Vue apps compiled: {args.compile}")
    print(f"Frames started: {args.start}")
    asyncio.run(run(args.runs, args.first_loads, stacks, args.compile, args.start))


if __name__ == "__main__":
    main()
