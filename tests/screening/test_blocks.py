"""Screening block by block decides exactly what screening all votes at once decides."""

from __future__ import annotations

import numpy as np
import pytest

from glassarena.screening import ScreeningSettings, blocks, screen
from glassarena.screening.attacks import STRATEGIES, Attack, rig
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
