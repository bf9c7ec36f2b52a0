"""From a battle table to a leaderboard: filter, map verdicts, fit and rank.

`compute_leaderboard(battles, LeaderboardOptions(...))` is what the CLI and the web arena
call. Models with fewer than `min_battles` battles take part in the fit (their battles
inform everyone else's rating) but are not shown; shown ranks are recomputed among the
shown models, while bootstrap rank intervals count every fitted model. Presenting it (table,
JSON, CSV, markdown) is `leaderboard_render`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from glassarena.battles.errors import BattleDataError
from glassarena.battles.filters import filter_battles
from glassarena.battles.record import BothBadPolicy, outcomes
from glassarena.battles.style_features import (
    CODE_STYLE_FEATURES,
    STYLE_FEATURES,
    STYLE_TOTALS,
    code_style_features,
    style_features,
    with_style,
    with_tone,
    with_tone_features,
)
from glassarena.battles.table import model_codes
from glassarena.ratings import (
    BradleyTerry,
    OnlineElo,
    StyleControlledBradleyTerry,
    battle_count_matrix,
    predicted_win_matrix,
    rank_from_intervals,
    win_fraction_matrix,
)
from glassarena.ratings._estimator import RatingEstimator
from glassarena.ratings._pairs import pair_table
from glassarena.ratings.ranking import rank_by_rating
from glassarena.vocabulary import Winner

CiMethod = Literal["sandwich", "bootstrap"]
Progress = Callable[[int, int], object]


@dataclass(frozen=True, slots=True)
class LeaderboardOptions:
    """How to turn battles into a leaderboard.

    `ci=None` skips intervals. `elo=True` gives the online-Elo view (order-dependent, no
    intervals) instead of Bradley-Terry. `where` and `category` select battles (see
    glassarena.battles.filters.filter_battles).
    """

    ci: CiMethod | None = "sandwich"
    rounds: int = 1000
    seed: int | None = None
    level: float = 0.95
    style_control: bool = False
    both_bad: BothBadPolicy = "tie"
    where: Mapping[str, str] = field(default_factory=dict)
    category: str | None = None
    min_battles: int = 0
    anchor: tuple[str, float] | None = None
    reweight: bool = False
    prior: float = 0.0
    elo: bool = False
    elo_k: float = 4.0
    scale: float = 400.0
    base: float = 10.0
    initial_rating: float = 1000.0
    code_style: bool = False  # with style_control: also control for code blocks and lines
    tone_style: bool = False  # with style_control: also control for emoji and sentiment

    def __post_init__(self) -> None:
        if self.elo and self.style_control:
            raise ValueError("style control needs Bradley-Terry; it cannot be combined with Elo")
        if self.min_battles < 0:
            raise ValueError(f"min_battles must be >= 0, got {self.min_battles}")


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """One shown model. `lower`/`upper` are None without intervals; `rank_lower` and
    `rank_upper` only come with bootstrap intervals."""

    model: str
    rating: float
    lower: float | None
    upper: float | None
    rank: int
    rank_lower: int | None
    rank_upper: int | None
    battles: int
    wins: int
    ties: int
    losses: int


@dataclass(frozen=True, slots=True)
class StyleCoefficient:
    """The effect of one style feature on the logit, per standard deviation of its difference."""

    feature: str
    coefficient: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Leaderboard:
    """Rows sorted best first, style coefficients, and matrices in the rows' model order."""

    method: str
    options: LeaderboardOptions
    rows: tuple[LeaderboardRow, ...]
    style: tuple[StyleCoefficient, ...]
    battle_count: NDArray[np.int64]
    win_fraction: NDArray[np.float64]
    predicted_win: NDArray[np.float64]
    battles_used: int
    battles_dropped: int
    hidden_models: tuple[str, ...]

    @property
    def models(self) -> list[str]:
        return [row.model for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: rows, style, matrices (NaN as null) and what was used."""
        return {
            "method": self.method,
            "rows": [asdict(row) for row in self.rows],
            "style": [asdict(coefficient) for coefficient in self.style],
            "models": self.models,
            "battle_count": self.battle_count.tolist(),
            "win_fraction": _nan_to_none(self.win_fraction),
            "predicted_win": _nan_to_none(self.predicted_win),
            "battles_used": self.battles_used,
            "battles_dropped": self.battles_dropped,
            "hidden_models": list(self.hidden_models),
            "options": {**asdict(self.options), "where": dict(self.options.where)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Leaderboard:
        """The leaderboard back from `to_dict()` (e.g. after a trip through a cache)."""
        size = len(data["models"])

        def matrix(values: list[list[float | None]]) -> NDArray[np.float64]:
            return np.array(
                [[math.nan if value is None else value for value in row] for row in values],
                dtype=float,
            ).reshape(size, size)

        options = dict(data.get("options") or {})
        if options.get("anchor") is not None:
            options["anchor"] = tuple(options["anchor"])
        return cls(
            method=data["method"],
            options=LeaderboardOptions(**options),
            rows=tuple(LeaderboardRow(**row) for row in data["rows"]),
            style=tuple(StyleCoefficient(**coefficient) for coefficient in data["style"]),
            battle_count=np.array(data["battle_count"], dtype=np.int64).reshape(size, size),
            win_fraction=matrix(data["win_fraction"]),
            predicted_win=matrix(data["predicted_win"]),
            battles_used=data["battles_used"],
            battles_dropped=data["battles_dropped"],
            hidden_models=tuple(data["hidden_models"]),
        )


def _nan_to_none(matrix: NDArray[np.float64]) -> list[list[float | None]]:
    return [[None if math.isnan(value) else value for value in row] for row in matrix.tolist()]


def compute_leaderboard(
    battles: pd.DataFrame,
    options: LeaderboardOptions | None = None,
    progress: Progress | None = None,
) -> Leaderboard:
    """Fit the battles and build the leaderboard.

    `battles` is a checked battle table (glassarena.battles.table / formats). `progress`
    is called as `progress(done, total)` during bootstrap rounds. Raises BattleDataError
    for unusable battles and glassarena.ratings.RatingError when they cannot be rated.
    """
    options = options or LeaderboardOptions()
    selected = filter_battles(battles, options.where, options.category)
    outcome, kept = outcomes(selected["winner"], options.both_bad)
    used = selected.loc[kept].reset_index(drop=True)
    if used.empty:
        raise BattleDataError("no battles left to rate once both-bad ties were dropped")
    model_a, model_b, model_names = model_codes(used)
    models = np.array(model_names, dtype=str)

    estimator: RatingEstimator | OnlineElo
    if options.elo:
        estimator = OnlineElo(
            k=options.elo_k,
            scale=options.scale,
            base=options.base,
            initial_rating=options.initial_rating,
        ).fit(models[model_a], models[model_b], outcome)
        method = "online Elo"
    else:
        settings: _EstimatorSettings = {
            "scale": options.scale,
            "base": options.base,
            "initial_rating": options.initial_rating,
            "anchor": options.anchor,
            "prior": options.prior,
            "reweight": options.reweight,
            "ci": options.ci,
            "level": options.level,
            "rounds": options.rounds,
            "seed": options.seed,
            "progress": progress,
        }
        if options.style_control:
            used = with_style(used)
            features = code_style_features if options.code_style else style_features
            features_a, features_b, names = features(used)
            if options.tone_style:
                used = with_tone(used)
                features_a, features_b, names = with_tone_features(
                    (features_a, features_b, names), used
                )
            estimator = StyleControlledBradleyTerry(**settings).fit(
                model_a, model_b, outcome, features_a, features_b, names, models=models.tolist()
            )
            method = "style-controlled Bradley-Terry"
        else:
            estimator = BradleyTerry(**settings).fit(
                model_a, model_b, outcome, models=models.tolist()
            )
            method = "Bradley-Terry"
    # `model_a`/`model_b` index the sorted names, as the estimator's `models_` are sorted.
    fitted = [str(model) for model in estimator.models_]
    tally = _Tally(
        record=_win_tie_loss(model_a, model_b, outcome, len(fitted)),
        battle_count=battle_count_matrix(model_a, model_b, fitted),
        win_fraction=win_fraction_matrix(model_a, model_b, outcome, fitted),
        used=len(outcome),
    )
    return _assemble(method, options, estimator, tally, len(selected))


class _EstimatorSettings(TypedDict):
    """The Bradley-Terry options a LeaderboardOptions carries, as estimator keywords."""

    scale: float
    base: float
    initial_rating: float
    anchor: tuple[str, float] | None
    prior: float
    reweight: bool
    ci: str | None
    level: float
    rounds: int
    seed: int | None
    progress: Progress | None


@dataclass(frozen=True)
class _Tally:
    """What the board shows beside the fit, in the estimator's (sorted) model order."""

    record: dict[str, NDArray[np.int64]]  # battles, wins, ties, losses per model
    battle_count: NDArray[np.int64]
    win_fraction: NDArray[np.float64]
    used: int  # battles rated


def _assemble(
    method: str,
    options: LeaderboardOptions,
    estimator: RatingEstimator | OnlineElo,
    tally: _Tally,
    selected: int,
) -> Leaderboard:
    models = [str(model) for model in estimator.models_]
    record = tally.record
    battles = record["battles"]
    shown = np.flatnonzero(battles >= options.min_battles)
    if len(shown) == 0:
        raise BattleDataError(
            f"no model has at least {options.min_battles} battles; lower --min-battles"
        )
    ratings = np.asarray(estimator.ratings_, dtype=float)
    lower = upper = rank_lower = rank_upper = None
    if isinstance(estimator, RatingEstimator):  # online Elo has no intervals
        lower, upper = estimator.lower_, estimator.upper_
        rank_lower, rank_upper = estimator.rank_lower_, estimator.rank_upper_
    if lower is not None and upper is not None:
        rank = rank_from_intervals(lower[shown], upper[shown])
    else:
        rank = rank_by_rating(ratings[shown])
    order = shown[np.lexsort((np.array(models)[shown], -ratings[shown]))]
    position = {index: place for place, index in enumerate(shown)}
    rows = tuple(
        LeaderboardRow(
            model=models[index],
            rating=float(ratings[index]),
            lower=None if lower is None else float(lower[index]),
            upper=None if upper is None else float(upper[index]),
            rank=int(rank[position[index]]),
            rank_lower=None if rank_lower is None else int(rank_lower[index]),
            rank_upper=None if rank_upper is None else int(rank_upper[index]),
            battles=int(battles[index]),
            wins=int(record["wins"][index]),
            ties=int(record["ties"][index]),
            losses=int(record["losses"][index]),
        )
        for index in order
    )
    ordered_models = [models[index] for index in order]
    return Leaderboard(
        method=method,
        options=options,
        rows=rows,
        style=_style(estimator),
        battle_count=tally.battle_count[np.ix_(order, order)],
        win_fraction=tally.win_fraction[np.ix_(order, order)],
        predicted_win=predicted_win_matrix(ratings[order], options.scale, options.base),
        battles_used=tally.used,
        battles_dropped=selected - tally.used,
        hidden_models=tuple(sorted(set(models) - set(ordered_models))),
    )


def _win_tie_loss(
    model_a: NDArray[np.intp],
    model_b: NDArray[np.intp],
    outcome: NDArray[np.float64],
    n: int,
) -> dict[str, NDArray[np.int64]]:
    def count(mask_a: NDArray[np.bool_], mask_b: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.bincount(model_a[mask_a], minlength=n) + np.bincount(model_b[mask_b], minlength=n)

    won_a, won_b, tie = outcome == 1.0, outcome == 0.0, outcome == 0.5
    everyone = np.ones(len(outcome), dtype=bool)
    return {
        "battles": count(everyone, everyone),
        "wins": count(won_a, won_b),
        "ties": count(tie, tie),
        "losses": count(won_b, won_a),
    }


def _style(estimator: RatingEstimator | OnlineElo) -> tuple[StyleCoefficient, ...]:
    if not isinstance(estimator, StyleControlledBradleyTerry):
        return ()
    lower, upper = estimator.style_lower_, estimator.style_upper_
    return tuple(
        StyleCoefficient(
            feature=str(name),
            coefficient=float(estimator.style_coef_[k]),
            lower=None if lower is None else float(lower[k]),
            upper=None if upper is None else float(upper[k]),
        )
        for k, name in enumerate(estimator.feature_names_)
    )


# The verdicts in the order `CountedBattles.counts` and `StyleRows.winner` code them.
WINNERS: tuple[Winner, ...] = tuple(Winner)
_MODEL_A, _MODEL_B, _TIE, _BOTH_BAD = (WINNERS.index(winner) for winner in Winner)


@dataclass(frozen=True)
class StyleRows:
    """The battles one at a time, for the style-controlled fit (which cannot aggregate).

    `model_a`/`model_b` index `CountedBattles.models`, `winner` indexes WINNERS, `totals`
    has a column per `style_features.STYLE_TOTALS` (NaN where a battle has no count), or
    per its first columns, as float32 (counts are whole numbers below 2**24); it may be a
    read-only view of the rows a `BoardStatistics` holds.
    """

    model_a: NDArray[np.int32]
    model_b: NDArray[np.int32]
    winner: NDArray[np.int8]
    totals: NDArray[np.float32]


@dataclass(frozen=True)
class CountedBattles:
    """Battles as a live board keeps them: counts per ordered pair of models and verdict.

    `models` are sorted, each with at least one battle; `counts[a, b, w]` holds the battles
    of models[a] on side a against models[b] with verdict WINNERS[w]. `style` is needed only
    for style control, with the battles in the order a battle table would hold them.
    """

    models: list[str]
    counts: NDArray[np.int64]
    style: StyleRows | None = None


def compute_leaderboard_from_counts(
    battles: CountedBattles, options: LeaderboardOptions | None = None
) -> Leaderboard:
    """What `compute_leaderboard` gives on a table of these battles, without the table.

    Bradley-Terry fits the aggregated counts; style control fits the style rows in their
    order, as `compute_leaderboard` does, so both give the same numbers bit for bit. Only the
    options a live board uses are available: not Elo, selections, reweighting or tone.
    """
    options = options or LeaderboardOptions()
    if options.elo or options.where or options.category or options.reweight:
        raise ValueError("counted battles support Bradley-Terry on every battle they hold")
    if options.tone_style:
        raise ValueError("tone control needs the conversations; use compute_leaderboard")
    counts = battles.counts
    tied = counts[..., _TIE] + (counts[..., _BOTH_BAD] if options.both_bad == "tie" else 0)
    # Outcome codes for side a as the rating core codes them: lost, tie, won.
    by_outcome = np.stack([counts[..., _MODEL_B], tied, counts[..., _MODEL_A]], axis=-1)
    played = by_outcome.sum(axis=(1, 2)) + by_outcome.sum(axis=(0, 2))
    present = np.flatnonzero(played > 0)
    if len(present) == 0:
        raise BattleDataError("no battles left to rate once both-bad ties were dropped")
    by_outcome = by_outcome[np.ix_(present, present)]
    models = [battles.models[index] for index in present]
    settings: _EstimatorSettings = {
        "scale": options.scale,
        "base": options.base,
        "initial_rating": options.initial_rating,
        "anchor": options.anchor,
        "prior": options.prior,
        "reweight": False,
        "ci": options.ci,
        "level": options.level,
        "rounds": options.rounds,
        "seed": options.seed,
        "progress": None,
    }
    estimator: RatingEstimator
    if options.style_control:
        estimator = _style_fit(battles, present, models, options, settings)
        method = "style-controlled Bradley-Terry"
    else:
        estimator = BradleyTerry(**settings).fit_table(pair_table(by_outcome), models)
        method = "Bradley-Terry"
    return _assemble(method, options, estimator, _tally(by_outcome), int(counts.sum()))


def _style_fit(
    battles: CountedBattles,
    present: NDArray[np.intp],
    models: list[str],
    options: LeaderboardOptions,
    settings: _EstimatorSettings,
) -> StyleControlledBradleyTerry:
    rows = battles.style
    if rows is None:
        raise ValueError("style control needs the battles' style rows")
    names = (*STYLE_FEATURES, *CODE_STYLE_FEATURES) if options.code_style else STYLE_FEATURES
    # Views, not copies, wherever the rows allow: a board's rows may be millions long.
    totals = rows.totals[:, : 2 * len(names)]
    model_a, model_b, winner = rows.model_a, rows.model_b, rows.winner
    if options.both_bad == "drop" and (dropped := winner == _BOTH_BAD).any():
        kept = np.flatnonzero(~dropped)
        totals, model_a, model_b, winner = (
            totals[kept],
            model_a[kept],
            model_b[kept],
            winner[kept],
        )
    # The message `style_features` gives for a battle table without these counts.
    for column, name in enumerate(STYLE_TOTALS[: totals.shape[1]]):
        # One reduction per column finds a NaN; only then are its rows looked for.
        if np.isnan(totals[:, column].max(initial=0.0)):
            missing = np.flatnonzero(np.isnan(totals[:, column]))
            raise BattleDataError(
                f"style column {name} is missing in {len(missing)} battle(s), "
                f"first at row {int(missing[0]) + 1}"
            )
    if len(present) < len(battles.models):
        renumber = np.full(len(battles.models), -1, dtype=np.int32)
        renumber[present] = np.arange(len(present))
        model_a, model_b = renumber[model_a], renumber[model_b]
    outcome_of = np.zeros(len(WINNERS))
    outcome_of[[_MODEL_A, _TIE, _BOTH_BAD]] = (1.0, 0.5, 0.5)
    # Columns per side as `style_features`/`code_style_features` stack them: LMArena's four
    # of each side are side by side (views); the code counts follow both, so with them each
    # side is a copy.
    k, c = len(STYLE_FEATURES), len(CODE_STYLE_FEATURES)
    side_a, side_b = totals[:, :k], totals[:, k : 2 * k]
    if options.code_style:
        side_a = np.hstack([side_a, totals[:, 2 * k : 2 * k + c]])
        side_b = np.hstack([side_b, totals[:, 2 * k + c : 2 * (k + c)]])
    return StyleControlledBradleyTerry(**settings).fit(
        model_a, model_b, outcome_of[winner], side_a, side_b, names, models=models
    )


def _tally(by_outcome: NDArray[np.int64]) -> _Tally:
    """`compute_leaderboard`'s record and matrices, from counts [a, b, lost/tie/won]."""
    lost, tie, won = by_outcome[..., 0], by_outcome[..., 1], by_outcome[..., 2]
    record = {
        "battles": by_outcome.sum(axis=(1, 2)) + by_outcome.sum(axis=(0, 2)),
        "wins": won.sum(axis=1) + lost.sum(axis=0),
        "ties": tie.sum(axis=1) + tie.sum(axis=0),
        "losses": lost.sum(axis=1) + won.sum(axis=0),
    }
    ordered = by_outcome.sum(axis=2)
    # Halves and wholes add up exactly in floats, as the per-battle sums do.
    wins = (won + 0.5 * tie) + (lost + 0.5 * tie).T
    played = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(played > 0, wins / np.where(played > 0, played, 1.0), np.nan)
    return _Tally(
        record=record,
        battle_count=ordered + ordered.T,
        win_fraction=fraction,
        used=int(by_outcome.sum()),
    )
