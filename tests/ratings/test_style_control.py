"""Style control against an unpenalised logistic-regression reference on the same design."""

from __future__ import annotations

import math
import warnings
from types import ModuleType

import numpy as np
import pytest
import statsmodels.api as sm

from glassarena.ratings import (
    BradleyTerry,
    InvalidInputError,
    StyleControlledBradleyTerry,
    style_control,
)

POINTS = 400.0 / math.log(10.0)


@pytest.fixture(scope="module")
def battles(synthetic: ModuleType) -> object:
    return synthetic.make_style_battles(20_000, 10, seed=5)


def _reference(battles: object, models: list[str]) -> object:
    """Logit(outcome) on model indicators (first model as reference) and LMArena features."""
    position = {name: index for index, name in enumerate(models)}
    first = np.array([position[name] for name in battles.model_a])
    second = np.array([position[name] for name in battles.model_b])
    rows = np.arange(len(first))
    indicators = np.zeros((len(first), len(models)))
    indicators[rows, first] = 1.0
    indicators[rows, second] = -1.0
    difference = (battles.features_a - battles.features_b) / (
        battles.features_a + battles.features_b + 1.0
    )
    standardised = (difference - difference.mean(axis=0)) / difference.std(axis=0)
    design = np.hstack([indicators[:, 1:], standardised])
    return sm.Logit(battles.outcome, design).fit(
        method="newton", maxiter=100, tol=1e-12, disp=0, cov_type="HC0"
    )


def test_coefficients_and_ratings_match_logistic_regression(battles: object) -> None:
    fitted = StyleControlledBradleyTerry().fit(
        battles.model_a,
        battles.model_b,
        battles.outcome,
        battles.features_a,
        battles.features_b,
        battles.feature_names,
    )
    reference = _reference(battles, fitted.models_.tolist())
    k = len(battles.feature_names)

    np.testing.assert_allclose(fitted.style_coef_, reference.params[-k:], atol=1e-3)
    np.testing.assert_allclose(fitted.style_coef_, reference.params[-k:], rtol=1e-7)
    gaps = (fitted.ratings_ - fitted.ratings_[0])[1:]
    np.testing.assert_allclose(gaps, POINTS * reference.params[:-k], atol=1e-4)
    assert fitted.feature_names_.tolist() == list(battles.feature_names)


def test_sandwich_matches_robust_covariance_of_the_same_objective(battles: object) -> None:
    fitted = StyleControlledBradleyTerry().fit(
        battles.model_a,
        battles.model_b,
        battles.outcome,
        battles.features_a,
        battles.features_b,
        battles.feature_names,
    )
    reference = _reference(battles, fitted.models_.tolist())
    k = len(battles.feature_names)
    robust = np.asarray(reference.cov_params())

    np.testing.assert_allclose(fitted.style_covariance_, robust[-k:, -k:], rtol=1e-6)
    covariance = fitted.covariance_
    gap_variance = covariance.diagonal() + covariance[0, 0] - 2 * covariance[:, 0]
    np.testing.assert_allclose(gap_variance[1:], POINTS**2 * np.diag(robust)[:-k], rtol=1e-6)
    z = 1.959963984540054
    half = z * np.sqrt(np.diag(robust)[-k:])
    np.testing.assert_allclose(fitted.style_lower_, reference.params[-k:] - half, atol=1e-6)


def test_true_coefficients_inside_intervals_and_style_changes_ratings(battles: object) -> None:
    fitted = StyleControlledBradleyTerry().fit(
        battles.model_a,
        battles.model_b,
        battles.outcome,
        battles.features_a,
        battles.features_b,
        battles.feature_names,
    )
    assert np.all(fitted.style_lower_ <= battles.true_style_coef)
    assert np.all(battles.true_style_coef <= fitted.style_upper_)
    plain = BradleyTerry().fit(battles.model_a, battles.model_b, battles.outcome)
    controlled_error = np.abs(fitted.ratings_ - battles.true_ratings).max()
    plain_error = np.abs(plain.ratings_ - battles.true_ratings).max()
    assert controlled_error < plain_error


def test_bootstrap_style_intervals_are_seeded_and_close_to_sandwich(
    synthetic: ModuleType,
) -> None:
    small = synthetic.make_style_battles(3_000, 6, seed=8)
    arguments = (
        small.model_a,
        small.model_b,
        small.outcome,
        small.features_a,
        small.features_b,
        small.feature_names,
    )
    calls: list[tuple[int, int]] = []
    booted = StyleControlledBradleyTerry(
        ci="bootstrap", rounds=150, seed=4, progress=lambda done, total: calls.append((done, total))
    ).fit(*arguments)
    again = StyleControlledBradleyTerry(ci="bootstrap", rounds=150, seed=4).fit(*arguments)
    sandwich = StyleControlledBradleyTerry().fit(*arguments)

    np.testing.assert_array_equal(booted.style_lower_, again.style_lower_)
    assert calls[-1] == (150, 150)
    ratio = (booted.style_upper_ - booted.style_lower_) / (
        sandwich.style_upper_ - sandwich.style_lower_
    )
    assert np.all((ratio > 0.75) & (ratio < 1.25))
    assert booted.rank_lower_ is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = StyleControlledBradleyTerry(ci="bootstrap", rounds=1, seed=4).fit(*arguments)
    assert single.style_covariance_ is None and single.covariance_ is None


def test_constant_or_negative_features_are_named(battles: object) -> None:
    constant = np.ones_like(battles.features_a)
    with pytest.raises(InvalidInputError, match="sum_assistant_tokens"):
        StyleControlledBradleyTerry().fit(
            battles.model_a,
            battles.model_b,
            battles.outcome,
            constant,
            constant,
            battles.feature_names,
        )
    negative = battles.features_a.copy()
    negative[7, 2] = -1.0
    with pytest.raises(InvalidInputError, match=r"features_a .*row 7, feature 2"):
        StyleControlledBradleyTerry().fit(
            battles.model_a,
            battles.model_b,
            battles.outcome,
            negative,
            battles.features_b,
            battles.feature_names,
        )


def test_prior_fit_is_the_penalised_optimum(battles: object) -> None:
    """prior = lambda maximises loglik - lambda/2 * |(theta, beta)|^2: its gradient vanishes."""
    arguments = (
        battles.model_a,
        battles.model_b,
        battles.outcome,
        battles.features_a,
        battles.features_b,
        battles.feature_names,
    )
    prior = 2_000.0
    free = StyleControlledBradleyTerry().fit(*arguments)
    shrunk = StyleControlledBradleyTerry(prior=prior).fit(*arguments)
    models = shrunk.models_.tolist()
    position = {name: index for index, name in enumerate(models)}
    rows = np.arange(len(battles.outcome))
    indicators = np.zeros((len(rows), len(models)))
    indicators[rows, [position[name] for name in battles.model_a]] = 1.0
    indicators[rows, [position[name] for name in battles.model_b]] = -1.0
    difference = (battles.features_a - battles.features_b) / (
        battles.features_a + battles.features_b + 1.0
    )
    standardised = (difference - difference.mean(axis=0)) / difference.std(axis=0)
    logit = sm.Logit(battles.outcome, np.hstack([indicators, standardised]))
    parameters = np.r_[(shrunk.ratings_ - 1000.0) / POINTS, shrunk.style_coef_]

    gradient = logit.score(parameters) - prior * parameters
    assert np.abs(gradient).max() < 1e-6 * np.abs(logit.score(np.zeros_like(parameters))).max()
    assert np.linalg.norm(parameters) < np.linalg.norm(
        np.r_[(free.ratings_ - 1000.0) / POINTS, free.style_coef_]
    )
    assert np.all(shrunk.style_lower_ < shrunk.style_coef_)
    assert np.all(shrunk.style_coef_ < shrunk.style_upper_)


def test_coded_battles_give_the_same_fit_as_names(battles: object) -> None:
    listed = sorted(set(battles.model_a.tolist()), reverse=True)
    position = {name: index for index, name in enumerate(listed)}
    code_a = np.array([position[name] for name in battles.model_a])
    code_b = np.array([position[name] for name in battles.model_b])
    style = (battles.features_a, battles.features_b, battles.feature_names)
    by_name = StyleControlledBradleyTerry().fit(
        battles.model_a, battles.model_b, battles.outcome, *style
    )
    by_code = StyleControlledBradleyTerry().fit(
        code_a, code_b, battles.outcome, *style, models=listed
    )
    np.testing.assert_array_equal(by_code.models_, by_name.models_)
    np.testing.assert_allclose(by_code.ratings_, by_name.ratings_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(by_code.style_coef_, by_name.style_coef_, rtol=1e-12)
    np.testing.assert_allclose(by_code.style_upper_, by_name.style_upper_, rtol=1e-10)


def test_float32_counts_give_the_fit_of_float64_counts(battles: object) -> None:
    """A live board holds its counts as float32 (whole numbers, exact): the fit is the same."""
    names = (battles.model_a, battles.model_b, battles.outcome)
    wide = StyleControlledBradleyTerry().fit(
        *names, battles.features_a, battles.features_b, battles.feature_names
    )
    narrow = StyleControlledBradleyTerry().fit(
        *names,
        battles.features_a.astype(np.float32),
        battles.features_b.astype(np.float32),
        battles.feature_names,
    )
    np.testing.assert_array_equal(narrow.ratings_, wide.ratings_)
    np.testing.assert_array_equal(narrow.style_upper_, wide.style_upper_)


def test_battles_of_weight_zero_are_left_out(battles: object) -> None:
    weights = np.ones(len(battles.outcome))
    weights[::3] = 0.0
    kept = weights > 0
    fitted = StyleControlledBradleyTerry().fit(
        battles.model_a,
        battles.model_b,
        battles.outcome,
        battles.features_a,
        battles.features_b,
        battles.feature_names,
        weights=weights,
    )
    subset = StyleControlledBradleyTerry().fit(
        battles.model_a[kept],
        battles.model_b[kept],
        battles.outcome[kept],
        battles.features_a[kept],
        battles.features_b[kept],
        battles.feature_names,
        weights=weights[kept],
    )
    assert fitted.n_battles_ == kept.sum()
    np.testing.assert_allclose(fitted.ratings_, subset.ratings_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fitted.style_upper_, subset.style_upper_, rtol=1e-10)


def _sorted_design(battles: object, chunk_rows: int) -> style_control._Design:
    """The design of `battles` as the fit makes it, its passes `chunk_rows` rows at a time."""
    models = sorted(set(battles.model_a.tolist()))
    position = {name: index for index, name in enumerate(models)}
    first = np.array([position[name] for name in battles.model_a])
    second = np.array([position[name] for name in battles.model_b])
    order = np.argsort(first * len(models) + second, kind="stable")
    key = (first * len(models) + second)[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    difference = (battles.features_a - battles.features_b) / (
        battles.features_a + battles.features_b + 1.0
    )
    standardised = (difference - difference.mean(axis=0)) / difference.std(axis=0)
    return style_control._Design(
        outcome=battles.outcome[order],
        weight=np.random.default_rng(2).uniform(0.5, 2.0, len(order)),
        features_t=np.ascontiguousarray(standardised[order].T),
        n_models=len(models),
        pair_first=key[start] // len(models),
        pair_second=key[start] % len(models),
        chunks=style_control._chunks(start, len(order), chunk_rows),
    )


def test_chunked_passes_sum_to_the_one_pass_sums(synthetic: ModuleType) -> None:
    """Chunks of 7 rows cut every pair (about 70 rows each) into pieces across several
    chunks: the sums over the rows are those of one pass over them all."""
    small = synthetic.make_style_battles(2_000, 6, seed=3)
    whole = _sorted_design(small, len(small.outcome))
    assert len(whole.chunks) == 1
    parameters = np.random.default_rng(1).normal(0.0, 0.5, whole.n_parameters)
    gradient, matrices = whole.newton_system(parameters, whole.weight, score_covariance=True)
    for chunk_rows in (7, 500):
        chunked = _sorted_design(small, chunk_rows)
        assert len(chunked.chunks) == -(-len(small.outcome) // chunk_rows)
        cut_gradient, cut_matrices = chunked.newton_system(
            parameters, chunked.weight, score_covariance=True
        )
        np.testing.assert_allclose(cut_gradient, gradient, rtol=1e-12, atol=1e-12)
        for cut, one in zip(cut_matrices, matrices, strict=True):
            np.testing.assert_allclose(cut, one, rtol=1e-12, atol=1e-12)
        assert math.isclose(
            chunked.log_likelihood(parameters, chunked.weight),
            whole.log_likelihood(parameters, whole.weight),
            rel_tol=1e-13,
        )


def test_fit_in_tiny_chunks_is_the_fit_in_one(
    synthetic: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = synthetic.make_style_battles(3_000, 6, seed=9)
    arguments = (
        small.model_a,
        small.model_b,
        small.outcome,
        small.features_a,
        small.features_b,
        small.feature_names,
    )
    monkeypatch.setattr(style_control, "CHUNK_ROWS", len(small.outcome))
    whole = StyleControlledBradleyTerry().fit(*arguments)
    monkeypatch.setattr(style_control, "CHUNK_ROWS", 13)
    chunked = StyleControlledBradleyTerry().fit(*arguments)
    np.testing.assert_allclose(chunked.ratings_, whole.ratings_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(chunked.style_coef_, whole.style_coef_, rtol=1e-10)
    np.testing.assert_allclose(chunked.style_covariance_, whole.style_covariance_, rtol=1e-9)
    np.testing.assert_allclose(chunked.feature_scale_, whole.feature_scale_, rtol=1e-13)
    assert math.isclose(chunked.log_likelihood_, whole.log_likelihood_, rel_tol=1e-13)
