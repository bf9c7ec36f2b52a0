"""The arena's vocabulary: every word stored in the database or sent as JSON, spelled once.

Each is a `StrEnum`, so a member *is* its string: stored values, JSON and comparisons with
plain strings stay exactly as before. The database refuses any other value (CHECK
constraints, migration 0004).

This module sits below every layer (it imports nothing of glassarena): the rating core's
adapters (`battles/`), storage, the application logic and the web layer all read the same
words from here. Battle kinds carry their properties (is it answered live, does it need a
system prompt, does it show WebDev apps, which leaderboard category does it count in), so
adding a kind means adding one member and one `_KIND_TRAITS` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

# The two sides of a battle: "a" is model_a's answer, "b" model_b's.
Side = Literal["a", "b"]
SIDES: tuple[Side, Side] = ("a", "b")


class Winner(StrEnum):
    """The verdict of a battle, spelled as in LMArena's cleaned battle files."""

    MODEL_A = "model_a"
    MODEL_B = "model_b"
    TIE = "tie"
    BOTH_BAD = "tie (bothbad)"


class VoteChoice(StrEnum):
    """What the vote buttons send (`POST /api/battles/{id}/vote`), and the verdict each means."""

    A = "a"
    B = "b"
    TIE = "tie"
    BOTH_BAD = "both_bad"

    @property
    def winner(self) -> Winner:
        return _CHOICE_WINNER[self]


_CHOICE_WINNER = {
    VoteChoice.A: Winner.MODEL_A,
    VoteChoice.B: Winner.MODEL_B,
    VoteChoice.TIE: Winner.TIE,
    VoteChoice.BOTH_BAD: Winner.BOTH_BAD,
}


class BattleMode(StrEnum):
    ANONYMOUS = "anonymous"  # the arena picks two models and hides them until the vote
    NAMED = "named"  # the user picks two models by name
    SINGLE = "single"  # the user chats with one model

    @property
    def models(self) -> int:
        """How many models answer in this mode."""
        return 1 if self is BattleMode.SINGLE else 2


class BattleStatus(StrEnum):
    GENERATING = "generating"  # a turn's answers are being written
    COMPLETE = "complete"  # every answer of the last turn is done: open for a vote or a turn
    FAILED = "failed"  # an answer failed (or its process died): closed, never votable
    VOTED = "voted"  # closed by its one vote


class AnswerStatus(StrEnum):
    GENERATING = "generating"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class KindTraits:
    live: bool  # answered by a model now (not replayed from recorded answers)
    system_prompt: bool  # models are told what to build before the conversation (WebDev)
    webdev: bool  # answers are web apps: previewed, execution-checked, code style counted
    category: str  # the leaderboard its counted votes enter
    category_label: str  # that leaderboard's title


class BattleKind(StrEnum):
    TEXT = "text"
    WEBDEV = "webdev"
    RECORDED = "recorded"

    @property
    def traits(self) -> KindTraits:
        return _KIND_TRAITS[self]

    @property
    def live(self) -> bool:
        return self.traits.live

    @property
    def webdev(self) -> bool:
        return self.traits.webdev

    @property
    def category(self) -> str:
        return self.traits.category

    @classmethod
    def live_kinds(cls) -> tuple[BattleKind, ...]:
        return tuple(kind for kind in cls if kind.live)

    @classmethod
    def replayed_kinds(cls) -> tuple[BattleKind, ...]:
        return tuple(kind for kind in cls if not kind.live)


_KIND_TRAITS = {
    BattleKind.TEXT: KindTraits(
        live=True, system_prompt=False, webdev=False, category="text", category_label="Text"
    ),
    BattleKind.WEBDEV: KindTraits(
        live=True, system_prompt=True, webdev=True, category="webdev", category_label="WebDev"
    ),
    BattleKind.RECORDED: KindTraits(
        live=False,
        system_prompt=False,
        webdev=False,
        category="recorded",
        category_label="Recorded answers (LLMFAO)",
    ),
}


class PromptCategory(StrEnum):
    """A prompt category (battles/prompt_categories.py tags each battle's prompt), and the
    text board of the battles in it."""

    CODING = "coding"
    MATH = "math"
    CREATIVE_WRITING = "creative_writing"
    INSTRUCTION_FOLLOWING = "instruction_following"
    HARD_PROMPTS = "hard_prompts"
    MULTI_TURN = "multi_turn"
    LONGER_QUERY = "longer_query"


_PROMPT_CATEGORY_LABELS: dict[str, str] = {
    PromptCategory.CODING: "Text: coding",
    PromptCategory.MATH: "Text: math",
    PromptCategory.CREATIVE_WRITING: "Text: creative writing",
    PromptCategory.INSTRUCTION_FOLLOWING: "Text: instruction following",
    PromptCategory.HARD_PROMPTS: "Text: hard prompts",
    PromptCategory.MULTI_TURN: "Text: multi-turn",
    PromptCategory.LONGER_QUERY: "Text: longer query",
}


class VoteReason(StrEnum):
    """Why a voter preferred the answer they picked: the chips offered after a decisive vote.

    "Safer" and "less preachy" pull in opposite directions, so they are two chips: one chip
    for both would count a voter who wanted more caution with one who wanted less.
    """

    CORRECT = "correct"
    CLEARER = "clearer"
    MORE_COMPLETE = "more_complete"
    BETTER_STYLE = "better_style"
    SAFER = "safer"
    LESS_PREACHY = "less_preachy"
    SHORTER = "shorter"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    VoteReason.CORRECT: "Correct",
    VoteReason.CLEARER: "Clearer",
    VoteReason.MORE_COMPLETE: "More complete",
    VoteReason.BETTER_STYLE: "Better style",
    VoteReason.SAFER: "Safer",
    VoteReason.LESS_PREACHY: "Less preachy",
    VoteReason.SHORTER: "Shorter",
}


class Theme(StrEnum):
    """The web pages' colour themes; the leaderboard's figures are drawn in each."""

    LIGHT = "light"
    DARK = "dark"


class WebdevStack(StrEnum):
    """What a WebDev app is written in: asked for in the system prompt, detected in the
    answer, run by the sandbox with exactly that stack's runtimes, and a WebDev board."""

    HTML = "html"  # one self-contained HTML document (HTML, CSS and JavaScript)
    REACT = "react"  # React + TypeScript + Tailwind, LMArena WebDev Arena's stack
    VUE = "vue"  # a Vue 3 single-file component
    PYTHON = "python"  # a Python script run by Pyodide
    MERMAID = "mermaid"  # a Mermaid diagram

    @property
    def label(self) -> str:
        return _STACK_LABELS[self]


_STACK_LABELS = {
    WebdevStack.HTML: "HTML",
    WebdevStack.REACT: "React + TypeScript + Tailwind",
    WebdevStack.VUE: "Vue",
    WebdevStack.PYTHON: "Python (Pyodide)",
    WebdevStack.MERMAID: "Mermaid diagram",
}


_STACK_BOARD_LABELS = {
    WebdevStack.HTML: "WebDev · HTML",
    WebdevStack.REACT: "WebDev · React",
    WebdevStack.VUE: "WebDev · Vue",
    WebdevStack.PYTHON: "WebDev · Python",
    WebdevStack.MERMAID: "WebDev · Mermaid",
}
# The board of the WebDev battles asked in each stack, by its category name.
WEBDEV_STACK_BOARDS: dict[str, WebdevStack] = {
    f"{BattleKind.WEBDEV.category}_{stack.value}": stack for stack in WebdevStack
}

# Every leaderboard category, in the order the pages list them: one per battle kind, then
# the text battles of each prompt category, then the WebDev battles of each stack.
CATEGORIES: tuple[str, ...] = (
    *dict.fromkeys(kind.category for kind in BattleKind),
    *PromptCategory,
    *WEBDEV_STACK_BOARDS,
)
CATEGORY_LABELS: dict[str, str] = {
    **{kind.category: kind.traits.category_label for kind in BattleKind},
    **_PROMPT_CATEGORY_LABELS,
    **{board: _STACK_BOARD_LABELS[stack] for board, stack in WEBDEV_STACK_BOARDS.items()},
}
# The boards whose battles are WebDev apps: code style counted, "apps that run" shown.
WEBDEV_CATEGORIES: frozenset[str] = frozenset(
    {kind.category for kind in BattleKind if kind.webdev} | set(WEBDEV_STACK_BOARDS)
)
