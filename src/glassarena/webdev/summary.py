"""Per-model share of apps that run, to show beside the human rating on the leaderboard."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from glassarena.webdev.checker import CheckResult

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class RunShare:
    """Of `answers` checked for `model`, `runs` loaded without uncaught errors and rendered.

    `lower`/`upper` bound the share with a 95% Wilson score interval, which stays inside
    [0, 1] and is honest for the small counts a new model has.
    """

    model: str
    answers: int
    runs: int
    share: float
    lower: float
    upper: float

    def to_json(self) -> dict[str, str | int | float]:
        return {
            "model": self.model,
            "answers": self.answers,
            "runs": self.runs,
            "share": self.share,
            "lower": self.lower,
            "upper": self.upper,
        }


def apps_that_run(results: Iterable[tuple[str, CheckResult]]) -> list[RunShare]:
    """Share of runnable apps per model, best first; an answer with no app counts as not run.

    `results` pairs each checked answer's model with its CheckResult (use
    `CheckResult.failed(reason)` for an answer without an app).
    """
    answers: dict[str, int] = {}
    runs: dict[str, int] = {}
    for model, result in results:
        answers[model] = answers.get(model, 0) + 1
        runs[model] = runs.get(model, 0) + int(result.runs)
    return run_shares((model, answers[model], runs[model]) for model in answers)


def run_shares(counts: Iterable[tuple[str, int, int]]) -> list[RunShare]:
    """Shares from counts already summed per model: (model, answers, runs), best first."""
    shares = [_share(model, answers, runs) for model, answers, runs in counts if answers > 0]
    return sorted(shares, key=lambda share: (-share.share, -share.answers, share.model))


def _share(model: str, answers: int, runs: int) -> RunShare:
    share = runs / answers
    z2 = _Z95 * _Z95
    centre = (share + z2 / (2 * answers)) / (1 + z2 / answers)
    spread = _Z95 * math.sqrt(share * (1 - share) / answers + z2 / (4 * answers * answers))
    spread /= 1 + z2 / answers
    return RunShare(
        model, answers, runs, share, max(0.0, centre - spread), min(1.0, centre + spread)
    )
