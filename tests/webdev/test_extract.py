"""App extraction on the answer shapes models really produce."""

from __future__ import annotations

from glassarena.webdev.extract import code_blocks, code_style, extract_app

ONE_FENCED_BLOCK = """\
Here's a simple counter app:

```html
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Counter</title>
  <style>button { font-size: 2rem; }</style>
</head>
<body>
  <button id="inc">0</button>
  <script>
    const b = document.getElementById('inc');
    b.onclick = () => b.textContent = Number(b.textContent) + 1;
  </script>
</body>
</html>
```

Click the button to count. You can change the style in the `<style>` block.
"""

SEVERAL_BLOCKS = """\
I'll split this into three files.

**index.html**
```html
<!DOCTYPE html>
<html>
<head>
  <title>Todo</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <ul id="list"></ul>
  <script src="app.js"></script>
</body>
</html>
```

**style.css**
```css
#list { color: navy; }
.done::after { content: "</style>"; }
```

**app.js**
```javascript
const list = document.getElementById('list');
list.innerHTML = '<li>first</li>';
const closing = "</script>";
```
"""

UNFENCED_HTML = """\
Sure! Save this as index.html:

<!DOCTYPE html>
<html>
<body>
<canvas id="c" width="200" height="200"></canvas>
<script>document.getElementById('c').getContext('2d').fillRect(0, 0, 50, 50);</script>
</body>
</html>

That draws a square. Let me know if you want changes!
"""

PROSE_ONLY = """\
I can't build a working bank login page that collects real credentials, but I can explain
how authentication flows work: the browser sends the password over TLS, the server compares
a salted hash, and a session cookie is issued.
"""

TRUNCATED = """\
```html
<!DOCTYPE html>
<html>
<head><style>body { background: #222; color: white; }</style></head>
<body>
<h1>Snake</h1>
<canvas id="game"></canvas>
<script>
const ctx = document.getElementById('game').getContext('2d');
function step() {
  ctx.fillStyle = 'lime';
  ctx.fillRect(10, 10, 10, 10);
"""


def test_one_fenced_html_block_is_the_app() -> None:
    app = extract_app(ONE_FENCED_BLOCK)
    assert app.runnable
    assert app.source == "fenced_html"
    assert not app.truncated and app.reason is None
    assert app.html is not None
    assert app.html.startswith("<!DOCTYPE html>") and app.html.endswith("</html>")
    assert "Click the button" not in app.html


def test_several_blocks_are_combined_into_one_document() -> None:
    app = extract_app(SEVERAL_BLOCKS)
    assert app.source == "combined_blocks"
    assert not app.truncated
    html = app.html
    assert html is not None
    # The sibling-file references are replaced by the inlined code.
    assert 'href="style.css"' not in html and 'src="app.js"' not in html
    head, body = html.split("</head>")
    assert "#list { color: navy; }" in head
    assert "const list" in body
    assert body.index("const list") < body.index("</body>")
    # Closing tags inside the code cannot end the inlined elements early.
    assert html.count("</style>") == 1 and html.count("</script>") == 1
    assert '"<\\/script>"' in html


def test_unfenced_html_in_prose_is_found() -> None:
    app = extract_app(UNFENCED_HTML)
    assert app.source == "unfenced_html"
    assert not app.truncated
    assert app.html is not None
    assert app.html.startswith("<!DOCTYPE html>") and app.html.endswith("</html>")
    assert "Let me know" not in app.html


def test_prose_without_code_has_no_app_and_says_why() -> None:
    app = extract_app(PROSE_ONLY)
    assert not app.runnable
    assert app.source == "none"
    assert app.reason == "no runnable app: the answer has no code"


def test_code_in_another_language_is_not_an_app() -> None:
    app = extract_app("Run this:\n```python\nprint('hello')\n```\n")
    assert not app.runnable
    assert app.reason is not None and "python" in app.reason


def test_truncated_code_is_flagged_but_still_previewable() -> None:
    app = extract_app(TRUNCATED)
    assert app.runnable and app.truncated
    assert app.source == "fenced_html"
    assert app.reason is not None
    assert "not closed" in app.reason and "</html>" in app.reason


def test_unfenced_document_without_end_is_truncated() -> None:
    app = extract_app("Here:\n<html><body><p>cut off")
    assert app.runnable and app.truncated
    assert app.reason == "the HTML document has no closing </html>"


def test_the_longest_full_document_wins_over_a_fragment() -> None:
    answer = (
        "First the markup:\n```html\n<div id='app'></div>\n```\n"
        "And the whole page:\n```html\n<!DOCTYPE html>\n<html><body><div id='app'>full</div>"
        "</body></html>\n```\n"
    )
    app = extract_app(answer)
    assert app.html is not None and "full" in app.html


def test_html_fragment_is_wrapped_in_a_document() -> None:
    app = extract_app("```html\n<button>Hi</button>\n```")
    assert app.html is not None
    assert app.html.startswith("<!DOCTYPE html>") and "<button>Hi</button>" in app.html


def test_unlabelled_block_with_markup_counts_as_html() -> None:
    app = extract_app("```\n<!doctype html><html><body>x</body></html>\n```")
    assert app.source == "fenced_html"


def test_script_only_answer_gets_a_skeleton_document() -> None:
    app = extract_app("```js\ndocument.body.textContent = 'hi';\n```")
    assert app.source == "combined_blocks"
    assert app.html is not None and "<body>" in app.html and "textContent" in app.html


def test_tilde_fences_and_longer_fences() -> None:
    answer = "~~~html\n<p>a</p>\n~~~\n\n````css\np { color: red; }\n````\n"
    blocks = code_blocks(answer)
    assert [(block.language, block.closed) for block in blocks] == [("html", True), ("css", True)]


def test_code_style_counts_lines_and_blocks() -> None:
    assert code_style(SEVERAL_BLOCKS).as_features() == {"lines_of_code": 16, "code_blocks": 3}
    assert code_style(UNFENCED_HTML).as_features() == {"lines_of_code": 7, "code_blocks": 1}
    assert code_style(PROSE_ONLY).as_features() == {"lines_of_code": 0, "code_blocks": 0}


# Seen with the embedded models: prose that names the tags, which used to be extracted as
# a one-line app that "rendered" and so counted as an app that runs.
PROSE_NAMING_THE_TAGS = """\
A web page is written in HTML. Every page should start with <!DOCTYPE html> and end with </html>, \
and the content goes in between. I hope this helps you build your counter!
"""


def test_prose_that_names_the_document_tags_is_not_an_app() -> None:
    app = extract_app(PROSE_NAMING_THE_TAGS)
    assert not app.runnable, app.html
    assert app.reason == "no runnable app: the answer has no code"
    assert code_style(PROSE_NAMING_THE_TAGS).as_features() == {
        "lines_of_code": 0,
        "code_blocks": 0,
    }


def test_a_sentence_starting_with_the_doctype_is_not_an_app() -> None:
    answer = "<!DOCTYPE html> tells the browser the page is HTML5, and </html> closes it.\n"
    assert not extract_app(answer).runnable
