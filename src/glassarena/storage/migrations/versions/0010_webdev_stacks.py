"""WebDev stacks: the stack a WebDev battle asked for (a WebdevStack: HTML, React, Vue,
Python, Mermaid), carried into the vote log for the per-stack boards, and the stack each
checked answer was written in.

The vote log's entries carry the stack only when it is known (chained into the new entries'
hash); battles, entries and checks stored before this revision keep NULL and hash exactly as
before. Those WebDev battles all asked for one HTML document, but their entries are not
rewritten: an append-only log is not backfilled, so they count on the WebDev board and on no
stack's board.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("battles", sa.Column("webdev_stack", sa.String(20), nullable=True))
    # ADD COLUMN leaves the log's append-only triggers in place (no table rebuild).
    op.add_column("vote_log", sa.Column("webdev_stack", sa.String(20), nullable=True))
    op.add_column("app_checks", sa.Column("stack", sa.String(20), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a plain column in place: no table is rebuilt, so vote_log keeps its
    # append-only triggers and no rebuilt battles table cascades into turns and answers.
    op.drop_column("vote_log", "webdev_stack")
    op.drop_column("app_checks", "stack")
    op.drop_column("battles", "webdev_stack")
