"""WebDev answers' apps and their execution checks, kept with the battle.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "answer_id",
            sa.Integer(),
            sa.ForeignKey("answers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("app_found", sa.Boolean(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("lines_of_code", sa.Integer(), nullable=False),
        sa.Column("code_blocks", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Boolean(), nullable=False),
        sa.Column("loaded", sa.Boolean(), nullable=False),
        sa.Column("rendered", sa.Boolean(), nullable=False),
        sa.Column("runs", sa.Boolean(), nullable=False),
        sa.Column("load_ms", sa.Float(), nullable=True),
        sa.Column("uncaught_errors", sa.JSON(), nullable=False),
        sa.Column("console_errors", sa.JSON(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("screenshot_png", sa.LargeBinary(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_checks")
