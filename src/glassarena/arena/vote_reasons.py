"""Why people voted: the optional reasons given after a decisive vote, and their summary.

A voter who picked a side may say why: any of the `VoteReason` chips and a short note. The
reasons are accepted only for the voter's own battle, only once it has its vote, only once,
and only when the vote picked a side (a tie prefers nobody). They never touch the vote: the
vote log, its hashes and the ratings are computed without them.

The board shows, per model, how often each reason was given with the counted votes that
preferred it ("people who preferred X said...").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from glassarena.arena.errors import InvalidRequest
from glassarena.storage.vote_reasons import WinnerReasons
from glassarena.vocabulary import VoteReason

MAX_NOTE_CHARS = 280
_SPACES = re.compile(r"\s+")


def parse_reasons(words: Iterable[str]) -> tuple[VoteReason, ...]:
    """The chips asked for, each once, in the vocabulary's order; a clear error for others."""
    chosen = set()
    for word in words:
        try:
            chosen.add(VoteReason(word))
        except ValueError:
            known = ", ".join(VoteReason)
            raise InvalidRequest(f"reasons: {word!r} is not one of {known}.") from None
    return tuple(reason for reason in VoteReason if reason in chosen)


def clean_note(note: str | None) -> str | None:
    """The note as stored: control and format characters (bidi overrides, zero-width
    characters) removed, whitespace collapsed to single spaces; None when nothing is left.
    Longer than MAX_NOTE_CHARS is refused, not cut, so nothing is silently lost."""
    if note is None:
        return None
    kept = "".join(
        " " if char.isspace() else char
        for char in note
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cs")
    )
    cleaned = _SPACES.sub(" ", kept).strip()
    if len(cleaned) > MAX_NOTE_CHARS:
        raise InvalidRequest(
            f"note: {len(cleaned):,} characters; the limit is {MAX_NOTE_CHARS}. Please shorten it."
        )
    return cleaned or None


@dataclass(frozen=True, slots=True)
class ReasonSummary:
    """For one model: how many counted votes that preferred it came with reasons, and how
    often each reason was given."""

    model: str
    votes: int
    counts: dict[VoteReason, int]
    notes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "votes_with_reasons": self.votes,
            "reasons": {reason.value: self.counts.get(reason, 0) for reason in VoteReason},
            "notes": self.notes,
        }

    def top(self) -> list[tuple[VoteReason, int]]:
        """The reasons given, most often first (ties in the vocabulary's order)."""
        ordered = sorted(VoteReason, key=lambda reason: -self.counts.get(reason, 0))
        return [(reason, self.counts[reason]) for reason in ordered if self.counts.get(reason)]


def summarise(given: Sequence[WinnerReasons]) -> dict[str, ReasonSummary]:
    """Per preferred model (board label), the summary of the reasons given with its wins."""
    votes: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    counts: dict[str, Counter[VoteReason]] = {}
    for vote in given:
        votes[vote.model] += 1
        notes[vote.model] += vote.has_note
        counts.setdefault(vote.model, Counter()).update(vote.reasons)
    return {
        model: ReasonSummary(model, votes[model], dict(counts[model]), notes[model])
        for model in sorted(votes)
    }
