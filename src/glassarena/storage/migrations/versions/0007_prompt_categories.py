"""Prompt categories: each battle's prompt categories (an LMArena `category_tag`) and the
version of the classifier that set them.

The vote log carries them too (chained into each new entry's hash), so that the category
boards follow from the published log alone, as every board does. Battles and entries stored
before this revision keep NULL: their categories are unknown, and they count on no category
board; entries without categories hash exactly as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("battles", sa.Column("prompt_categories", sa.JSON(), nullable=True))
    # ADD COLUMN leaves the log's append-only triggers in place (no table rebuild).
    op.add_column("vote_log", sa.Column("prompt_categories", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, so vote_log keeps its append-only triggers.
    op.drop_column("vote_log", "prompt_categories")
    with op.batch_alter_table("battles") as batch:
        batch.drop_column("prompt_categories")
