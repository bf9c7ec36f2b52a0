"""Battle shares: the random token of a finished battle's read-only public page.

A table of its own: a battle gets a token only when its voter asks for a link, after the
vote; without one, nothing of the battle is reachable by anybody else.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "battle_shares",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("battle_id", sa.Integer(), sa.ForeignKey("battles.id"), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("battle_id"),
        sa.UniqueConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("battle_shares")
