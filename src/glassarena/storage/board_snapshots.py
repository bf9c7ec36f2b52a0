"""The last published leaderboards, stored so that a start can serve them at once.

Derived data: each row is one board's snapshot as the refresher published it, with the
log position and entry hash it was computed at. Only rows whose entry is this log's (a
restored or replaced database has other hashes) and whose options fingerprint is the
caller's are read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, delete, insert, select

from glassarena.storage.database import Database
from glassarena.storage.schema import BoardSnapshotRow
from glassarena.storage.vote_columns import entry_hash_at

_snapshots: Table = BoardSnapshotRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class StoredBoard:
    category: str
    style_control: bool
    watermark: int
    log_head: str
    payload: bytes


def read_boards(database: Database, options: str) -> list[StoredBoard]:
    """The stored boards computed with `options` at an entry of this log."""
    query = (
        select(
            _snapshots.c.category,
            _snapshots.c.style_control,
            _snapshots.c.watermark,
            _snapshots.c.log_head,
            _snapshots.c.payload,
        )
        .where(_snapshots.c.options == options)
        .where(_snapshots.c.log_head == entry_hash_at(_snapshots.c.watermark))
    )
    with database.engine.connect() as reader:
        return [
            StoredBoard(category, bool(style), watermark, head, bytes(payload))
            for category, style, watermark, head, payload in reader.execute(query)
        ]


def write_boards(database: Database, options: str, boards: Sequence[StoredBoard]) -> None:
    """Keep these boards in place of the ones stored for the same boards."""
    if not boards:
        return
    with database.transaction() as connection:
        for board in boards:
            connection.execute(
                delete(_snapshots).where(
                    (_snapshots.c.category == board.category)
                    & (_snapshots.c.style_control == board.style_control)
                )
            )
        connection.execute(
            insert(_snapshots),
            [
                {
                    "category": board.category,
                    "style_control": board.style_control,
                    "watermark": board.watermark,
                    "log_head": board.log_head,
                    "options": options,
                    "payload": board.payload,
                }
                for board in boards
            ],
        )
