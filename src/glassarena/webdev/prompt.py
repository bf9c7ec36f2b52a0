"""The system prompt that asks a model for one self-contained web app."""

from __future__ import annotations

from collections.abc import Sequence

from glassarena.providers.base import ChatMessage
from glassarena.providers.prompt_formats import text_digest

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


def webdev_system_prompt(allowed_cdns: Sequence[str] = ()) -> str:
    """The system prompt for a WebDev battle; `allowed_cdns` are origins the sandbox permits."""
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

SMALL_MODEL_WEBDEV_DIGEST = text_digest(SMALL_MODEL_WEBDEV_PROMPT, WEBDEV_PREFILL)


def small_model_webdev_conversation(messages: list[ChatMessage]) -> list[ChatMessage]:
    """A WebDev conversation as a small model can follow it: the short prompt in place of the
    WebDev system prompt, and its answer prefilled. Other conversations pass unchanged."""
    webdev: ChatMessage = {"role": "system", "content": WEBDEV_SYSTEM_PROMPT}
    if webdev not in messages:
        return messages
    short: ChatMessage = {"role": "system", "content": SMALL_MODEL_WEBDEV_PROMPT}
    prefill: ChatMessage = {"role": "assistant", "content": WEBDEV_PREFILL}
    return [short if message == webdev else message for message in messages] + [prefill]
