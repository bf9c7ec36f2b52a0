"""`glassarena compare` on LLMFAO's crowd, GPT-4-judge and GPT-3.5-judge boards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from glassarena.cli import main


@pytest.mark.slow
def test_llmfao_crowd_against_the_llm_judges(llmfao_dir: Path) -> None:
    boards = [
        str(llmfao_dir / name)
        for name in (
            "crowd-comparisons.csv",
            "gpt4-crowd-comparisons.csv",
            "gpt3-crowd-comparisons.csv",
        )
    ]
    result = CliRunner().invoke(
        main, ["compare", *boards, "--preset", "llmfao", "--rounds", "50", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    gpt4, gpt3 = json.loads(result.stdout)
    for divergence in (gpt4, gpt3):
        assert divergence["models"] == 59
        low, high = divergence["kendall_interval"]
        # bias-corrected interval for the boards' agreement; the observed tau is pulled
        # down by each board's own noise, so it may sit at or below the interval
        assert 0.3 < low < high < 0.9
        assert 0.3 < divergence["kendall_tau"] < 0.8  # related boards, far from identical
    assert any(model == "Airoboros L2 70B" for model, *_ in gpt4["flagged"])


def test_rating_tables_compare_exactly(tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    first.write_text("model,rating\na,1200\nb,1100\nc,1000\nd,900\n")
    second.write_text("model,rank\na,1\nb,2\nd,3\nc,4\n")
    result = CliRunner().invoke(main, ["compare", str(first), str(second), "--format", "json"])
    assert result.exit_code == 0, result.output
    (divergence,) = json.loads(result.stdout)
    assert divergence["kendall_tau"] == pytest.approx(2 / 3)
    flagged = {model for model, *_ in divergence["flagged"]}
    assert flagged == {"c", "d"}  # exact boards: any rank difference is beyond the interval


def test_boards_without_enough_shared_models(tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    first.write_text("model,rating\na,1\nb,2\nc,3\n")
    second.write_text("model,rating\nx,1\ny,2\nz,3\n")
    result = CliRunner().invoke(main, ["compare", str(first), str(second)])
    assert result.exit_code == 1 and "share 0 models" in result.output
