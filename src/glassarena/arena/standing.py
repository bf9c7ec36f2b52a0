"""Where every model version stands: active, provisional or retired, and why.

Retirement is by rule only (the config's `integrity.retirement`), decided when the arena
starts and recorded with its date, rule and the votes the version had. A retired version is
no longer sampled, but its votes stay in the fit and it stays on the board: nothing that ever
received a counted vote disappears. Removing a contestant from the config, or changing its
settings (which makes a new version), retires the old version by the `removed_from_config`
rule, which always applies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from glassarena.arena.config.arena_config import UNKNOWN_ORGANIZATION
from glassarena.arena.config.schema import (
    InactiveRule,
    IntegritySettings,
    RetirementRule,
    SupersededRule,
)
from glassarena.arena.roster import Roster
from glassarena.storage.integrity import (
    IntegrityStore,
    RetirementDecision,
    RetirementRecord,
    VersionActivity,
)

Status = Literal["active", "provisional", "retired"]
STATUSES: tuple[Status, ...] = ("active", "provisional", "retired")


@dataclass(frozen=True, slots=True)
class Standing:
    label: str
    name: str
    version: int
    organization: str
    family: str | None
    open_weights: bool | None
    status: Status
    reasons: tuple[str, ...]  # why provisional or retired, in words
    battles: int
    counted_votes: int
    in_config: bool
    # The UTC day of its first battle here (its registration, if it never battled): the
    # board's "date of first appearance".
    first_appeared: date | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.label,
            "organization": self.organization,
            "family": self.family,
            "open_weights": self.open_weights,
            "status": self.status,
            "reasons": list(self.reasons),
            "battles": self.battles,
            "counted_votes": self.counted_votes,
            "in_config": self.in_config,
            "first_appeared": self.first_appeared.isoformat() if self.first_appeared else None,
        }


def decide_retirements(
    activity: Sequence[VersionActivity],
    in_config: set[int],
    retired: set[int],
    rules: Sequence[RetirementRule],
    now: datetime,
) -> tuple[list[RetirementDecision], list[int]]:
    """Which versions the rules retire now, and which retired ones are back in service."""
    retire = []
    reinstate = []
    current = {
        (record.name, record.version) for record in activity if record.version_id in in_config
    }
    for record in activity:
        reason = _retirement_reason(record, activity, in_config, current, rules, now)
        if reason is not None and record.version_id not in retired:
            retire.append(RetirementDecision(record.version_id, *reason))
        elif reason is None and record.version_id in retired and record.version_id in in_config:
            reinstate.append(record.version_id)
    return retire, reinstate


def _retirement_reason(
    record: VersionActivity,
    activity: Sequence[VersionActivity],
    in_config: set[int],
    current: set[tuple[str, int]],
    rules: Sequence[RetirementRule],
    now: datetime,
) -> tuple[str, str] | None:
    if record.version_id not in in_config:
        # Even a version that never had a counted vote goes on the record: left unretired it
        # would stay a candidate, and every start would read every battle to look at it again.
        newer = sorted(version for name, version in current if name == record.name)
        if newer:
            return "removed_from_config", f"its settings changed; version {newer[-1]} replaced it"
        return "removed_from_config", "no longer in the config"
    for rule in rules:
        if isinstance(rule, InactiveRule):
            last = record.last_vote_at or record.created_at
            if now - last > timedelta(days=rule.days):
                return "inactive", f"no vote for more than {rule.days} days"
        elif isinstance(rule, SupersededRule) and record.family is not None:
            for other in activity:
                if (
                    other.family == record.family
                    and other.version_id != record.version_id
                    and other.created_at > record.created_at
                    and other.counted_votes >= rule.votes
                ):
                    return (
                        "superseded",
                        f"{other.label} of the same family has {other.counted_votes} votes "
                        f"(rule: {rule.votes})",
                    )
    return None


def standings(
    activity: Iterable[VersionActivity],
    in_config: set[int],
    retirements: Sequence[RetirementRecord],
    settings: IntegritySettings,
) -> list[Standing]:
    """Every version that is in the config or ever received a counted vote, with its status."""
    retired_now: Mapping[int, RetirementRecord] = {
        record.version_id: record for record in retirements if record.reinstated_at is None
    }
    shown = [
        record for record in activity if record.version_id in in_config or record.counted_votes > 0
    ]
    variants = Counter(
        record.organization
        for record in shown
        if record.version_id in in_config and record.version_id not in retired_now
    )
    provisional = settings.provisional
    result = []
    for record in shown:
        reasons: list[str] = []
        status: Status = "active"
        retirement = retired_now.get(record.version_id)
        if retirement is not None:
            status = "retired"
            reasons.append(f"{retirement.rule}: {retirement.detail}")
        else:
            if record.counted_votes < provisional.votes:
                reasons.append(f"{record.counted_votes} of {provisional.votes} votes")
            organization = record.organization
            if (
                organization != UNKNOWN_ORGANIZATION
                and variants[organization] > provisional.organization_variants
            ):
                reasons.append(
                    f"{organization} has {variants[organization]} variants in battles "
                    f"(more than {provisional.organization_variants})"
                )
            if reasons:
                status = "provisional"
        result.append(
            Standing(
                label=record.label,
                name=record.name,
                version=record.version,
                organization=record.organization,
                family=record.family,
                open_weights=record.open_weights,
                status=status,
                reasons=tuple(reasons),
                battles=record.battles,
                counted_votes=record.counted_votes,
                in_config=record.version_id in in_config,
                first_appeared=(record.first_battle_at or record.created_at).date(),
            )
        )
    return result


def enforce_retirement(
    store: IntegrityStore, roster: Roster, settings: IntegritySettings, now: datetime
) -> Roster:
    """Record who made each configured model, apply the retirement rules, and return the
    roster with the retired models no longer offered."""
    store.describe_versions(
        [
            (model.version_id, model.organization, model.family, model.open_weights)
            for model in roster
        ]
    )
    in_config = {model.version_id for model in roster}
    retired = {record.version_id for record in store.retirements() if record.reinstated_at is None}
    timed = any(isinstance(rule, (InactiveRule, SupersededRule)) for rule in settings.retirement)
    if timed or store.version_ids() - in_config - retired:
        # The activity is a pass over every battle and vote: minutes at 10,000,000 votes.
        retire, reinstate = decide_retirements(
            store.version_activity(), in_config, retired, settings.retirement, now
        )
    else:
        # Without rules on activity, only a version out of the config can be retired, and
        # each is already; a retired version back in the config is back in service.
        retire, reinstate = [], sorted(retired & in_config)
    store.apply_retirements(retire, reinstate)
    retired_now = {
        record.version_id for record in store.retirements() if record.reinstated_at is None
    }
    return roster.retiring(retired_now)
