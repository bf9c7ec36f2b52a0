"""Screening verdicts in the vote log's hash chain, and the record of each screening pass.

`vote_verdicts` holds the live screening's decisions on earlier votes; its entries take their
positions from the one `vote_log_head`, so votes and verdicts form one chain and one public
log. Append-only like `vote_log`. `screening_runs` keeps what each pass found for
`/integrity` (not part of the chain: it is derived, and the verdicts are what counts).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER vote_verdicts_no_update BEFORE UPDATE ON vote_verdicts
       BEGIN SELECT RAISE(ABORT, 'vote_verdicts is append-only'); END""",
    """CREATE TRIGGER vote_verdicts_no_delete BEFORE DELETE ON vote_verdicts
       BEGIN SELECT RAISE(ABORT, 'vote_verdicts is append-only'); END""",
]
# vote_log_append_only() (0001) raises for any row; its message names the vote log.
_POSTGRES_TRIGGERS = [
    """CREATE TRIGGER vote_verdicts_no_change BEFORE UPDATE OR DELETE ON vote_verdicts
       FOR EACH ROW EXECUTE FUNCTION vote_log_append_only()"""
]


def upgrade() -> None:
    op.create_table(
        "vote_verdicts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("vote_position", sa.Integer(), nullable=False),
        sa.Column("battle_public_id", sa.String(64), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(50), nullable=True),
        sa.Column("screening_version", sa.String(64), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
    )
    op.create_index("ix_vote_verdicts_position", "vote_verdicts", ["position"], unique=True)
    op.create_index("ix_vote_verdicts_vote_position", "vote_verdicts", ["vote_position"])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}.get(
        dialect, []
    ):
        op.execute(statement)
    op.create_table(
        "screening_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("finished_at", _TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("screening_runs")
    op.drop_table("vote_verdicts")  # its triggers go with it
