"""The repository on SQLite and PostgreSQL: versions, battles, votes, the vote log."""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import DBAPIError

from glassarena.arena.board_statistics import vote_columns
from glassarena.arena.log_audit import check_chain, read_log
from glassarena.arena.log_export import export_lines
from glassarena.storage import vote_columns as vote_columns_module
from glassarena.storage.database import Database, open_database
from glassarena.storage.errors import StorageFailure
from glassarena.storage.repository import (
    AnswerResult,
    ArenaRepository,
    BattleStateConflict,
    DuplicateVoteError,
)
from glassarena.storage.schema import Base, BattleRow, VoteLogEntry
from glassarena.storage.vote_log import DatabaseVoteLog


def _battle(
    repository: ArenaRepository, model_a_id: int, model_b_id: int | None, mode: str = "anonymous"
) -> str:
    public_id = secrets.token_urlsafe(18)
    repository.create_battle(
        public_id=public_id,
        mode=mode,
        kind="text",
        category="text",
        model_a_id=model_a_id,
        model_b_id=model_b_id,
        voter_id="voter",
        ip_hash="f" * 64,
        prompt="Why is the sky blue?",
    )
    return public_id


def _complete(repository: ArenaRepository, public_id: str, sides: str = "ab") -> None:
    for side in sides:
        repository.finish_answer(
            public_id, 1, side, AnswerResult(text=f"answer {side}", status="done")
        )
    style = {"sum_assistant_a_tokens": 2, "header_count_a": {"h1": 0}}
    repository.finish_turn(public_id, failure_reason=None, style_a=style, style_b=None)


def _vote(repository: ArenaRepository, public_id: str, winner: str, counted: bool = True) -> None:
    repository.record_vote(
        public_id,
        winner=winner,
        voter_id="voter",
        ip_hash="f" * 64,
        counted=counted,
        not_counted_reason=None if counted else "named mode",
        log=DatabaseVoteLog().append,
    )


def test_migrations_create_exactly_the_orm_schema(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_opening_twice_finds_the_schema_at_head(database_url: str, database: Database) -> None:
    again = open_database(database_url)
    with again.engine.connect() as connection:
        revisions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    again.dispose()
    assert revisions == [("0015",)]


def test_same_settings_keep_their_version(repository: ArenaRepository) -> None:
    first = repository.ensure_version("alpha", "openai", {"temperature": 0.7}, "fp1")
    again = repository.ensure_version("alpha", "openai", {"temperature": 0.7}, "fp1")
    assert (again.version_id, again.version) == (first.version_id, 1)


def test_changed_settings_make_a_new_version_and_old_votes_stay(
    repository: ArenaRepository,
) -> None:
    alpha_v1 = repository.ensure_version("alpha", "openai", {"temperature": 0.7}, "fp1")
    beta = repository.ensure_version("beta", "openai", {}, "fp-beta")
    old_battle = _battle(repository, alpha_v1.version_id, beta.version_id)
    _complete(repository, old_battle)
    _vote(repository, old_battle, "model_a")

    alpha_v2 = repository.ensure_version("alpha", "openai", {"temperature": 0.2}, "fp2")
    assert (alpha_v2.version, alpha_v2.version_id != alpha_v1.version_id) == (2, True)
    new_battle = _battle(repository, beta.version_id, alpha_v2.version_id)
    _complete(repository, new_battle)
    _vote(repository, new_battle, "model_b")

    votes = repository.counted_votes()
    assert [(vote.model_a, vote.model_b, vote.winner) for vote in votes] == [
        ("alpha", "beta", "model_a"),
        ("beta", "alpha (v2)", "model_b"),
    ]
    stored = repository.battle(old_battle)
    assert stored is not None and stored.model_a == alpha_v1
    assert [v.version for v in repository.versions("alpha")] == [1, 2]
    # Going back to the first settings finds the first version again.
    assert repository.ensure_version("alpha", "openai", {"temperature": 0.7}, "fp1").version == 1


def test_battle_round_trip(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "anthropic", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    repository.finish_answer(
        public_id,
        1,
        "a",
        AnswerResult(
            text="Rayleigh scattering.",
            status="done",
            first_token_seconds=0.25,
            total_seconds=1.5,
            completion_tokens=4,
            finish_reason="stop",
            style={"sum_assistant_a_tokens": 4},
        ),
    )
    repository.finish_answer(
        public_id,
        1,
        "b",
        AnswerResult(
            text="Because",
            status="failed",
            failure_kind="dropped",
            failure_reason="stream ended early",
        ),
    )
    repository.finish_turn(public_id, failure_reason="side b: dropped", style_a=None, style_b=None)

    battle = repository.battle(public_id)
    assert battle is not None
    assert (battle.status, battle.failure_reason) == ("failed", "side b: dropped")
    assert [turn.prompt for turn in battle.turns] == ["Why is the sky blue?"]
    first_a, first_b = battle.turns[0].answers
    assert (first_a.side, first_a.text, first_a.first_token_seconds) == (
        "a",
        "Rayleigh scattering.",
        0.25,
    )
    assert first_a.style == {"sum_assistant_a_tokens": 4}
    assert (first_b.status, first_b.failure_kind) == ("failed", "dropped")


def test_a_turn_can_only_be_opened_once(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    _complete(repository, public_id)
    repository.add_turn(public_id, 2, "more")
    with pytest.raises(BattleStateConflict):
        repository.add_turn(public_id, 2, "more, again")
    battle = repository.battle(public_id)
    assert battle is not None and battle.status == "generating"
    assert [turn.prompt for turn in battle.turns] == ["Why is the sky blue?", "more"]
    assert [answer.status for answer in battle.turns[1].answers] == ["generating", "generating"]


def test_a_battle_takes_one_vote(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    _complete(repository, public_id)
    _vote(repository, public_id, "tie")
    with pytest.raises(BattleStateConflict):
        _vote(repository, public_id, "model_b")
    battle = repository.battle(public_id)
    assert battle is not None and battle.vote is not None
    assert (battle.status, battle.vote.winner) == ("voted", "tie")


def test_a_battle_read_without_turns_is_the_battle_less_its_turns(
    repository: ArenaRepository,
) -> None:
    # The vote path's read when the reveal shows no timings: everything else as read in full.
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    _complete(repository, public_id)
    repository.add_turn(public_id, 2, "more")
    for side in "ab":
        repository.finish_answer(public_id, 2, side, AnswerResult(text="again", status="done"))
    repository.finish_turn(public_id, failure_reason=None, style_a=None, style_b=None)
    _vote(repository, public_id, "model_b")
    full = repository.battle(public_id, texts=False)
    bare = repository.battle(public_id, texts=False, turns=False)
    assert full is not None and bare is not None
    assert len(full.turns) == 2
    assert bare.turns == ()
    assert replace(bare, turns=full.turns) == full


def test_the_vote_log_entry_holds_the_battles_styles_and_categories(
    database: Database, repository: ArenaRepository
) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    _complete(repository, public_id)
    with database.transaction() as connection:
        connection.execute(
            sa.update(BattleRow)
            .where(BattleRow.public_id == public_id)
            .values(prompt_categories={"categories": {"math": True}})
        )
    _vote(repository, public_id, "model_a")
    with database.engine.connect() as connection:
        entry = connection.execute(sa.select(VoteLogEntry)).one()
    assert entry.style_a == {"sum_assistant_a_tokens": 2, "header_count_a": {"h1": 0}}
    assert entry.style_b is None
    assert entry.prompt_categories == {"categories": {"math": True}}
    # The published entry, read back from these columns, hashes as it was chained.
    lines = [line.decode("utf-8") for line in export_lines(repository)]
    assert check_chain(read_log(lines, "export"), "export") == repository.log_head()


def test_uncounted_votes_stay_out_of_the_leaderboard_query(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    named = _battle(repository, alpha.version_id, beta.version_id, mode="named")
    _complete(repository, named)
    _vote(repository, named, "model_a", counted=False)
    assert repository.counted_votes() == []
    assert repository.counted_vote_count() == 0
    assert [battle.public_id for battle in repository.voted_battles()] == []
    exported = list(repository.voted_battles(include_uncounted=True))
    assert [battle.public_id for battle in exported] == [named]


def test_the_vote_log_is_append_only(database: Database, repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    _complete(repository, public_id)
    _vote(repository, public_id, "model_b")
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT battle_public_id, model_a, model_b, winner, counted FROM vote_log")
        ).all()
    assert rows == [(public_id, "alpha", "beta", "model_b", True)]
    for statement in ("UPDATE vote_log SET winner = 'model_a'", "DELETE FROM vote_log"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
            connection.execute(sa.text(statement))
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT winner FROM vote_log")).scalar() == "model_b"


def test_abandoned_battles_are_failed(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    repository.finish_answer(public_id, 1, "a", AnswerResult(text="done", status="done"))
    repository.fail_abandoned(public_id, "generation was interrupted")
    battle = repository.battle(public_id)
    assert battle is not None
    assert battle.status == "failed"
    assert [answer.status for answer in battle.turns[0].answers] == ["done", "failed"]


def test_votes_and_turns_need_a_complete_battle(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    with pytest.raises(BattleStateConflict) as raised:
        _vote(repository, public_id, "model_a")  # still generating
    assert raised.value.status == "generating"
    with pytest.raises(BattleStateConflict):
        repository.add_turn(public_id, 2, "too early")
    _complete(repository, public_id)
    _vote(repository, public_id, "model_a")
    with pytest.raises(BattleStateConflict) as raised:
        repository.add_turn(public_id, 2, "too late")
    assert raised.value.status == "voted"
    battle = repository.battle(public_id)
    assert battle is not None and len(battle.turns) == 1


def test_racing_voters_get_exactly_one_vote_in(repository: ArenaRepository) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    _complete(repository, public_id)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def cast(winner: str) -> None:
        barrier.wait()
        try:
            _vote(repository, public_id, winner)
            outcomes.append("stored")
        except (BattleStateConflict, DuplicateVoteError):
            outcomes.append("refused")

    threads = [threading.Thread(target=cast, args=(w,)) for w in ("model_a", "model_b") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "stored"]
    assert len(repository.counted_votes()) == 1


def test_each_database_has_its_own_random_id(database_url: str, tmp_path) -> None:
    first = open_database(database_url)
    other = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        instance = ArenaRepository(first).instance_id()
        assert len(instance) == 32
        assert ArenaRepository(first).instance_id() == instance  # stable across opens
        assert ArenaRepository(other).instance_id() != instance
    finally:
        first.dispose()
        other.dispose()


def test_database_failures_leave_storage_as_storage_failures(
    database: Database, repository: ArenaRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callers (arena/) handle one storage error and never import SQLAlchemy."""

    def outage():  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(database.engine, "connect", outage)
    monkeypatch.setattr(database, "transaction", outage)
    with pytest.raises(StorageFailure, match=r"battle: .*server closed the connection"):
        repository.battle("anything")
    with pytest.raises(StorageFailure, match="finish_answer"):
        repository.finish_answer("anything", 1, "a", AnswerResult(text="", status="done"))


@pytest.mark.parametrize(
    ("style_a", "style_b"),
    [
        (  # every count, as the arena counts them
            {
                "sum_assistant_a_tokens": 120,
                "header_count_a": {f"h{level}": level for level in range(1, 7)},
                "list_count_a": {"ordered": 2, "unordered": 3},
                "bold_count_a": {"**": 4, "__": 1},
                "code_block_count_a": 2,
                "code_line_count_a": 17,
            },
            {
                "sum_assistant_b_tokens": 80,
                "header_count_b": {"h2": 1},
                "list_count_b": {"ordered": None, "unordered": 5},
                "bold_count_b": {},
            },
        ),
        ({"sum_assistant_a_tokens": 2, "header_count_a": {"h1": 0}}, None),  # an older battle
        (None, None),
    ],
)
def test_the_columnar_read_totals_styles_as_the_votes_give_them(
    repository: ArenaRepository, style_a: dict[str, Any] | None, style_b: dict[str, Any] | None
) -> None:
    """The style totals summed by JSON paths in the database (`jsonb` on PostgreSQL) are
    those the board statistics take from the log's votes in Python, NaN where absent."""
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    public_id = _battle(repository, alpha.version_id, beta.version_id)
    for side in "ab":
        repository.finish_answer(public_id, 1, side, AnswerResult(text="answer", status="done"))
    repository.finish_turn(public_id, failure_reason=None, style_a=style_a, style_b=style_b)
    _vote(repository, public_id, "model_a")
    head = repository.log_head().position
    (read,) = repository.vote_columns(0, head)
    expected = vote_columns(repository.counted_votes_in_log(head))
    np.testing.assert_array_equal(read.style, expected.style)
    assert np.isnan(read.style).all() == (style_a is None and style_b is None)


@pytest.mark.parametrize(
    ("stretch", "expected"), [(500_000, [[2, 3], [5, 6], [7]]), (2, [[2, 3], [5], [6, 7]])]
)
def test_the_columnar_read_comes_in_pieces_in_log_order(
    repository: ArenaRepository,
    monkeypatch: pytest.MonkeyPatch,
    stretch: int,
    expected: list[list[int]],
) -> None:
    """At most `batch` votes a piece (a cold start reads a million: the rows stream), one
    statement per stretch of log positions, the pieces in log order, the uncounted and
    one-model entries left out."""
    monkeypatch.setattr(vote_columns_module, "_STRETCH", stretch)
    alpha = repository.ensure_version("alpha", "openai", {}, "a")
    beta = repository.ensure_version("beta", "openai", {}, "b")
    for number in range(7):
        public_id = _battle(repository, alpha.version_id, beta.version_id)
        _complete(repository, public_id)
        _vote(repository, public_id, "model_a", counted=number != 3)
    single = _battle(repository, alpha.version_id, None)
    _complete(repository, single, sides="a")
    _vote(repository, single, "model_a")
    head = repository.log_head().position
    pieces = list(repository.vote_columns(1, head, batch=2))
    assert [piece.position.tolist() for piece in pieces] == expected
