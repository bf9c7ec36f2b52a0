"""The rigging targets on the real LLMFAO crowd and a larger synthetic board (slow).

The full tables (K = 100, 1,000, 5,000, every attacker, 100 models x 200,000 votes) are in
docs/manipulation.md; these runs keep the headline numbers from regressing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glassarena.battles.formats import build_mapping, read_battles
from glassarena.screening import ScreeningSettings, VoteTable
from glassarena.screening.simulation import (
    honest_board_agreement,
    simulate_rigging,
    synthetic_crowd,
)

TARGETED = ["target-only", "omnipresent", "sybil"]


def _check_targets(outcomes: list) -> None:  # type: ignore[type-arg]
    for outcome in outcomes:
        if not outcome.screening:
            assert outcome.rank_gain >= 5, outcome  # the attack works unscreened
            continue
        assert outcome.rank_gain_per_1000 <= 1.0, outcome
        assert outcome.rigged_caught >= 0.9, outcome
        assert outcome.honest_uncounted <= 0.05, outcome


@pytest.mark.slow
def test_llmfao_crowd(llmfao_dir: Path) -> None:
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", None, build_mapping("llmfao"))
    honest = VoteTable.from_battles(battles)
    _check_targets(simulate_rigging(honest, TARGETED, [1000], board="llmfao"))
    tau, uncounted = honest_board_agreement(honest, ScreeningSettings())
    # Measured: the two Weaver 12k fans' 155 votes (1.74 %) stop counting, tau 0.967
    # (below the 0.98 target on this small, near-tied board; see docs/manipulation.md).
    assert uncounted < 0.02 and tau > 0.95


@pytest.mark.slow
def test_synthetic_board() -> None:
    honest, _ = synthetic_crowd(60, 60_000, n_voters=6_000, seed=5)
    _check_targets(simulate_rigging(honest, TARGETED, [1000], board="synthetic"))
    # the one-vote swarm (uncaught, +5 ranks at K = 100 on the 100-model board before the
    # swarm test counted one-vote voters)
    _check_targets(
        simulate_rigging(honest, ["sybil"], [1000], votes_per_identity=1, board="synthetic")
    )
    tau, uncounted = honest_board_agreement(honest, ScreeningSettings())
    assert tau >= 0.98 and uncounted <= 0.01
