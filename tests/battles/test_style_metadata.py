"""Style metadata counted as LMArena counts it, checked against counts made by hand."""

from __future__ import annotations

from glassarena.battles.style import (
    code_counts,
    conversation_style,
    count_tokens,
    markdown_counts,
    message_text,
    strip_code_blocks,
)

ANSWER = """# Title
Intro with **bold** and __also bold__ and **two** words.
## Section
- item one
* item two
+ item three
  - nested item
1. first
2. second
10. tenth
### Sub
#### h4
##### h5
###### h6
####### seven hashes is no header
#no space is no header
```python
# a comment, not a header
- not a list item
1. not an ordered item
**not bold**
```
Trailing **bold** here.
"""


def test_markdown_counts_match_hand_counts_with_code_blocks_stripped_first() -> None:
    assert markdown_counts(ANSWER) == {
        "header_count": {"h1": 1, "h2": 1, "h3": 1, "h4": 1, "h5": 1, "h6": 1},
        "list_count": {"ordered": 3, "unordered": 4},
        "bold_count": {"**": 3, "__": 1},
    }


def test_without_stripping_the_code_block_would_count_more() -> None:
    code_only = "```\n# comment\n- item\n**loud**\n```"
    assert strip_code_blocks(code_only) == "``````"
    assert markdown_counts(code_only) == {
        "header_count": dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), 0),
        "list_count": {"ordered": 0, "unordered": 0},
        "bold_count": {"**": 0, "__": 0},
    }


def test_code_blocks_and_lines_of_code() -> None:
    assert code_counts(ANSWER) == {"code_blocks": 1, "code_lines": 4}
    two_blocks = "text\n```js\nlet a = `x`;\n\nlet b = 2;\n```\n```html\n<p>\n"  # second unclosed
    assert code_counts(two_blocks) == {"code_blocks": 2, "code_lines": 3}


def test_tokens_are_cl100k_base_counts() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("") == 0
    # Special tokens are counted, not refused, as LMArena's allowed_special="all" does.
    assert count_tokens("<|endoftext|>") == 1


def test_message_content_may_be_a_list_of_parts() -> None:
    assert message_text([{"type": "text", "text": "a"}, {"type": "image", "text": None}]) == "a\n"
    assert message_text(None) == ""


def test_conversation_style_sums_assistant_turns_only() -> None:
    conversation_a = [
        {"role": "user", "content": "# not counted, the user wrote it"},
        {"role": "assistant", "content": "Hello, world!"},
        {"role": "user", "content": "again"},
        {"role": "assistant", "content": "# Head\n- one\n- two"},
    ]
    conversation_b = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "text", "text": "**Hello**, world!"}]},
    ]
    style = conversation_style(conversation_a, conversation_b)
    assert style["sum_assistant_a_tokens"] == 4 + count_tokens("# Head\n- one\n- two")
    assert style["header_count_a"]["h1"] == 1
    assert style["list_count_a"] == {"ordered": 0, "unordered": 2}
    assert style["bold_count_b"] == {"**": 1, "__": 0}
    assert style["code_block_count_b"] == 0
    assert set(style) == {
        f"{name}_{side}"
        for side in "ab"
        for name in (
            "header_count",
            "list_count",
            "bold_count",
            "code_block_count",
            "code_line_count",
        )
    } | {"sum_assistant_a_tokens", "sum_assistant_b_tokens"}
