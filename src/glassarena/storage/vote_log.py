"""The vote log in the database: the `vote_log` table, append-only by its triggers and
chained by hashes (storage/vote_chain.py).

The seam it implements (`VoteLog`) is defined by the application in `arena/vote_log.py`.
"""

from __future__ import annotations

from glassarena.storage.repository import LoggedVote, VoteTransaction, append_to_vote_log


class DatabaseVoteLog:
    """Chains each vote onto the `vote_log` table, naming the exact model versions."""

    def append(self, transaction: VoteTransaction, vote: LoggedVote) -> None:
        append_to_vote_log(transaction, vote)
