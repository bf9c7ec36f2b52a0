"""Model output rendered as Markdown can never carry script, handlers or foreign content."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from glassarena.web.rendering import code_stylesheet, render_markdown

HOSTILE = [
    "<script>window.pwned = 1</script>",
    '<img src=x onerror="window.pwned = 1">',
    '<a href="javascript:window.pwned=1">click</a>',
    "[click](javascript:window.pwned=1)",
    "[click](JaVaScRiPt:window.pwned=1)",
    "[click](data:text/html,<script>window.pwned=1</script>)",
    '<iframe src="https://example.org"></iframe>',
    "<style>body { display: none }</style>",
    '<svg onload="window.pwned=1"></svg>',
    '<div style="background:url(javascript:x)">x</div>',
    "![x](https://example.org/tracker.png)",
    '<form action="https://example.org"><input name=q></form>',
]


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


SAFE_TAGS = {"p", "a", "code", "pre", "span", "em", "strong", "br"}


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markup_is_inert(text: str) -> None:
    parser = _Elements()
    parser.feed(render_markdown(text))
    for tag, attributes in parser.elements:
        assert tag in SAFE_TAGS, (text, tag)
        assert not any(name.startswith("on") or name == "style" for name in attributes), text
        href = (attributes.get("href") or "").strip().lower()
        assert href == "" or href.startswith(("http://", "https://", "mailto:")), (text, href)


def test_markdown_features_survive_sanitising() -> None:
    html = render_markdown(
        "# Title\n\nSome **bold**, *em*, ~~gone~~ and `code`.\n\n"
        "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[docs](https://example.org/docs)\n\n```python\ndef f():\n    return 1\n```\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<s>gone</s>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html and "<table>" in html
    assert 'href="https://example.org/docs"' in html and "nofollow" in html
    assert '<pre class="code"><code>' in html
    assert '<span class="k">def</span>' in html  # highlighted by Pygments, CSS classes only


def test_unknown_code_language_is_escaped_not_highlighted() -> None:
    html = render_markdown("```nosuchlanguage\n<b>x</b>\n```")
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_code_stylesheet_is_scoped_to_code_blocks() -> None:
    css = code_stylesheet()
    assert ".code .k" in css
