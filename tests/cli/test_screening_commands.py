"""`glassarena audit` and `glassarena simulate-rigging` end to end through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from glassarena.cli import main


def _run(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.output


def test_audit_llmfao_flags_the_two_weaver_fans(llmfao_dir: Path) -> None:
    code, out = _run(
        "audit", str(llmfao_dir / "crowd-comparisons.csv"), "--preset", "llmfao", "--format", "json"
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["votes"] == 8931
    flagged = {(flag["voter"], flag["model"]) for flag in report["voter_flags"]}
    assert flagged == {("15", "Weaver 12k"), ("70", "Weaver 12k")}
    assert report["uncounted"] == sum(report["counts_by_reason"].values())
    assert {"rank_before", "rank_after"} <= set(report["board"][0])


def test_audit_without_voter_column_says_so(llmfao_dir: Path) -> None:
    code, out = _run("audit", str(llmfao_dir / "gpt4-comparisons.csv"), "--preset", "llmfao")
    assert code == 1
    assert "has no voter column" in out


def test_simulate_rigging_synthetic_json() -> None:
    code, out = _run(
        "simulate-rigging",
        "--synthetic",
        "12:6000",
        "--attacker",
        "sybil",
        "--budget",
        "200",
        "--format",
        "json",
    )
    assert code == 0, out
    payload = json.loads(out)
    off, on = payload["results"]
    assert (off["screening"], on["screening"]) == (False, True)
    assert on["rigged_caught"] > off["rigged_caught"] == 0.0


def test_simulate_rigging_bad_input() -> None:
    code, out = _run("simulate-rigging", "--synthetic", "12:6000", "--attacker", "bribe")
    assert code == 2 and "unknown attacker strategy 'bribe'" in out
    code, out = _run("simulate-rigging", "--synthetic", "12:600", "--budget", "5000")
    assert code == 1 and "larger than the honest data" in out
    code, out = _run("simulate-rigging")
    assert code == 2 and "either a battle FILE or --synthetic" in out


def test_simulate_rigging_plot(tmp_path: Path) -> None:
    target = tmp_path / "rigging.svg"
    code, out = _run(
        "simulate-rigging",
        "--synthetic",
        "12:6000",
        "--attacker",
        "target-only",
        "--budget",
        "100",
        "--plot",
        str(target),
    )
    assert code == 0, out
    assert target.read_text().lstrip().startswith("<?xml")


def test_rank_robustness_json_on_stderr(llmfao_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "rank",
            str(llmfao_dir / "crowd-comparisons.csv"),
            "--preset",
            "llmfao",
            "--format",
            "json",
            "--robustness",
            "--robustness-top",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["model"] == "GPT 4"  # stdout stays the board
    robustness = json.loads(result.stderr)
    assert robustness["first_place"]["upper"] == "GPT 4"
    assert robustness["first_place"]["votes_to_swap"] >= 1
    assert len(robustness["adjacent_pairs"]) == 2
    assert robustness["headline"].startswith("#1 would change if")


def test_rank_robustness_refuses_style_control(llmfao_dir: Path) -> None:
    code, out = _run(
        "rank",
        str(llmfao_dir / "crowd-comparisons.csv"),
        "--preset",
        "llmfao",
        "--elo",
        "--robustness",
    )
    assert code == 1 and "plain Bradley-Terry board" in out
