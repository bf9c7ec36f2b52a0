"""Live screening: an attack on a running arena's board first, then the defence.

One voter rigs the board for the crowd's weakest model (votes only in its battles, always
for it). Without screening, the board ranks it far above where the crowd puts it. With
live screening, the refresh after the attack logs a verdict on each of the attacker's votes,
the next refresh leaves them out, no honest vote is touched, and replaying the exported log
(verdicts applied in order) gives the served boards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from glassarena.arena import live_screening
from glassarena.arena.leaderboard_refresher import LeaderboardRefresher, LeaderboardSnapshot
from glassarena.arena.live_screening import SCREENING_VERSION, LiveScreening, screening_version
from glassarena.arena.log_audit import (
    check_chain,
    check_verdicts,
    read_log,
    recompute_served,
    served_json,
)
from glassarena.arena.log_export import export_lines
from glassarena.arena.reveal import BattleState, Reveal
from glassarena.screening import ScreeningSettings
from glassarena.storage.database import Database, open_database
from glassarena.storage.integrity import IntegrityStore
from glassarena.storage.personal_votes import PersonalVotes
from glassarena.storage.repository import ArenaRepository, LogHead
from glassarena.storage.schema import as_utc
from glassarena.storage.verdict_log import ScreenableVotes, Verdict, VerdictLog
from glassarena.vocabulary import BattleKind, Winner
from vote_seeding import (
    CROWD_MODELS,
    CrowdVotes,
    seed_honest_crowd,
    seed_target_fan,
    vote_on_a_battle,
)

HONEST_VOTERS = 30
VOTES_EACH = 20
FAN_VOTES = 120
TARGET = CROWD_MODELS[-1]
CATEGORIES = (BattleKind.TEXT.category,)


@pytest.fixture
def repository(database: Database) -> ArenaRepository:
    return ArenaRepository(database)


@pytest.fixture
def sqlite_repository(tmp_path: Path) -> Iterator[ArenaRepository]:
    """For what does not depend on the database engine."""
    database = open_database(f"sqlite:///{tmp_path / 'arena.db'}")
    yield ArenaRepository(database)
    database.dispose()


@pytest.fixture
def crowd(repository: ArenaRepository) -> CrowdVotes:
    return seed_honest_crowd(repository, HONEST_VOTERS, VOTES_EACH)


def _rank(snapshot: LeaderboardSnapshot | None, model: str) -> int:
    assert snapshot is not None and snapshot.leaderboard is not None, snapshot
    ranks: Iterator[int] = (
        row["rank"] for row in snapshot.leaderboard["rows"] if row["model"] == model
    )
    return next(ranks)


def _refresher(
    repository: ArenaRepository, screening: LiveScreening | None
) -> LeaderboardRefresher:
    return LeaderboardRefresher(repository, categories=CATEGORIES, screening=screening)


def test_a_fan_lifts_its_model_without_screening_and_is_uncounted_with_it(
    repository: ArenaRepository, crowd: CrowdVotes
) -> None:
    honest = _refresher(repository, None)
    honest.refresh()
    honest_rank = _rank(honest.snapshot("text"), TARGET)
    assert honest_rank == len(CROWD_MODELS)
    fan = seed_target_fan(repository, crowd, FAN_VOTES)

    # The attack works on a board without screening.
    unscreened = _refresher(repository, None)
    unscreened.refresh()
    rigged_rank = _rank(unscreened.snapshot("text"), TARGET)
    assert rigged_rank < honest_rank - 2

    verdicts = VerdictLog(repository.database)
    screening = LiveScreening(verdicts, ScreeningSettings())
    live = _refresher(repository, screening)
    attacked_head = repository.log_head()
    live.refresh()  # the boards at the attacked head
    assert live.screen_if_due(), "then the screening pass, in a loop of its own"
    uncounted = verdicts.screened_out(repository.log_head().position)
    fan_positions = set(range(attacked_head.position - FAN_VOTES + 1, attacked_head.position + 1))
    assert set(uncounted) == fan_positions, "exactly the fan's votes stop counting"
    assert set(uncounted.values()) <= {"voter-cap", "concentration", "favouritism"}
    assert repository.log_head().position == attacked_head.position + FAN_VOTES

    assert live.refresh_if_needed(), "the verdicts moved the head: the boards are recomputed"
    screened = live.snapshot("text")
    assert screened is not None and screened.votes == HONEST_VOTERS * VOTES_EACH
    assert _rank(screened, TARGET) == honest_rank
    assert len(fan) == FAN_VOTES

    run = verdicts.latest_run()
    # (the refresh after the verdicts may have earned another pass: it finds the same)
    assert run is not None and run["votes_screened"] == attacked_head.position
    assert sum(run["uncounted_by_reason"].values()) == FAN_VOTES
    (target_row,) = [row for row in run["boards"]["text"]["rows"] if row["model"] == TARGET]
    assert target_row["rank"] == honest_rank
    assert target_row["rank_without_screening"] == rigged_rank
    assert target_row["rank_change"] == rigged_rank - honest_rank
    # The pass's two boards are the live boards' numbers, with and without the fan.
    for snapshot, suffix in ((screened, ""), (unscreened.snapshot("text"), "_without_screening")):
        assert snapshot is not None and snapshot.leaderboard is not None
        board = {row["model"]: row for row in snapshot.leaderboard["rows"]}
        for row in run["boards"]["text"]["rows"]:
            assert row[f"rating{suffix}"] == round(board[row["model"]]["rating"], 2)
            assert row[f"rank{suffix}"] == board[row["model"]]["rank"]


def test_the_exported_log_replays_the_screened_boards(sqlite_repository: ArenaRepository) -> None:
    repository = sqlite_repository
    crowd = seed_honest_crowd(repository, HONEST_VOTERS, VOTES_EACH)
    seed_target_fan(repository, crowd, FAN_VOTES)
    live = _refresher(
        repository, LiveScreening(VerdictLog(repository.database), ScreeningSettings())
    )
    live.refresh()
    assert live.screen_if_due()
    assert live.refresh_if_needed()
    served = live.snapshot("text")
    assert served is not None

    entries = read_log([line.decode() for line in export_lines(repository)], "log.jsonl")
    assert check_chain(entries, "log.jsonl") == repository.log_head()
    assert check_verdicts(entries, "log.jsonl") == FAN_VOTES
    body = served.to_dict()
    assert recompute_served(entries, body) == served_json(body)


def test_a_vote_screening_no_longer_flags_counts_again(
    repository: ArenaRepository, crowd: CrowdVotes
) -> None:
    verdicts = VerdictLog(repository.database)
    # A verdict from an earlier pass (other thresholds) on an honest vote.
    assert verdicts.append([Verdict(1, crowd.battle_ids[0], False, "disagreement")], "0:old") == 1
    assert 1 in verdicts.screened_out(repository.log_head().position)
    screening = LiveScreening(verdicts, ScreeningSettings())
    outcome = screening.run(repository.log_head())
    assert outcome.uncounted == {}
    assert outcome.appended == 1
    events = verdicts.events(0, repository.log_head().position)
    assert [(event.vote_position, event.counted, event.reason) for event in events] == [
        (1, False, "disagreement"),
        (1, True, None),
    ]
    assert verdicts.screened_out(repository.log_head().position) == {}
    # A second pass over the same log changes nothing, so it logs nothing.
    assert screening.run(repository.log_head()).appended == 0


def test_a_screened_out_vote_reads_uncounted_wherever_votes_are_read(
    sqlite_repository: ArenaRepository,
) -> None:
    """Before, a verdict moved the board only: the fan's reveal still said the vote counted,
    their personal board, the shares and /integrity's uncounted votes still counted it."""
    repository = sqlite_repository
    crowd = seed_honest_crowd(repository, HONEST_VOTERS, VOTES_EACH)
    fan = seed_target_fan(repository, crowd, FAN_VOTES)
    honest_votes = HONEST_VOTERS * VOTES_EACH
    assert PersonalVotes(repository.database).of_voter("fan-voter", CATEGORIES[0])
    integrity = IntegrityStore(repository.database)
    target_votes = _counted_votes_of(integrity, TARGET)
    verdicts = VerdictLog(repository.database)
    outcome = LiveScreening(verdicts, ScreeningSettings()).run(repository.log_head())
    assert len(outcome.uncounted) == FAN_VOTES

    def reveal(battle_id: str) -> Reveal:
        battle = repository.battle(battle_id)
        assert battle is not None
        state = BattleState.of(battle)
        assert state.reveal is not None
        return state.reveal

    left_out = reveal(fan[0])
    assert not left_out.counted
    assert (left_out.not_counted_reason or "").startswith("screening left this vote out: ")
    assert reveal(crowd.battle_ids[0]).counted
    assert repository.counted_vote_count() == honest_votes
    assert PersonalVotes(repository.database).of_voter("fan-voter", CATEGORIES[0]) == []
    assert sum(integrity.uncounted_votes().values()) == FAN_VOTES
    assert _counted_votes_of(integrity, TARGET) == target_votes - FAN_VOTES  # shares read it

    # A later verdict that counts the vote again restores it everywhere as well.
    first = honest_votes + 1
    verdicts.append([Verdict(first, fan[0], True, None)], "test")
    assert reveal(fan[0]).counted and reveal(fan[0]).not_counted_reason is None
    assert repository.counted_vote_count() == honest_votes + 1


def _counted_votes_of(integrity: IntegrityStore, model: str) -> int:
    return sum(
        record.counted_votes for record in integrity.version_activity() if record.name == model
    )


def test_a_vote_not_counted_when_accepted_is_never_judged(
    sqlite_repository: ArenaRepository,
) -> None:
    repository = sqlite_repository
    crowd = seed_honest_crowd(repository, 2, 10)
    seed_target_fan(repository, crowd, 5)
    head = repository.log_head()
    screenable = VerdictLog(repository.database).screenable_votes(0, head.position)
    assert len(screenable) == head.position  # every seeded vote was counted when accepted
    vote_on_a_battle(
        repository,
        "named-vote",
        crowd.model_ids[TARGET],
        crowd.model_ids[CROWD_MODELS[0]],
        Winner.MODEL_A,
        voter_id="fan-voter",
        counted=False,
    )
    later = VerdictLog(repository.database).screenable_votes(head.position, head.position + 1)
    assert len(later) == 0


def test_screening_reads_each_vote_time_to_the_microsecond(
    repository: ArenaRepository,
) -> None:
    """Times come back as seconds since the epoch, computed without a datetime per row."""
    seed_honest_crowd(repository, 2, 5)
    head = repository.log_head()
    screenable = VerdictLog(repository.database).screenable_votes(0, head.position)
    logged = {
        entry.position: as_utc(entry.created_at).timestamp()
        for entry in repository.vote_log_entries(head.position)
    }
    assert len(screenable) == head.position
    for position, seconds in zip(screenable.position, screenable.voted_at, strict=True):
        assert seconds == pytest.approx(logged[position], abs=1e-6)


def test_passes_run_on_a_budget_of_the_refresh_time(sqlite_repository: ArenaRepository) -> None:
    repository = sqlite_repository
    ticks = iter(range(1_000))  # every reading of the clock is one second later: a pass costs 1 s
    screening = LiveScreening(
        VerdictLog(repository.database),
        ScreeningSettings(refresh_share=0.5),
        clock=lambda: float(next(ticks)),
    )
    head = repository.log_head()
    assert screening.after_refresh(head, 0.1) is not None, "the first pass runs at once"
    assert screening.after_refresh(head, 1.9) is None
    assert screening.after_refresh(head, 0.1) is not None, "2 s of refreshes earn a 1 s pass"
    assert screening.after_refresh(head, 0.5) is None


def test_the_screening_version_names_the_thresholds() -> None:
    default = screening_version(ScreeningSettings())
    assert default.startswith(f"{SCREENING_VERSION}:")
    assert screening_version(ScreeningSettings(alpha=0.05)) != default
    assert screening_version(ScreeningSettings(refresh_share=0.2)) == default


def test_a_private_arena_of_one_voter_is_not_screened(sqlite_repository: ArenaRepository) -> None:
    """One person rating models for themselves supplies every vote of every model: no crowd
    to screen against, so none of their votes is capped or flagged."""
    seed_honest_crowd(sqlite_repository, 1, 90)
    screening = LiveScreening(VerdictLog(sqlite_repository.database), ScreeningSettings())
    outcome = screening.run(sqlite_repository.log_head())
    assert outcome.uncounted == {} and outcome.appended == 0


def test_a_pass_reading_the_log_in_pieces_decides_the_same(
    sqlite_repository: ArenaRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first pass reads a long log in pieces and keeps no Python object per vote (they
    would pin the read's peak memory); it decides exactly what one read decides."""
    repository = sqlite_repository
    crowd = seed_honest_crowd(repository, HONEST_VOTERS, VOTES_EACH)
    seed_target_fan(repository, crowd, FAN_VOTES)
    head = repository.log_head()
    with monkeypatch.context() as patched:
        patched.setattr(live_screening, "READ_ENTRIES", 7)
        pieces = LiveScreening(VerdictLog(repository.database), ScreeningSettings())
        in_pieces = pieces.run(head)
    at_once = LiveScreening(VerdictLog(repository.database), ScreeningSettings()).run(head)
    assert len(in_pieces.uncounted) == FAN_VOTES
    assert in_pieces.uncounted == at_once.uncounted
    assert in_pieces.report == {**at_once.report, "verdicts_appended": FAN_VOTES}
    columns = [getattr(pieces._votes, name) for name in live_screening._COLUMNS]
    assert all(len(column) == head.position and column.dtype != object for column in columns)


def test_the_first_pass_waits_for_the_first_boards(sqlite_repository: ArenaRepository) -> None:
    """After a start the first pass (a read of every vote) does not share the CPU with the
    first boards: it runs once the style-controlled ones were published too, new vote or
    not, and its verdicts reach the boards as usual."""
    repository = sqlite_repository
    crowd = seed_honest_crowd(repository, HONEST_VOTERS, VOTES_EACH)
    seed_target_fan(repository, crowd, FAN_VOTES)
    verdicts = VerdictLog(repository.database)
    live = _refresher(repository, LiveScreening(verdicts, ScreeningSettings()))
    attacked = repository.log_head()
    assert live.refresh_if_needed(style_control=False)
    assert not live.screen_if_due(), "no pass before the style-controlled boards"
    assert not live.refresh_if_needed(style_control=False)
    assert not live.screen_if_due() and verdicts.latest_run() is None
    assert live.refresh_style_boards() == len(CATEGORIES)
    assert not live.refresh_if_needed(style_control=False), "no new vote: boards unchanged"
    assert live.screen_if_due(), "the first pass runs once every board was published"
    assert not live.screen_if_due(), "and not again over the same log"
    run = verdicts.latest_run()
    assert run is not None and run["position"] == attacked.position
    assert repository.log_head().position == attacked.position + FAN_VOTES
    assert live.refresh_if_needed(style_control=False), "the verdicts reach the boards"
    screened = live.snapshot("text")
    assert screened is not None and screened.votes == HONEST_VOTERS * VOTES_EACH


def test_votes_reach_the_boards_while_a_pass_runs(sqlite_repository: ArenaRepository) -> None:
    """A pass over ten million votes takes minutes: the boards keep following the log
    meanwhile (the pass runs beside the refresh, not inside it)."""
    repository = sqlite_repository
    crowd = seed_honest_crowd(repository, HONEST_VOTERS, VOTES_EACH)
    release = threading.Event()

    class SlowScreening(LiveScreening):
        def run(self, head: LogHead) -> live_screening.PassOutcome:
            assert release.wait(30)
            return super().run(head)

    live = _refresher(
        repository, SlowScreening(VerdictLog(repository.database), ScreeningSettings())
    )
    live.refresh()
    screening = threading.Thread(target=live.screen_if_due)
    screening.start()
    try:
        seed_target_fan(repository, crowd, 3)
        assert live.refresh_if_needed(style_control=False)
        snapshot = live.snapshot("text")
        assert snapshot is not None and snapshot.watermark == repository.log_head().position
        assert screening.is_alive(), "the pass is still running"
    finally:
        release.set()
        screening.join(30)


def test_the_screened_table_shares_the_held_columns() -> None:
    """A pass over one battle kind hands screening the held 32-bit voter, IP and time
    columns themselves: at ten million votes, copies widened to 64 bits held 300 MB more
    while the detectors ran. A pass over some rows takes exactly those rows."""
    votes = live_screening._Screenable()
    votes.extend(
        [
            ScreenableVotes(
                position=[1, 2, 3, 4],
                category=["text", "webdev", "text", "text"],
                model_a=["zeta", "alpha", "alpha", "mid"],
                model_b=["alpha", "zeta", "mid", "zeta"],
                winner=["model_a", "tie", "model_b", "model_a"],
                voter_id=["v1", "v2", "v1", "v3"],
                ip_hash=["i1", "i1", "i2", "i3"],
                voted_at=[10.0, 11.0, 12.0, 13.0],
            )
        ],
        4,
    )
    every = votes.table(np.arange(4))
    for held, given in ((votes.voter, every.voter), (votes.ip, every.ip), (votes.time, every.time)):
        assert given is held
    assert every.model_a.dtype == every.model_b.dtype == every.voter.dtype == np.int32
    text = votes.table(np.array([0, 2, 3]))
    assert list(text.models) == ["alpha", "mid", "zeta"]
    assert [text.models[code] for code in text.model_a] == ["zeta", "alpha", "mid"]
    assert [text.models[code] for code in text.model_b] == ["alpha", "mid", "zeta"]
    assert text.outcome.tolist() == [1.0, 0.0, 1.0]
    assert [text.voter_names[code] for code in text.voter] == ["v1", "v1", "v3"]
    assert text.time is not None and text.time.tolist() == [10.0, 12.0, 13.0]
