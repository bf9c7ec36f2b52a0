"""What screening decided: a counted flag and a reason for every vote, and the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# reason code -> what it means, for the audit and the integrity page
REASONS: Mapping[str, str] = {
    "voter-cap": "the voter already supplied their share of this model's counted votes",
    "ip-cap": "this IP hash already supplied its share of this model's counted votes",
    "concentration": "the voter's battles involve one model far more often than the "
    "sampler shows it (battles without it were skipped)",
    "ip-concentration": "the votes from this IP hash involve one model far more often than "
    "the sampler shows it",
    "shared-concentration": "the voter's battles involve the same few models as those of "
    "voters flagged for concentration, far more often than the sampler shows them",
    "swarm": "one of many new or low-history voters each of whose votes all involve the "
    "same model, far more such voters than the sampler explains (a Sybil swarm)",
    "disagreement": "the voter disagrees with the crowd far beyond chance (likelihood test "
    "against the current ratings)",
    "favouritism": "the voter favours (or disfavours) this model far beyond chance; their "
    "votes on it do not count",
    "model-shift": "new or low-history voters rate a model differently from established "
    "voters by more than the intervals allow; their votes on it do not count",
    "burst": "within one time window, new or low-history voters rate a model differently "
    "from established voters by more than the intervals allow",
    "implicated": "most of the voter's votes fell on models flagged by the shift or burst "
    "tests; the rest of their votes do not count either",
}


def explanation(reason: str) -> str:
    """What a vote's row says once screening leaves it out for `reason` (the voter reads it
    in the reveal); the code itself for a code no longer described."""
    return f"screening left this vote out: {REASONS.get(reason, reason)}"


@dataclass(frozen=True, slots=True)
class VoterFlag:
    """A voter (or IP hash, `kind="ip"`) whose votes no longer count, and the evidence."""

    kind: str  # "voter" | "ip"
    name: str
    reason: str
    votes: int
    statistic: float  # z-score, or -log10 p-value for concentration
    model: str | None = None  # the model the evidence is about, where one is


@dataclass(frozen=True, slots=True)
class ModelShift:
    """A model rated differently by the new or low-history cohort (in a window, for bursts)."""

    model: str
    reason: str  # "model-shift" | "burst" | "swarm" (z and shares NaN: a count test)
    z: float
    cohort_votes: int
    observed_win_share: float
    expected_win_share: float
    window_start: float | None = None
    window_end: float | None = None


# A vote's reason as one byte (0: counted); an object per vote was 80 MB at ten million.
REASON_CODES: Mapping[str, int] = {reason: code for code, reason in enumerate(REASONS, 1)}
_BY_CODE = np.array([None, *REASONS], dtype=object)


@dataclass(frozen=True)
class ScreeningResult:
    counted: NDArray[np.bool_]
    reason_code: NDArray[np.int8]  # 0 where counted, else REASON_CODES of its reason
    voter_flags: tuple[VoterFlag, ...]
    model_shifts: tuple[ModelShift, ...]

    @property
    def reason(self) -> NDArray[np.object_]:
        """Per vote, None where counted, else its key of REASONS."""
        return self.reasons_at(np.arange(len(self.reason_code)))

    def reasons_at(self, positions: NDArray[np.intp]) -> NDArray[np.object_]:
        reasons: NDArray[np.object_] = _BY_CODE[self.reason_code[positions]]
        return reasons

    @property
    def n_uncounted(self) -> int:
        return int((~self.counted).sum())

    def counts_by_reason(self) -> dict[str, int]:
        tally = np.bincount(self.reason_code, minlength=len(_BY_CODE))
        return {reason: int(tally[code]) for reason, code in REASON_CODES.items() if tally[code]}
