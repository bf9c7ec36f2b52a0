"""The stored vocabulary is checked: battle modes, kinds and statuses, answer sides and
statuses, and vote verdicts accept only the words of `glassarena.vocabulary`.

The words are written out here, not imported: a migration records the schema as it was.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# table -> (constraint name, column, allowed words)
_CHECKS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "battles": [
        ("ck_battles_mode", "mode", ("anonymous", "named", "single")),
        ("ck_battles_kind", "kind", ("text", "webdev", "recorded")),
        ("ck_battles_status", "status", ("generating", "complete", "failed", "voted")),
    ],
    "answers": [
        ("ck_answers_side", "side", ("a", "b")),
        ("ck_answers_status", "status", ("generating", "done", "failed")),
    ],
    "votes": [
        ("ck_votes_winner", "winner", ("model_a", "model_b", "tie", "tie (bothbad)")),
    ],
}


def upgrade() -> None:
    # On SQLite, batch mode rebuilds each table (copy, drop, rename); storage.migrate turns
    # foreign keys off around migrations so that dropping the old table cascades nothing.
    for table, checks in _CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, column, words in checks:
                listed = ", ".join(f"'{word}'" for word in words)
                batch.create_check_constraint(name, f"{column} IN ({listed})")


def downgrade() -> None:
    for table, checks in _CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, _column, _words in checks:
                batch.drop_constraint(name, type_="check")
