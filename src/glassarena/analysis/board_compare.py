"""Divergence between leaderboards: rank correlations with bootstrap intervals, and the
models whose rank differs beyond their rank intervals.

A board is either a battle file (refitted with Bradley-Terry, and bootstrapped over its
battles, so it carries rank intervals) or a table of model and rating (or rank), taken as
exact. Boards are compared on the models they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import kendalltau, rankdata, spearmanr

from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats import ColumnMapping, read_battles
from glassarena.battles.record import outcomes
from glassarena.ratings import BradleyTerry


@dataclass(frozen=True)
class Board:
    name: str
    models: NDArray[np.str_]
    ratings: NDArray[np.float64]  # higher is better
    samples: NDArray[np.float64] | None = None  # bootstrap ratings, rounds x models

    def on(self, models: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        index = np.searchsorted(self.models, models)
        samples = None if self.samples is None else self.samples[:, index]
        return self.ratings[index], samples


@dataclass(frozen=True)
class Divergence:
    first: str
    second: str
    models: int
    kendall_tau: float
    kendall_interval: tuple[float, float]
    spearman_rho: float
    spearman_interval: tuple[float, float]
    flagged: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...]  # model, rank ranges


def board_from_battles(
    battles: pd.DataFrame, name: str, rounds: int, rng: np.random.Generator
) -> Board:
    outcome, kept = outcomes(battles["winner"])
    a = battles["model_a"].to_numpy()[kept]
    b = battles["model_b"].to_numpy()[kept]
    fit = BradleyTerry(ci=None, prior=0.5).fit(a, b, outcome)
    samples = np.empty((rounds, len(fit.models_)))
    for round_index in range(rounds):
        chosen = rng.integers(0, len(outcome), len(outcome))
        refit = BradleyTerry(ci=None, prior=0.5).fit(a[chosen], b[chosen], outcome[chosen])
        samples[round_index] = np.full(len(fit.models_), -np.inf)
        samples[round_index, np.searchsorted(fit.models_, refit.models_)] = refit.ratings_
    return Board(name, np.asarray(fit.models_), np.asarray(fit.ratings_), samples)


def board_from_table(frame: pd.DataFrame, name: str) -> Board:
    """A table with a `model` column and `rating` (higher is better) or `rank` (1 is best)."""
    if "model" not in frame.columns or not ({"rating", "rank"} & set(frame.columns)):
        raise BattleDataError(
            "a board table needs a model column and a rating or rank column (or battle "
            f"columns model_a, model_b, winner); found {', '.join(map(str, frame.columns))}",
            name,
        )
    frame = frame.sort_values("model")
    score = frame["rating"] if "rating" in frame.columns else -frame["rank"]
    models = frame["model"].astype(str).to_numpy(dtype=str)
    return Board(name, models, score.to_numpy(dtype=float))


def load_board(
    path: Path,
    input_format: str | None,
    mapping: ColumnMapping | None,
    rounds: int,
    rng: np.random.Generator,
) -> Board:
    if path.suffix.lower() == ".csv" and path.is_file() and input_format in (None, "csv"):
        header = pd.read_csv(path, nrows=0).columns
        if "model" in header:
            return board_from_table(pd.read_csv(path), path.stem)
    return board_from_battles(read_battles(path, input_format, mapping), path.stem, rounds, rng)


def compare(first: Board, second: Board, level: float = 0.95) -> Divergence:
    shared = sorted(set(first.models.tolist()) & set(second.models.tolist()))
    if len(shared) < 3:
        raise ValueError(
            f"boards {first.name!r} and {second.name!r} share {len(shared)} models; "
            "need at least 3 to compare (map names with --rename)"
        )
    ratings_1, samples_1 = first.on(shared)
    ratings_2, samples_2 = second.on(shared)
    tau = float(kendalltau(ratings_1, ratings_2).statistic)
    rho = float(spearmanr(ratings_1, ratings_2).statistic)
    drawn = [len(samples) for samples in (samples_1, samples_2) if samples is not None]
    rounds = max(drawn, default=0)
    taus, rhos = [tau], [rho]
    ranks_1 = _rank_samples(ratings_1, samples_1, rounds)
    ranks_2 = _rank_samples(ratings_2, samples_2, rounds)
    if rounds:
        pairs = list(zip(ranks_1, ranks_2, strict=True))
        taus = [float(kendalltau(r1, r2).statistic) for r1, r2 in pairs]
        rhos = [float(spearmanr(r1, r2).statistic) for r1, r2 in pairs]
    tail = (1 - level) / 2
    # Basic (reverse-percentile) intervals for the agreement of the boards themselves:
    # resampling adds noise to both boards, which pulls the bootstrap correlations below
    # the observed one; reflecting the quantiles about the estimate corrects that shift.
    # The observed correlation is itself attenuated by each board's noise, so it can sit
    # at or below the interval.
    tau_interval = _basic_interval(tau, taus, tail)
    rho_interval = _basic_interval(rho, rhos, tail)
    low_1, high_1 = np.quantile(ranks_1, [tail, 1 - tail], axis=0)
    low_2, high_2 = np.quantile(ranks_2, [tail, 1 - tail], axis=0)
    apart = (high_1 < low_2) | (high_2 < low_1)
    flagged = tuple(
        (shared[i], (int(low_1[i]), int(high_1[i])), (int(low_2[i]), int(high_2[i])))
        for i in np.flatnonzero(apart)
    )
    return Divergence(
        first.name,
        second.name,
        len(shared),
        tau,
        tau_interval,
        rho,
        rho_interval,
        flagged,
    )


def _basic_interval(estimate: float, samples: list[float], tail: float) -> tuple[float, float]:
    low, high = np.quantile(samples, [tail, 1 - tail])
    return max(-1.0, 2 * estimate - float(high)), min(1.0, 2 * estimate - float(low))


def _rank_samples(
    ratings: NDArray[np.float64], samples: NDArray[np.float64] | None, rounds: int
) -> NDArray[np.float64]:
    """Ranks (1 = best) among the shared models, per bootstrap round (or the fixed ranks)."""
    if samples is None:
        return np.tile(rankdata(-ratings, method="min"), (max(rounds, 1), 1))
    return np.vstack([rankdata(-row, method="min") for row in samples])
