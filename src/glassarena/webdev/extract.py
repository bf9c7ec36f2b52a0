"""Find the runnable app in a model's answer. Pure functions: text in, values out.

`extract_project` is the arena's entry: it reads the answer's fenced blocks with their file
names, detects the stack (React, Vue, Python, Mermaid, HTML), and returns an
`ExtractedProject`: an `AppProject` (files, entry) for the runtime harness, or the reason
there is none, an unsupported stack named with why. `extract_turns` extracts a conversation's
answers turn by turn, each as an edit of the app before it.

HTML answers come in a handful of shapes, handled by `extract_app`: one fenced ```html block;
separate HTML, CSS and JavaScript blocks; a bare HTML document in prose; prose with no code at
all; and code cut off by the token limit. Each shape maps to an `ExtractedApp` that says where
the document came from and whether it was truncated, so a truncated app can still be
previewed while the record shows it was incomplete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.project import AppProject

Language = Literal["html", "css", "js", "other"]
AppSource = Literal["fenced_html", "combined_blocks", "unfenced_html", "none"]

_HTML_NAMES = {"html", "htm", "xhtml", "html5", "svelte-html"}
_CSS_NAMES = {"css"}
_JS_NAMES = {"js", "javascript", "mjs", "jsx", "ecmascript", "es6"}

# A fence opens a line (up to three spaces of indent) with 3+ backticks or tildes.
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")
_DOCUMENT_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_DOCUMENT_END = re.compile(r"</html\s*>", re.IGNORECASE)
# A document outside a code block counts only where it stands on its own lines: an answer
# that says "start with <!DOCTYPE html> and end with </html>" in a sentence is prose.
_BARE_DOCUMENT_START = re.compile(
    r"^[ \t]*(?:<!doctype\s+html[^>\n]*>|<html[\s>])", re.IGNORECASE | re.MULTILINE
)
_BARE_DOCUMENT_END = re.compile(r"</html\s*>[ \t]*$", re.IGNORECASE | re.MULTILINE)
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
    line: int = 0  # the index of its opening fence among the answer's lines


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
        start = index
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
        blocks.append(CodeBlock(_language(info, code), info, code, closed, start))
    return blocks


def extract_app(answer: str) -> ExtractedApp:
    """The runnable app in `answer`: fenced HTML, combined blocks, or a bare document."""
    blocks = code_blocks(answer)
    web_blocks = [block for block in blocks if block.language != "other"]
    if web_blocks:
        return _from_blocks(web_blocks)
    bare = _BARE_DOCUMENT_START.search(answer)
    if bare is not None:
        document = answer[bare.start() :]
        end = _BARE_DOCUMENT_END.search(document)
        if end is not None:
            document = document[: end.end()].strip()
        # Markup inside it tells a page from a sentence that names the tags.
        if _MARKUP.search(document):
            if end is None:
                return ExtractedApp(
                    document.strip(),
                    "unfenced_html",
                    truncated=True,
                    reason="the HTML document has no closing </html>",
                )
            return ExtractedApp(document, "unfenced_html", truncated=False, reason=None)
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


# -- projects: an answer in any stack --------------------------------------------------------

ProjectSource = Literal["single_file", "multi_file", "none"]

# Fence languages and file extensions, by what the sandbox does with them.
_STYLE_EXTENSIONS = {"css"}
_SCRIPT_EXTENSIONS = {"tsx", "jsx", "ts", "js", "mjs"}
_LANGUAGE_EXTENSIONS = {
    **dict.fromkeys(("tsx", "typescriptreact"), "tsx"),
    **dict.fromkeys(("jsx", "javascriptreact", "react"), "jsx"),
    **dict.fromkeys(("ts", "typescript"), "ts"),
    **dict.fromkeys(_JS_NAMES - {"jsx"}, "js"),
    **dict.fromkeys(_HTML_NAMES - {"svelte-html"}, "html"),
    "css": "css",
    "vue": "vue",
    **dict.fromkeys(("python", "py", "python3", "pyodide"), "py"),
    **dict.fromkeys(("mermaid", "mmd"), "mmd"),
    "svelte": "svelte",
}
_KNOWN_EXTENSIONS = {
    *_LANGUAGE_EXTENSIONS.values(),
    "mjs",
    "htm",
    "json",
    "svg",
    "md",
    "txt",
    "cjs",
    "scss",
    "sass",
    "less",
}
# Extensions whose files belong to one language family, so a file name next to a block is
# only believed when the block's language agrees with it.
_FAMILIES = {
    "tsx": "script",
    "jsx": "script",
    "ts": "script",
    "js": "script",
    "mjs": "script",
    "cjs": "script",
    "html": "html",
    "htm": "html",
    "css": "css",
    "vue": "vue",
    "py": "py",
    "mmd": "mmd",
    "svelte": "svelte",
}
_FILE_NAME = re.compile(r"(?<![\w/.-])((?:\.{0,2}/)?[\w@-][\w@./-]*\.([A-Za-z]{1,10}))(?![\w-])")
_INFO_FILE_KEY = re.compile(r"""(?:title|file(?:name)?|name|path)\s*[=:]\s*["']?([^"'\s]+)""")
# A comment that only names the block's file: "// src/App.tsx", "<!-- index.html -->",
# "/* styles.css */", "# main.py", "// File: App.tsx".
_FILE_COMMENT = re.compile(
    r"^\s*(?://|#|/\*|<!--|%%)\s*(?:file(?:name)?\s*:\s*)?`?(?P<name>[\w@./-]+\.[A-Za-z]{1,10})`?"
    r"\s*(?:\*/|-->)?\s*$",
    re.IGNORECASE,
)
_HEADING_LINE_MAX_CHARS = 120
_JSX = re.compile(r"(?:return|=>)\s*\(?\s*<(?:[A-Za-z][\w.]*|>)|from\s+[\"']react[\"']")
_REACT_IMPORT = re.compile(
    r"""from\s+["']react(?:-dom)?(?:/[\w-]+)?["']|require\(["']react["']\)"""
)
_DEFAULT_EXPORT = re.compile(r"^\s*export\s+default\b", re.MULTILINE)
_APP_DEFINED = re.compile(r"^\s*(?:export\s+)?(?:function|const|let|class)\s+App\b", re.MULTILINE)
_VUE_SFC = re.compile(r"<template[\s>]|<script\b[^>]*\bsetup\b", re.IGNORECASE)
_MERMAID_START = re.compile(
    r"^\s*(?:%%.*\n\s*)*(?:graph|flowchart|sequenceDiagram|classDiagram|stateDiagram(?:-v2)?|"
    r"erDiagram|gantt|pie|journey|gitGraph|mindmap|timeline|quadrantChart|requirementDiagram|"
    r"C4Context|sankey-beta|xychart-beta|block-beta)\b"
)
_RELATIVE_IMPORT = re.compile(
    r"""(?:\bimport\s+(?:[^"';]*?\s+from\s+)?|\bexport\s+[^"';]*?\s+from\s+|\bimport\s*\()"""
    r"""["'](\.{1,2}/[^"']+)["']"""
)
_PYTHON_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.MULTILINE)
_RESOLVE_EXTENSIONS = ("", ".tsx", ".ts", ".jsx", ".js", ".mjs", ".vue", ".css", ".json")
# Things the browser sandbox cannot run, with the reason recorded for them.
_UNSUPPORTED_SCRIPT = (
    (re.compile(r"""from\s+["']next(?:/[\w-]+)?["']"""), "Next.js", "it needs a Next.js server"),
    (
        re.compile(
            r"""require\(\s*["'](?:express|http|https|net|fs|koa|fastify)["']\s*\)|"""
            r"""from\s+["'](?:express|node:\w+|http|fs|koa|fastify)["']|\.listen\(\s*\d"""
        ),
        "a Node.js server",
        "it runs on a server, and the sandbox runs apps in the browser only",
    ),
    (
        re.compile(r"""from\s+["']@angular/"""),
        "Angular",
        "its compiler and runtime are not among the sandbox's runtimes",
    ),
)
_UNSUPPORTED_PYTHON = re.compile(
    r"^\s*(?:from|import)\s+(flask|django|fastapi|streamlit|gradio|tornado|aiohttp|socket|"
    r"pygame|tkinter)\b",
    re.MULTILINE,
)
_PYTHON_REASONS = {
    "flask": "a Flask server",
    "django": "a Django server",
    "fastapi": "a FastAPI server",
    "streamlit": "a Streamlit app, which needs a Streamlit server",
    "gradio": "a Gradio app, which needs a Gradio server",
    "tornado": "a Tornado server",
    "aiohttp": "an aiohttp server",
    "socket": "a socket server",
    "pygame": "a PyGame window",
    "tkinter": "a Tk window",
}
_DEFAULT_NAMES = {
    "html": "index.html",
    "css": "styles.css",
    "js": "main.js",
    "mjs": "main.mjs",
    "tsx": "App.tsx",
    "jsx": "App.jsx",
    "ts": "main.ts",
    "vue": "App.vue",
    "py": "main.py",
    "mmd": "diagram.mmd",
}


@dataclass(frozen=True)
class NamedBlock:
    """A fenced block with the file it holds: `name` from its info string, the line before
    it or its first comment line, else None; `extension` is what its code is."""

    block: CodeBlock
    name: str | None
    extension: str | None


@dataclass(frozen=True)
class ExtractedProject:
    """The app found in an answer as a project in its stack, or the reason there is none.

    `stack` is the stack the answer is written in (None when it has no app in a supported
    stack); `unsupported` names a stack the sandbox does not run ("Svelte", "a Node.js
    server"), and `reason` then says why.
    """

    project: AppProject | None
    stack: WebdevStack | None
    source: ProjectSource
    truncated: bool
    reason: str | None
    unsupported: str | None = None

    @property
    def runnable(self) -> bool:
        return self.project is not None


def named_blocks(answer: str) -> list[NamedBlock]:
    """The answer's fenced blocks, each with its file name where the answer gives one."""
    lines = answer.splitlines()
    named: list[NamedBlock] = []
    for block in code_blocks(answer):
        extension = _block_extension(block)
        name = (
            _name_in_info(block.info)
            or _name_in_first_line(block.code)
            or _name_in_heading(lines, block.line)
        )
        if name is not None and not _agrees(name, extension):
            name = None
        if extension is None and name is not None:
            extension = _extension(name)
        named.append(NamedBlock(block, name, extension))
    return named


def extract_project(
    answer: str, asked: WebdevStack | None = None, previous: AppProject | None = None
) -> ExtractedProject:
    """The app in `answer`, in the stack it is written in.

    `asked` is the stack the model was asked for: where an answer holds code in more than
    one stack, that one is the app. An answer in another supported stack still runs (the
    voter judges it); its `stack` says what it was written in.
    `previous` is the app of the turn before: an answer that gives only the files it
    changes ("App.tsx" alone) edits that project; an answer that gives a whole app
    replaces it.
    """
    blocks = named_blocks(answer)
    extracted = _project_from_blocks(blocks, asked, previous) if blocks else None
    if extracted is None:
        html = extract_app(answer)
        if html.html is None:
            return ExtractedProject(None, None, "none", False, html.reason)
        extracted = ExtractedProject(
            AppProject(WebdevStack.HTML, {"index.html": html.html}, "index.html", html.truncated),
            WebdevStack.HTML,
            "single_file",
            html.truncated,
            html.reason,
        )
    return extracted


def extract_turns(answers: list[str], asked: WebdevStack | None = None) -> list[ExtractedProject]:
    """Each turn's app in a conversation, every turn extracted as an edit of the one before."""
    projects: list[ExtractedProject] = []
    previous: AppProject | None = None
    for answer in answers:
        extracted = extract_project(answer, asked, previous)
        projects.append(extracted)
        if extracted.project is not None:
            previous = extracted.project
    return projects


def _project_from_blocks(
    blocks: list[NamedBlock], asked: WebdevStack | None, previous: AppProject | None
) -> ExtractedProject | None:
    """The project in the fenced blocks; None when they hold only HTML, CSS and plain
    JavaScript, which `extract_app` combines into one document as before.

    Where the blocks hold more than one stack (a React app and a Python helper), the stack
    asked for wins, then the one that makes a page: Vue, React, a whole HTML document,
    Python, Mermaid. A server among the blocks is not run; the app beside it is, with a
    note, and an answer that is only a server is recorded as unsupported.
    """
    if any(block.extension == "svelte" for block in blocks):
        return _unsupported("Svelte", "its compiler is not among the sandbox's runtimes")
    servers: list[tuple[str, str]] = []
    for block in blocks:
        if (server := _server(block)) is not None:
            servers.append(server)
    runnable = [block for block in blocks if _server(block) is None]
    found = _stacks_present(runnable)
    if asked in found:
        order = [asked, *(stack for stack in found if stack is not asked)]
    else:
        order = list(found)
    for stack in order:
        if stack is WebdevStack.HTML:
            return _with_server_note(None, servers)
        extracted = _assemble(stack, found[stack], runnable, previous)
        return _with_server_note(extracted, servers)
    if servers:
        return _unsupported(*servers[0])
    if any(block.extension == "ts" for block in runnable):
        return _unsupported(
            "TypeScript without a page",
            "it has no React component and no HTML page to run it in",
        )
    return None


def _stacks_present(blocks: list[NamedBlock]) -> dict[WebdevStack, list[NamedBlock]]:
    """The stacks the blocks are written in, in the order a page is preferred, each with
    the blocks that make it that stack."""
    scripts = [block for block in blocks if block.extension in _SCRIPT_EXTENSIONS]
    found: dict[WebdevStack, list[NamedBlock]] = {}
    vue = [block for block in blocks if block.extension == "vue"]
    if vue:
        found[WebdevStack.VUE] = vue
    react = [
        block
        for block in scripts
        if block.extension in {"tsx", "jsx"}
        or _REACT_IMPORT.search(block.block.code)
        or _JSX.search(block.block.code)
    ]
    if react:
        found[WebdevStack.REACT] = react
    documents = [
        block
        for block in blocks
        if block.extension == "html" and _DOCUMENT_START.search(block.block.code)
    ]
    if documents:
        found[WebdevStack.HTML] = documents
    python = [block for block in blocks if block.extension == "py"]
    if python:
        found[WebdevStack.PYTHON] = python
    mermaid = [block for block in blocks if block.extension == "mmd"]
    if mermaid:
        found[WebdevStack.MERMAID] = mermaid
    # A page fragment or a plain script makes an HTML app; a stylesheet alone does not.
    if not documents and any(
        block.extension == "html" or (block.extension == "js" and block not in react)
        for block in blocks
    ):
        found.setdefault(WebdevStack.HTML, [])
    return found


def _server(block: NamedBlock) -> tuple[str, str] | None:
    """(what, why) when the block is server or desktop code the sandbox cannot run."""
    code = block.block.code
    if block.extension in _SCRIPT_EXTENSIONS:
        for pattern, what, why in _UNSUPPORTED_SCRIPT:
            if pattern.search(code):
                return what, why
    if block.extension == "py" and (match := _UNSUPPORTED_PYTHON.search(code)) is not None:
        return (
            _PYTHON_REASONS[match[1]],
            "it needs a server or a desktop window, and the sandbox runs Python in the "
            "browser only",
        )
    return None


def _with_server_note(
    extracted: ExtractedProject | None, servers: list[tuple[str, str]]
) -> ExtractedProject | None:
    if not servers or extracted is None or extracted.project is None:
        return extracted
    note = f"the answer's {servers[0][0]} code is not run: {servers[0][1]}"
    reason = f"{extracted.reason}; {note}" if extracted.reason else note
    return replace(extracted, reason=reason)


def _unsupported(stack_name: str, why: str) -> ExtractedProject:
    return ExtractedProject(
        None,
        None,
        "none",
        truncated=False,
        reason=f"not supported: {stack_name}: {why}",
        unsupported=stack_name,
    )


_EXTENSIONS_OF: dict[WebdevStack, frozenset[str]] = {
    WebdevStack.REACT: frozenset({"tsx", "jsx", "ts", "js", "mjs", "css", "json", "html"}),
    WebdevStack.VUE: frozenset({"vue", "ts", "js", "mjs", "css", "json", "html"}),
    WebdevStack.PYTHON: frozenset({"py", "css", "html", "txt", "json"}),
    WebdevStack.MERMAID: frozenset({"mmd"}),
}


def _assemble(
    stack: WebdevStack,
    core: list[NamedBlock],
    blocks: list[NamedBlock],
    previous: AppProject | None,
) -> ExtractedProject:
    """The stack's files from the blocks: named files under their names (a later block of
    the same name is the model's revision and wins), unnamed ones under the stack's usual
    names, the entry chosen among them, and relative imports checked. `core` are the
    blocks that make the answer this stack; the others join only when they are of a kind
    the stack uses (a stylesheet, a utility module).

    A follow-up answer that names only the files it changes, in a multi-file app of the
    same stack, edits `previous` (the turn before's app): its other files stay."""
    choose_entry = _ENTRIES[stack]
    wanted = _EXTENSIONS_OF[stack]
    if stack is WebdevStack.MERMAID:
        blocks = core
    edits = (
        previous is not None
        and previous.stack is stack
        and len(previous.files) > 1
        and any(block.name for block in blocks)
    )
    files: dict[str, str] = dict(previous.files) if edits and previous is not None else {}
    unclosed: list[str] = []
    unnamed: dict[str, list[NamedBlock]] = {}
    for block in blocks:
        if block.extension not in wanted:
            continue
        if block.name is None:
            unnamed.setdefault(block.extension or "", []).append(block)
            continue
        path = _normalised(block.name)
        files[path] = block.block.code
        if not block.block.closed:
            unclosed.append(path)
    for extension, group in unnamed.items():
        # Of several unnamed blocks of one kind, models show the app last and longest; the
        # others are fragments (a usage line, an install note).
        block = max(group, key=lambda candidate: len(candidate.block.code))
        default = _DEFAULT_NAMES.get(extension, f"main.{extension}")
        if default not in files and not _has_same_kind(files, extension, stack):
            files[default] = block.block.code
            if not block.block.closed:
                unclosed.append(default)
    entry = previous.entry if edits and previous is not None else choose_entry(files)
    if entry is None:
        return ExtractedProject(
            None,
            stack,
            "none",
            truncated=bool(unclosed),
            reason=f"no runnable app: the {stack.label} code has no {_ENTRY_WORDS[stack]}",
        )
    files = _with_resolved_imports(files)
    problems = [f"the code block of {path} is not closed" for path in unclosed]
    problems += _unresolved_imports(files)
    truncated = bool(unclosed)
    source: ProjectSource = "multi_file" if len(files) > 1 else "single_file"
    return ExtractedProject(
        AppProject(stack, files, entry, truncated),
        stack,
        source,
        truncated,
        _join(problems),
    )


_ENTRY_WORDS = {
    WebdevStack.REACT: "component to render (no default export and no App)",
    WebdevStack.VUE: "single-file component (no <template>)",
    WebdevStack.PYTHON: "script",
    WebdevStack.MERMAID: "diagram",
    WebdevStack.HTML: "page",
}


def _react_entry(files: dict[str, str]) -> str | None:
    components = [
        path
        for path, code in files.items()
        if _extension(path) in {"tsx", "jsx", "js", "ts", "mjs"}
        and (_DEFAULT_EXPORT.search(code) or _APP_DEFINED.search(code))
    ]
    return _preferred(components, ("App.tsx", "App.jsx", "App.js", "App.ts"))


def _vue_entry(files: dict[str, str]) -> str | None:
    components = [path for path in files if path.endswith(".vue")]
    return _preferred(components, ("App.vue",))


def _python_entry(files: dict[str, str]) -> str | None:
    scripts = [path for path in files if path.endswith(".py")]
    imported = {
        f"{module.replace('.', '/')}.py"
        for code in files.values()
        for match in _PYTHON_IMPORT.finditer(code)
        for module in (match[1] or match[2],)
    }
    # The entry is the script no other script imports (main.py, app.py when all are).
    top = [path for path in scripts if path not in imported] or scripts
    return _preferred(top, ("main.py", "app.py"))


def _mermaid_entry(files: dict[str, str]) -> str | None:
    return _preferred(list(files), ("diagram.mmd",))


def _preferred(candidates: list[str], names: tuple[str, ...]) -> str | None:
    """The candidate with a preferred base name (shallowest first), else the one the answer
    gave first."""
    for name in names:
        matching = sorted(
            (path for path in candidates if path.rsplit("/", 1)[-1] == name),
            key=lambda path: path.count("/"),
        )
        if matching:
            return matching[0]
    return candidates[0] if candidates else None


_ENTRIES: dict[WebdevStack, Callable[[dict[str, str]], str | None]] = {
    WebdevStack.REACT: _react_entry,
    WebdevStack.VUE: _vue_entry,
    WebdevStack.PYTHON: _python_entry,
    WebdevStack.MERMAID: _mermaid_entry,
}


def _has_same_kind(files: dict[str, str], extension: str, stack: WebdevStack) -> bool:
    """Whether a named file already plays the part an unnamed block would (a named
    App.tsx makes an unnamed tsx block a fragment, not a second app)."""
    if extension == "css":
        return False
    if extension in _SCRIPT_EXTENSIONS and stack is WebdevStack.REACT:
        return any(_extension(path) in _SCRIPT_EXTENSIONS for path in files)
    return any(_extension(path) == extension for path in files)


def _with_resolved_imports(files: dict[str, str]) -> dict[str, str]:
    """The files, plus an alias for each relative import the answer names differently
    ("./components/Button" given as "Button.tsx"): when exactly one file has the imported
    base name, it is also stored under the imported path, so the harness resolves it."""
    resolved = dict(files)
    for path, code in files.items():
        for specifier in _relative_imports(path, code):
            target = _resolve(specifier, path, resolved)
            if target is not None:
                continue
            base = specifier.rsplit("/", 1)[-1]
            matches = [
                candidate
                for candidate in files
                if candidate.rsplit("/", 1)[-1] == base
                or candidate.rsplit("/", 1)[-1].rsplit(".", 1)[0] == base
            ]
            if len(matches) == 1:
                match = matches[0]
                alias = _joined(path, specifier)
                if "." not in alias.rsplit("/", 1)[-1]:
                    alias += "." + (_extension(match) or "")
                resolved.setdefault(alias, files[match])
    return resolved


def _unresolved_imports(files: dict[str, str]) -> list[str]:
    problems = []
    for path, code in files.items():
        for specifier in _relative_imports(path, code):
            if _resolve(specifier, path, files) is None:
                problems.append(f"{path} imports {specifier}, which the answer does not include")
    return problems


def _relative_imports(path: str, code: str) -> list[str]:
    if _extension(path) not in _SCRIPT_EXTENSIONS | {"vue"}:
        return []
    return [match[1] for match in _RELATIVE_IMPORT.finditer(code)]


def _resolve(specifier: str, importer: str, files: Mapping[str, str]) -> str | None:
    """The project file a relative import names, as bundlers resolve it: the path itself,
    with a script, component or stylesheet extension, or its directory's index file."""
    joined = _joined(importer, specifier)
    for candidate in (
        *(joined + extension for extension in _RESOLVE_EXTENSIONS),
        *(f"{joined}/index{extension}" for extension in (".tsx", ".ts", ".jsx", ".js")),
    ):
        if candidate in files:
            return candidate
    return None


def _joined(importer: str, specifier: str) -> str:
    parts = importer.split("/")[:-1]
    for part in specifier.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in {"", "."}:
            parts.append(part)
    return "/".join(parts)


def _normalised(name: str) -> str:
    return _joined("", name.replace("\\", "/").lstrip("/"))


def _block_extension(block: CodeBlock) -> str | None:
    """What a block's code is, from its fence language, else from what the code looks like."""
    first = block.info.split()[0].lower().lstrip(".{").rstrip("}") if block.info else ""
    language = first.split(":", 1)[0]
    if language in _LANGUAGE_EXTENSIONS:
        extension = _LANGUAGE_EXTENSIONS[language]
        if extension in {"js", "ts"} and _JSX.search(block.code):
            return "jsx" if extension == "js" else "tsx"
        return extension
    named = _extension(language) if "." in language else None
    if named in _FAMILIES:
        return named
    code = block.code
    if _VUE_SFC.search(code) and not _DOCUMENT_START.search(code):
        return "vue"
    if _MERMAID_START.match(code):
        return "mmd"
    if block.language == "html":
        return "html"
    return None


def _name_in_info(info: str) -> str | None:
    """A file name in the fence's info string: "tsx App.tsx", "tsx title="App.tsx"",
    "tsx:src/App.tsx", "App.tsx"."""
    keyed = _INFO_FILE_KEY.search(info)
    if keyed is not None and _extension(keyed[1]) in _KNOWN_EXTENSIONS:
        return keyed[1]
    for token in re.split(r"[\s:,]+", info):
        token = token.strip("`'\"{}()[]")
        if "." in token and _extension(token) in _KNOWN_EXTENSIONS and "=" not in token:
            return token
    return None


def _name_in_first_line(code: str) -> str | None:
    first = code.split("\n", 1)[0]
    match = _FILE_COMMENT.match(first)
    if match is None or _extension(match["name"]) not in _KNOWN_EXTENSIONS:
        return None
    return match["name"]


def _name_in_heading(lines: list[str], fence_index: int) -> str | None:
    """The file name on the line before the fence ("**index.html**", "### `src/App.tsx`",
    "Create `styles.css`:"), when that short line names exactly one file."""
    index = fence_index - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0 or fence_index - index > 2:
        return None
    line = lines[index]
    if len(line) > _HEADING_LINE_MAX_CHARS or _FENCE_OPEN.match(line):
        return None
    names = {
        match[1].lstrip("./") if match[1].startswith("./") else match[1]
        for match in _FILE_NAME.finditer(line)
        if match[2].lower() in _KNOWN_EXTENSIONS
    }
    return names.pop() if len(names) == 1 else None


def _extension(name: str) -> str | None:
    tail = name.rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else None


def _agrees(name: str, extension: str | None) -> bool:
    """Whether a file name fits the block it was found next to."""
    named = _extension(name)
    if named is None or named not in _KNOWN_EXTENSIONS:
        return False
    if extension is None:
        return True
    return _FAMILIES.get(named, named) == _FAMILIES.get(extension, extension)
