"""The append-only record of every accepted vote.

Entries are written in the same database transaction as the vote itself, so the log and the
votes table can never disagree; the table's triggers refuse UPDATE and DELETE. An auditor can
replay the log to recompute the leaderboard independently of the mutable tables.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from glassarena.storage.schema import Battle, Vote, VoteLogEntry


class VoteLog(Protocol):
    def append(self, session: Session, battle: Battle, vote: Vote) -> None:
        """Record `vote` (already added to `session`, not yet committed)."""
        ...


class DatabaseVoteLog:
    """Writes each vote to the `vote_log` table, naming the exact model versions."""

    def append(self, session: Session, battle: Battle, vote: Vote) -> None:
        session.flush()  # gives the vote its id
        model_b = battle.model_b
        session.add(
            VoteLogEntry(
                vote_id=vote.id,
                battle_public_id=battle.public_id,
                category=battle.category,
                model_a=battle.model_a.name,
                model_a_version=battle.model_a.version,
                model_b=model_b.name if model_b else None,
                model_b_version=model_b.version if model_b else None,
                winner=vote.winner,
                counted=vote.counted,
                voter_id=vote.voter_id,
                ip_hash=vote.ip_hash,
                created_at=vote.created_at,
            )
        )
