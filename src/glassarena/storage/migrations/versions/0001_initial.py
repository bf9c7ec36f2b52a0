"""Initial schema: model versions, battles, turns, answers, votes and the append-only vote log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)

_SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER vote_log_no_update BEFORE UPDATE ON vote_log
       BEGIN SELECT RAISE(ABORT, 'vote_log is append-only'); END""",
    """CREATE TRIGGER vote_log_no_delete BEFORE DELETE ON vote_log
       BEGIN SELECT RAISE(ABORT, 'vote_log is append-only'); END""",
]
_POSTGRES_APPEND_ONLY = [
    """CREATE FUNCTION vote_log_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'vote_log is append-only'; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER vote_log_no_change BEFORE UPDATE OR DELETE ON vote_log
       FOR EACH ROW EXECUTE FUNCTION vote_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider_kind", sa.String(50), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("settings_fingerprint", sa.String(128), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
        sa.UniqueConstraint("name", "settings_fingerprint", name="uq_model_versions_name_settings"),
    )
    op.create_table(
        "battles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_id", sa.String(64), nullable=False, unique=True),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("model_a_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("model_b_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("voter_id", sa.String(100), nullable=False),
        sa.Column("ip_hash", sa.String(128), nullable=False),
        sa.Column("recorded_prompt_id", sa.String(100), nullable=True),
        sa.Column("style_a", sa.JSON(), nullable=True),
        sa.Column("style_b", sa.JSON(), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
    )
    op.create_index("ix_battles_status", "battles", ["status"])
    op.create_index("ix_battles_voter_id", "battles", ["voter_id"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "battle_id",
            sa.Integer(),
            sa.ForeignKey("battles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.UniqueConstraint("battle_id", "number", name="uq_turns_battle_number"),
    )
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "turn_id", sa.Integer(), sa.ForeignKey("turns.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("side", sa.String(1), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failure_kind", sa.String(50), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("first_token_seconds", sa.Float(), nullable=True),
        sa.Column("total_seconds", sa.Float(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("finish_reason", sa.String(50), nullable=True),
        sa.Column("style", sa.JSON(), nullable=True),
        sa.UniqueConstraint("turn_id", "side", name="uq_answers_turn_side"),
    )
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "battle_id", sa.Integer(), sa.ForeignKey("battles.id"), nullable=False, unique=True
        ),
        sa.Column("winner", sa.String(20), nullable=False),
        sa.Column("voter_id", sa.String(100), nullable=False),
        sa.Column("ip_hash", sa.String(128), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("not_counted_reason", sa.Text(), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
    )
    op.create_index("ix_votes_voter_id", "votes", ["voter_id"])
    op.create_index("ix_votes_ip_hash", "votes", ["ip_hash"])
    op.create_index("ix_votes_counted", "votes", ["counted"])
    op.create_table(
        "vote_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vote_id", sa.Integer(), sa.ForeignKey("votes.id"), nullable=False),
        sa.Column("battle_public_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("model_a", sa.String(200), nullable=False),
        sa.Column("model_a_version", sa.Integer(), nullable=False),
        sa.Column("model_b", sa.String(200), nullable=True),
        sa.Column("model_b_version", sa.Integer(), nullable=True),
        sa.Column("winner", sa.String(20), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("voter_id", sa.String(100), nullable=False),
        sa.Column("ip_hash", sa.String(128), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_APPEND_ONLY, "postgresql": _POSTGRES_APPEND_ONLY}.get(
        dialect, []
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER vote_log_no_change ON vote_log")
        op.execute("DROP FUNCTION vote_log_append_only()")
    for table in ("vote_log", "votes", "answers", "turns", "battles", "model_versions"):
        op.drop_table(table)
