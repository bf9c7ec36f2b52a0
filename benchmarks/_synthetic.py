"""Seeded synthetic battles with known true ratings, for benchmarks and tests.

Outcomes follow Bradley-Terry with ties: a battle is a tie with probability
2 * kappa * min(p, 1 - p) and otherwise a win for a with probability chosen so that
E[outcome] = p exactly, where p = P(a beats b). So "a tie is half a win" is the true model
in expectation and the maximum-likelihood ratings are consistent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

POINTS_PER_UNIT = 400.0 / math.log(10.0)
STYLE_FEATURES = ("sum_assistant_tokens", "header_count", "list_count", "bold_count")


@dataclass(frozen=True)
class SyntheticBattles:
    models: NDArray[np.str_]
    true_ratings: NDArray[np.float64]
    """Elo scale (400, base 10), averaging 1000."""
    model_a: NDArray[np.object_]
    model_b: NDArray[np.object_]
    outcome: NDArray[np.float64]


@dataclass(frozen=True)
class SyntheticStyleBattles(SyntheticBattles):
    features_a: NDArray[np.float64]
    features_b: NDArray[np.float64]
    feature_names: tuple[str, ...]
    true_style_coef: NDArray[np.float64]
    """Logit effect per standard deviation of each standardised style difference."""


def model_names(n_models: int) -> NDArray[np.str_]:
    return np.array([f"model-{index:03d}" for index in range(n_models)])


def true_ratings(n_models: int, spread: float, rng: np.random.Generator) -> NDArray[np.float64]:
    ratings = rng.normal(0.0, spread, n_models)
    return 1000.0 + ratings - ratings.mean()


def draw_pairs(
    n_battles: int, n_models: int, rng: np.random.Generator, thin_battles: int = 0
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Uniform random pairs of distinct models; model 0 gets only `thin_battles` if set."""
    low = 1 if thin_battles else 0
    first = rng.integers(low, n_models, n_battles)
    second = rng.integers(low, n_models - 1, n_battles)
    second = np.where(second >= first, second + 1, second)
    if thin_battles:
        thin = rng.choice(n_battles, thin_battles, replace=False)
        first[thin] = 0
        second[thin] = rng.integers(1, n_models, thin_battles)
        flip = rng.random(n_battles) < 0.5
        first, second = np.where(flip, second, first), np.where(flip, first, second)
    return first, second


def draw_outcomes(
    probability: NDArray[np.float64], tie_fraction: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Outcomes 1 / 0.5 / 0 with mean `probability` and about `tie_fraction` ties."""
    room = 2.0 * np.minimum(probability, 1.0 - probability)
    kappa = min(1.0, tie_fraction / room.mean()) if tie_fraction > 0 else 0.0
    tie = rng.random(len(probability)) < kappa * room
    win_given_no_tie = (probability - 0.5 * kappa * room) / (1.0 - kappa * room)
    win = rng.random(len(probability)) < win_given_no_tie
    return np.where(tie, 0.5, np.where(win, 1.0, 0.0))


def make_battles(
    n_battles: int,
    n_models: int,
    *,
    tie_fraction: float = 0.3,
    spread: float = 100.0,
    thin_battles: int = 0,
    seed: int = 0,
) -> SyntheticBattles:
    rng = np.random.default_rng(seed)
    names = model_names(n_models)
    ratings = true_ratings(n_models, spread, rng)
    first, second = draw_pairs(n_battles, n_models, rng, thin_battles)
    probability = expit((ratings[first] - ratings[second]) / POINTS_PER_UNIT)
    outcome = draw_outcomes(probability, tie_fraction, rng)
    names_object = names.astype(object)
    return SyntheticBattles(names, ratings, names_object[first], names_object[second], outcome)


def make_style_battles(
    n_battles: int,
    n_models: int,
    *,
    tie_fraction: float = 0.3,
    spread: float = 100.0,
    style_coef: tuple[float, ...] = (0.25, 0.05, 0.1, 0.08),
    seed: int = 0,
) -> SyntheticStyleBattles:
    """Battles whose outcomes depend on ratings and on LMArena-style count features.

    Models differ in verbosity, so style and strength are correlated as on real boards.
    """
    rng = np.random.default_rng(seed)
    names = model_names(n_models)
    ratings = true_ratings(n_models, spread, rng)
    first, second = draw_pairs(n_battles, n_models, rng)
    verbosity = rng.lognormal(0.0, 0.4, n_models)
    features_a = _style_counts(verbosity[first], rng)
    features_b = _style_counts(verbosity[second], rng)
    difference = (features_a - features_b) / (features_a + features_b + 1.0)
    standardised = (difference - difference.mean(axis=0)) / difference.std(axis=0)
    coefficients = np.array(style_coef)
    logit = (ratings[first] - ratings[second]) / POINTS_PER_UNIT + standardised @ coefficients
    outcome = draw_outcomes(expit(logit), tie_fraction, rng)
    names_object = names.astype(object)
    return SyntheticStyleBattles(
        names,
        ratings,
        names_object[first],
        names_object[second],
        outcome,
        features_a,
        features_b,
        STYLE_FEATURES,
        coefficients,
    )


def _style_counts(verbosity: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    tokens = rng.poisson(400.0 * verbosity)
    headers = rng.poisson(1.5 * verbosity)
    lists = rng.poisson(3.0 * verbosity)
    bold = rng.poisson(2.0 * verbosity)
    return np.stack([tokens, headers, lists, bold], axis=1).astype(np.float64)
