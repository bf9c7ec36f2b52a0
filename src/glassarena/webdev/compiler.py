"""React and Vue apps compiled once on the server, so that the voter's browser only runs them.

Measured with `benchmarks/bench_stacks.py`: a React app's start-up in its sandboxed frame was
about 1 s, of which Babel standalone (2.3 MB to parse and run, then the TSX transform with a
cold JIT) and Tailwind's browser build took most, and the browser's cache never helped: an app
has an opaque origin, and Chromium does not use its HTTP cache (nor so the compiled code kept
with it) for an opaque origin's requests, so every app fetched and compiled the runtimes anew.

`AppCompiler` keeps one page with Babel and Tailwind warm in a Chromium of its own, without
network (the checker's `NO_NETWORK_ARGS`), and turns an app's files into a `CompiledApp`: each
script file transformed with the harness's `BABEL_OPTIONS`, and Tailwind's CSS for every
class-like word of the app's files and for its Tailwind style sheets (as Tailwind's own
build scans source files as text). Nothing of the app runs there: Babel and Tailwind only
read its text. The page then loads React alone.

A Vue app had the same cost (vue3-sfc-loader, 1.8 MB with Vue's SFC compiler and Babel, then
Tailwind's browser build): the page also holds Vue and vue3-sfc-loader, which compiles the
app from its entry as in the voter's page (templates, `lang="ts"` scripts, scoped styles),
except that each module it would run is kept instead (its `createCJSModule` hook), and the
styles it would add are kept for the CSS. The page then loads Vue alone.

Any failure (a syntax error, a Tailwind sheet Tailwind rejects, a compile past its time
limit, no browser) gives None, and the app gets the in-page harness as before, which reports
the error as the app's own, in the preview and in the execution check alike. Results are kept
per project (the preview and the check compile the same app), so each app compiles once, and
the previews start the compile while the answer still streams (`compile_ahead`), once its
code block has closed, so that it is usually done when the answer is.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from typing import Any

from playwright.async_api import Browser, Page, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CHROMIUM_ARGS, NO_NETWORK_ARGS
from glassarena.webdev.harness import (
    BABEL_OPTIONS,
    SHARED_JS,
    VUE_SHARED_JS,
    CompiledApp,
)
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import (
    BABEL,
    COMPILED_RUNTIMES,
    RUNTIMES,
    TAILWIND,
    VUE,
    VUE_SFC_LOADER,
    RuntimeFiles,
    media_type,
)

logger = logging.getLogger(__name__)

_ORIGIN = "https://compiler.glassarena.invalid"
_PAGE_URL = f"{_ORIGIN}/"
_RUNTIMES_PATH = "/runtimes"
_PAGE_SCRIPTS = (
    (BABEL, "babel.min.js"),
    (TAILWIND, "dist/index.global.js"),
    (VUE, "dist/vue.global.prod.js"),
    (VUE_SFC_LOADER, "dist/vue3-sfc-loader.js"),
)
# Tailwind's browser build compiles the style sheets of the page it runs in and keeps its
# compiler to itself; the pinned build ends by starting that, and here instead hands out its
# compiler (`ro`, with the build's own loader of Tailwind's style sheets, `xl`, and `Al`).
_TAILWIND_START = 'Pt("full");document.head.append(hr);})();'
_TAILWIND_EXPOSED = (
    "window.__glassarenaTailwind=(css)=>ro(css,{base:'/',loadStylesheet:xl,loadModule:Al});})();"
)
_PAGE_JS = (
    SHARED_JS
    + VUE_SHARED_JS
    + """
// Tailwind's CSS for the classes `files` name, with the app's Tailwind style sheets: as the
// browser build reads its sheets, Tailwind itself unless a sheet imports.
const tailwindCss = async (files, sheets) => {
  let source = sheets.map(tailwindSheet).filter((sheet) => sheet !== null)
    .map((sheet) => sheet + '\\n').join('');
  if (!source.includes('@import')) source = '@import "tailwindcss";' + source;
  const tailwind = await window.__glassarenaTailwind(source);
  const candidates = new Set();
  for (const text of Object.values(files)) {
    for (const word of text.split(/[\\s"'`{}<>\\\\]+/)) if (word) candidates.add(word);
  }
  return tailwind.build([...candidates]);
};
const cssFiles = (files) => Object.entries(files).filter(([path]) => path.endsWith('.css'))
  .map(([, text]) => text);

window.compileApp = async (files, babelOptions) => {
  const modules = {};
  for (const [path, text] of Object.entries(files)) {
    if (SCRIPT.test(path)) {
      modules[path] = Babel.transform(text, {filename: path, ...babelOptions}).code;
    }
  }
  return {modules, css: await tailwindCss(files, cssFiles(files))};
};

// vue3-sfc-loader compiles the app from its entry as it would in the page, but runs nothing of
// it: each CommonJS module it would run is kept instead. A component comes as its script's
// module and its template's (the render function), which the loader merges into one object
// with the component's scope id; the page gets one module that does the same.
const vueComponent = (parts, scopeId) => [
  `const component = ${JSON.stringify(scopeId === undefined ? {} : {__scopeId: scopeId})};`,
  ...parts.map((code) => `{\\nconst part = {exports: {}};\\n` +
    `(function (exports, module) {\\n${code}\\n}).call(part.exports, part.exports, part);\\n` +
    `const found = part.exports;\\n` +
    `Object.assign(component, 'render' in found && !('default' in found) ? found :\\n` +
    `  found && found.__esModule ? found.default : found);\\n}`),
  'module.exports = component;',
].join('\\n');

window.compileVueApp = async (files, entry) => {
  const errors = vueTemplateErrors(files);
  if (errors.length) throw new Error(errors[0]);
  const start = vueEntry(files, entry);
  if (!start) throw new Error('the app has no .vue component to mount');
  const types = {};
  const read = new Set();
  const parts = {};
  const sheets = [];
  const options = vueLoaderOptions(files, (text) => { sheets.push(text); }, errors,
                                   (id, type, path) => { types[id] = type; read.add(path); });
  options.createCJSModule = (id, code) => {
    (parts[id] ||= []).push(code);
    return {exports: {}};
  };
  const {loadModule} = window['vue3-sfc-loader'];
  await loadModule('/' + start, options);
  // A module imported only when the app runs (`import()`) may be any of its files: all of
  // them compiled, as the page's loader would compile the one imported.
  if (Object.values(parts).flat().some((code) => code.includes('__vsfcl_import__('))) {
    for (const path of Object.keys(files)) {
      if (/\\.(vue|ts|js)$/.test(path) && !read.has(path)) await loadModule('/' + path, options);
    }
  }
  if (errors.length) throw new Error(errors[0]);
  const modules = {};
  for (const [id, codes] of Object.entries(parts)) {
    modules[id] = types[id] === '.vue' ?
      vueComponent(codes, options.moduleCache[id].__scopeId) : codes[0];
  }
  // The page adds the app's .css files itself; the components' plain styles follow Tailwind.
  const own = cssFiles(files);
  const styles = sheets.filter((text) => tailwindSheet(text) === null && !own.includes(text));
  const css = await tailwindCss(files, [...own, ...sheets]);
  return {modules, css: [css, ...styles].join('\\n')};
};
"""
)

_WARM_UPS = 5
_WARM_UP_REACT_APP = {
    "App.tsx": """import { useState } from "react";
import "./styles.css";
export default function App({ start = 0 }: { start?: number }) {
  const [count, setCount] = useState<number>(start);
  return <main className="grid min-h-screen place-items-center bg-slate-100 p-8">
    <button className="rounded-lg bg-indigo-600 px-4 py-2 text-white hover:bg-indigo-700"
      onClick={() => setCount((c) => c + 1)}>{`Clicked ${count} times`}</button>
  </main>;
}
""",
    "styles.css": "@tailwind base;\n.card { @apply rounded-xl shadow; }\n",
}
_WARM_UP_VUE_APP = {
    "App.vue": """<script setup lang="ts">
import { ref } from "vue";
import Card from "./Card.vue";
const count = ref<number>(0);
</script>
<template>
  <main class="grid min-h-screen place-items-center bg-slate-100 p-8">
    <Card :count="count" @click="count++" />
  </main>
</template>
""",
    "Card.vue": """<script setup lang="ts">
defineProps<{ count: number }>();
</script>
<template><button class="card rounded-lg bg-indigo-600 px-4 py-2 text-white">{{ count }}</button>
</template>
<style scoped>
.card { @apply shadow; }
button { letter-spacing: 0.02em; }
</style>
""",
}
_WARM_UP_APPS = (
    AppProject(WebdevStack.REACT, _WARM_UP_REACT_APP, "App.tsx"),
    AppProject(WebdevStack.VUE, _WARM_UP_VUE_APP, "App.vue"),
)


class AppCompiler:
    """Compiles React and Vue apps in a warm page of its own Chromium; see the module's
    docstring."""

    def __init__(
        self,
        chromium_path: str,
        runtimes: RuntimeFiles,
        *,
        timeout_s: float = 5.0,
        capacity: int = 256,
    ) -> None:
        self.chromium_path = chromium_path
        self.runtimes = runtimes
        self.timeout_s = timeout_s
        self._capacity = capacity
        self._compiled: OrderedDict[str, CompiledApp | None] = OrderedDict()
        self._pending: dict[str, asyncio.Task[CompiledApp | None]] = {}
        self._starting: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._page: Page | None = None

    def can_compile(self, project: AppProject) -> bool:
        return project.stack in COMPILED_RUNTIMES and not self.runtimes.missing((project.stack,))

    async def compile(self, project: AppProject) -> CompiledApp | None:
        """`project` compiled, or None: not a React or Vue app, or it does not compile here (the
        in-page harness then reports why). A compile of the same project already under way
        (`compile_ahead`, or the preview's while the check asks) is awaited, not repeated."""
        if not self.can_compile(project):
            return None
        key = _key(project)
        if key in self._compiled:
            self._compiled.move_to_end(key)
            return self._compiled[key]
        # Shielded: a caller that gives up does not cancel the compile for the others.
        return await asyncio.shield(self._compiling(key, project))

    def compile_ahead(self, project: AppProject) -> None:
        """Start compiling `project` without waiting for it, so that `compile` finds it done:
        the previews call this while the answer is still streaming, once a code block has
        closed, which takes the compile off the path from the finished answer to the app."""
        if self.can_compile(project) and _key(project) not in self._compiled:
            self._compiling(_key(project), project)

    def _compiling(self, key: str, project: AppProject) -> asyncio.Task[CompiledApp | None]:
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._compile(key, project))
            self._pending[key] = task
            task.add_done_callback(lambda _done: self._pending.pop(key, None))
        return task

    async def _compile(self, key: str, project: AppProject) -> CompiledApp | None:
        try:
            page = await asyncio.wait_for(self._ready_page(), self.timeout_s * 4)
            found = await asyncio.wait_for(_compile_in(page, project), self.timeout_s)
            compiled: CompiledApp | None = CompiledApp(found["modules"], found["css"])
        except PlaywrightError:
            compiled = None  # the app's own error, which the in-page harness reports
        except TimeoutError:
            logger.warning(
                "compiling a %s app took over %g s; it compiles in its page",
                project.stack.value,
                self.timeout_s,
            )
            compiled = None
            await self._shut_down()  # a page stuck in a transform is of no further use
        except Exception:  # the previews and checks must outlive any one compile
            logger.exception(
                "compiling a %s app failed; it compiles in its page", project.stack.value
            )
            compiled = None
        self._compiled[key] = compiled
        while len(self._compiled) > self._capacity:
            self._compiled.popitem(last=False)
        return compiled

    def start_soon(self) -> None:
        """Start the compiler in the background unless it is started or starting: called
        when a React or Vue battle starts, so that it is warm by the time the first answer
        is."""
        if self._starting is None:
            self._starting = asyncio.create_task(self.start())

    async def start(self) -> None:
        """Launch the browser, load the compile page and warm it up now rather than on the
        first apps (a cold page takes 100-400 ms per app, a warm one 10-40 ms). Never
        raises: a compiler that cannot start compiles nothing, and says why."""
        try:
            page = await asyncio.wait_for(self._ready_page(), self.timeout_s * 4)
            for _ in range(_WARM_UPS):
                for app in _WARM_UP_APPS:
                    await asyncio.wait_for(_compile_in(page, app), self.timeout_s)
        except (TimeoutError, PlaywrightError) as error:
            logger.error("the app compiler did not start; apps compile in their pages: %s", error)

    async def close(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        await self._shut_down()

    async def _ready_page(self) -> Page:
        async with self._lock:
            if self._page is not None and not self._page.is_closed():
                return self._page
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            if self._browser is None or not self._browser.is_connected():
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.chromium_path,
                    args=[*CHROMIUM_ARGS, *NO_NETWORK_ARGS],
                    headless=True,
                )
            context = await self._browser.new_context(service_workers="block")
            await context.route("**/*", self._answer)
            page = await context.new_page()
            await page.goto(_PAGE_URL, wait_until="load")
            self._page = page
            return page

    async def _answer(self, route: Route) -> None:
        url = route.request.url
        if url == _PAGE_URL:
            await route.fulfill(status=200, content_type="text/html", body=_page_html())
            return
        key, _, file = url.removeprefix(f"{_ORIGIN}{_RUNTIMES_PATH}/").partition("/")
        found = self.runtimes.path(key, file) if url.startswith(_ORIGIN) else None
        if found is None:
            await route.abort("blockedbyclient")
            return
        body = found.read_text()
        if key == RUNTIMES[TAILWIND].key:
            if _TAILWIND_START not in body:
                # Every compile then fails, and apps compile in their pages as before.
                logger.error("%s is not the build the compiler knows how to use", key)
            body = body.replace(_TAILWIND_START, _TAILWIND_EXPOSED)
        await route.fulfill(status=200, content_type=media_type(found.name), body=body)

    async def _shut_down(self) -> None:
        async with self._lock:
            browser, self._browser, self._page = self._browser, None, None
            playwright, self._playwright = self._playwright, None
        if browser is not None:
            with contextlib.suppress(TimeoutError, PlaywrightError):
                await asyncio.wait_for(browser.close(), 5.0)
        if playwright is not None:
            with contextlib.suppress(PlaywrightError):
                await playwright.stop()


async def _compile_in(page: Page, project: AppProject) -> dict[str, Any]:
    if project.stack is WebdevStack.VUE:
        found: dict[str, Any] = await page.evaluate(
            "([files, entry]) => window.compileVueApp(files, entry)",
            [dict(project.files), project.entry],
        )
    else:
        found = await page.evaluate(
            "([files, options]) => window.compileApp(files, options)",
            [dict(project.files), BABEL_OPTIONS],
        )
    return found


def _page_html() -> str:
    scripts = "".join(
        f'<script src="{RUNTIMES[name].url(_RUNTIMES_PATH, file)}"></script>'
        for name, file in _PAGE_SCRIPTS
    )
    return f"<!DOCTYPE html><html><head>{scripts}<script>{_PAGE_JS}</script></head></html>"


def _key(project: AppProject) -> str:
    text = json.dumps([project.stack.value, project.entry, dict(project.files)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
