"""The hostile apps of hostile_apps/, rewritten as React, Vue and Python apps.

Each hostile HTML app is markup plus scripts. Its rewrite in another stack renders the same
markup the way that stack renders HTML, and runs the same attack code the way that stack
runs code, so each attack is made from inside a React, Vue or Python app's document, under
that stack's harness and CSP:

- React: App.tsx renders the markup (`dangerouslySetInnerHTML`) and calls `attack()` from
  attack.js in an effect; Babel compiles both as modules, in the page or, as the arena does,
  on the server (`AppCompiler`).
- Vue: App.vue renders the markup (`v-html`) and calls `attack()` in `mounted`.
- Python: main.py adds the markup through Pyodide's `js.document` and runs the attack as a
  script element it creates, as a Python app reaching the page's JavaScript would.

External scripts of the original (`<script src>`) become script elements the code creates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.harness import CompiledApp, build_document
from glassarena.webdev.project import AppProject

_SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_SRC = re.compile(r"""\bsrc=["']([^"']+)["']""")
_DOCUMENT_TAGS = re.compile(r"</?(html|head|body)\b[^>]*>|<!DOCTYPE[^>]*>", re.IGNORECASE)


def split_hostile(source: str) -> tuple[str, str]:
    """The markup (scripts removed) and the code (scripts in order) of a hostile HTML app."""
    code = []
    for match in _SCRIPT.finditer(source):
        src = _SRC.search(match.group(1))
        if src:
            code.append(
                "{ const script = document.createElement('script'); "
                f"script.src = {json.dumps(src.group(1))}; document.head.append(script); }}"
            )
        else:
            code.append(match.group(2))
    markup = _DOCUMENT_TAGS.sub("", _SCRIPT.sub("", source)).strip()
    return markup, "\n".join(code)


def hostile_project(stack: WebdevStack, source: str) -> AppProject:
    markup, code = split_hostile(source)
    attack_module = (
        f"export const MARKUP = {json.dumps(markup)};\n\nexport function attack() {{\n{code}\n}}\n"
    )
    if stack is WebdevStack.REACT:
        app = (
            "import { useEffect } from 'react';\n"
            "import { attack, MARKUP } from './attack';\n\n"
            "export default function App() {\n"
            "  useEffect(() => { attack(); }, []);\n"
            "  return <div dangerouslySetInnerHTML={{ __html: MARKUP }} />;\n"
            "}\n"
        )
        return AppProject(stack, {"App.tsx": app, "attack.js": attack_module}, "App.tsx")
    if stack is WebdevStack.VUE:
        app = (
            '<template>\n  <div v-html="markup"></div>\n</template>\n\n'
            "<script>\nimport { attack, MARKUP } from './attack.js';\n\n"
            "export default {\n  data: () => ({ markup: MARKUP }),\n"
            "  mounted() { attack(); },\n};\n</script>\n"
        )
        return AppProject(stack, {"App.vue": app, "attack.js": attack_module}, "App.vue")
    if stack is WebdevStack.PYTHON:
        main = (
            "from js import document\n\n"
            f"MARKUP = {json.dumps(markup)}\n"
            f"ATTACK = {json.dumps(code)}\n\n"
            'document.body.insertAdjacentHTML("beforeend", MARKUP)\n'
            'script = document.createElement("script")\n'
            "script.textContent = ATTACK\n"
            "document.body.appendChild(script)\n"
        )
        return AppProject(stack, {"main.py": main}, "main.py")
    raise ValueError(f"no hostile rewrite for {stack}")


def as_stack_document(
    stack: WebdevStack,
    source: str,
    runtimes_base: str,
    compile_app: Callable[[AppProject], CompiledApp | None] | None = None,
) -> str:
    """The document the sandbox serves for hostile app `source` rewritten in `stack`; with
    `compile_app`, a React or Vue rewrite as the arena's compiler makes it."""
    if stack is WebdevStack.HTML:
        return source
    project = hostile_project(stack, source)
    compiled = compile_app(project) if compile_app is not None else None
    if compile_app is not None and compiled is None:
        raise AssertionError(f"the {stack.value} rewrite did not compile")
    return build_document(project, runtimes_base, compiled)
