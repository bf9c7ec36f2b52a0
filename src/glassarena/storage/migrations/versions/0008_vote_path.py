"""The vote path: each battle's identity-leak verdict, and a vote-log head the insert moves.

`battles.identity_verdict` holds the identity-leak guard's verdict over a battle's turns,
judged when its latest turn finishes, so that a vote reads no texts. Battles stored before
this revision keep NULL and are judged from their texts when voted on: no backfill, as the
verdict depends on the guard's configuration, which only the running arena knows.

A trigger on `vote_log` now moves `vote_log_head` with every insert, and refuses an entry
that does not extend the head (its position one past the head's, its `prev_hash` the head's
hash): the appender no longer moves the head itself, and no writer, whatever its code, can
fork the chain or skip a position.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SQLITE_EXTENDS_HEAD = [
    """CREATE TRIGGER vote_log_extends_head AFTER INSERT ON vote_log
       BEGIN
         SELECT RAISE(ABORT, 'vote_log entry does not extend the head of the chain')
         WHERE NOT EXISTS (
           SELECT 1 FROM vote_log_head
           WHERE id = 1 AND position = NEW.position - 1 AND entry_hash = NEW.prev_hash
         );
         UPDATE vote_log_head SET position = NEW.position, entry_hash = NEW.entry_hash
         WHERE id = 1;
       END"""
]
_POSTGRES_EXTENDS_HEAD = [
    """CREATE FUNCTION vote_log_extends_head() RETURNS trigger AS $$
       BEGIN
         UPDATE vote_log_head SET position = NEW.position, entry_hash = NEW.entry_hash
         WHERE id = 1 AND position = NEW.position - 1 AND entry_hash = NEW.prev_hash;
         IF NOT FOUND THEN
           RAISE EXCEPTION 'vote_log entry % does not extend the head of the chain',
             NEW.position;
         END IF;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER vote_log_extends_head AFTER INSERT ON vote_log
       FOR EACH ROW EXECUTE FUNCTION vote_log_extends_head()""",
]
_SQLITE_DROP = ["DROP TRIGGER vote_log_extends_head"]
_POSTGRES_DROP = [
    "DROP TRIGGER vote_log_extends_head ON vote_log",
    "DROP FUNCTION vote_log_extends_head()",
]


def _run(sqlite: list[str], postgresql: list[str]) -> None:
    for statement in {"sqlite": sqlite, "postgresql": postgresql}.get(
        op.get_bind().dialect.name, []
    ):
        op.execute(statement)


def upgrade() -> None:
    op.add_column("battles", sa.Column("identity_verdict", sa.JSON(), nullable=True))
    _run(_SQLITE_EXTENDS_HEAD, _POSTGRES_EXTENDS_HEAD)


def downgrade() -> None:
    _run(_SQLITE_DROP, _POSTGRES_DROP)
    # SQLite 3.35+ drops a plain column in place: a rebuilt battles table would cascade
    # into turns and answers when the caller's connection has foreign keys on.
    op.drop_column("battles", "identity_verdict")
