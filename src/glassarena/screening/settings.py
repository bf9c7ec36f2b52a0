"""The thresholds of vote screening (the `screening:` section of the arena file)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScreeningSettings:
    """Every statistical test is Bonferroni-corrected so that, on honest votes, each detector
    raises a false alarm anywhere on the board with probability at most `alpha`.

    `voter_share_cap` / `ip_share_cap`: no voter (IP hash) may supply more than this share of
    one model's counted votes once the model has `cap_floor_votes` votes from them.
    `low_history_votes`: voters with fewer votes form, with voters first seen within
    `new_voter_days` of the newest vote, the *new or low-history* cohort whose view of each
    model is checked against the established voters'. `burst_window_hours`: the width of the
    time windows in which that check is repeated (bursts). `min_voter_votes`: voters with fewer
    votes are too short for per-voter tests and are judged as part of the cohort instead.
    `concentration_set_size`: the largest set of models a voter's votes are tested for
    falling on (the target and its rivals).
    `min_agreement`: a voter is flagged when their votes follow the ratings significantly
    less than this (1 = like the crowd, 0 = coin flips, < 0 = siding with the weaker model).
    `favouritism_margin`: how far above or below a model's predicted win share a voter's
    votes on it may lie (taste) before a significant excess flags them.
    `min_crowd_voters`: with fewer distinct voters there is no crowd to screen against (a
    private arena of one or a few people; no one can stay under a 10 % share), and every vote
    counts.
    `refresh_share`: in the live arena, screening's time is at most this share of the
    leaderboard refresh time, amortised (arena/live_screening.py); not a threshold, so it
    does not change what a pass decides.
    """

    enabled: bool = True
    alpha: float = 0.01
    voter_share_cap: float = 0.10
    ip_share_cap: float = 0.20
    cap_floor_votes: int = 20
    min_voter_votes: int = 5
    concentration_set_size: int = 8
    min_agreement: float = 0.0
    favouritism_margin: float = 0.15
    low_history_votes: int = 10
    new_voter_days: float = 3.0
    burst_window_hours: float = 24.0
    reference_prior: float = 0.5
    min_crowd_voters: int = 10
    refresh_share: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"screening alpha must lie in (0, 1), got {self.alpha}")
        for name in ("voter_share_cap", "ip_share_cap"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"screening {name} must lie in (0, 1], got {value}")
        for name in (
            "cap_floor_votes",
            "min_voter_votes",
            "low_history_votes",
            "concentration_set_size",
            "min_crowd_voters",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"screening {name} must be at least 1")
        if self.refresh_share <= 0:
            raise ValueError(f"screening refresh_share must be > 0, got {self.refresh_share}")
        if self.new_voter_days < 0 or self.burst_window_hours <= 0:
            raise ValueError("screening new_voter_days must be >= 0 and burst_window_hours > 0")
