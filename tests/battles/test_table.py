"""The battle table: validation with located errors, filters and style features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassarena.battles.categories import category_names
from glassarena.battles.errors import BattleDataError
from glassarena.battles.filters import filter_battles, parse_where
from glassarena.battles.record import Battle, Winner
from glassarena.battles.style_features import style_features, with_style
from glassarena.battles.table import RowLocator, validate_battles


def _frame(**columns: list[object]) -> pd.DataFrame:
    base = {
        "model_a": ["alpha", "beta", "gamma"],
        "model_b": ["beta", "gamma", "alpha"],
        "winner": ["model_a", "both_bad", "tie"],
    }
    return pd.DataFrame({**base, **columns})


def test_validation_canonicalises_labels_and_puts_battle_columns_first() -> None:
    frame = validate_battles(
        _frame(turn=["1", "2", None])[["turn", "winner", "model_b", "model_a"]]
    )
    assert list(frame.columns[:3]) == ["model_a", "model_b", "winner"]
    assert frame["winner"].tolist() == ["model_a", "tie (bothbad)", "tie"]
    assert frame["turn"].tolist()[:2] == [1, 2]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame().drop(columns=["model_b"]), r"votes\.csv: missing column\(s\) model_b"),
        (_frame(winner=["model_a", "model_a", "left"]), r"votes\.csv, line 4: unknown winner"),
        (_frame(model_b=["beta", "beta", "gamma"]), r"votes\.csv, line 3: model 'beta' battles"),
        (_frame(model_a=["alpha", None, "gamma"]), r"votes\.csv, line 3: model_a is empty"),
        (_frame(turn=[1, "two", 3]), r"votes\.csv, line 3: turn must be a number, got 'two'"),
        (_frame(anony=["true", "maybe", "0"]), r"line 3: anony must be true or false"),
        (_frame().iloc[:0], r"votes\.csv: no battles found"),
    ],
)
def test_bad_tables_are_errors_naming_file_and_line(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(BattleDataError, match=message):
        validate_battles(frame, RowLocator("votes.csv", "line", first=2))


def test_explicit_line_numbers_are_used_when_given() -> None:
    locate = RowLocator("v.jsonl", "line", np.array([1, 5, 9]))
    with pytest.raises(BattleDataError, match=r"v\.jsonl, line 9: unknown winner label 'x'"):
        validate_battles(_frame(winner=["tie", "tie", "x"]), locate)


def test_a_table_of_battle_records() -> None:
    records = [Battle("a", "b", Winner.MODEL_A, judge="j"), Battle("b", "c", Winner.TIE)]
    frame = validate_battles(pd.DataFrame.from_records([battle.to_record() for battle in records]))
    assert frame["winner"].tolist() == ["model_a", "tie"]
    assert frame["judge"].iloc[1] is None or pd.isna(frame["judge"].iloc[1])


def test_where_filters_text_numbers_and_flags() -> None:
    frame = validate_battles(
        _frame(language=["English", "German", "English"], turn=[1, 2, 1], anony=[True, False, True])
    )
    assert len(filter_battles(frame, parse_where(["language=English"]))) == 2
    assert len(filter_battles(frame, parse_where(["language=English", "turn=1"]))) == 2
    assert len(filter_battles(frame, {"turn": "2"})) == 1
    assert len(filter_battles(frame, {"anony": "false"})) == 1
    with pytest.raises(BattleDataError, match="no such column"):
        filter_battles(frame, {"judge": "ann"})
    with pytest.raises(BattleDataError, match=r"no battle has language='French'.*'English'"):
        filter_battles(frame, {"language": "French"})
    with pytest.raises(BattleDataError, match="column=value"):
        parse_where(["language"])


TAGS = [
    {"criteria_v0.1": {"math": True, "specificity": False}, "if_v0.1": {"if": True, "score": 4}},
    {
        "math_v0.1": {"math": True},
        "creative_writing_v0.1": {"creative_writing": False, "score": "no"},
    },
    ["coding", "hard"],
]


def test_category_names_follow_the_documented_rule() -> None:
    assert category_names(TAGS[0]) == {"math", "criteria_v0.1/math", "if", "if_v0.1/if", "if_v0.1"}
    assert category_names(TAGS[1]) == {"math", "math_v0.1/math", "math_v0.1"}
    assert category_names(TAGS[2]) == {"coding", "hard"}
    assert category_names(None) == set()


def test_category_filter_on_nested_tags_and_on_a_plain_column() -> None:
    frame = validate_battles(_frame(category_tag=TAGS))
    assert len(filter_battles(frame, category="math")) == 2
    assert len(filter_battles(frame, category="math_v0.1")) == 1
    assert len(filter_battles(frame, category="hard")) == 1
    assert len(filter_battles(frame, category="criteria_v0.1/math")) == 1
    with pytest.raises(BattleDataError, match=r"no battle is in category 'creative_writing'"):
        filter_battles(frame, category="creative_writing")
    plain = validate_battles(_frame(category=["chat", "code", "chat"]))
    assert filter_battles(plain, category="chat")["model_a"].tolist() == ["alpha", "gamma"]
    with pytest.raises(BattleDataError, match="no category or category_tag column"):
        filter_battles(validate_battles(_frame()), category="chat")


def test_style_features_sum_the_lmarena_counts() -> None:
    frame = _frame(
        sum_assistant_a_tokens=[10, 20, 30],
        header_count_a=[{"h1": 1, "h2": 2}, {"h1": 0}, {"h3": 4}],
        list_count_a=[{"ordered": 1, "unordered": 2}] * 3,
        bold_count_a=[{"**": 1, "__": 1}] * 3,
        sum_assistant_b_tokens=[1, 2, 3],
        header_count_b=[{"h1": 0}] * 3,
        list_count_b=[{"ordered": 0, "unordered": 0}] * 3,
        bold_count_b=[{"**": 0, "__": 2}] * 3,
    )
    features_a, features_b, names = style_features(frame)
    assert names == ("tokens", "headers", "lists", "bold")
    np.testing.assert_array_equal(features_a[:, 0], [10, 20, 30])
    np.testing.assert_array_equal(features_a[:, 1], [3, 0, 4])
    np.testing.assert_array_equal(features_b[:, 3], [2, 2, 2])
    with pytest.raises(BattleDataError, match="style control needs the style column"):
        style_features(_frame())


def test_with_style_counts_from_conversations() -> None:
    conversation = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "# A\n- b"}]
    frame = with_style(_frame(conversation_a=[conversation] * 3, conversation_b=[conversation] * 3))
    features_a, _, _ = style_features(frame)
    np.testing.assert_array_equal(features_a[0, 1:], [1, 1, 0])
    with pytest.raises(BattleDataError, match="conversation_a/conversation_b"):
        with_style(_frame())
