"""`glassarena convert` between the formats, with mappings and style counting."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from glassarena.battles.formats import read_battles
from glassarena.cli import main


def _convert(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["convert", *arguments])
    return result.exit_code, result.stderr


def test_llmfao_to_every_format_and_back(llmfao_dir: Path, tmp_path: Path) -> None:
    source = str(llmfao_dir / "crowd-comparisons.csv")
    reference = None
    for name in ("votes.json", "votes.jsonl", "votes.parquet", "votes.csv"):
        code, err = _convert(source, str(tmp_path / name), "--preset", "llmfao")
        assert code == 0, err
        assert "wrote 8931 battles" in err
        battles = read_battles(tmp_path / name)
        pairs = battles[["model_a", "model_b", "winner"]].values.tolist()
        reference = reference or pairs
        assert pairs == reference


def test_format_flags_and_style_counting(tmp_path: Path) -> None:
    conversation = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "# A\n- b"}]
    record = {
        "model_a": "a",
        "model_b": "b",
        "winner": "both_bad",
        "conversation_a": conversation,
        "conversation_b": conversation,
    }
    source = tmp_path / "in.txt"
    source.write_text(json.dumps(record) + "\n")
    code, err = _convert(
        str(source), str(tmp_path / "out.data"), "--from", "jsonl", "--to", "json", "--add-style"
    )
    assert code == 0, err
    (written,) = json.loads((tmp_path / "out.data").read_text())
    assert written["winner"] == "tie (bothbad)"
    assert written["conv_metadata"]["header_count_a"]["h1"] == 1


def test_errors(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"model_a": "a", "model_b": "a", "winner": "tie"}\n')
    code, err = _convert(str(source), str(tmp_path / "out.csv"))
    assert code == 1 and "in.jsonl, line 1: model 'a' battles itself" in err
    code, err = _convert(str(source), str(tmp_path / "out.xlsx"))
    assert code == 1 and "cannot tell the format" in err
    assert not (tmp_path / "out.csv").exists()


def test_llmfao_with_style_gets_the_judged_answers(llmfao_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "crowd.jsonl"
    source = str(llmfao_dir / "crowd-comparisons.csv")
    code, err = _convert(source, str(target), "--preset", "llmfao", "--add-style")
    assert code == 0, err
    first = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    haiku = "For Kubernetes, a plea,\nIn containers it sets us free,\nYet complexity, its fee."
    assert first["conversation_a"][1] == {"role": "assistant", "content": haiku}
    assert first["conv_metadata"]["sum_assistant_a_tokens"] > 0
