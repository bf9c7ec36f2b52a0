"""Integrity: the vote log becomes a hash chain; organizations, families and retirements.

Existing vote-log entries are chained in their id order (the append-only triggers are lifted
for the backfill and put back), with the style and the not-counted reason of their vote.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from glassarena.storage.vote_chain import GENESIS_HASH, chain_entry, entry_hash

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER vote_log_no_update BEFORE UPDATE ON vote_log
       BEGIN SELECT RAISE(ABORT, 'vote_log is append-only'); END""",
    """CREATE TRIGGER vote_log_no_delete BEFORE DELETE ON vote_log
       BEGIN SELECT RAISE(ABORT, 'vote_log is append-only'); END""",
]
_SQLITE_DROP_TRIGGERS = ["DROP TRIGGER vote_log_no_update", "DROP TRIGGER vote_log_no_delete"]
_POSTGRES_TRIGGERS = [
    """CREATE TRIGGER vote_log_no_change BEFORE UPDATE OR DELETE ON vote_log
       FOR EACH ROW EXECUTE FUNCTION vote_log_append_only()"""
]
_POSTGRES_DROP_TRIGGERS = ["DROP TRIGGER vote_log_no_change ON vote_log"]

_EXISTING_ENTRIES = sa.text(
    """SELECT vote_log.id, vote_log.battle_public_id, vote_log.category,
              vote_log.model_a, vote_log.model_a_version, vote_log.model_b,
              vote_log.model_b_version, vote_log.winner, vote_log.counted,
              votes.not_counted_reason, vote_log.created_at, battles.style_a, battles.style_b
       FROM vote_log JOIN votes ON votes.id = vote_log.vote_id
       JOIN battles ON battles.id = votes.battle_id
       ORDER BY vote_log.id"""
).columns(created_at=_TIMESTAMP, counted=sa.Boolean(), style_a=sa.JSON(), style_b=sa.JSON())
_CHAIN_ENTRY = sa.text(
    """UPDATE vote_log SET position = :position, prev_hash = :prev_hash,
       entry_hash = :entry_hash, not_counted_reason = :not_counted_reason,
       organization_a = 'unknown', organization_b = :organization_b,
       style_a = :style_a, style_b = :style_b WHERE id = :id"""
).bindparams(sa.bindparam("style_a", type_=sa.JSON()), sa.bindparam("style_b", type_=sa.JSON()))


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def _triggers(sqlite: list[str], postgresql: list[str]) -> None:
    _run({"sqlite": sqlite, "postgresql": postgresql}.get(op.get_bind().dialect.name, []))


def _chain_existing_entries() -> tuple[int, str]:
    connection = op.get_bind()
    position, head = 0, GENESIS_HASH
    for row in connection.execute(_EXISTING_ENTRIES).mappings().all():
        position += 1
        model_b = (
            {"name": row["model_b"], "version": row["model_b_version"], "organization": "unknown"}
            if row["model_b"] is not None
            else None
        )
        entry = chain_entry(
            position=position,
            prev_hash=head,
            battle_id=row["battle_public_id"],
            category=row["category"],
            model_a={
                "name": row["model_a"],
                "version": row["model_a_version"],
                "organization": "unknown",
            },
            model_b=model_b,
            winner=row["winner"],
            counted=bool(row["counted"]),
            not_counted_reason=row["not_counted_reason"],
            voted_at=row["created_at"],
            style_a=row["style_a"],
            style_b=row["style_b"],
        )
        digest = entry_hash(entry)
        connection.execute(
            _CHAIN_ENTRY,
            {
                "id": row["id"],
                "position": position,
                "prev_hash": head,
                "entry_hash": digest,
                "not_counted_reason": row["not_counted_reason"],
                "organization_b": "unknown" if model_b is not None else None,
                "style_a": row["style_a"],
                "style_b": row["style_b"],
            },
        )
        head = digest
    return position, head


def upgrade() -> None:
    op.add_column(
        "model_versions",
        sa.Column("organization", sa.String(200), nullable=False, server_default="unknown"),
    )
    op.add_column("model_versions", sa.Column("family", sa.String(200), nullable=True))
    op.add_column("model_versions", sa.Column("open_weights", sa.Boolean(), nullable=True))

    _triggers(_SQLITE_DROP_TRIGGERS, _POSTGRES_DROP_TRIGGERS)
    op.add_column(
        "vote_log", sa.Column("position", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "vote_log", sa.Column("prev_hash", sa.String(64), nullable=False, server_default="")
    )
    op.add_column(
        "vote_log", sa.Column("entry_hash", sa.String(64), nullable=False, server_default="")
    )
    op.add_column("vote_log", sa.Column("not_counted_reason", sa.Text(), nullable=True))
    op.add_column(
        "vote_log",
        sa.Column("organization_a", sa.String(200), nullable=False, server_default="unknown"),
    )
    op.add_column("vote_log", sa.Column("organization_b", sa.String(200), nullable=True))
    op.add_column("vote_log", sa.Column("style_a", sa.JSON(), nullable=True))
    op.add_column("vote_log", sa.Column("style_b", sa.JSON(), nullable=True))
    position, head = _chain_existing_entries()
    _triggers(_SQLITE_TRIGGERS, _POSTGRES_TRIGGERS)
    op.create_index("ix_vote_log_position", "vote_log", ["position"], unique=True)

    head_table = op.create_table(
        "vote_log_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head_table, [{"id": 1, "position": position, "entry_hash": head}])

    op.create_table(
        "retirements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "model_version_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False
        ),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("retired_at", _TIMESTAMP, nullable=False),
        sa.Column("reinstated_at", _TIMESTAMP, nullable=True),
    )
    op.create_index("ix_retirements_model_version_id", "retirements", ["model_version_id"])


def downgrade() -> None:
    op.drop_index("ix_retirements_model_version_id", "retirements")
    op.drop_table("retirements")
    op.drop_table("vote_log_head")
    op.drop_index("ix_vote_log_position", "vote_log")
    _triggers(_SQLITE_DROP_TRIGGERS, _POSTGRES_DROP_TRIGGERS)
    for column in (
        "style_b",
        "style_a",
        "organization_b",
        "organization_a",
        "not_counted_reason",
        "entry_hash",
        "prev_hash",
        "position",
    ):
        op.drop_column("vote_log", column)
    _triggers(_SQLITE_TRIGGERS, _POSTGRES_TRIGGERS)
    for column in ("open_weights", "family", "organization"):
        op.drop_column("model_versions", column)
