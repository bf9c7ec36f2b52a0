"""Screening block by block decides exactly what screening all votes at once decides."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pytest

from glassarena.screening import ScreeningSettings, blocks, detectors, screen
from glassarena.screening.attacks import STRATEGIES, Attack, rig
from glassarena.screening.reference import fit_reference
from glassarena.screening.result import ModelShift
from glassarena.screening.simulation import _append, mid_table_model, synthetic_crowd


def test_blocks_keep_each_actor_whole() -> None:
    rng = np.random.default_rng(0)
    actor = rng.integers(0, 300, 20_000)
    positions = np.flatnonzero(rng.random(20_000) < 0.7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks, "_BLOCK", 1_000)
        parts = list(blocks.actor_blocks(actor, positions))
    assert len(parts) > 5
    assert np.array_equal(np.sort(np.concatenate(parts)), positions)
    owners = [set(actor[part].tolist()) for part in parts]
    assert sum(len(owner) for owner in owners) == len(set().union(*owners))
    assert all(np.all(np.diff(part) > 0) for part in parts)


def test_screening_in_small_blocks_decides_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    table, ratings = synthetic_crowd(30, 40_000, n_voters=3_000, seed=5)
    rng = np.random.default_rng(2)
    target = mid_table_model(table)
    for strategy in STRATEGIES:
        table = _append(table, rig(table, Attack(strategy, 600, target), ratings, rng))
    whole = screen(table, ScreeningSettings())
    monkeypatch.setattr(blocks, "_BLOCK", 2_500)
    blocked = screen(table, ScreeningSettings())
    assert not whole.counted.all()
    assert np.array_equal(whole.counted, blocked.counted)
    assert np.array_equal(whole.reason, blocked.reason)
    assert len(whole.voter_flags) > 10
    names = [(flag.kind, flag.name, flag.reason, flag.model) for flag in whole.voter_flags]
    assert names == [
        (flag.kind, flag.name, flag.reason, flag.model) for flag in blocked.voter_flags
    ]
    statistics = [flag.statistic for flag in blocked.voter_flags]
    assert [flag.statistic for flag in whole.voter_flags] == pytest.approx(statistics)
    assert [shift.model for shift in whole.model_shifts] == [
        shift.model for shift in blocked.model_shifts
    ]


@pytest.mark.parametrize("window_hours", [24.0, None])
def test_cohort_shifts_in_small_blocks_find_the_same_shift(
    monkeypatch: pytest.MonkeyPatch, window_hours: float | None
) -> None:
    """A burst: in the last day, new and low-history voters let one mid-table model win
    every battle it is in. Found in one block and in blocks of 700 alike, with the same
    statistic and the same votes to stop counting."""
    table, _ = synthetic_crowd(20, 30_000, n_voters=2_000, seed=9)
    assert table.time is not None
    settings = ScreeningSettings()
    cohort = detectors.cohort_voters(table, settings.low_history_votes, settings.new_voter_days)[
        table.voter
    ]
    target = int(np.flatnonzero(table.models == mid_table_model(table))[0])
    recent = cohort & (table.time > table.time.max() - 86_400.0)
    outcome = table.outcome.copy()
    outcome[recent & (table.model_a == target)] = 1.0
    outcome[recent & (table.model_b == target)] = 0.0
    table = replace(table, outcome=outcome)
    counted = np.ones(table.n_votes, dtype=bool)
    reference = fit_reference(table, ~cohort, settings.reference_prior)
    window = None if window_hours is None else window_hours * 3_600.0

    def shifts() -> tuple[list[ModelShift], np.ndarray]:
        return detectors.cohort_shifts(table, counted, cohort, reference, settings.alpha, window)

    whole, whole_drop = shifts()
    monkeypatch.setattr(blocks, "_BLOCK", 700)
    blocked, blocked_drop = shifts()
    assert [shift.model for shift in whole] == [str(table.models[target])]
    assert whole[0].reason == ("model-shift" if window is None else "burst")
    assert whole_drop.sum() > 100 and np.array_equal(whole_drop, blocked_drop)
    measured = ("z", "observed_win_share", "expected_win_share")
    for found, again in zip(whole, blocked, strict=True):
        assert {**asdict(found), **dict.fromkeys(measured)} == {
            **asdict(again),
            **dict.fromkeys(measured),
        }
        assert [getattr(again, name) for name in measured] == pytest.approx(
            [getattr(found, name) for name in measured], rel=1e-12
        )
