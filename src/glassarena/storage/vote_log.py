"""The vote log in the database: the `vote_log` table, append-only by its triggers.

The seam it implements (`VoteLog`) is defined by the application in `arena/vote_log.py`.
"""

from __future__ import annotations

from glassarena.storage.repository import INSERT_VOTE_LOG_ENTRY, LoggedVote, VoteTransaction


class DatabaseVoteLog:
    """Writes each vote to the `vote_log` table, naming the exact model versions."""

    def append(self, transaction: VoteTransaction, vote: LoggedVote) -> None:
        model_b = vote.model_b
        transaction.execute(
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
