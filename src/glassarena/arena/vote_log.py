"""The append-only record of every accepted vote, chained by hashes.

Entries are written in the same database transaction as the vote itself, so the log and the
votes table can never disagree; the table's triggers refuse UPDATE and DELETE, and each entry
carries the hash of the one before it (storage/vote_chain.py), so an auditor holding a
published log can tell whether anything was changed, dropped, reordered or inserted, and
replay it to recompute the leaderboard independently of the mutable tables.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from glassarena.storage.repository import LoggedVote, append_to_vote_log


class VoteLog(Protocol):
    def append(self, connection: Connection, vote: LoggedVote) -> None:
        """Record `vote` inside the vote's own transaction on `connection` (not yet committed)."""
        ...


class DatabaseVoteLog:
    """Chains each vote onto the `vote_log` table, naming the exact model versions."""

    def append(self, connection: Connection, vote: LoggedVote) -> None:
        append_to_vote_log(connection, vote)
