"""Votes follow their screening verdicts: each vote row takes the standing of the latest
verdict on it (storage/verdict_log.py now does so in the verdict's transaction; this brings
the verdicts logged before that into line). Data only; the vote log and the verdicts are
untouched. The reason written is the sentence the live screening writes for the verdict's
code (screening/result.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_VERDICTS = sa.text(
    """SELECT vote_log.vote_id, vote_verdicts.counted, vote_verdicts.reason
       FROM vote_verdicts JOIN vote_log ON vote_log.position = vote_verdicts.vote_position
       ORDER BY vote_verdicts.position"""
).columns(counted=sa.Boolean())
_FOLLOW = sa.text(
    "UPDATE votes SET counted = :counted, not_counted_reason = :reason WHERE id = :vote_id"
).bindparams(sa.bindparam("counted", type_=sa.Boolean()))


def upgrade() -> None:
    # Imported here, not at the top: every start loads each migration module to map the
    # revisions, and the screening package brings scipy.stats (seconds).
    from glassarena.screening.result import explanation

    connection = op.get_bind()
    latest = {
        vote_id: {
            "vote_id": vote_id,
            "counted": counted,
            "reason": None if counted else explanation(reason),
        }
        for vote_id, counted, reason in connection.execute(_VERDICTS)
    }
    if latest:
        connection.execute(_FOLLOW, list(latest.values()))


def downgrade() -> None:
    """The votes' acceptance decisions are in their log entries: put them back."""
    connection = op.get_bind()
    connection.execute(
        sa.text(
            """UPDATE votes SET counted = (SELECT vote_log.counted FROM vote_log
                                           WHERE vote_log.vote_id = votes.id),
                                not_counted_reason = (SELECT vote_log.not_counted_reason
                                                      FROM vote_log
                                                      WHERE vote_log.vote_id = votes.id)
               WHERE id IN (SELECT vote_log.vote_id FROM vote_log JOIN vote_verdicts
                            ON vote_verdicts.vote_position = vote_log.position)"""
        )
    )
