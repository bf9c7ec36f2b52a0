"""Every format reads back what it wrote; bad files fail with their name and line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glassarena.battles.errors import BattleDataError
from glassarena.battles.filters import filter_battles
from glassarena.battles.formats import (
    FORMATS,
    build_mapping,
    detect_format,
    read_battles,
    write_battles,
)
from glassarena.battles.formats.records import iter_records
from glassarena.battles.record import Battle, Winner
from glassarena.battles.style import conversation_style
from glassarena.battles.style_features import style_features, with_style
from glassarena.battles.table import RowLocator, validate_battles

EXTENSIONS = {"json": "json", "jsonl": "jsonl", "parquet": "parquet", "csv": "csv"}


def _conversation(answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": "Tell me"}, {"role": "assistant", "content": answer}]


def _battle(a: str, b: str, winner: Winner, number: int) -> Battle:
    conversation_a = _conversation(f"# Answer {number}\n- one\n- two\n**bold**")
    conversation_b = _conversation(f"Plain answer {number}, ünïcode ✓\n```py\nx = {number}\n```")
    return Battle(
        model_a=a,
        model_b=b,
        winner=winner,
        judge=f"judge-{number % 2}",
        turn=1 + number % 2,
        language="English" if number % 2 else "German",
        category_tag={"criteria_v0.1": {"math": number % 2 == 0, "creativity": True}},
        tstamp=1_700_000_000.25 + number,
        question_id=f"q{number}",
        conversation_a=conversation_a,
        conversation_b=conversation_b,
        style=conversation_style(conversation_a, conversation_b),
    )


@pytest.fixture
def battles() -> pd.DataFrame:
    verdicts = [Winner.MODEL_A, Winner.MODEL_B, Winner.TIE, Winner.BOTH_BAD, Winner.MODEL_A]
    pairs = [
        ("alpha", "beta"),
        ("beta", "gamma"),
        ("gamma", "alpha"),
        ("modèle-δ", "alpha"),
        ("beta", "modèle-δ"),
    ]
    records = [
        _battle(a, b, verdict, number).to_record()
        for number, ((a, b), verdict) in enumerate(zip(pairs, verdicts, strict=True))
    ]
    return validate_battles(pd.DataFrame.from_records(records), RowLocator("battles", "battle"))


@pytest.mark.parametrize("kind", FORMATS)
def test_round_trip(kind: str, battles: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / f"battles.{EXTENSIONS[kind]}"
    write_battles(battles, path)
    again = read_battles(path)
    assert list(iter_records(again)) == list(iter_records(battles))


@pytest.mark.parametrize("kind", FORMATS)
def test_format_override_beats_the_extension(
    kind: str, battles: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "battles.data"
    write_battles(battles, path, kind)
    assert len(read_battles(path, kind)) == len(battles)


def test_lmarena_json_nests_style_in_conv_metadata(battles: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "clean_battle.json"
    write_battles(battles, path)
    records = json.loads(path.read_text(encoding="utf-8"))
    first = records[0]
    assert first["winner"] == "model_a"
    assert first["conv_metadata"]["header_count_a"]["h1"] == 1
    assert first["conv_metadata"]["list_count_a"] == {"ordered": 0, "unordered": 2}
    assert "header_count_a" not in first
    assert records[3]["winner"] == "tie (bothbad)"


def test_hugging_face_layout_uses_both_bad_and_a_struct(
    battles: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "arena.parquet"
    write_battles(battles, path)
    table = pq.read_table(path)
    assert table.column("winner").to_pylist()[3] == "both_bad"
    metadata = table.schema.field("conv_metadata").type
    assert {metadata.field(i).name for i in range(metadata.num_fields)} >= {
        "sum_assistant_a_tokens",
        "header_count_a",
        "list_count_a",
        "bold_count_a",
        "sum_assistant_b_tokens",
        "header_count_b",
        "list_count_b",
        "bold_count_b",
    }
    assert read_battles(path)["winner"].iloc[3] == "tie (bothbad)"


def test_the_shipped_llmfao_votes_load_with_one_flag(llmfao_dir: Path) -> None:
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"))
    assert len(battles) == 8931
    assert battles["winner"].value_counts().to_dict() == {
        "tie": 3471,
        "model_a": 2911,
        "model_b": 2549,
    }
    first = battles.iloc[0]
    assert (first["model_a"], first["model_b"], first["judge"]) == (
        "Airoboros L2 70B",
        "Weaver 12k",
        "58",
    )
    assert battles.iloc[2]["winner"] == "model_b"  # "right" in the file


def test_explicit_columns_and_labels_do_the_same_as_the_preset(llmfao_dir: Path) -> None:
    mapping = build_mapping(
        columns=["model_a=left,model_b=right"], labels=["left=model_a", "right=model_b"]
    )
    battles = read_battles(llmfao_dir / "gpt4-comparisons.csv", mapping=mapping)
    assert set(battles["winner"]) <= {"model_a", "model_b", "tie"}


def test_writing_with_a_mapping_gives_the_source_layout_back(
    llmfao_dir: Path, tmp_path: Path
) -> None:
    mapping = build_mapping("llmfao")
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=mapping)
    write_battles(battles, tmp_path / "again.csv", mapping=mapping)
    original = pd.read_csv(llmfao_dir / "crowd-comparisons.csv", dtype=str)
    written = pd.read_csv(tmp_path / "again.csv", dtype=str)
    pd.testing.assert_frame_equal(written[original.columns], original)


def test_mapping_errors_are_clear(llmfao_dir: Path) -> None:
    with pytest.raises(BattleDataError, match="unknown preset 'nope'"):
        build_mapping("nope")
    with pytest.raises(BattleDataError, match="'model_x' is not a winner label"):
        build_mapping(labels=["left=model_x"])
    with pytest.raises(BattleDataError, match="must look like name=value"):
        build_mapping(columns=["model_a"])
    with pytest.raises(BattleDataError, match=r"mapped column\(s\) lhs not found"):
        read_battles(
            llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping(columns=["model_a=lhs"])
        )


def test_unmapped_labels_are_errors_with_their_line(llmfao_dir: Path) -> None:
    mapping = build_mapping(columns=["model_a=left,model_b=right"])
    with pytest.raises(
        BattleDataError, match=r"crowd-comparisons\.csv, line 4: unknown winner label 'right'"
    ):
        read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=mapping)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_jsonl_line_is_named(tmp_path: Path) -> None:
    good = '{"model_a": "a", "model_b": "b", "winner": "tie"}'
    path = _write(tmp_path / "v.jsonl", f"{good}\n\n{good}\n{{not json}}\n{good}\n")
    with pytest.raises(BattleDataError, match=r"v\.jsonl, line 4: malformed JSON"):
        read_battles(path)
    path = _write(tmp_path / "w.jsonl", f"{good}\n[1, 2]\n")
    with pytest.raises(BattleDataError, match=r"w\.jsonl, line 2: expected a battle record"):
        read_battles(path)


def test_jsonl_errors_count_blank_lines(tmp_path: Path) -> None:
    good = '{"model_a": "a", "model_b": "b", "winner": "tie"}'
    bad = '{"model_a": "a", "model_b": "b", "winner": "draw"}'
    path = _write(tmp_path / "v.jsonl", f"\n{good}\n\n\n{bad}\n")
    with pytest.raises(BattleDataError, match=r"v\.jsonl, line 5: unknown winner label 'draw'"):
        read_battles(path)
    path = _write(tmp_path / "s.jsonl", f"{good}\n" + good.replace('"b"', '"a"') + "\n")
    with pytest.raises(BattleDataError, match=r"s\.jsonl, line 2: model 'a' battles itself"):
        read_battles(path)


def test_malformed_json_list_and_items(tmp_path: Path) -> None:
    with pytest.raises(BattleDataError, match=r"x\.json, line 2: malformed JSON"):
        read_battles(_write(tmp_path / "x.json", '[\n{"model_a": }\n]'))
    with pytest.raises(BattleDataError, match=r"y\.json, item 2: expected a battle record"):
        read_battles(
            _write(tmp_path / "y.json", '[{"model_a": "a", "model_b": "b", "winner": "tie"}, 3]')
        )
    with pytest.raises(BattleDataError, match="expected a JSON list"):
        read_battles(_write(tmp_path / "z.json", '{"model_a": "a"}'))
    with pytest.raises(BattleDataError, match=r"u\.json, item 1: unknown winner label"):
        read_battles(
            _write(tmp_path / "u.json", '[{"model_a": "a", "model_b": "b", "winner": "x"}]')
        )


@pytest.mark.parametrize("name", ["e.json", "e.jsonl", "e.csv", "e.parquet"])
def test_empty_files_are_clear_errors(name: str, tmp_path: Path) -> None:
    with pytest.raises(BattleDataError, match="no battles found"):
        read_battles(_write(tmp_path / name, ""))


def test_header_only_csv_and_empty_list_are_empty(tmp_path: Path) -> None:
    with pytest.raises(BattleDataError, match="no battles found"):
        read_battles(_write(tmp_path / "h.csv", "model_a,model_b,winner\n"))
    with pytest.raises(BattleDataError, match="no battles found"):
        read_battles(_write(tmp_path / "l.json", "[]"))


def test_csv_problems_are_located(tmp_path: Path) -> None:
    with pytest.raises(BattleDataError, match=r"m\.csv: missing column\(s\) winner"):
        read_battles(_write(tmp_path / "m.csv", "model_a,model_b\na,b\n"))
    with pytest.raises(
        BattleDataError, match=r"c\.csv, line 3: column category_tag must hold JSON"
    ):
        read_battles(
            _write(
                tmp_path / "c.csv",
                'model_a,model_b,winner,category_tag\na,b,tie,"{}"\na,b,tie,{oops\n',
            )
        )
    with pytest.raises(BattleDataError, match=r"malformed CSV.*line 3"):
        read_battles(_write(tmp_path / "r.csv", "model_a,model_b,winner\na,b,tie\na,b,tie,extra\n"))


def test_unreadable_parquet_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(BattleDataError, match="not a readable parquet file"):
        read_battles(_write(tmp_path / "p.parquet", "not parquet"))
    with pytest.raises(BattleDataError, match=r"cannot tell the format from the extension '\.txt'"):
        detect_format(tmp_path / "votes.txt")
    with pytest.raises(BattleDataError, match="unknown format 'xml'"):
        detect_format("votes.json", "xml")
    with pytest.raises(BattleDataError, match="no such file"):
        read_battles(tmp_path / "missing.jsonl")


def test_flat_jsonl_reads_through_arrow_quickly(tmp_path: Path) -> None:
    """The Arrow path: 200k flat votes must read in well under a few seconds."""
    line = '{"model_a": "m%d", "model_b": "m%d", "winner": "%s", "judge": "u%d"}\n'
    labels = ["model_a", "model_b", "tie", "tie (bothbad)"]
    path = tmp_path / "big.jsonl"
    path.write_text(
        "".join(line % (i % 7, 7 + i % 5, labels[i % 4], i % 97) for i in range(200_000))
    )
    started = time.perf_counter()
    battles = read_battles(path)
    elapsed = time.perf_counter() - started
    assert len(battles) == 200_000
    assert elapsed < 10.0, f"reading 200k votes took {elapsed:.1f}s"


def test_parquet_refuses_a_column_of_mixed_kinds(tmp_path: Path) -> None:
    battles = read_battles(
        _write(
            tmp_path / "m.jsonl",
            '{"model_a": "a", "model_b": "b", "winner": "tie", "question_id": 7}\n'
            '{"model_a": "a", "model_b": "b", "winner": "tie", "question_id": "q8"}\n',
        )
    )
    with pytest.raises(BattleDataError, match="column question_id cannot be stored in parquet"):
        write_battles(battles, tmp_path / "m.parquet")


def test_a_file_shaped_like_arena_human_preference_140k(tmp_path: Path) -> None:
    """Content as lists of parts, a nested conv_metadata struct, timestamps, both_bad."""

    def conversation(answer: str) -> list[dict[str, object]]:
        return [
            {"role": "user", "content": [{"type": "text", "text": "question", "image": None}]},
            {"role": "assistant", "content": [{"type": "text", "text": answer, "image": None}]},
        ]

    def side(tokens: int, h1: int) -> dict[str, object]:
        return {"tokens": tokens, "headers": {f"h{i}": (h1 if i == 1 else 0) for i in range(1, 7)}}

    rows = []
    for number, (a, b, winner) in enumerate(
        [("x", "y", "model_a"), ("y", "z", "both_bad"), ("z", "x", "tie"), ("x", "z", "model_b")]
    ):
        left, right = side(100 + number, number), side(50, 0)
        rows.append(
            {
                "id": f"battle-{number}",
                "model_a": a,
                "model_b": b,
                "winner": winner,
                "conversation_a": conversation("# Head\n- item"),
                "conversation_b": conversation("plain"),
                "conv_metadata": {
                    "sum_assistant_a_tokens": left["tokens"],
                    "header_count_a": left["headers"],
                    "list_count_a": {"ordered": 0, "unordered": 1},
                    "bold_count_a": {"**": 0, "__": 0},
                    "sum_assistant_b_tokens": right["tokens"],
                    "header_count_b": right["headers"],
                    "list_count_b": {"ordered": 0, "unordered": 0},
                    "bold_count_b": {"**": number, "__": 0},
                    "context_a_tokens": 10,
                },
                "category_tag": {"math_v0.1": {"math": number % 2 == 0}},
                "language": "en",
                "timestamp": pd.Timestamp("2025-05-29T14:48:41", tz="UTC")
                + pd.Timedelta(hours=number),
            }
        )
    path = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)

    battles = read_battles(path)
    assert battles["winner"].tolist() == ["model_a", "tie (bothbad)", "tie", "model_b"]
    assert battles["header_count_a"].iloc[3]["h1"] == 3
    assert battles["context_a_tokens"].tolist() == [10, 10, 10, 10]
    assert len(filter_battles(battles, category="math")) == 2
    features_a, _, _ = style_features(battles)
    assert features_a[:, 0].tolist() == [100, 101, 102, 103]
    recounted = with_style(battles.drop(columns=["sum_assistant_a_tokens"]))
    assert recounted["header_count_a"].iloc[0]["h1"] == 1  # counted from the parts' text
    write_battles(battles, tmp_path / "out.json")
    record = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))[1]
    assert record["winner"] == "tie (bothbad)"
    assert record["timestamp"].startswith("2025-05-29T15:48:41")
    assert record["conversation_a"][1]["content"][0]["text"] == "# Head\n- item"
