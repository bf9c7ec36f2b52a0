"""The append-only record of every accepted vote.

Entries are written in the same database transaction as the vote itself, so the log and the
votes table can never disagree; the table's triggers refuse UPDATE and DELETE. An auditor can
replay the log to recompute the leaderboard independently of the mutable tables.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from glassarena.storage.repository import INSERT_VOTE_LOG_ENTRY, LoggedVote


class VoteLog(Protocol):
    def append(self, connection: Connection, vote: LoggedVote) -> None:
        """Record `vote` inside the vote's own transaction on `connection` (not yet committed)."""
        ...


class DatabaseVoteLog:
    """Writes each vote to the `vote_log` table, naming the exact model versions."""

    def append(self, connection: Connection, vote: LoggedVote) -> None:
        model_b = vote.model_b
        connection.execute(
            INSERT_VOTE_LOG_ENTRY,
            {
                "vote_id": vote.vote_id,
                "battle_public_id": vote.battle_public_id,
                "category": vote.category,
                "model_a": vote.model_a.name,
                "model_a_version": vote.model_a.version,
                "model_b": model_b.name if model_b else None,
                "model_b_version": model_b.version if model_b else None,
                "winner": vote.winner,
                "counted": vote.counted,
                "voter_id": vote.voter_id,
                "ip_hash": vote.ip_hash,
                "created_at": vote.created_at,
            },
        )
