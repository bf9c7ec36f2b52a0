"""SEAM: the append-only record of every accepted vote, chained by hashes.

Entries are written in the same database transaction as the vote itself, so the log and the
votes table can never disagree; each entry carries the hash of the one before it
(storage/vote_chain.py), so an auditor holding a published log can tell whether anything was
changed, dropped, reordered or inserted, and replay it to recompute the leaderboard
independently of the mutable tables. The database implementation is
`glassarena.storage.vote_log.DatabaseVoteLog` (its table's triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from typing import Protocol

from glassarena.storage.repository import LoggedVote, VoteTransaction
from glassarena.storage.vote_log import DatabaseVoteLog

__all__ = ["DatabaseVoteLog", "VoteLog"]


class VoteLog(Protocol):
    def append(self, transaction: VoteTransaction, vote: LoggedVote) -> None:
        """Record `vote` inside the vote's own transaction (not yet committed)."""
        ...
