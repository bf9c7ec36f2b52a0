"""A random id for this database, so that caches shared in Redis never mix two arenas.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instance = op.create_table(
        "arena_instance",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(
        instance,
        [{"id": uuid.uuid4().hex, "created_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table("arena_instance")
