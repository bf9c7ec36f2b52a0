"""The system prompts that ask a model for a web app in a stack (`WebdevStack`), and the
short prompts and prefills the embedded small models get instead."""

from __future__ import annotations

from collections.abc import Sequence

from glassarena.providers.base import ChatMessage
from glassarena.providers.prompt_formats import text_digest
from glassarena.vocabulary import WebdevStack

_BASE = """\
You are building a web app that will run live in a browser, inside a sandboxed frame, next \
to another model's app. The person who asked will try both and pick the better one.

Answer with exactly ONE complete, self-contained HTML document in a single ```html code block:
- Start with <!DOCTYPE html> and end with </html>.
- Put all CSS in a <style> element and all JavaScript in <script> elements inside the document.
- {resources}
- The app cannot reach the network: no fetch, XMLHttpRequest, WebSocket or form submission \
to a server. Keep all data in JavaScript memory; cookies, localStorage and sessionStorage \
are unavailable.
- Pop-ups, alert(), confirm() and prompt() are blocked: show messages inside the page.
- Make it work at any width from 360 to 1280 pixels, and make it look finished.

Keep any explanation short and put it after the code block."""

_NO_RESOURCES = (
    "Use no external resources: no CDN scripts or stylesheets, no web fonts, no remote "
    "images. Draw images with inline SVG, canvas, or data: URLs."
)


# What each stack's answer must be; the common rules (network, dialogs, width) follow it.
_STACK_FORMATS = {
    WebdevStack.REACT: """\
Answer with ONE React component written in TypeScript and styled with Tailwind CSS, in a \
single ```tsx code block:
- The block is the file App.tsx; its default export is the component the page renders \
(`export default function App() {...}`).
- Import hooks from "react" only; use no other packages (no UI kits, icon or chart \
libraries). Style with Tailwind utility classes in className; Tailwind works without any \
configuration.
- If the app needs more files, give each its own code block with the file name after the \
language (```tsx components/Board.tsx) and import it by relative path ("./components/Board").
- {resources}""",
    WebdevStack.VUE: """\
Answer with ONE Vue 3 single-file component in a single ```vue code block:
- The block is the file App.vue, with a <template>, a <script setup lang="ts"> and a \
<style scoped>.
- Import from "vue" only; use no other packages.
- If the app needs more components, give each its own code block with the file name after \
the language (```vue components/Board.vue) and import it by relative path.
- {resources}""",
    WebdevStack.PYTHON: """\
Answer with ONE Python 3 program in a single ```python code block:
- It runs in the browser with Pyodide: use the standard library only, and no input(), \
files, threads, sockets, web servers (Flask, Streamlit) or desktop windows (Tkinter, PyGame).
- What it prints is shown on the page. To draw or build an interface, create page \
elements with `from js import document` and add them to the element with id "root".""",
    WebdevStack.MERMAID: """\
Answer with ONE Mermaid diagram in a single ```mermaid code block:
- Start with the diagram type (flowchart TD, sequenceDiagram, classDiagram, ...) and use \
only valid Mermaid syntax.
- Label every node and edge so the diagram reads on its own.""",
}
_COMMON_RULES = """
- The app cannot reach the network: no fetch, XMLHttpRequest, WebSocket or form submission \
to a server. Keep all data in memory; cookies, localStorage and sessionStorage are \
unavailable.
- Pop-ups, alert(), confirm() and prompt() are blocked: show messages inside the page.
- Make it work at any width from 360 to 1280 pixels, and make it look finished.

Keep any explanation short and put it after the code block."""
_STACK_INTRO = """\
You are building a web app that will run live in a browser, inside a sandboxed frame, next \
to another model's app. The person who asked will try both and pick the better one.

"""
# Libraries the arena serves for a stack are part of it, not external resources.
_STACK_NO_RESOURCES = (
    "Use no external resources: no CDN scripts or stylesheets, no web fonts, no remote "
    "images. Draw images with inline SVG, canvas, or data: URLs."
)


def webdev_system_prompt(
    allowed_cdns: Sequence[str] = (), stack: WebdevStack = WebdevStack.HTML
) -> str:
    """The system prompt for a WebDev battle in `stack`; `allowed_cdns` are origins the
    sandbox permits (HTML apps only: the other stacks get their runtimes from the arena)."""
    if stack is not WebdevStack.HTML:
        rules = _COMMON_RULES
        if stack in (WebdevStack.PYTHON, WebdevStack.MERMAID):
            # Neither writes JavaScript, so the JavaScript rules would only confuse.
            rules = "\n\nKeep any explanation short and put it after the code block."
        body = _STACK_FORMATS[stack].replace("{resources}", _STACK_NO_RESOURCES)
        return f"{_STACK_INTRO}{body}{rules}"
    if allowed_cdns:
        origins = ", ".join(allowed_cdns)
        resources = (
            f"External scripts and stylesheets may be loaded only from {origins}; "
            "use no other external resources (no web fonts, no remote images)."
        )
    else:
        resources = _NO_RESOURCES
    return _BASE.format(resources=resources)


WEBDEV_SYSTEM_PROMPT = webdev_system_prompt()
# The system prompt of each stack, as the arena sends it (no CDNs: the sandbox has none).
WEBDEV_SYSTEM_PROMPTS: dict[WebdevStack, str] = {
    stack: webdev_system_prompt(stack=stack) for stack in WebdevStack
}


# Models of a few hundred million parameters lose a long list of rules: asked for a counter
# app under the prompt above, SmolLM2 135M wrote prose and Gemma 3 270M repeated the rules.
# They get three short sentences instead, and their answer is started for them inside the
# code block (a prefill), so that what they write next is the document itself.
SMALL_MODEL_WEBDEV_PROMPT = (
    "You write small web apps. Answer with one complete HTML page: a <style>, the page, and "
    "a <script> that makes it work. Use no network and no alert()."
)
# Only the document's opening: prefilling up to a <body><h1> made every answer "render" (a
# heading), and Gemma then mostly wrote a title and closed the page.
WEBDEV_PREFILL = "```html\n<!DOCTYPE html>\n<html>"

# The same for the other stacks: a short prompt, and the answer started with the code
# block and the file's first line, the way `<!DOCTYPE html>` opens a page.
_SMALL_MODEL_STACKS: dict[WebdevStack, tuple[str, str]] = {
    WebdevStack.HTML: (SMALL_MODEL_WEBDEV_PROMPT, WEBDEV_PREFILL),
    WebdevStack.REACT: (
        "You write small React components in TypeScript, styled with Tailwind classes. Answer "
        "with one App.tsx file whose default export is the component. Use no network and no "
        "alert().",
        '```tsx\nimport { useState } from "react";\n\nexport default function App() {',
    ),
    WebdevStack.VUE: (
        "You write small Vue 3 single-file components. Answer with one App.vue file: a "
        "<template>, a <script setup> and a <style>. Use no network and no alert().",
        "```vue\n<template>",
    ),
    WebdevStack.PYTHON: (
        "You write short Python 3 programs that print their result. Answer with one Python "
        "script. Use only the standard library and no input().",
        "```python\n",
    ),
    WebdevStack.MERMAID: (
        "You draw diagrams in Mermaid syntax. Answer with one Mermaid diagram.",
        "```mermaid\n",
    ),
}
_SYSTEM_PROMPT_STACKS = {prompt: stack for stack, prompt in WEBDEV_SYSTEM_PROMPTS.items()}

SMALL_MODEL_WEBDEV_DIGEST = text_digest(
    *(text for stack in WebdevStack for text in _SMALL_MODEL_STACKS[stack])
)


def small_model_webdev_prompt(stack: WebdevStack) -> tuple[str, str]:
    """The short system prompt and the prefill a small model gets for `stack`."""
    return _SMALL_MODEL_STACKS[stack]


def small_model_webdev_conversation(messages: list[ChatMessage]) -> list[ChatMessage]:
    """A WebDev conversation as a small model can follow it: the short prompt of its stack in
    place of the WebDev system prompt, and its answer prefilled. Other conversations pass
    unchanged."""
    for index, message in enumerate(messages):
        stack = (
            _SYSTEM_PROMPT_STACKS.get(message["content"]) if message["role"] == "system" else None
        )
        if stack is None:
            continue
        short, prefill = _SMALL_MODEL_STACKS[stack]
        adapted: list[ChatMessage] = list(messages)
        adapted[index] = {"role": "system", "content": short}
        return [*adapted, {"role": "assistant", "content": prefill}]
    return messages
