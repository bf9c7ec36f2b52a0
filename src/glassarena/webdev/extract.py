"""Find the runnable web app in a model's answer. Pure functions: text in, values out.

Answers come in a handful of shapes: one fenced ```html block; separate HTML, CSS and
JavaScript blocks; a bare HTML document in prose; prose with no code at all; and code cut
off by the token limit. Each shape maps to an `ExtractedApp` that says where the document
came from and whether it was truncated, so a truncated app can still be previewed while
the record shows it was incomplete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Language = Literal["html", "css", "js", "other"]
AppSource = Literal["fenced_html", "combined_blocks", "unfenced_html", "none"]

_HTML_NAMES = {"html", "htm", "xhtml", "html5", "svelte-html"}
_CSS_NAMES = {"css"}
_JS_NAMES = {"js", "javascript", "mjs", "jsx", "ecmascript", "es6"}

# A fence opens a line (up to three spaces of indent) with 3+ backticks or tildes.
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")
_DOCUMENT_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_DOCUMENT_END = re.compile(r"</html\s*>", re.IGNORECASE)
_MARKUP = re.compile(r"<(?:body|div|canvas|main|section|button|svg|h1|p|ul|table)[\s>/]", re.I)
_HEAD_CLOSE = re.compile(r"</head\s*>", re.IGNORECASE)
_HEAD_OPEN = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)
# References to sibling files ("style.css", "./app.js") that the combined document inlines.
_LOCAL_STYLESHEET = re.compile(
    r"<link\b[^>]*\bhref\s*=\s*[\"'](?![a-z][a-z0-9+.-]*:|//)[^\"']+\.css[\"'][^>]*>",
    re.IGNORECASE,
)
_LOCAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"'](?![a-z][a-z0-9+.-]*:|//)[^\"']+\.m?js[\"'][^>]*>\s*</script\s*>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block; `closed` is False when the answer ended inside it."""

    language: Language
    info: str
    code: str
    closed: bool


@dataclass(frozen=True)
class ExtractedApp:
    """The app found in an answer, or the reason there is none.

    `html` is the document to preview (None when there is nothing to run). `truncated`
    records that the answer was cut off; the document may still render.
    """

    html: str | None
    source: AppSource
    truncated: bool
    reason: str | None

    @property
    def runnable(self) -> bool:
        return self.html is not None


@dataclass(frozen=True)
class CodeStyle:
    """Code-style features of one answer, for style control in the WebDev category."""

    lines_of_code: int
    code_blocks: int

    def as_features(self) -> dict[str, int]:
        return {"lines_of_code": self.lines_of_code, "code_blocks": self.code_blocks}


def code_blocks(answer: str) -> list[CodeBlock]:
    """The fenced code blocks of a Markdown answer, in order; an unclosed last one included."""
    blocks: list[CodeBlock] = []
    lines = answer.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if opening is None or ("`" in opening["info"] and opening["fence"][0] == "`"):
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        index += 1
        closed = False
        while index < len(lines):
            if closing.match(lines[index]):
                closed = True
                index += 1
                break
            body.append(lines[index])
            index += 1
        code = "\n".join(body)
        info = opening["info"].strip()
        blocks.append(CodeBlock(_language(info, code), info, code, closed))
    return blocks


def extract_app(answer: str) -> ExtractedApp:
    """The runnable app in `answer`: fenced HTML, combined blocks, or a bare document."""
    blocks = code_blocks(answer)
    web_blocks = [block for block in blocks if block.language != "other"]
    if web_blocks:
        return _from_blocks(web_blocks)
    bare = _DOCUMENT_START.search(answer)
    if bare is not None:
        document = answer[bare.start() :]
        end = _DOCUMENT_END.search(document)
        if end is None:
            return ExtractedApp(
                document.strip(),
                "unfenced_html",
                truncated=True,
                reason="the HTML document has no closing </html>",
            )
        return ExtractedApp(document[: end.end()], "unfenced_html", truncated=False, reason=None)
    if blocks:
        languages = sorted(
            {block.info.split()[0] if block.info else "unlabelled" for block in blocks}
        )
        return ExtractedApp(
            None,
            "none",
            truncated=False,
            reason=f"no runnable app: the code blocks are not HTML, CSS or JavaScript "
            f"({', '.join(languages)})",
        )
    return ExtractedApp(
        None, "none", truncated=False, reason="no runnable app: the answer has no code"
    )


def code_style(answer: str) -> CodeStyle:
    """Lines of code (non-blank) and fenced block count; a bare document counts as one block."""
    blocks = code_blocks(answer)
    if blocks:
        lines = sum(_non_blank_lines(block.code) for block in blocks)
        return CodeStyle(lines_of_code=lines, code_blocks=len(blocks))
    app = extract_app(answer)
    if app.html is not None:
        return CodeStyle(lines_of_code=_non_blank_lines(app.html), code_blocks=1)
    return CodeStyle(lines_of_code=0, code_blocks=0)


def _from_blocks(blocks: list[CodeBlock]) -> ExtractedApp:
    html_blocks = [block for block in blocks if block.language == "html"]
    css = [block for block in blocks if block.language == "css"]
    scripts = [block for block in blocks if block.language == "js"]
    documents = [block for block in html_blocks if _DOCUMENT_START.search(block.code)]
    # Models often show a fragment first and the full document later; the longest wins.
    base = max(documents or html_blocks, key=lambda block: len(block.code), default=None)
    problems: list[str] = []
    for block in (base, *css, *scripts):
        if block is not None and not block.closed:
            problems.append(f"the {block.language} code block is not closed")
    if base is not None and documents and not _DOCUMENT_END.search(base.code):
        problems.append("the HTML document has no closing </html>")
    if base is None:
        document = _wrap_fragment("")
    elif base in documents:
        document = base.code
    else:
        document = _wrap_fragment(base.code)
    if not css and not scripts:
        return ExtractedApp(
            document, "fenced_html", truncated=bool(problems), reason=_join(problems)
        )
    document = _LOCAL_STYLESHEET.sub("", document)
    document = _LOCAL_SCRIPT.sub("", document)
    if css:
        style = "\n".join(_inline_safe(block.code, "style") for block in css)
        document = _insert_in_head(document, f"<style>\n{style}\n</style>")
    if scripts:
        script = "\n".join(_inline_safe(block.code, "script") for block in scripts)
        document = _insert_before_body_end(document, f"<script>\n{script}\n</script>")
    return ExtractedApp(
        document, "combined_blocks", truncated=bool(problems), reason=_join(problems)
    )


def _language(info: str, code: str) -> Language:
    name = info.split()[0].lower().lstrip(".{") if info else ""
    if name in _HTML_NAMES:
        return "html"
    if name in _CSS_NAMES:
        return "css"
    if name in _JS_NAMES:
        return "js"
    if not name and (_DOCUMENT_START.search(code) or _MARKUP.search(code)):
        return "html"
    return "other"


def _wrap_fragment(fragment: str) -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n'
        f"{fragment}\n</body>\n</html>"
    )


def _inline_safe(code: str, element: str) -> str:
    # A literal "</script" inside inlined code would end the element early; "<\/" means the
    # same inside JavaScript strings and regexes, and is a valid escape in CSS.
    return re.sub(rf"</({element})", r"<\\/\1", code, flags=re.IGNORECASE)


def _insert_in_head(document: str, markup: str) -> str:
    head_close = _HEAD_CLOSE.search(document)
    if head_close is not None:
        return f"{document[: head_close.start()]}{markup}\n{document[head_close.start() :]}"
    head_open = _HEAD_OPEN.search(document)
    if head_open is not None:
        return f"{document[: head_open.end()]}\n{markup}{document[head_open.end() :]}"
    return f"{markup}\n{document}"


def _insert_before_body_end(document: str, markup: str) -> str:
    body_closes = list(_BODY_CLOSE.finditer(document))
    if body_closes:
        position = body_closes[-1].start()
        return f"{document[:position]}{markup}\n{document[position:]}"
    html_close = _DOCUMENT_END.search(document)
    if html_close is not None:
        return f"{document[: html_close.start()]}{markup}\n{document[html_close.start() :]}"
    return f"{document}\n{markup}"


def _non_blank_lines(code: str) -> int:
    return sum(1 for line in code.splitlines() if line.strip())


def _join(problems: list[str]) -> str | None:
    return "; ".join(problems) if problems else None
