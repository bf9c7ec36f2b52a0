"""The WebDev execution checks still to run, as one queue shared by every node.

A row per finished answer waiting for its check. A node takes one by writing its lease
(owner and expiry); the row is deleted in the transaction that stores the check. A lease that
expires (its node died) makes the row available to any other node.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_check_queue",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "answer_id",
            sa.Integer(),
            sa.ForeignKey("answers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_app_check_queue_lease_until", "app_check_queue", ["lease_until"])


def downgrade() -> None:
    op.drop_index("ix_app_check_queue_lease_until", "app_check_queue")
    op.drop_table("app_check_queue")
