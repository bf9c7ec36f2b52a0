"""Tone of an answer: its emoji and its sentiment, optional style-control features.

LMArena's 2025 sentiment control adds tone to the style features: an answer may win by
sounding cheerful or by sprinkling emoji rather than by being better. Both are counted from
the answers' text, offline: emoji by Unicode ranges, sentiment by VADER's lexicon (the
`compound` score in [-1, 1], of the side's answers joined; the lexicon ships in the
vaderSentiment package). Code blocks are left out: they have no tone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from glassarena.battles.style import assistant_texts, strip_code_blocks
from glassarena.vocabulary import Side

# Emoji: the pictographic blocks, the dingbats and symbols commonly shown as emoji, and
# regional-indicator flags (a pair is one flag). Skin-tone modifiers (U+1F3FB..U+1F3FF)
# and joiners are not counted separately, so 👍🏽 and 👨‍👩‍👧 count once per base pictograph.
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"
    "|[\U0001f300-\U0001f3fa\U0001f400-\U0001f64f\U0001f680-\U0001f6ff\U0001f900-\U0001f9ff"
    "\U0001fa70-\U0001faff\u2600-\u26ff\u2700-\u27bf\u2b50\u2b55\u2705\u274c\u2764]"
)
TONE_FEATURES = ("emoji", "sentiment")


def emoji_count(text: str) -> int:
    return len(_EMOJI.findall(text))


def sentiment(text: str) -> float:
    """VADER's compound score of `text`: -1 (negative) to 1 (positive), 0 for neutral."""
    if not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def tone_columns(conversation: Sequence[Mapping[str, Any]] | None, side: Side) -> dict[str, Any]:
    """`emoji_count_{side}` and `sentiment_{side}` of one side's assistant turns."""
    prose = strip_code_blocks("\n".join(assistant_texts(conversation)))
    return {f"emoji_count_{side}": emoji_count(prose), f"sentiment_{side}": sentiment(prose)}
