"""Board snapshots: the last leaderboard published for each board, stored for a restart.

Derived data only, like the board segments (0013): a start serves these at once, each
naming the log position and entry hash it was computed at, instead of a blank page until
the board statistics are read back and every board computed again (minutes at 10,000,000
votes). A snapshot whose entry is not this log's, or computed with other options, is never
served.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_snapshots",
        sa.Column("category", sa.String(100), primary_key=True),
        sa.Column("style_control", sa.Boolean(), primary_key=True),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("log_head", sa.String(64), nullable=False),
        sa.Column("options", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("board_snapshots")
