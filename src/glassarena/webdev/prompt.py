"""The system prompt that asks a model for one self-contained web app."""

from __future__ import annotations

from collections.abc import Sequence

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
