"""The read model: what storage hands out about a battle, as immutable values.

One `BattleView` serves every reader (voting, revealing, the battle's state, follow-ups,
replays, the export): plain frozen dataclasses, read with SQLAlchemy Core in one query and
detached from any session, so nothing can lazy-load or change behind the caller's back.
The ORM classes in `storage/schema.py` never leave `storage/`.

A battle read with `texts=False` (the vote path: deciding and revealing need no texts, and
reading them was most of the read's cost) has None for its prompts, answer texts and style
metadata; `written(...)` turns such a None into a loud TextsNotRead instead of an empty text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from glassarena.vocabulary import (
    AnswerStatus,
    BattleKind,
    BattleMode,
    BattleStatus,
    Side,
    WebdevStack,
    Winner,
)


class TextsNotRead(LookupError):
    """A text was asked of a battle read without its texts."""


def written(text: str | None) -> str:
    """A prompt or answer text of a battle read with its texts."""
    if text is None:
        raise TextsNotRead("this battle was read without its texts (texts=False)")
    return text


def version_label(name: str, version: int) -> str:
    """The name shown on the leaderboard: versions after the first carry their number."""
    return name if version == 1 else f"{name} (v{version})"


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """One stored version of a contestant; immutable once stored, so it is safe to cache."""

    version_id: int
    name: str
    version: int
    provider_kind: str
    organization: str = "unknown"  # who made the model (metadata: not part of the version)

    @property
    def label(self) -> str:
        return version_label(self.name, self.version)


@dataclass(frozen=True, slots=True)
class AnswerView:
    side: Side
    status: AnswerStatus
    text: str | None  # None: read without texts
    failure_kind: str | None
    failure_reason: str | None
    first_token_seconds: float | None
    total_seconds: float | None
    completion_tokens: int | None
    finish_reason: str | None
    style: Mapping[str, Any] | None  # None also when read without texts


@dataclass(frozen=True, slots=True)
class TurnView:
    number: int  # 1-based, as shown to the user
    prompt: str | None  # None: read without texts
    answers: tuple[AnswerView, ...]  # by side

    def answer(self, side: Side) -> AnswerView:
        return next(answer for answer in self.answers if answer.side == side)


@dataclass(frozen=True, slots=True)
class VoteView:
    winner: Winner
    counted: bool
    voter_id: str
    created_at: datetime
    not_counted_reason: str | None = None  # why a stored vote is not ranked


@dataclass(frozen=True, slots=True)
class BattleView:
    public_id: str
    voter_id: str
    mode: BattleMode
    kind: BattleKind
    category: str
    status: BattleStatus
    failure_reason: str | None
    model_a: ModelIdentity
    model_b: ModelIdentity | None  # None in single mode
    style_a: Mapping[str, Any] | None  # None also when read without texts
    style_b: Mapping[str, Any] | None
    updated_at: datetime  # UTC
    turns: tuple[TurnView, ...]  # by number
    vote: VoteView | None
    # The prompt's categories (an LMArena category_tag); None for battles stored before
    # migration 0007, and when read without texts.
    prompt_categories: Mapping[str, Any] | None = None
    # The stack a WebDev battle's apps were asked in; None outside WebDev and for WebDev
    # battles stored before migration 0010 (which were all single HTML documents).
    webdev_stack: WebdevStack | None = None
    # The identity-leak guard's stored verdict (read with or without texts); None: not judged.
    identity_verdict: Mapping[str, Any] | None = None
    recorded_prompt_id: str | None = None  # the recorded prompt a recorded battle shows

    @property
    def models(self) -> dict[Side, ModelIdentity]:
        """Side -> the model version answering on it."""
        sides: dict[Side, ModelIdentity] = {"a": self.model_a}
        if self.model_b is not None:
            sides["b"] = self.model_b
        return sides

    @property
    def voting_open(self) -> bool:
        return self.status is BattleStatus.COMPLETE and self.vote is None
