"""The arena's tables, as typed SQLAlchemy 2 ORM classes.

The Alembic migrations in `storage/migrations/` create exactly these tables; a test checks
that the two never drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from glassarena.vocabulary import AnswerStatus, BattleKind, BattleMode, BattleStatus, Winner


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were all written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def one_of(column: str, vocabulary: type[StrEnum] | tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK that `column` holds one of the vocabulary's words (migration 0004 adds them)."""
    words = ", ".join(f"'{word}'" for word in vocabulary)
    return CheckConstraint(f"{column} IN ({words})", name=name)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class ArenaInstance(Base):
    """One row: a random id naming this database (its caches in Redis are keyed by it)."""

    __tablename__ = "arena_instance"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ModelVersion(Base):
    """One immutable configuration of a contestant: votes stay attached to the exact version."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
        UniqueConstraint("name", "settings_fingerprint", name="uq_model_versions_name_settings"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    provider_kind: Mapped[str] = mapped_column(String(50))
    settings: Mapped[dict[str, Any]]
    settings_fingerprint: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Who made it, as the config (or a recorded set's data) says; metadata, not a setting:
    # correcting it does not create a new version.
    organization: Mapped[str] = mapped_column(String(200), default="unknown")
    family: Mapped[str | None] = mapped_column(String(200))
    open_weights: Mapped[bool | None] = mapped_column(Boolean)


class BattleRow(Base):
    """A battle's row; what leaves storage is its read model, `battle_view.BattleView`."""

    __tablename__ = "battles"
    __table_args__ = (
        one_of("mode", BattleMode, "ck_battles_mode"),
        one_of("kind", BattleKind, "ck_battles_kind"),
        one_of("status", BattleStatus, "ck_battles_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random and unguessable; the only identifier that ever leaves the server.
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[str] = mapped_column(String(20))  # a BattleMode
    kind: Mapped[str] = mapped_column(String(20))  # a BattleKind
    category: Mapped[str] = mapped_column(String(50))
    model_a_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    model_b_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)  # a BattleStatus
    failure_reason: Mapped[str | None] = mapped_column(Text)
    voter_id: Mapped[str] = mapped_column(String(100), index=True)
    ip_hash: Mapped[str] = mapped_column(String(128))
    recorded_prompt_id: Mapped[str | None] = mapped_column(String(100))
    # Style metadata over the whole conversation (LMArena's conv_metadata), per side.
    style_a: Mapped[dict[str, Any] | None]
    style_b: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    # The prompt's categories as an LMArena `category_tag`, with the classifier's version
    # (battles/prompt_categories.py); None for battles stored before migration 0007.
    prompt_categories: Mapped[dict[str, Any] | None]
    # The WebdevStack a WebDev battle asked for; None for other kinds and before 0010.
    webdev_stack: Mapped[str | None] = mapped_column(String(20))
    # The identity-leak guard's verdict over every turn, stored when the latest turn finished
    # (arena/identity_guard.py `IdentityVerdict`); None before that, and for battles stored
    # before migration 0008 (their votes judge the texts instead).
    identity_verdict: Mapped[dict[str, Any] | None]

    turns: Mapped[list[Turn]] = relationship(
        back_populates="battle", order_by="Turn.number", cascade="all, delete-orphan"
    )


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("battle_id", "number", name="uq_turns_battle_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("battles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1-based, as shown to the user
    prompt: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    battle: Mapped[BattleRow] = relationship(back_populates="turns")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="turn", order_by="Answer.side", cascade="all, delete-orphan"
    )


class Answer(Base):
    """One side's answer to one turn, with how it was produced."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("turn_id", "side", name="uq_answers_turn_side"),
        one_of("side", ("a", "b"), "ck_answers_side"),
        one_of("status", AnswerStatus, "ck_answers_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(1))  # a | b
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # an AnswerStatus
    failure_kind: Mapped[str | None] = mapped_column(String(50))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    first_token_seconds: Mapped[float | None] = mapped_column(Float)
    total_seconds: Mapped[float | None] = mapped_column(Float)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    finish_reason: Mapped[str | None] = mapped_column(String(50))
    style: Mapped[dict[str, Any] | None]

    turn: Mapped[Turn] = relationship(back_populates="answers")


class Vote(Base):
    """The one vote a battle can receive; stored even when it does not count."""

    __tablename__ = "votes"
    __table_args__ = (one_of("winner", Winner, "ck_votes_winner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("battles.id"), unique=True)
    winner: Mapped[str] = mapped_column(String(20))  # a Winner
    voter_id: Mapped[str] = mapped_column(String(100), index=True)
    ip_hash: Mapped[str] = mapped_column(String(128), index=True)
    counted: Mapped[bool] = mapped_column(Boolean, index=True)
    not_counted_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class VoteReasons(Base):
    """Why a voter preferred the side they picked, given after the vote; at most one per vote.

    Not part of the vote: the vote log and the ratings never read it. `reasons` is a list of
    `VoteReason` words (checked by the code that writes it), `note` a short free text.
    """

    __tablename__ = "vote_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), unique=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class BattleShare(Base):
    """The token of a voted battle's public read-only page (arena/shared_battle.py), made
    when its voter asks for a link; at most one per battle."""

    __tablename__ = "battle_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("battles.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class VoteLogEntry(Base):
    """Append-only: database triggers refuse UPDATE and DELETE on this table.

    The entries form a hash chain (storage/vote_chain.py): `position` counts from 1 without
    gaps, `prev_hash` is the previous entry's `entry_hash`. Appends are serialised on the
    VoteLogHead row (read FOR UPDATE by the vote's INSERT), a trigger (migration 0008) refuses
    an entry that does not extend the head and moves the head, and the unique position is a
    further guard against a fork.

    Its `winner` has no CHECK of its own: entries are only written with their vote, in the
    vote's transaction, and `votes.winner` is checked (rebuilding this table on SQLite to add
    one would also drop its append-only triggers).
    """

    __tablename__ = "vote_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"))
    battle_public_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(50))
    model_a: Mapped[str] = mapped_column(String(200))
    model_a_version: Mapped[int] = mapped_column(Integer)
    model_b: Mapped[str | None] = mapped_column(String(200))
    model_b_version: Mapped[int | None] = mapped_column(Integer)
    winner: Mapped[str] = mapped_column(String(20))
    counted: Mapped[bool] = mapped_column(Boolean)
    voter_id: Mapped[str] = mapped_column(String(100))
    ip_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    position: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    not_counted_reason: Mapped[str | None] = mapped_column(Text)
    organization_a: Mapped[str] = mapped_column(String(200))
    organization_b: Mapped[str | None] = mapped_column(String(200))
    style_a: Mapped[dict[str, Any] | None]
    style_b: Mapped[dict[str, Any] | None]
    prompt_categories: Mapped[dict[str, Any] | None]  # the battle's, when it was voted on
    webdev_stack: Mapped[str | None] = mapped_column(String(20))  # the battle's


class VoteLogHead(Base):
    """One row: the vote log's last position and hash, locked by every append and moved by
    the `vote_log` insert trigger."""

    __tablename__ = "vote_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))


class VoteVerdict(Base):
    """A screening verdict: a later decision on whether an earlier vote counts.

    Append-only like `vote_log` (database triggers refuse UPDATE and DELETE), and chained into
    the same hash chain: `position` and `prev_hash` come from the one VoteLogHead, so votes and
    verdicts interleave in one public log (storage/vote_chain.py). `vote_position` is the
    position of the vote entry the verdict is about; the latest verdict on a vote decides.
    """

    __tablename__ = "vote_verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    vote_position: Mapped[int] = mapped_column(Integer, index=True)
    battle_public_id: Mapped[str] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(50))
    screening_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ScreeningRun(Base):
    """One pass of live screening: the log head it screened up to and what it found (counts
    per reason, each board with and without screening), for `/integrity`."""

    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished_at: Mapped[datetime] = mapped_column(default=utc_now)


class Retirement(Base):
    """A model version taken out of the battles by a retirement rule; it stays on the board.

    `reinstated_at` is set when the version is back in the config (and no rule applies).
    """

    __tablename__ = "retirements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    rule: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(Text)
    votes: Mapped[int] = mapped_column(Integer)
    retired_at: Mapped[datetime] = mapped_column(default=utc_now)
    reinstated_at: Mapped[datetime | None]


class BoardSegment(Base):
    """The board statistics of log positions first_position+1..last_position, binary and
    columnar (`arena.board_statistics`): derived from the vote log, kept for a fast restart."""

    __tablename__ = "board_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_position: Mapped[int] = mapped_column(Integer)
    last_position: Mapped[int] = mapped_column(Integer, unique=True)
    last_hash: Mapped[str] = mapped_column(String(64))  # the log entry's at last_position
    format: Mapped[str] = mapped_column(String(200))  # what the payload's layout depends on
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class BoardSnapshotRow(Base):
    """The last leaderboard published for one board, kept for the next start: derived from
    the vote log at `watermark` (whose entry hash is `log_head`), and served at a start only
    if that entry is this log's and it was computed with the same `options`."""

    __tablename__ = "board_snapshots"

    category: Mapped[str] = mapped_column(String(100), primary_key=True)
    style_control: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    watermark: Mapped[int] = mapped_column(Integer)
    log_head: Mapped[str] = mapped_column(String(64))
    options: Mapped[str] = mapped_column(String(64))  # fingerprint of how it was computed
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the snapshot's JSON, compressed


class AppCheck(Base):
    """A WebDev answer's app: whether one was found, its code size, and its execution check.

    One row per answer, written once the check ends. The screenshot is kept in the row (a
    few tens of kB of PNG) so that it is as durable as the battle and readable by every worker
    without a shared disk; queries that list checks leave it out.
    """

    __tablename__ = "app_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), unique=True
    )
    app_found: Mapped[bool] = mapped_column(Boolean)
    truncated: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    lines_of_code: Mapped[int] = mapped_column(Integer)
    code_blocks: Mapped[int] = mapped_column(Integer)
    checked: Mapped[bool] = mapped_column(Boolean)
    loaded: Mapped[bool] = mapped_column(Boolean)
    rendered: Mapped[bool] = mapped_column(Boolean)
    runs: Mapped[bool] = mapped_column(Boolean)
    load_ms: Mapped[float | None] = mapped_column(Float)
    uncaught_errors: Mapped[list[str]] = mapped_column(JSON)
    console_errors: Mapped[list[str]] = mapped_column(JSON)
    failure: Mapped[str | None] = mapped_column(Text)
    # The WebdevStack the answer was written in (it may differ from the one asked for);
    # None when no app was found, and for checks stored before migration 0010.
    stack: Mapped[str | None] = mapped_column(String(20))
    screenshot_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    checked_at: Mapped[datetime] = mapped_column(default=utc_now)


class AppCheckJob(Base):
    """A finished WebDev answer whose execution check has not been stored yet.

    Shared by every node: the one that holds an unexpired lease runs the check; the row is
    deleted with the check's storing, so a check is stored once whoever ran it.
    """

    __tablename__ = "app_check_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), unique=True
    )
    queued_at: Mapped[datetime] = mapped_column(default=utc_now)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
