"""Bradley-Terry options: bootstrap, ranks, weights, reweighting, prior, predictions."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from glassarena.ratings import BradleyTerry, rank_from_intervals


@pytest.fixture(scope="module")
def battles(synthetic: ModuleType) -> object:
    return synthetic.make_battles(20_000, 10, seed=21, spread=150.0)


def _fit(battles: object, **options: object) -> BradleyTerry:
    return BradleyTerry(**options).fit(battles.model_a, battles.model_b, battles.outcome)


def test_bootstrap_is_seeded_reports_progress_and_agrees_with_sandwich(battles: object) -> None:
    calls: list[tuple[int, int]] = []
    booted = _fit(
        battles, ci="bootstrap", rounds=300, seed=7, progress=lambda *call: calls.append(call)
    )
    again = _fit(battles, ci="bootstrap", rounds=300, seed=7)
    other = _fit(battles, ci="bootstrap", rounds=300, seed=8)
    sandwich = _fit(battles)

    np.testing.assert_array_equal(booted.lower_, again.lower_)
    assert not np.array_equal(booted.lower_, other.lower_)
    assert calls[-1] == (300, 300)
    np.testing.assert_array_equal(booted.ratings_, sandwich.ratings_)
    ratio = (booted.upper_ - booted.lower_) / (sandwich.upper_ - sandwich.lower_)
    assert np.all((ratio > 0.85) & (ratio < 1.15))
    assert booted.covariance_.shape == (10, 10)
    assert booted.unstable_rounds_ == 0


def test_rank_follows_lmarena_rule_and_bootstrap_rank_interval(battles: object) -> None:
    booted = _fit(battles, ci="bootstrap", rounds=200, seed=1)
    expected = [1 + int(np.sum(booted.lower_ > upper)) for upper in booted.upper_]
    assert booted.rank_.tolist() == expected
    assert np.all(booted.rank_lower_ <= booted.rank_upper_)
    ordinal = 1 + np.argsort(np.argsort(-booted.ratings_))
    assert np.all((booted.rank_lower_ <= ordinal) & (ordinal <= booted.rank_upper_))
    assert _fit(battles).rank_lower_ is None
    assert rank_from_intervals(np.array([10.0, 0.0, 0.5]), np.array([12.0, 2.0, 3.0])).tolist() == [
        1,
        2,
        2,
    ]


def test_no_interval_ranks_by_rating(battles: object) -> None:
    plain = _fit(battles, ci=None)
    assert plain.lower_ is None and plain.covariance_ is None
    assert sorted(plain.rank_.tolist()) == list(range(1, 11))


def test_integer_weights_equal_repeated_battles(battles: object) -> None:
    head = 500
    model_a, model_b = battles.model_a[:head], battles.model_b[:head]
    outcome = battles.outcome[:head]
    weights = np.arange(head) % 3 + 1
    weighted = BradleyTerry().fit(model_a, model_b, outcome, weights=weights)
    repeated = BradleyTerry().fit(
        np.repeat(model_a, weights), np.repeat(model_b, weights), np.repeat(outcome, weights)
    )
    np.testing.assert_allclose(weighted.ratings_, repeated.ratings_, atol=1e-8)
    # Weighted rows: a battle of weight w contributes w^2 to J, not w battles' worth.
    assert np.all(weighted.upper_ - weighted.lower_ > repeated.upper_ - repeated.lower_)
    booted = BradleyTerry(ci="bootstrap", rounds=50, seed=0).fit(
        model_a, model_b, outcome, weights=weights
    )
    assert np.all(np.isfinite(booted.lower_))


def test_reweighting_is_inverse_pair_frequency(battles: object) -> None:
    low = np.minimum(battles.model_a, battles.model_b)
    high = np.maximum(battles.model_a, battles.model_b)
    pairs = np.char.add(low.astype(str), high.astype(str))
    _, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    explicit = BradleyTerry().fit(
        battles.model_a,
        battles.model_b,
        battles.outcome,
        weights=weights * len(weights) / weights.sum(),
    )
    reweighted = _fit(battles, reweight=True)
    np.testing.assert_allclose(reweighted.ratings_, explicit.ratings_, atol=1e-8)
    np.testing.assert_allclose(reweighted.covariance_, explicit.covariance_, rtol=1e-8)


def test_prior_is_an_l2_penalty_on_log_strengths(battles: object) -> None:
    free = _fit(battles)
    prior = 500.0
    shrunk = _fit(battles, prior=prior)
    spread = lambda fitted: np.ptp(fitted.ratings_)  # noqa: E731
    assert spread(shrunk) < spread(free)
    theta = (shrunk.ratings_ - 1000.0) * np.log(10.0) / 400.0
    index = {name: i for i, name in enumerate(shrunk.models_)}
    first = np.array([index[name] for name in battles.model_a])
    second = np.array([index[name] for name in battles.model_b])
    residual = battles.outcome - 1.0 / (1.0 + np.exp(theta[second] - theta[first]))
    gradient = np.bincount(first, residual, 10) - np.bincount(second, residual, 10)
    np.testing.assert_allclose(gradient, prior * theta, atol=1e-6)


def test_predict_proba_uses_the_elo_scale(battles: object) -> None:
    fitted = _fit(battles)
    a, b = fitted.models_[0], fitted.models_[1]
    gap = fitted.ratings_[0] - fitted.ratings_[1]
    expected = 1.0 / (1.0 + 10 ** (-gap / 400.0))
    assert fitted.predict_proba([a], [b])[0] == pytest.approx(expected)
    assert fitted.predict_proba(a, b)[0] + fitted.predict_proba(b, a)[0] == pytest.approx(1.0)


def test_scale_base_and_initial_rating(battles: object) -> None:
    default = _fit(battles)
    other = _fit(battles, scale=200.0, base=np.e, initial_rating=1500.0)
    expected = 1500.0 + (default.ratings_ - 1000.0) * (200.0 / 400.0) * np.log(10.0)
    np.testing.assert_allclose(other.ratings_, expected, atol=1e-8)


def test_coded_battles_give_the_same_fit_as_names(battles: object) -> None:
    # Codes into an unsorted list holding a model without battles, as a factorised column might.
    listed = ["zz-unused", *reversed(sorted(set(battles.model_a.tolist())))]
    position = {name: index for index, name in enumerate(listed)}
    code_a = np.array([position[name] for name in battles.model_a], dtype=np.int32)
    code_b = np.array([position[name] for name in battles.model_b], dtype=np.int32)
    for options in ({}, {"anchor": (listed[3], 1200.0)}, {"reweight": True}):
        by_name = _fit(battles, **options)
        by_code = BradleyTerry(**options).fit(code_a, code_b, battles.outcome, models=listed)
        np.testing.assert_array_equal(by_code.models_, by_name.models_)
        np.testing.assert_array_equal(by_code.battles_, by_name.battles_)
        np.testing.assert_allclose(by_code.ratings_, by_name.ratings_, rtol=0, atol=1e-9)
        np.testing.assert_allclose(by_code.upper_, by_name.upper_, rtol=0, atol=1e-9)
