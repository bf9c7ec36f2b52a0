"""Tone control: emoji and sentiment counted per answer, and ranked with their coefficients."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from click.testing import CliRunner

from glassarena.battles.errors import BattleDataError
from glassarena.battles.style_features import with_style, with_tone
from glassarena.battles.tone import emoji_count, sentiment, tone_columns
from glassarena.cli import main
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard


def test_emoji_are_counted_once_each_including_flags_and_skin_tones() -> None:
    assert emoji_count("Great job! 🎉🎉 👍🏽 🇫🇷 ✅") == 5
    assert emoji_count("No emoji here: (c) 2026, 3 > 2, ™") == 0


def test_sentiment_has_the_sign_of_the_text() -> None:
    assert sentiment("I love this, it is wonderful and delightful!") > 0.5
    assert sentiment("This is terrible, awful and sad.") < -0.5
    assert sentiment("The file has 12 lines.") == 0.0
    assert sentiment("") == 0.0


def test_code_blocks_have_no_tone() -> None:
    answer = "Here it is.\n```python\nprint('I love it 😀 wonderful')\n```"
    conversation = [{"role": "user", "content": "q"}, {"role": "assistant", "content": answer}]
    assert tone_columns(conversation, "a") == {"emoji_count_a": 0, "sentiment_a": 0.0}


def _battles(count: int) -> pd.DataFrame:
    """Three models of equal quality; whichever side is cheerful with emoji wins 80%."""
    rng = random.Random(5)
    models = ["m1", "m2", "m3"]
    rows = []
    for _ in range(count):
        model_a, model_b = rng.sample(models, 2)
        cheerful = rng.choice("ab")
        texts = {}
        for side in "ab":
            # Markdown and length vary independently of who wins.
            text = "# Answer\n" * rng.randint(0, 1) + "- point\n" * rng.randint(0, 3)
            text += "**Note** " * rng.randint(0, 2) + "word " * rng.randint(5, 40)
            if side == cheerful:
                text += " Great question, happy to help! 😊🎉" + " 👍" * rng.randint(0, 2)
            texts[side] = text
        winner = cheerful if rng.random() < 0.8 else ("b" if cheerful == "a" else "a")
        rows.append(
            {
                "model_a": model_a,
                "model_b": model_b,
                "winner": f"model_{winner}",
                "conversation_a": [{"role": "assistant", "content": texts["a"]}],
                "conversation_b": [{"role": "assistant", "content": texts["b"]}],
            }
        )
    return pd.DataFrame(rows)


def test_tone_control_reports_emoji_and_sentiment_coefficients() -> None:
    board = compute_leaderboard(
        _battles(600), LeaderboardOptions(style_control=True, tone_style=True)
    )
    coefficients = {item.feature: item.coefficient for item in board.style}
    assert {"tokens", "headers", "lists", "bold", "emoji", "sentiment"} == set(coefficients)
    # Emoji and sentiment move together here; their joint effect carries the wins.
    assert coefficients["emoji"] + coefficients["sentiment"] > 0.3
    plain = compute_leaderboard(_battles(600), LeaderboardOptions(style_control=True))
    assert "emoji" not in {item.feature for item in plain.style}


def test_tone_control_without_conversations_is_a_clear_error() -> None:
    battles = _battles(30).drop(columns=["conversation_a", "conversation_b"])
    battles = battles.assign(
        sum_assistant_a_tokens=5, header_count_a=0, list_count_a=0, bold_count_a=0,
        sum_assistant_b_tokens=5, header_count_b=0, list_count_b=0, bold_count_b=0,
    )  # fmt: skip
    with pytest.raises(BattleDataError, match="tone control needs"):
        compute_leaderboard(battles, LeaderboardOptions(style_control=True, tone_style=True))


def test_rank_tone_flag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "battles.jsonl"
    _battles(300).to_json(path, orient="records", lines=True)
    result = CliRunner().invoke(
        main, ["rank", str(path), "--style-control", "--tone", "--format", "json"]
    )
    assert result.exit_code == 0, result.output


def test_battles_never_measured_for_tone_are_even_in_tone() -> None:
    """The live boards' table has no conversations: votes from before tone was counted
    enter as even (no emoji, neutral sentiment on both sides), the others as counted."""
    battles = _battles(600)
    tones = pd.DataFrame.from_records(
        [
            tone_columns(a, "a") | tone_columns(b, "b")
            for a, b in zip(battles["conversation_a"], battles["conversation_b"], strict=True)
        ]
    )
    unmeasured = battles.index < 100
    tones.loc[unmeasured, :] = float("nan")
    table = with_style(battles).drop(columns=["conversation_a", "conversation_b"])
    table = pd.concat([table, tones], axis=1)
    filled = with_tone(table)
    assert (filled.loc[unmeasured, "emoji_count_a"] == 0).all()
    assert (filled.loc[unmeasured, "sentiment_b"] == 0).all()
    assert filled.loc[~unmeasured, "sentiment_a"].equals(table.loc[~unmeasured, "sentiment_a"])
    board = compute_leaderboard(table, LeaderboardOptions(style_control=True, tone_style=True))
    coefficients = {item.feature: item.coefficient for item in board.style}
    assert coefficients["emoji"] + coefficients["sentiment"] > 0.3
