"""The llmfao preset joins each vote to the two answers it judged, for style control."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import glassarena.battles.formats.llmfao as llmfao
from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats import build_mapping, read_battles
from glassarena.battles.style_features import style_features, with_style
from glassarena.battles.table import STYLE_COLUMNS


@pytest.fixture(scope="module")
def joined(llmfao_dir: Path) -> pd.DataFrame:
    return read_battles(
        llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"), with_answers=True
    )


def _results(llmfao_dir: Path) -> dict[tuple[str, str], str]:
    lines = (llmfao_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return {(str(record["prompt"]), record["name"]): record["result"] for record in records}


def test_every_crowd_vote_gets_both_answers_and_the_prompt(
    joined: pd.DataFrame, llmfao_dir: Path
) -> None:
    results = _results(llmfao_dir)
    prompts = {
        str(record["id"]): record["text"]
        for record in map(json.loads, (llmfao_dir / "prompts.jsonl").open(encoding="utf-8"))
    }
    assert len(joined) == 8931
    for row in joined.itertuples():
        for model, conversation in (
            (row.model_a, row.conversation_a),
            (row.model_b, row.conversation_b),
        ):
            assert conversation == [
                {"role": "user", "content": prompts[row.question_id]},
                {"role": "assistant", "content": results[(row.question_id, model)]},
            ]


def test_style_columns_are_those_counted_from_the_conversations(joined: pd.DataFrame) -> None:
    sample = joined.iloc[::25].reset_index(drop=True)
    recounted = with_style(sample.drop(columns=list(STYLE_COLUMNS)))
    for column in STYLE_COLUMNS:
        assert sample[column].tolist() == recounted[column].tolist(), column
    features_a, features_b, names = style_features(joined)
    assert names == ("tokens", "headers", "lists", "bold")
    assert features_a.shape == features_b.shape == (8931, 4)
    assert (features_a[:, 0] > 0).mean() > 0.9  # a few recorded answers are blank


def test_each_answer_is_styled_once(llmfao_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    styled: list[tuple[str, ...]] = []
    real = llmfao.answer_style

    def counting(answers: list[str]) -> dict:
        styled.append(tuple(answers))
        return real(answers)

    monkeypatch.setattr(llmfao, "answer_style", counting)
    battles = read_battles(
        llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"), with_answers=True
    )
    judged = {
        *zip(battles["question_id"], battles["model_a"], strict=True),
        *zip(battles["question_id"], battles["model_b"], strict=True),
    }
    assert len(styled) == len(judged) == 750


def test_answers_are_read_only_when_asked_for(llmfao_dir: Path) -> None:
    plain = read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"))
    assert "conversation_a" not in plain.columns
    assert "sum_assistant_a_tokens" not in plain.columns


def _copy_set(llmfao_dir: Path, target: Path, drop_answer: tuple[int, str] | None = None) -> Path:
    for name in ("prompts.jsonl", "crowd-comparisons.csv"):
        shutil.copy(llmfao_dir / name, target / name)
    kept = []
    for line in (llmfao_dir / "results.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if drop_answer != (record["prompt"], record["name"]):
            kept.append(line)
    (target / "results.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return target / "crowd-comparisons.csv"


def test_a_missing_answer_is_an_error_naming_it(llmfao_dir: Path, tmp_path: Path) -> None:
    votes = _copy_set(llmfao_dir, tmp_path, drop_answer=(8, "Weaver 12k"))
    original = pd.read_csv(votes, dtype=str)
    judging = (original["prompt"] == "8") & (
        (original["left"] == "Weaver 12k") | (original["right"] == "Weaver 12k")
    )
    first_line = int(judging.to_numpy().nonzero()[0][0]) + 2  # the header is line 1
    with pytest.raises(BattleDataError) as caught:
        read_battles(votes, mapping=build_mapping("llmfao"), with_answers=True)
    message = str(caught.value)
    assert message.startswith(f"{votes}, line {first_line}: {int(judging.sum())} battle(s)")
    assert "model 'Weaver 12k' on prompt 8" in message
    assert "style control needs both answers of every battle" in message


def test_missing_answer_files_are_named(llmfao_dir: Path, tmp_path: Path) -> None:
    votes = _copy_set(llmfao_dir, tmp_path)
    (tmp_path / "results.jsonl").unlink()
    with pytest.raises(BattleDataError, match=r"results\.jsonl:0: cannot be read"):
        read_battles(votes, mapping=build_mapping("llmfao"), with_answers=True)
