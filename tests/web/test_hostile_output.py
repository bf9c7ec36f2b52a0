"""Hostile model output does nothing in the arena page, in real Chromium.

The answers below try every usual way to run script or restyle the page. They are served by
the OpenAI-protocol test double; the test then checks that no script ran, no dialog opened,
the title and the page's look are unchanged, and nothing active was put in the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from arena_server import openai_contestant, running_arena, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser

HOSTILE_ANSWER = """\
Here is my answer.

<script>window.pwned = "script"; document.title = "pwned"</script>
<img src=x onerror="window.pwned = 'img'; document.title = 'pwned'">
<a href="javascript:window.pwned='anchor'" id="raw-link">raw link</a>
[markdown link](javascript:window.pwned='markdown')
[data link](data:text/html,<script>parent.pwned=1</script>)
<iframe src="javascript:parent.pwned='iframe'"></iframe>
<style>body { display: none !important } .pane { visibility: hidden }</style>
<svg onload="window.pwned = 'svg'"><circle r="5"/></svg>
<details open ontoggle="window.pwned = 'details'"><summary>x</summary></details>
<form action="javascript:window.pwned='form'"><button id="evil-button">go</button></form>
<object data="javascript:window.pwned='object'"></object>
<b onmouseover="window.pwned = 'hover'" id="hover-me">hover me</b>

```html
<script>alert("only shown as code")</script>
```
"""


def test_hostile_answers_are_inert(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    script = {
        "evil-a": ScriptedModel(answer=HOSTILE_ANSWER),
        "evil-b": ScriptedModel(answer=HOSTILE_ANSWER.replace("Here is", "This is")),
    }
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("contender-a", double.openai_base_url, "evil-a"),
                openai_contestant("contender-b", double.openai_base_url, "evil-b"),
            ],
        )
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(server.url + "/")
            title = page.title()
            page.fill("textarea#prompt", "Say something")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])", timeout=30_000)

            answers = page.locator(".message.assistant .message-body")
            assert answers.count() == 2
            texts = answers.all_inner_texts()
            assert all("is my answer." in text for text in texts)
            active = page.eval_on_selector_all(
                ".conversation *",
                """elements => elements.filter(element =>
                    ["SCRIPT", "IMG", "IFRAME", "STYLE", "SVG", "FORM", "OBJECT", "DETAILS"]
                        .includes(element.tagName.toUpperCase())
                    || [...element.attributes].some(attribute =>
                        attribute.name.startsWith("on") || attribute.name === "style"
                        || /^\\s*(javascript|data):/i.test(attribute.value))
                ).map(element => element.outerHTML)""",
            )
            assert active == []
            # Whatever text survived is clickable text at most; poke it anyway.
            for selector in ("text=markdown link", "text=raw link", "text=hover me"):
                if page.locator(selector).count():
                    page.locator(selector).first.click()
                    page.locator(selector).first.hover()

            assert page.evaluate("window.pwned") is None
            assert page.title() == title
            assert dialogs == []
            assert page.evaluate("getComputedStyle(document.body).display") != "none"
            assert page.locator(".pane").first.is_visible()
            # The code block shows the script as text.
            assert all('alert("only shown as code")' in text for text in texts)
            assert answers.locator("pre.code").count() == 2
            page.close()
