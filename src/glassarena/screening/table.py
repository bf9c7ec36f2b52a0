"""The columns screening needs, as numpy arrays: who voted, from where, when, on what, how.

Built from the canonical battle table (`battles/table.py`) or from arrays. The voter column
is required (screening is about voters); the IP hash and the time are optional and only the
detectors that need them are skipped without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

VOTER_COLUMNS = ("voter", "voter_id", "judge")
IP_COLUMNS = ("ip_hash", "ip")
TIME_COLUMNS = ("tstamp",)
_OUTCOMES = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


class ScreeningInputError(ValueError):
    """Votes that cannot be screened: no voter column, no votes, mismatched arrays."""


# Codes (models, voters, IP hashes) are 32-bit: at ten million votes a table of 64-bit
# codes held 160 MB more, on top of the arrays a live arena keeps already in this form.
Codes = NDArray[np.int32]


@dataclass(frozen=True)
class VoteTable:
    models: NDArray[np.str_]  # sorted
    model_a: Codes
    model_b: Codes
    outcome: NDArray[np.float64]  # 1 a won, 0 b won, 0.5 tie (both bad is a tie here)
    voter: Codes
    voter_names: NDArray[np.object_]
    ip: Codes | None = None
    ip_names: NDArray[np.object_] | None = None
    time: NDArray[np.float64] | None = None  # seconds

    def __post_init__(self) -> None:
        n = len(self.outcome)
        lengths = [len(self.model_a), len(self.model_b), len(self.voter)]
        lengths += [len(array) for array in (self.ip, self.time) if array is not None]
        if any(length != n for length in lengths):
            raise ScreeningInputError("vote arrays differ in length")
        if n == 0:
            raise ScreeningInputError("no votes to screen: the board is empty")

    @property
    def n_votes(self) -> int:
        return len(self.outcome)

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_voters(self) -> int:
        return len(self.voter_names)

    @classmethod
    def from_arrays(
        cls,
        model_a: Sequence[str] | NDArray[np.object_],
        model_b: Sequence[str] | NDArray[np.object_],
        outcome: Sequence[float] | NDArray[np.floating],
        voter: Sequence[object] | NDArray[np.object_],
        ip: Sequence[object] | NDArray[np.object_] | None = None,
        time: Sequence[float] | NDArray[np.float64] | None = None,
    ) -> VoteTable:
        names_a = np.asarray(model_a, dtype=object).astype(str)
        names_b = np.asarray(model_b, dtype=object).astype(str)
        models, codes = np.unique(np.concatenate([names_a, names_b]), return_inverse=True)
        voter_codes, voter_names = _factorize(voter)
        ip_codes, ip_names = _factorize(ip) if ip is not None else (None, None)
        return cls(
            models=models,
            model_a=codes[: len(names_a)].astype(np.int32),
            model_b=codes[len(names_a) :].astype(np.int32),
            outcome=np.asarray(outcome, dtype=np.float64),
            voter=voter_codes,
            voter_names=voter_names,
            ip=ip_codes,
            ip_names=ip_names,
            time=None if time is None else np.asarray(time, dtype=np.float64),
        )

    @classmethod
    def from_battles(cls, battles: pd.DataFrame, source: str = "the battles") -> VoteTable:
        """From a canonical battle table; the voter is `voter`, `voter_id` or `judge`."""
        voter_column = _first_present(battles, VOTER_COLUMNS)
        if voter_column is None:
            raise ScreeningInputError(
                f"{source} has no voter column (looked for {', '.join(VOTER_COLUMNS)}; map "
                f"one with --columns judge=YOUR_COLUMN): screening needs to know who voted"
            )
        voters = battles[voter_column]
        if voters.isna().any():
            row = int(np.flatnonzero(voters.isna().to_numpy())[0])
            raise ScreeningInputError(f"{source}: row {row + 1} has no {voter_column}")
        ip_column = _first_present(battles, IP_COLUMNS)
        time_column = _first_present(battles, TIME_COLUMNS)
        time = None
        if time_column is not None and battles[time_column].notna().all():
            time = battles[time_column].to_numpy(dtype=np.float64)
        return cls.from_arrays(
            battles["model_a"].to_numpy(dtype=object),
            battles["model_b"].to_numpy(dtype=object),
            battles["winner"].map(_OUTCOMES).to_numpy(dtype=np.float64),
            voters.astype(str).to_numpy(dtype=object),
            None if ip_column is None else battles[ip_column].astype(str).to_numpy(dtype=object),
            time,
        )

    def subset(self, mask: NDArray[np.bool_]) -> VoteTable:
        """The votes where `mask` holds, keeping the model, voter and IP codes."""
        return VoteTable(
            self.models,
            self.model_a[mask],
            self.model_b[mask],
            self.outcome[mask],
            self.voter[mask],
            self.voter_names,
            None if self.ip is None else self.ip[mask],
            self.ip_names,
            None if self.time is None else self.time[mask],
        )


def _first_present(frame: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    return next((column for column in candidates if column in frame.columns), None)


def _factorize(
    values: Sequence[object] | NDArray[np.object_],
) -> tuple[Codes, NDArray[np.object_]]:
    codes, names = pd.factorize(pd.Series(np.asarray(values, dtype=object)).astype(str))
    return codes.astype(np.int32), np.asarray(names, dtype=object)
