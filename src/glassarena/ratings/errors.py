"""Errors raised by the rating core; every message names the models or rows involved."""

from __future__ import annotations

from collections.abc import Sequence


class RatingError(ValueError):
    """Base class: the battles cannot be rated as given."""


class EmptyInputError(RatingError):
    """No battles (or only battles of weight zero) were given."""


class InvalidInputError(RatingError):
    """Arrays of different lengths, non-finite or negative weights, malformed features."""


class InvalidOutcomeError(RatingError):
    """An outcome other than 1.0 (model_a won), 0.0 (model_b won) or 0.5 (tie)."""

    def __init__(self, rows: Sequence[int], values: Sequence[object]) -> None:
        self.rows = list(rows)
        shown = ", ".join(
            f"row {row}: {value!r}" for row, value in zip(rows[:5], values[:5], strict=True)
        )
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
        super().__init__(
            f"outcomes must be 1.0 (model_a won), 0.0 (model_b won) or 0.5 (tie); "
            f"got {shown}{more}. Map vote labels to outcomes before rating "
            f"(glassarena.battles.record does this) instead of guessing."
        )


class SelfBattleError(RatingError):
    """A model appears on both sides of a battle."""

    def __init__(self, rows: Sequence[int], models: Sequence[str]) -> None:
        self.rows = list(rows)
        self.models = sorted(set(models))
        shown = ", ".join(str(row) for row in self.rows[:10])
        more = f" (and {len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
        super().__init__(
            f"model battled itself in rows {shown}{more} "
            f"(models: {', '.join(self.models)}); drop those rows before rating."
        )


class UnknownModelError(RatingError, KeyError):
    """A model asked about was not in the fitted battles."""

    def __init__(self, models: Sequence[str]) -> None:
        self.models = sorted(set(models))
        super().__init__(f"unknown model(s): {', '.join(self.models)}; they were not in the fit.")

    def __str__(self) -> str:
        return str(self.args[0])


class DisconnectedGraphError(RatingError):
    """The comparison graph falls apart, so ratings of different parts are not comparable."""

    def __init__(self, components: Sequence[Sequence[str]]) -> None:
        self.components = [sorted(part) for part in components]
        parts = "; ".join(
            f"part {number}: {_list_models(part)}"
            for number, part in enumerate(self.components, start=1)
        )
        super().__init__(
            f"the models split into {len(self.components)} groups that never battled each "
            f"other ({parts}). Collect battles between the groups, rate each group "
            f"separately, or pass a small prior (e.g. prior=1.0) to tie them together."
        )


class PerfectSeparationError(RatingError):
    """Some models won (or lost) every battle against the rest: the MLE is infinite."""

    def __init__(self, unbeaten: Sequence[Sequence[str]], winless: Sequence[Sequence[str]]) -> None:
        self.models = sorted({model for group in (*unbeaten, *winless) for model in group})
        self.unbeaten = [sorted(group) for group in unbeaten]
        self.winless = [sorted(group) for group in winless]
        problems = [
            _describe(group, "won every battle", "never lost to the other models")
            for group in self.unbeaten
        ]
        problems += [
            _describe(group, "lost every battle", "never beat the other models")
            for group in self.winless
        ]
        super().__init__(
            f"the maximum-likelihood ratings are infinite: {'; '.join(problems)}. "
            f"Collect more battles for them, drop them, or pass a small prior "
            f"(e.g. prior=1.0) so their ratings stay finite."
        )


def _describe(group: Sequence[str], single: str, several: str) -> str:
    if len(group) == 1:
        return f"{group[0]} {single}"
    return f"the group {_list_models(group)} {several}"


def _list_models(models: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(models[:limit])
    return shown + (f" and {len(models) - limit} more" if len(models) > limit else "")


class NotFittedError(ValueError, AttributeError):
    """A fitted attribute (or a method needing one) was used before `fit`.

    An AttributeError too, as in scikit-learn, so `hasattr(estimator, "ratings_")` stays the
    way to ask whether an estimator is fitted.
    """

    def __init__(self, estimator: str, attribute: str) -> None:
        self.estimator = estimator
        self.attribute = attribute
        super().__init__(
            f"this {estimator} is not fitted yet: call fit(...) before using {attribute}"
        )
