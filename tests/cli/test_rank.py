"""`glassarena rank` end to end through click, on the shipped LLMFAO votes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from glassarena.cli import main


@pytest.fixture(scope="module")
def crowd(llmfao_dir: Path) -> str:
    return str(llmfao_dir / "crowd-comparisons.csv")


def _rank(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["rank", *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_json_output(crowd: str) -> None:
    code, out, _ = _rank(crowd, "--preset", "llmfao", "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert len(records) == 59
    assert {"model", "rating", "lower", "upper", "rank", "battles"} <= set(records[0])
    assert records[0]["model"] == "GPT 4" and records[0]["rank"] == 1


def test_csv_output(crowd: str) -> None:
    code, out, _ = _rank(crowd, "--preset", "llmfao", "--format", "csv", "--min-battles", "500")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(int(row["battles"]) >= 500 for row in rows)


def test_markdown_output_with_bootstrap(crowd: str) -> None:
    code, out, _ = _rank(
        crowd,
        "--preset",
        "llmfao",
        "--format",
        "markdown",
        "--ci",
        "bootstrap",
        "--rounds",
        "30",
        "--seed",
        "1",
        "--progress",
    )
    assert code == 0
    assert out.splitlines()[0].startswith("| rank | model | rating | interval | rank interval |")
    assert len(out.splitlines()) == 61


def test_table_output(crowd: str) -> None:
    code, out, _ = _rank(crowd, "--preset", "llmfao")
    assert code == 0
    assert "Bradley-Terry" in out and "GPT 4" in out and "Weaver 12k" in out


def test_filters_anchor_elo_and_options(crowd: str) -> None:
    code, out, _ = _rank(
        crowd,
        "--preset",
        "llmfao",
        "--format",
        "json",
        "--anchor",
        "Weaver 12k=1500",
        "--both-bad",
        "drop",
        "--reweight",
        "--prior",
        "0.5",
    )
    assert code == 0
    weaver = next(r for r in json.loads(out) if r["model"] == "Weaver 12k")
    assert weaver["rating"] == pytest.approx(1500.0)
    code, out, _ = _rank(crowd, "--preset", "llmfao", "--format", "json", "--elo", "--ci", "none")
    assert code == 0 and json.loads(out)[0]["lower"] is None
    code, out, _ = _rank(
        crowd, "--preset", "llmfao", "--format", "json", "--where", "question_id=8", "--prior", "1"
    )
    assert code == 0 and sum(r["battles"] for r in json.loads(out)) > 0


def test_style_control_on_the_crowd_votes_joins_their_answers(crowd: str) -> None:
    code, out, err = _rank(crowd, "--preset", "llmfao", "--style-control", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert len(records) == 59
    style = records[0]["style_coefficients"]
    assert list(style) == ["tokens", "headers", "lists", "bold"]
    for coefficient in style.values():
        assert coefficient["lower"] < coefficient["coefficient"] < coefficient["upper"]
    assert all(record["style_coefficients"] == style for record in records)


def test_style_control_names_a_vote_whose_answer_is_missing(
    llmfao_dir: Path, tmp_path: Path
) -> None:
    for name in ("prompts.jsonl", "crowd-comparisons.csv"):
        (tmp_path / name).write_bytes((llmfao_dir / name).read_bytes())
    lines = (llmfao_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "results.jsonl").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    dropped = json.loads(lines[0])
    code, out, err = _rank(
        str(tmp_path / "crowd-comparisons.csv"), "--preset", "llmfao", "--style-control"
    )
    assert code == 1 and not out
    assert f"model {dropped['name']!r} on prompt {dropped['prompt']}" in err
    assert "style control needs both answers of every battle" in err
    assert "Traceback" not in err


def test_plot_option_writes_files(crowd: str, tmp_path: Path) -> None:
    target = tmp_path / "board.html"
    code, _, err = _rank(
        crowd,
        "--preset",
        "llmfao",
        "--min-battles",
        "500",
        "--format",
        "csv",
        "--plot",
        str(target),
    )
    assert code == 0
    assert "<svg" in target.read_text(encoding="utf-8")
    assert f"wrote {target}" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "missing column(s) model_a, model_b"),
        (["--preset", "llmfao", "--where", "language=English"], "cannot filter on 'language'"),
        (["--preset", "llmfao", "--category", "math"], "no category or category_tag column"),
        (
            [
                "--columns",
                "model_a=left,model_b=right",
                "--labels",
                "left=model_a,right=model_b",
                "--style-control",
            ],
            "style control needs",
        ),
        (["--preset", "llmfao", "--anchor", "nobody"], "must look like MODEL=RATING"),
        (["--preset", "llmfao", "--anchor", "nobody=1200"], "unknown model(s): nobody"),
        (["--preset", "llmfao", "--where", "judge=58"], "ratings are infinite"),
        (["--labels", "left=winner"], "'winner' is not a winner label"),
    ],
)
def test_errors_are_one_clear_line(crowd: str, arguments: list[str], message: str) -> None:
    code, out, err = _rank(crowd, *arguments)
    assert code != 0
    assert message in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1 or "Usage:" in err


def test_bad_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = _rank(str(empty))
    assert code == 1 and "no battles found" in err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"model_a": "a", "model_b": "b", "winner": "tie"}\n{"model_a": \n')
    code, _, err = _rank(str(broken))
    assert code == 1 and "broken.jsonl, line 2: malformed JSON" in err
    code, _, err = _rank(str(tmp_path / "absent.csv"))
    assert code == 1 and "no such file" in err


def test_the_llmfao_preset_reads_the_llm_judge_files_too(llmfao_dir: Path) -> None:
    judged = str(llmfao_dir / "gpt4-comparisons.csv")
    result = CliRunner().invoke(main, ["rank", judged, "--preset", "llmfao", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) > 10 and all(row["battles"] > 0 for row in rows)
