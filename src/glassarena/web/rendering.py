"""Model output -> safe HTML.

Answers come from models we do not control, so they are treated as hostile: Markdown is
rendered with raw HTML disabled, then the result goes through an allow-list sanitiser.
Either step alone would keep `<script>` out; both together also keep out event-handler
attributes, `javascript:` URLs and anything a future parser bug lets through.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

CODE_CSS_CLASS = "code"
DARK_CODE_STYLE = "github-dark"

_ALLOWED_TAGS = {
    "p", "br", "hr", "blockquote", "pre", "code", "span", "div",
    "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "strong", "em", "s", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "code": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "ol": {"start"},
}
_code_formatter = HtmlFormatter(nowrap=True, classprefix="")


def _highlight(code: str, language: str, _attributes: str) -> str:
    try:
        lexer = get_lexer_by_name(language.strip()) if language.strip() else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, _code_formatter) if lexer is not None else escape(code)
    # A leading "<pre" tells markdown-it to use this block as is.
    return f'<pre class="{CODE_CSS_CLASS}"><code>{body}</code></pre>'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    return parser.enable(["table", "strikethrough"])


@lru_cache(maxsize=1)
def _sanitiser() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow ugc",
    )


def render_markdown(text: str) -> str:
    """Render untrusted Markdown to HTML that cannot run script or load anything."""
    return _sanitiser().clean(_markdown().render(text))


def code_stylesheet() -> str:
    """The Pygments colours for highlighted code, scoped under the code block class: a light
    style, and a dark one where the page is dark (the system's setting unless the theme
    button chose light, or the button chose dark; see static/js/theme.js)."""
    light: str = HtmlFormatter(style="friendly").get_style_defs(f".{CODE_CSS_CLASS}")
    dark = HtmlFormatter(style=DARK_CODE_STYLE)
    chosen: str = dark.get_style_defs(f':root[data-theme="dark"] .{CODE_CSS_CLASS}')
    system: str = dark.get_style_defs(f':root:not([data-theme="light"]) .{CODE_CSS_CLASS}')
    return f"{light}\n{chosen}\n@media (prefers-color-scheme: dark) {{\n{system}\n}}\n"
