"""The counted votes of a stretch of the vote log, read as columns, for the board statistics;
and the statistics' stored segments (derived data, for a fast restart).

One SQL statement per stretch, its rows streamed, and no ORM object per vote: the style totals
the style fit needs are summed inside the database (JSON paths that SQLite and PostgreSQL
both evaluate), so a cold start never parses millions of JSON documents in Python. Prompt
categories come back as their JSON text; the few distinct texts are parsed by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Float,
    Row,
    Select,
    String,
    Subquery,
    Table,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from glassarena.battles.style_features import STYLE_TOTALS
from glassarena.storage.database import Database
from glassarena.storage.schema import BoardSegment, VoteLogEntry, VoteVerdict

# Totals that the arena stores as a dict of counts (`battles.style.markdown_counts`).
_PARTS = {
    "header_count": tuple(f"h{level}" for level in range(1, 7)),
    "list_count": ("ordered", "unordered"),
    "bold_count": ("**", "__"),
}

_log = VoteLogEntry.__table__
_verdicts: Table = VoteVerdict.__table__  # type: ignore[assignment]


def entry_hash_at(position: ColumnElement[int]) -> ColumnElement[str]:
    """The hash of the log entry at `position`: a vote's, or a screening verdict's (both
    kinds share the log's positions, so a stretch of the log can end on either)."""
    return func.coalesce(
        select(_log.c.entry_hash).where(_log.c.position == position).scalar_subquery(),
        select(_verdicts.c.entry_hash).where(_verdicts.c.position == position).scalar_subquery(),
    )


# Log positions one statement of `read_vote_columns` reads.
_STRETCH = 500_000


@dataclass(frozen=True)
class VoteColumns:
    """Counted two-model votes in log order, one array per field."""

    position: NDArray[np.int64]
    model_a: NDArray[np.object_]  # leaderboard labels (`battle_view.version_label`)
    model_b: NDArray[np.object_]
    winner: NDArray[np.object_]
    category: NDArray[np.object_]
    prompt_categories: NDArray[np.object_]  # JSON text, or None
    webdev_stack: NDArray[np.object_]  # a WebdevStack's value, or None (not WebDev, or older)
    style: NDArray[np.float64]  # votes x `style_features.STYLE_TOTALS`; NaN where absent

    def __len__(self) -> int:
        return len(self.position)

    def take(self, index: NDArray[np.intp]) -> VoteColumns:
        """These votes' rows at `index` (to count some of them again, say)."""
        return VoteColumns(
            position=self.position[index],
            model_a=self.model_a[index],
            model_b=self.model_b[index],
            winner=self.winner[index],
            category=self.category[index],
            prompt_categories=self.prompt_categories[index],
            webdev_stack=self.webdev_stack[index],
            style=self.style[index],
        )


def read_vote_columns(
    database: Database, after: int, up_to: int, batch: int = 20_000
) -> Iterator[VoteColumns]:
    """The counted votes of log positions after..up_to, at most `batch` votes at a time.

    The rows stream (a server-side cursor on PostgreSQL): a vote's row takes about 2 KB
    as Python objects until it is turned into columns, so reading 500,000 of them at once
    made most of a cold start's peak memory. Each statement covers at most `_STRETCH` log
    positions, so that a SQLite reader's snapshot, which holds back the write-ahead log's
    checkpoints while the statement runs, lasts seconds, not a whole cold start.
    """
    query = _QUERIES[database.engine.dialect.name == "postgresql"]
    with database.engine.connect() as reader:
        for start in range(after, up_to, _STRETCH):
            rows = reader.execution_options(stream_results=True).execute(
                query, {"after": start, "up_to": min(start + _STRETCH, up_to)}
            )
            for piece in rows.partitions(batch):
                yield _columns(piece)


def _label(name: ColumnElement[str], version: ColumnElement[int]) -> ColumnElement[str]:
    """`battle_view.version_label` in SQL."""
    return case(
        (version == 1, name),
        else_=name + " (v" + cast(version, String) + ")",
    )


def _logged(postgres: bool) -> Subquery:
    """The log rows read, each style document as a column to read paths from.

    PostgreSQL stores them as `json`, which keeps the text and parses it again for every path
    read (the fifteen style totals of a side parsed its document fifteen times: 59 µs a vote,
    most of a cold start's read); cast to `jsonb` once per row, each path is a lookup. The
    OFFSET 0 keeps PostgreSQL from merging this subquery into the outer query, which would
    copy the cast into every path again, and its order (the position index's) is the outer
    query's, so nothing is sorted after the fact (the sort spilled each batch to disk).
    SQLite merges the plain subquery into the outer query, so its statement is as before.
    """

    def style(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(column, JSONB) if postgres else column

    rows = select(
        _log.c.position,
        _log.c.model_a,
        _log.c.model_a_version,
        _log.c.model_b,
        _log.c.model_b_version,
        _log.c.winner,
        _log.c.category,
        _log.c.prompt_categories,
        _log.c.webdev_stack,
        style(_log.c.style_a).label("style_a"),
        style(_log.c.style_b).label("style_b"),
    ).where(
        _log.c.position > bindparam("after"),
        _log.c.position <= bindparam("up_to"),
        _log.c.counted.is_(True),
        _log.c.model_b.is_not(None),
    )
    if postgres:
        rows = rows.order_by(_log.c.position).offset(0)
    return rows.subquery("logged")


def _total(logged: Subquery, column_name: str) -> ColumnElement[float]:
    """One style total of a vote, or NULL when the vote has none (as `_totals` reads NaN)."""
    side = "a" if column_name.endswith("_a") or "_a_" in column_name else "b"
    column = logged.c[f"style_{side}"]
    parts = _PARTS.get(column_name.removesuffix(f"_{side}"))
    if parts is None:
        count: ColumnElement[float] = column[column_name].as_float()
        return count
    summed = sum(
        (func.coalesce(column[(column_name, part)].as_float(), 0.0) for part in parts),
        start=cast(0.0, Float),
    )
    return case((column[column_name].as_string().is_(None), None), else_=summed)


def _query(postgres: bool) -> Select[Any]:
    logged = _logged(postgres)
    return select(
        logged.c.position,
        _label(logged.c.model_a, logged.c.model_a_version),
        _label(logged.c.model_b, logged.c.model_b_version),
        logged.c.winner,
        logged.c.category,
        cast(logged.c.prompt_categories, Text),
        logged.c.webdev_stack,
        *(_total(logged, name) for name in STYLE_TOTALS),
    ).order_by(logged.c.position)


# By whether the database is PostgreSQL.
_QUERIES = {postgres: _query(postgres) for postgres in (False, True)}


def _columns(rows: Sequence[Row[Any]]) -> VoteColumns:
    columns = list(zip(*rows, strict=True))
    tags = np.array(columns[5], dtype=object)
    # A JSON null stored in the column reads back as the text "null".
    tags[pd.isna(tags) | (tags == "null")] = None
    return VoteColumns(
        position=np.array(columns[0], dtype=np.int64),
        model_a=np.array(columns[1], dtype=object),
        model_b=np.array(columns[2], dtype=object),
        winner=np.array(columns[3], dtype=object),
        category=np.array(columns[4], dtype=object),
        prompt_categories=tags,
        webdev_stack=np.array(columns[6], dtype=object),
        # None (no such count) becomes NaN on the way to floats.
        style=np.array(columns[7:], dtype=np.float64).T.copy(),
    )


@dataclass(frozen=True)
class StoredSegment:
    """Board statistics of log positions first_position+1..last_position, as stored."""

    first_position: int
    last_position: int
    payload: bytes


_segments: Table = BoardSegment.__table__  # type: ignore[assignment]


def read_segments(database: Database, layout: str) -> Iterator[StoredSegment]:
    """The stored segments that continue each other from the log's start, in their layout,
    whose last entry is this log's (a restored or replaced log has other hashes), one at a
    time: at 10,000,000 votes they are 700 MB, which a list held at once beside the
    statistics made of them."""
    query = (
        select(_segments.c.first_position, _segments.c.last_position, _segments.c.payload)
        .where(_segments.c.format == layout)
        .where(_segments.c.last_hash == entry_hash_at(_segments.c.last_position))
        .order_by(_segments.c.last_position)
        .execution_options(yield_per=4)
    )
    reached = 0
    with database.engine.connect() as reader:
        for first, last, payload in reader.execute(query):
            if first != reached:
                return
            yield StoredSegment(first, last, bytes(payload))
            reached = last


def write_segment(
    database: Database, first_position: int, last_position: int, layout: str, payload: bytes
) -> None:
    """Store a segment, in place of one of another layout or log at the same position."""
    last_hash = entry_hash_at(literal(last_position))
    with database.transaction() as connection:
        connection.execute(delete(_segments).where(_segments.c.last_position == last_position))
        connection.execute(
            insert(_segments).values(
                first_position=first_position,
                last_position=last_position,
                last_hash=last_hash,
                format=layout,
                payload=payload,
            )
        )
