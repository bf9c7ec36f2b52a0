"""The document a sandboxed frame loads for an `AppProject`, per stack.

HTML apps are served as written (a multi-file one with its local stylesheets and scripts
inlined). Every other stack gets a small harness page: the arena's own runtimes by
origin-relative URL (`runtimes_base`, e.g. "/sandbox/runtimes", so the page finds them on
whatever preview origin serves it), the project's files as JSON, and a loader that builds
and starts the app in the page:

- React: each .tsx/.ts/.jsx/.js file is turned into a CommonJS module and run when it is
  first imported, relative imports (and "@/" for "src/") are resolved between the project's
  files, CSS files become style sheets, and the entry's default export (or `App`) is mounted
  into #root, unless the entry mounts itself. Given a `CompiledApp` (`webdev.compiler`
  compiled the app once on the server) the page gets the modules and Tailwind's CSS ready
  made and loads only React; without one, Babel transforms each file in the page and
  Tailwind's browser build styles the classes the app uses.
- Vue: vue3-sfc-loader compiles the single-file components (and .js/.ts modules) and the
  entry component is mounted into #app, with Tailwind as for React. Given a `CompiledApp`
  the page gets each module's CommonJS code (a component's script and render function with
  its scope id) and the CSS (Tailwind's and the components' styles) ready made and loads
  only Vue.
- Python: Pyodide runs the entry script with the project's files in its working directory;
  stdout is printed on the page (#output) and the script may draw into the page itself
  through `js.document` (#root is there for it).
- Mermaid: the diagram is parsed, then rendered as SVG.

A transform, compile, syntax or Python error is thrown as an uncaught error of the page,
so the execution check records it as the app's error. When the loader is done it sets
`data-glassarena` on <html> to "ready" or "error" (`STATE_ATTRIBUTE`): the check measures
load time up to that moment, since these apps start only after `load`.

A frame can also start before its app is written (`build_boot_document`): the battle page
loads it when the turn starts, so the stack's runtimes load (and Pyodide boots) while the
answer streams, and when the answer is done the page posts the app into it
(`boot_payload`). Such a page accepts one message, from its parent window only, and marks
itself `waiting` while its runtime is up and the app has not arrived.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import (
    BABEL,
    COMPILED_RUNTIMES,
    MERMAID,
    PYODIDE,
    REACT,
    REACT_DOM,
    RUNTIMES,
    TAILWIND,
    VUE,
    VUE_SFC_LOADER,
)
from glassarena.webdev.sandbox import SandboxPolicy

STATE_ATTRIBUTE = "data-glassarena"
_SCRIPT_FILES = {
    REACT: "umd/react.production.min.js",
    REACT_DOM: "umd/react-dom.production.min.js",
    BABEL: "babel.min.js",
    TAILWIND: "dist/index.global.js",
    VUE: "dist/vue.global.prod.js",
    VUE_SFC_LOADER: "dist/vue3-sfc-loader.js",
    PYODIDE: "pyodide.js",
    MERMAID: "dist/mermaid.min.js",
}


# How each script file of a React app becomes a CommonJS module, in the page or on the server.
BABEL_OPTIONS = {
    "sourceType": "module",
    "presets": ["typescript", ["react", {"runtime": "classic"}]],
    "plugins": ["transform-modules-commonjs"],
}


@dataclass(frozen=True)
class CompiledApp:
    """A React or Vue app compiled ahead of the page: each module's CommonJS code (by path for
    React, by vue3-sfc-loader's module id for Vue), and the CSS: Tailwind's for the classes its
    files name and for its Tailwind style sheets, then a Vue app's plain component styles."""

    modules: Mapping[str, str] = field(default_factory=dict)
    css: str = ""


def build_document(
    project: AppProject, runtimes_base: str, compiled: CompiledApp | None = None
) -> str:
    """The HTML the sandboxed frame loads for `project`. `runtimes_base` is where the runtime
    folders are, normally `SandboxPolicy.runtimes_path`; `compiled` is the React or Vue app
    compiled on the server (`AppCompiler`), if it was."""
    if project.stack is WebdevStack.HTML:
        return _html_document(project)
    stack = project.stack
    config = _runtime_config(runtimes_base)
    config.update(entry=project.entry, files=dict(project.files))
    runtimes = _STACKS[stack][2]
    style = ""
    if compiled is not None and loads_compiled(project.stack, compiled):
        runtimes = COMPILED_RUNTIMES[stack]
        config["compiled"] = dict(compiled.modules)
        style = f"\n<style>{_no_end_tag(compiled.css, 'style')}</style>"
    elif stack is WebdevStack.REACT:
        config["babel"] = BABEL_OPTIONS
    return _harness_document(stack, runtimes_base, runtimes, config, style)


def loads_compiled(stack: WebdevStack, compiled: CompiledApp | None) -> bool:
    """Whether the page of a `stack` app loads the compiled apps' runtimes (and is served
    with their narrower policy): given the server's compile of a stack the server compiles."""
    return compiled is not None and stack in COMPILED_RUNTIMES


# Every stack but HTML (which brings its own code) can start before its app is written.
BOOTED_STACKS = frozenset(stack for stack in WebdevStack if stack is not WebdevStack.HTML)


def build_boot_document(stack: WebdevStack, runtimes_base: str) -> str:
    """The document of a frame started before its app is written: `stack`'s runtimes (a
    React or Vue app's as compiled on the server) load while the answer streams, and the app
    arrives as `boot_payload` posted by the battle page."""
    runtimes = COMPILED_RUNTIMES.get(stack, _STACKS[stack][2])
    return _harness_document(stack, runtimes_base, runtimes, _runtime_config(runtimes_base), "")


def boot_document_is_compiled(stack: WebdevStack) -> bool:
    """Whether a started frame of `stack` loads (and is served as) a compiled app's page."""
    return stack in COMPILED_RUNTIMES


def boot_payload(project: AppProject, compiled: CompiledApp | None) -> dict[str, object] | None:
    """What the battle page posts into a frame started for `project.stack`, or None when
    such a frame cannot run the app: a React or Vue app the server did not compile needs the
    in-page compilers, which a started frame does not load."""
    if project.stack not in BOOTED_STACKS:
        return None
    payload: dict[str, object] = {"entry": project.entry, "files": dict(project.files)}
    if project.stack in COMPILED_RUNTIMES:
        if compiled is None:
            return None
        payload.update(compiled=dict(compiled.modules), css=compiled.css)
    return payload


def content_security_policy(
    stack: WebdevStack, origin: str, policy: SandboxPolicy | None = None, compiled: bool = False
) -> str:
    """The CSP of a `stack` document served from `origin` ("https://a.previews.example.org"):
    the sandbox's policy with exactly the runtimes its page loads (`compiled`: the page of an
    app compiled on the server), from that origin."""
    return (policy or SandboxPolicy()).content_security_policy(stack, origin, compiled)


def _script(runtime: str, base: str) -> str:
    return f'<script src="{escape(RUNTIMES[runtime].url(base, _SCRIPT_FILES[runtime]))}"></script>'


def _json_for_script(value: object) -> str:
    # "<" escaped, so no file's text can close the script element or open a comment.
    return json.dumps(value).replace("<", "\\u003c")


def _runtime_config(base: str) -> dict[str, object]:
    return {"pyodide": RUNTIMES[PYODIDE].url(base, "")}


def _harness_document(
    stack: WebdevStack,
    base: str,
    runtimes: tuple[str, ...],
    config: Mapping[str, object],
    style: str,
) -> str:
    body, loader, _ = _STACKS[stack]
    scripts = "\n".join(_script(runtime, base) for runtime in runtimes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>App</title>
<style>{_BASE_STYLE}</style>{style}
{scripts}
</head>
<body>
{body}
<script type="application/json" id="glassarena-project">{_json_for_script(config)}</script>
<script>
{SHARED_JS}{VUE_SHARED_JS if stack is WebdevStack.VUE else ""}
{_COMMON_JS}
{loader}
</script>
</body></html>
"""


_BASE_STYLE = "html,body{margin:0}#output:empty{display:none}#output{margin:0;padding:8px}"

# Shared by every loader: the project, and the ways a loader ends.
_COMMON_JS = """
const config = JSON.parse(document.getElementById('glassarena-project').textContent);
let project = null;
let files = {};
const finish = (state) => { document.documentElement.setAttribute('data-glassarena', state); };
// A frame started while the answer streamed gets its app from the battle page: the first
// message of its parent window, never one from another frame (such as the other app).
const arrival = config.files ? Promise.resolve(config) : new Promise((resolve) => {
  const receive = (event) => {
    if (event.source !== window.parent || typeof event.data?.files !== 'object') return;
    removeEventListener('message', receive);
    resolve({...config, ...event.data});
  };
  addEventListener('message', receive);
});
// Each loader starts the app once it is here.
const appArrives = () => arrival.then((arrived) => {
  project = arrived;
  files = arrived.files;
  if (arrived.css) addStyle(arrived.css);
});
// The runtime is up: a started frame waits for its app.
const runtimeStarted = () => { if (project === null) finish('waiting'); };
// The app's error becomes an uncaught error of the page, which the check records as such.
const fail = (error) => {
  finish('error');
  setTimeout(() => { throw error instanceof Error ? error : new Error(String(error)); });
};
const addStyle = (text, tailwind) => {
  const style = document.createElement('style');
  if (tailwind) style.type = 'text/tailwindcss';
  style.textContent = text;
  document.head.append(style);
};
// An inline script rather than eval, so that a compiled app's page needs no 'unsafe-eval'.
const defineFunction = (path, parameters, code) => {
  let defined;
  window.__glassarenaDefine = (factory) => { defined = factory; };
  const script = document.createElement('script');
  script.textContent = `window.__glassarenaDefine(function (${parameters}) {\\n${code}\\n});\\n` +
    `//# sourceURL=${path}`;
  document.head.append(script);
  script.remove();
  return defined;
};
const addCss = (text) => {
  const sheet = tailwindSheet(text);
  // A compiled app's Tailwind sheets are already in its CSS.
  if (sheet !== null && project.compiled) return;
  addStyle(sheet === null ? text : sheet, sheet !== null);
};
"""

# Shared by the page and the server's compiler (`webdev.compiler`): which files of a React app
# are scripts, and a style sheet that uses Tailwind, as Tailwind v4 wants it (v3 directives
# mean "Tailwind here", and v4 brings its own import), or null for plain CSS.
SHARED_JS = """
const SCRIPT = /\\.(tsx|ts|jsx|js)$/;
const tailwindSheet = (text) => {
  if (!/@tailwind\\s|@import\\s+["']tailwindcss|@apply\\s|@theme\\b/.test(text)) return null;
  return text.replace(/@tailwind\\s+[a-z-]+;?/g, '')
             .replace(/@import\\s+["']tailwindcss[^;]*;?/g, '');
};
"""

_REACT_JS = """
const modules = {};
const EXTENSIONS = ['', '.tsx', '.ts', '.jsx', '.js', '.json', '.css',
                    '/index.tsx', '/index.ts', '/index.jsx', '/index.js'];
const PACKAGES = {'react': React, 'react-dom': ReactDOM, 'react-dom/client': ReactDOM};
const join = (from, spec) => {
  const parts = from.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') parts.pop(); else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
};
const resolve = (from, spec) => {
  let bases;
  if (spec.startsWith('./') || spec.startsWith('../')) bases = [join(from, spec)];
  else if (spec.startsWith('@/')) bases = ['src/' + spec.slice(2), spec.slice(2)];
  else if (spec.startsWith('/')) bases = [spec.slice(1)];
  else return null;
  for (const base of bases) {
    for (const extension of EXTENSIONS) {
      if (Object.hasOwn(files, base + extension)) return base + extension;
    }
  }
  throw new Error(`${from}: cannot find module '${spec}' among the app's files`);
};
const evaluate = (path) => {
  const code = project.compiled ? project.compiled[path] :
    Babel.transform(files[path], {filename: path, ...project.babel}).code;
  return defineFunction(path, 'require, module, exports', code);
};
const load = (path) => {
  if (modules[path]) return modules[path].exports;
  const module = {exports: {}};
  modules[path] = module;
  if (path.endsWith('.css')) { addCss(files[path]); return module.exports; }
  if (path.endsWith('.json')) { module.exports = JSON.parse(files[path]); return module.exports; }
  const factory = evaluate(path);
  factory((spec) => requireFrom(path, spec), module, module.exports);
  return module.exports;
};
const requireFrom = (from, spec) => {
  const path = resolve(from, spec);
  if (path !== null) return load(path);
  if (Object.hasOwn(PACKAGES, spec)) return PACKAGES[spec];
  throw new Error(`${from}: module '${spec}' is not available: React apps here run offline ` +
                  `with react, react-dom and Tailwind only`);
};
const pickEntry = () => {
  if (SCRIPT.test(project.entry)) return project.entry;
  const candidates = ['src/main.tsx', 'src/index.tsx', 'main.tsx', 'index.tsx', 'src/App.tsx',
                      'App.tsx', 'src/App.jsx', 'App.jsx', 'src/main.jsx', 'main.jsx'];
  return candidates.find((name) => Object.hasOwn(files, name)) ||
    Object.keys(files).find((name) => SCRIPT.test(name));
};
appArrives().then(() => {
  const entry = pickEntry();
  if (!entry) throw new Error('the app has no script file to run');
  for (const path of Object.keys(files)) if (path.endsWith('.css')) load(path);
  const mountsItself = /\\bcreateRoot\\s*\\(|ReactDOM\\.render\\s*\\(/.test(files[entry]);
  const exported = load(entry);
  if (mountsItself) {
    setTimeout(() => finish('ready'));
  } else {
    const functions = Object.values(exported).filter((value) => typeof value === 'function');
    const component = exported.default || exported.App ||
      (functions.length === 1 ? functions[0] : null);
    if (!component) {
      throw new Error(`${entry} exports no component: export default the app's component ` +
                      `(or name it App)`);
    }
    const root = ReactDOM.createRoot(document.getElementById('root'));
    ReactDOM.flushSync(() => root.render(React.createElement(component)));
    finish('ready');
  }
}).catch(fail);
runtimeStarted();
"""

# Shared by the page and the server's compiler (`webdev.compiler`): how a Vue app's modules are
# found (vue3-sfc-loader's module ids), its templates' errors, and its entry.
VUE_SHARED_JS = """
const vuePathResolve = ({refPath, relPath}) => {
  if (relPath === 'vue') return relPath;
  if (relPath.startsWith('@/')) return '/src/' + relPath.slice(2);
  if (!relPath.startsWith('.') && !relPath.startsWith('/')) {
    throw new Error(`module '${relPath}' is not available: Vue apps here run offline with ` +
                    `vue and Tailwind only`);
  }
  const from = refPath === undefined ? '/' : refPath;
  return new URL(relPath, 'file://' + from).pathname;
};
// The loader skips the errors of Vue's template parser; Vue's own compiler reports them.
const vueTemplateErrors = (files) => {
  const errors = [];
  for (const [path, text] of Object.entries(files)) {
    const template = path.endsWith('.vue') && /<template[^>]*>([\\s\\S]*)<\\/template>/.exec(text);
    if (!template) continue;
    Vue.compile(template[1], {
      onError: (error) => {
        const line = error.loc ? ` (template line ${error.loc.start.line})` : '';
        errors.push(`${path}: ${error.message}${line}`);
      },
    });
  }
  return errors;
};
const vueEntry = (files, entry) => {
  if (/\\.(vue|ts|js)$/.test(entry)) return entry;
  return ['src/App.vue', 'App.vue', 'src/main.ts', 'src/main.js', 'main.ts', 'main.js']
    .find((name) => Object.hasOwn(files, name)) ||
    Object.keys(files).find((name) => name.endsWith('.vue'));
};
// vue3-sfc-loader's options for `files`; `found(id, type, path)` hears of each file it reads.
const vueLoaderOptions = (files, addCss, compileErrors, found) => ({
  moduleCache: {vue: Vue},
  pathResolve: vuePathResolve,
  getFile(url) {
    const path = url.replace(/^\\//, '');
    const name = [path, path + '.vue', path + '.ts', path + '.js']
      .find((candidate) => Object.hasOwn(files, candidate));
    if (name === undefined) throw new Error(`cannot find ${path} among the app's files`);
    // The loader reads .js as a CommonJS script; models write ES modules.
    const type = name.endsWith('.js') ? '.mjs' : '.' + name.split('.').pop();
    found(url, type, name);
    return {getContentData: () => files[name], type};
  },
  addStyle: (text) => addCss(text),
  handleModule(type, getContentData) {
    if (type !== '.css') return undefined;
    return getContentData(false).then((text) => { addCss(text); return {}; });
  },
  log(type, ...args) {
    if (type === 'error') compileErrors.push(args.join(': '));
    (type === 'error' ? console.error : console.warn)(...args);
  },
});
"""

_VUE_JS = """
const compileErrors = [];
// A compiled app's modules, run as vue3-sfc-loader runs them: each when first required.
const compiledModules = {};
const loadCompiled = (id) => {
  if (Object.hasOwn(compiledModules, id)) return compiledModules[id].exports;
  if (!Object.hasOwn(project.compiled, id)) {
    if (id.endsWith('.css') && Object.hasOwn(files, id.slice(1))) return {};  // added already
    throw new Error(`cannot find ${id.slice(1)} among the app's files`);
  }
  const module = {exports: {}};
  compiledModules[id] = module;
  const factory = defineFunction(id, 'exports, require, module, __filename, __dirname, ' +
                                 '__vsfcl_import__', project.compiled[id]);
  const require = (relPath) => {
    const target = vuePathResolve({refPath: id, relPath});
    return target === 'vue' ? Vue : loadCompiled(target);
  };
  factory.call(module.exports, module.exports, require, module, id,
               vuePathResolve({refPath: id, relPath: '.'}), async (relPath) => require(relPath));
  return module.exports;
};
const loadWithLoader = (entry) => window['vue3-sfc-loader'].loadModule(
  '/' + entry, vueLoaderOptions(files, addCss, compileErrors, () => {}));
(async () => {
  await appArrives();
  const entry = vueEntry(files, project.entry);
  if (!entry) throw new Error('the app has no .vue component to mount');
  for (const path of Object.keys(files)) if (path.endsWith('.css')) addCss(files[path]);
  // A compiled app's templates compiled without error.
  if (!project.compiled) compileErrors.push(...vueTemplateErrors(files));
  if (compileErrors.length) throw new Error(compileErrors[0]);
  const loaded = project.compiled ? loadCompiled('/' + entry) : await loadWithLoader(entry);
  if (compileErrors.length) throw new Error(compileErrors[0]);
  if (entry.endsWith('.vue')) {
    const app = Vue.createApp(loaded);
    // A component's runtime error is the app's error, reported as uncaught.
    app.config.errorHandler = (error) => {
      setTimeout(() => { throw error instanceof Error ? error : new Error(String(error)); });
    };
    app.mount('#app');
  }
  await new Promise((resolve) => setTimeout(resolve));
  finish('ready');
})().catch(fail);
runtimeStarted();
"""

_PYTHON_JS = """
const output = document.getElementById('output');
// Pyodide boots while the app is on its way (in a started frame, while the answer streams).
const booting = loadPyodide({
  indexURL: config.pyodide,
  stdout: (line) => { output.append(line + '\\n'); },
  stderr: (line) => { console.error(line); },
});
booting.then(runtimeStarted, () => {});  // a failed boot is reported by the loader below
(async () => {
  await appArrives();
  const entry = project.entry.endsWith('.py') ? project.entry :
    (['main.py', 'app.py'].find((name) => Object.hasOwn(files, name)) ||
     Object.keys(files).find((name) => name.endsWith('.py')));
  if (!entry) throw new Error('the app has no Python file to run');
  const pyodide = await booting;
  // No one types into a check: input() reads end of file and raises EOFError.
  pyodide.setStdin({stdin: () => null});
  const home = '/home/pyodide/';
  for (const [path, text] of Object.entries(files)) {
    const parts = path.split('/').slice(0, -1);
    for (let index = 1; index <= parts.length; index += 1) {
      const folder = home + parts.slice(0, index).join('/');
      if (!pyodide.FS.analyzePath(folder).exists) pyodide.FS.mkdir(folder);
    }
    pyodide.FS.writeFile(home + path, text);
  }
  pyodide.FS.chdir(home);
  try {
    await pyodide.runPythonAsync(files[entry], {filename: entry});
  } catch (error) {
    // Pyodide's own frames come first in a traceback; the app's start at its first file.
    const lines = String(error.message).split('\\n');
    const own = lines.findIndex((line) => /^  File "(?!\\/lib\\/)/.test(line));
    throw own < 0 ? error : new Error([lines[0], ...lines.slice(own)].join('\\n').trim());
  }
  finish('ready');
})().catch(fail);
"""

_MERMAID_JS = """
(async () => {
  await appArrives();
  const source = files[project.entry];
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
  // Parsed first: rendering an invalid diagram would draw Mermaid's error picture instead.
  await mermaid.parse(source);
  const {svg} = await mermaid.render('glassarena-diagram', source);
  document.getElementById('diagram').innerHTML = svg;
  finish('ready');
})().catch(fail);
runtimeStarted();
"""

_STACKS: dict[WebdevStack, tuple[str, str, tuple[str, ...]]] = {
    WebdevStack.REACT: ('<div id="root"></div>', _REACT_JS, (REACT, REACT_DOM, BABEL, TAILWIND)),
    WebdevStack.VUE: ('<div id="app"></div>', _VUE_JS, (VUE, VUE_SFC_LOADER, TAILWIND)),
    WebdevStack.PYTHON: ('<pre id="output"></pre><div id="root"></div>', _PYTHON_JS, (PYODIDE,)),
    WebdevStack.MERMAID: ('<div id="diagram"></div>', _MERMAID_JS, (MERMAID,)),
}

_STYLESHEET_LINK = re.compile(r"""<link\b[^>]*\brel=["']?stylesheet["']?[^>]*>""", re.IGNORECASE)
_SCRIPT_SRC = re.compile(
    r"""<script\b([^>]*)\bsrc=["']([^"']+)["']([^>]*)>\s*</script>""", re.IGNORECASE
)
_HREF = re.compile(r"""\bhref=["']([^"']+)["']""", re.IGNORECASE)


def _html_document(project: AppProject) -> str:
    """The entry document with the project's own stylesheets and scripts inlined: the
    sandbox serves one document per app, and anything else it links stays unreachable."""
    document = project.files.get(project.entry, "")
    if len(project.files) <= 1:
        return document
    folder = posixpath.dirname(project.entry)

    def local(reference: str) -> str | None:
        if "://" in reference or reference.startswith(("//", "data:")):
            return None
        path = posixpath.normpath(posixpath.join(folder, reference.split("?")[0].lstrip("/")))
        return project.files.get(path)

    def inline_stylesheet(match: re.Match[str]) -> str:
        href = _HREF.search(match.group(0))
        text = local(href.group(1)) if href else None
        return (
            match.group(0) if text is None else f"<style>\n{_no_end_tag(text, 'style')}\n</style>"
        )

    def inline_script(match: re.Match[str]) -> str:
        text = local(match.group(2))
        if text is None:
            return match.group(0)
        attributes = f"{match.group(1)}{match.group(3)}".strip()
        opening = f"<script {attributes}>" if attributes else "<script>"
        return f"{opening}\n{_no_end_tag(text, 'script')}\n</script>"

    return _SCRIPT_SRC.sub(inline_script, _STYLESHEET_LINK.sub(inline_stylesheet, document))


def _no_end_tag(text: str, tag: str) -> str:
    """`text` with its own closing tags escaped, so inlining cannot end the element early."""
    return re.sub(rf"</({tag})", r"<\\/\1", text, flags=re.IGNORECASE)
