"""Turn battles into integer codes and aggregate them into sufficient statistics.

Bradley-Terry depends on the data only through, per unordered pair of models, the weighted
wins of each side. The sandwich and the bootstrap need one level finer: battles of the same
pair with the same outcome (a "cell") share their score, so a cell is summarised by its
battle count and weight and never expanded back into rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._sums import sums_by_index
from glassarena.ratings.errors import (
    EmptyInputError,
    InvalidInputError,
    InvalidOutcomeError,
    SelfBattleError,
    UnknownModelError,
)

VALID_OUTCOMES = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class EncodedBattles:
    """Battles with models replaced by their index into the sorted `models`."""

    models: NDArray[np.str_]
    index_a: NDArray[np.intp]
    index_b: NDArray[np.intp]
    outcome: NDArray[np.float64]
    weight: NDArray[np.float64]
    rows: NDArray[np.intp] | None
    """Positions of these battles in the caller's arrays where battles of weight 0 were
    dropped; None where every battle was kept (then they are the caller's, in order)."""

    @property
    def n_models(self) -> int:
        return len(self.models)

    def battles_per_model(self) -> NDArray[np.int64]:
        # Battles of weight 0 were dropped on encoding, so every row counts.
        return np.bincount(self.index_a, minlength=self.n_models) + np.bincount(
            self.index_b, minlength=self.n_models
        )


@dataclass(frozen=True)
class PairTable:
    """Aggregated battles: unique pairs (first < second) and their outcome cells.

    Cells are sorted by pair; `cell_outcome` is the outcome for the pair's `first` model.
    """

    n_models: int
    first: NDArray[np.intp]
    second: NDArray[np.intp]
    cell_pair: NDArray[np.intp]
    cell_outcome: NDArray[np.float64]
    cell_count: NDArray[np.float64]
    cell_weight: NDArray[np.float64]

    @property
    def n_battles(self) -> float:
        return float(self.cell_count.sum())

    def pair_sums(
        self, cell_count: NDArray[np.float64] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Weighted wins of `first` and weighted battles per pair, for given cell counts.

        `cell_count` may be a matrix (rounds x cells) to aggregate many bootstrap rounds at once.
        """
        counts = self.cell_count if cell_count is None else cell_count
        weighted = counts * self.cell_weight
        starts = np.flatnonzero(np.r_[True, np.diff(self.cell_pair) != 0])
        totals = np.add.reduceat(weighted, starts, axis=-1)
        wins = np.add.reduceat(weighted * self.cell_outcome, starts, axis=-1)
        return wins, totals

    def battles_per_model(self) -> NDArray[np.int64]:
        """Battles each model took part in (cell counts are whole battles)."""
        per_pair = sums_by_index(self.cell_pair, self.cell_count, len(self.first))
        both = sums_by_index(self.first, per_pair, self.n_models) + sums_by_index(
            self.second, per_pair, self.n_models
        )
        return np.rint(both).astype(np.int64)


def encode_battles(
    model_a: ArrayLike,
    model_b: ArrayLike,
    outcome: ArrayLike,
    weights: ArrayLike | None = None,
    reweight: bool = False,
    models: Sequence[str] | None = None,
) -> EncodedBattles:
    """Validate the battle arrays and code the models as indices into their sorted names.

    With `models`, `model_a` and `model_b` are already integer indices into it (codes of a
    factorised column), which spares hashing every name again.
    """
    outcomes = _as_outcomes(outcome)
    weight = _as_weights(weights, len(outcomes))
    if models is None:
        index_a, index_b, names = _code_names(model_a, model_b)
    else:
        index_a, index_b, names = _sorted_codes(model_a, model_b, models)
    lengths = {"model_a": len(index_a), "model_b": len(index_b), "outcome": len(outcomes)}
    if weights is not None:
        lengths["weights"] = len(weight)
    if len(set(lengths.values())) != 1:
        raise InvalidInputError(f"battle arrays differ in length: {lengths}")
    if len(outcomes) == 0:
        raise EmptyInputError("no battles to rate: model_a, model_b and outcome are empty")
    if not weight.any():
        raise EmptyInputError(f"all {len(weight)} battles have weight 0; nothing to rate")

    self_battles = np.flatnonzero(index_a == index_b)
    if len(self_battles):
        raise SelfBattleError(self_battles.tolist(), names[index_a[self_battles]].tolist())

    kept = weight > 0
    rows = None
    if not kept.all():
        rows = np.flatnonzero(kept)
        index_a, index_b, outcomes, weight = (
            index_a[rows],
            index_b[rows],
            outcomes[rows],
            weight[rows],
        )
    if models is not None or rows is not None:
        index_a, index_b, names = _drop_absent(index_a, index_b, names)

    if reweight:
        weight = _inverse_pair_frequency(index_a, index_b, len(names), weight)
    return EncodedBattles(names, index_a, index_b, outcomes, weight, rows)


def _code_names(
    model_a: ArrayLike, model_b: ArrayLike
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.str_]]:
    """Indices into the sorted distinct names; a dict over the few names, never a string sort."""
    names_a = _as_names(model_a, "model_a")
    names_b = _as_names(model_b, "model_b")
    both = np.concatenate([names_a, names_b]).tolist()
    distinct = set(both)
    _require_names(distinct, names_a, names_b)
    models = sorted(distinct)
    code = {name: index for index, name in enumerate(models)}
    codes = np.fromiter(map(code.__getitem__, both), dtype=np.intp, count=len(both))
    return codes[: len(names_a)], codes[len(names_a) :], np.array(models, dtype=str)


def _sorted_codes(
    model_a: ArrayLike, model_b: ArrayLike, models: Sequence[str]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.str_]]:
    """Caller's codes into `models`, renumbered so that they index the sorted names."""
    names = list(models)
    if not all(isinstance(name, str) for name in names):
        wrong = next(name for name in names if not isinstance(name, str))
        raise InvalidInputError(f"models must hold model names (str); found {wrong!r}")
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise InvalidInputError(f"models must not repeat names; repeated: {', '.join(repeated)}")
    order = sorted(range(len(names)), key=names.__getitem__)
    renumber = np.empty(len(names), dtype=np.intp)
    renumber[order] = np.arange(len(names))
    sorted_names = np.array([names[i] for i in order], dtype=str)
    return (
        renumber[_as_codes(model_a, "model_a", len(names))],
        renumber[_as_codes(model_b, "model_b", len(names))],
        sorted_names,
    )


def _as_codes(values: ArrayLike, name: str, n_models: int) -> NDArray[np.intp]:
    codes = np.asarray(values)
    if codes.ndim != 1:
        raise InvalidInputError(f"{name} must be one-dimensional, got shape {codes.shape}")
    if codes.dtype.kind not in "iu":
        raise InvalidInputError(
            f"with models given, {name} must hold integer indices into models, "
            f"got dtype {codes.dtype}"
        )
    if len(codes) and (codes.min() < 0 or codes.max() >= n_models):
        bad = np.flatnonzero((codes < 0) | (codes >= n_models))
        raise InvalidInputError(
            f"{name} must index the {n_models} models; row {bad[0]} holds {codes[bad[0]]}"
            + (f" ({len(bad) - 1} more rows too)" if len(bad) > 1 else "")
        )
    return codes


def _drop_absent(
    index_a: NDArray[np.intp], index_b: NDArray[np.intp], names: NDArray[np.str_]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.str_]]:
    """Forget models without battles, so that every model left can be rated."""
    n = len(names)
    present = (np.bincount(index_a, minlength=n) + np.bincount(index_b, minlength=n)) > 0
    if present.all():
        return index_a, index_b, names
    remap = np.cumsum(present) - 1
    return remap[index_a], remap[index_b], names[present]


def aggregate(battles: EncodedBattles, uniform_within_pair: bool) -> PairTable:
    """Group battles into (pair, outcome) cells; with per-battle weights, also by weight.

    `uniform_within_pair` says every battle of a pair has the same weight (no caller weights,
    maybe inverse-pair-frequency ones), which allows a single integer key and a bincount.
    """
    n = battles.n_models
    # Rows are keyed by ordered pair and outcome, with no per-row orientation: only the few
    # distinct cells are turned round to (first < second) and merged afterwards.
    key = battles.index_a.astype(np.int64) * n + battles.index_b
    key *= 3
    # In place, through one float temporary (the rows may be millions).
    np.add(key, battles.outcome * 2.0, out=key, casting="unsafe")

    if uniform_within_pair:
        ordered_key, inverse, ordered_count = _group_keys(key, n * n * 3)
        ordered_weight = sums_by_index(inverse, battles.weight, len(ordered_key))
        cell_key, merged = np.unique(_orient(ordered_key, n), return_inverse=True)
        count = sums_by_index(merged, ordered_count, len(cell_key))
        weight = sums_by_index(merged, ordered_weight, len(cell_key)) / count
    else:
        order = np.lexsort((battles.weight, key))
        ordered_key, ordered_weight, ordered_count = _runs(key[order], battles.weight[order])
        oriented = _orient(ordered_key, n)
        order = np.lexsort((ordered_weight, oriented))
        starts, cell_key, weight = _run_starts(oriented[order], ordered_weight[order])
        count = np.add.reduceat(ordered_count[order], starts)

    pair_key = cell_key // 3
    unique_pairs, cell_pair = np.unique(pair_key, return_inverse=True)
    return PairTable(
        n_models=n,
        first=(unique_pairs // n).astype(np.intp),
        second=(unique_pairs % n).astype(np.intp),
        cell_pair=cell_pair.astype(np.intp),
        cell_outcome=(cell_key % 3) / 2.0,
        cell_count=count.astype(np.float64),
        cell_weight=weight,
    )


def pair_table(counts: NDArray[np.int64]) -> PairTable:
    """The table `aggregate` builds from unweighted battles, built from their counts.

    `counts[a, b, o]` holds the battles of model a (side a) against model b with outcome
    code o for side a (0: lost, 1: tie, 2: won), models indexed in sorted order, each with
    at least one battle. Cells come out in `aggregate`'s order with its weights (exactly 1),
    so a fit on this table is bit for bit the fit on the rows, without the rows.
    """
    n = len(counts)
    if counts.shape != (n, n, 3):
        raise InvalidInputError(f"counts must have shape (n, n, 3), got {counts.shape}")
    # Each ordered cell (a, b, o) is the oriented cell (b, a, 2 - o) seen from the other side.
    oriented = np.triu(counts.transpose(2, 0, 1), 1) + np.triu(
        counts[:, :, ::-1].transpose(2, 1, 0), 1
    )
    code, first, second = np.nonzero(oriented)
    key = (first.astype(np.int64) * n + second) * 3 + code
    order = np.argsort(key)
    key, count = key[order], oriented[code, first, second][order]
    pair_key = key // 3
    unique_pairs, cell_pair = np.unique(pair_key, return_inverse=True)
    return PairTable(
        n_models=n,
        first=(unique_pairs // n).astype(np.intp),
        second=(unique_pairs % n).astype(np.intp),
        cell_pair=cell_pair.astype(np.intp),
        cell_outcome=(key % 3) / 2.0,
        cell_count=count.astype(np.float64),
        cell_weight=np.ones(len(key)),
    )


def _orient(ordered_key: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Cell keys of (a, b, outcome for a) rewritten as (first < second, outcome for first)."""
    pair, outcome_code = np.divmod(ordered_key, 3)
    side_a, side_b = np.divmod(pair, n)
    swap = side_a > side_b
    first = np.where(swap, side_b, side_a)
    second = np.where(swap, side_a, side_b)
    oriented: NDArray[np.int64] = (first * n + second) * 3 + np.where(
        swap, 2 - outcome_code, outcome_code
    )
    return oriented


def _run_starts(
    key: NDArray[np.int64], weight: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.float64]]:
    """Where runs of equal (key, weight) begin in sorted arrays, and each run's values."""
    starts = np.flatnonzero(np.r_[True, (np.diff(key) != 0) | (np.diff(weight) != 0)])
    return starts, key[starts], weight[starts]


def _runs(
    key: NDArray[np.int64], weight: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct (key, weight) of sorted rows and how many rows each has."""
    starts, run_key, run_weight = _run_starts(key, weight)
    return run_key, run_weight, np.diff(np.r_[starts, len(key)]).astype(np.float64)


def _group_keys(
    key: NDArray[np.int64], key_space: int
) -> tuple[NDArray[np.int64], NDArray[np.intp], NDArray[np.float64]]:
    """Sorted unique keys, each row's position among them, and how often each occurs."""
    if key_space <= max(4 * len(key), 1 << 20):
        counts = np.bincount(key, minlength=key_space)
        present = np.flatnonzero(counts)
        position = np.zeros(key_space, dtype=np.intp)
        position[present] = np.arange(len(present))
        return present, position[key], counts[present].astype(np.float64)
    unique, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return unique, inverse, counts.astype(np.float64)


def _inverse_pair_frequency(
    index_a: NDArray[np.intp], index_b: NDArray[np.intp], n: int, weight: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Weight each battle by 1 / (battles of its unordered pair), rescaled to the same total."""
    pair = np.minimum(index_a, index_b).astype(np.int64) * n + np.maximum(index_a, index_b)
    _, inverse, pair_counts = _group_keys(pair, n * n)
    reweighted = weight / pair_counts[inverse]
    rescaled: NDArray[np.float64] = reweighted * (weight.sum() / reweighted.sum())
    return rescaled


def _as_names(values: ArrayLike, name: str) -> NDArray[np.object_]:
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise InvalidInputError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _require_names(
    distinct: set[object], names_a: NDArray[np.object_], names_b: NDArray[np.object_]
) -> None:
    """Checks the few distinct values first, and only looks for the rows when one is wrong."""
    if all(isinstance(value, str) for value in distinct):
        return
    for column, names in (("model_a", names_a), ("model_b", names_b)):
        bad = [i for i, value in enumerate(names.tolist()) if not isinstance(value, str)]
        if bad:
            raise InvalidInputError(
                f"{column} must hold model names (str); row {bad[0]} holds {names[bad[0]]!r}"
                + (f" ({len(bad) - 1} more rows too)" if len(bad) > 1 else "")
            )


def _as_outcomes(values: ArrayLike) -> NDArray[np.float64]:
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise InvalidInputError(f"outcome must be one-dimensional, got shape {raw.shape}")
    try:
        outcomes = raw.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        bad_rows = [i for i, value in enumerate(raw.tolist()) if not _is_number(value)]
        raise InvalidOutcomeError(bad_rows, raw[bad_rows].tolist()) from None
    valid = (outcomes == 0.0) | (outcomes == 0.5) | (outcomes == 1.0)
    if not valid.all():
        invalid = np.flatnonzero(~valid)
        raise InvalidOutcomeError(invalid.tolist(), raw[invalid].tolist())
    return outcomes


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _as_weights(values: ArrayLike | None, n: int) -> NDArray[np.float64]:
    if values is None:
        return np.ones(n)
    weight = np.asarray(values, dtype=np.float64)
    if weight.ndim != 1:
        raise InvalidInputError(f"weights must be one-dimensional, got shape {weight.shape}")
    bad = np.flatnonzero(~np.isfinite(weight) | (weight < 0))
    if len(bad):
        raise InvalidInputError(
            f"weights must be finite and >= 0; row {bad[0]} holds {weight[bad[0]]!r}"
            + (f" ({len(bad) - 1} more rows too)" if len(bad) > 1 else "")
        )
    return weight


def model_indices(models: Sequence[str] | NDArray[np.str_], names: ArrayLike) -> NDArray[np.intp]:
    """Indices of `names` in the fitted `models`; raises for names never seen in the fit."""
    position = {name: index for index, name in enumerate(models)}
    array = np.atleast_1d(np.asarray(names, dtype=object))
    unknown = [name for name in array.tolist() if name not in position]
    if unknown:
        raise UnknownModelError(unknown)
    return np.fromiter(map(position.__getitem__, array.tolist()), dtype=np.intp, count=len(array))
