"""Board segments: the board statistics of stretches of the vote log, stored for a restart.

Derived data only (the vote log stays the record): each row holds, in a binary columnar
form, the counted votes of log positions `first_position`+1..`last_position` as the
leaderboard refresher folded them, so that a restart reads a few hundred blobs instead of
re-reading every vote's JSON. `last_hash` is the log entry hash at `last_position`: a
segment whose log is not this database's is never used.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_segments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("first_position", sa.Integer(), nullable=False),
        sa.Column("last_position", sa.Integer(), nullable=False, unique=True),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("format", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("board_segments")
