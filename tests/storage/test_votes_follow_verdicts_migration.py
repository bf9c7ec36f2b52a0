"""Migration 0014 makes the vote rows of an arena whose verdicts were logged before votes
followed them take those verdicts' standing; going down puts the acceptance decisions back."""

from __future__ import annotations

import sqlalchemy as sa

from glassarena.screening.result import explanation
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.verdict_log import Verdict, VerdictLog
from older_schema import migrated_only_to
from vote_seeding import seed_honest_crowd

_STANDING = sa.text("SELECT counted, not_counted_reason FROM votes ORDER BY id")


def _migrate(database_url: str, revision: str, *, down: bool) -> list[tuple[bool, str | None]]:
    with migrated_only_to(database_url, revision, down=down) as connection:
        return [(bool(counted), reason) for counted, reason in connection.execute(_STANDING)]


def test_votes_take_their_latest_verdict_and_give_it_back_going_down(database_url: str) -> None:
    database = open_database(database_url)
    try:
        crowd = seed_honest_crowd(ArenaRepository(database), 2, 3)
        verdicts = VerdictLog(database)
        verdicts.append(
            [
                Verdict(1, crowd.battle_ids[0], False, "disagreement"),
                Verdict(2, crowd.battle_ids[1], False, "voter-cap"),
            ],
            "2:test",
        )
        verdicts.append([Verdict(2, crowd.battle_ids[1], True, None)], "2:test")
    finally:
        database.dispose()

    as_accepted = _migrate(database_url, "0013", down=True)
    assert as_accepted == [(True, None)] * 6
    followed = _migrate(database_url, "0014", down=False)
    # The same readable reason as a verdict logged now writes (so /integrity groups them).
    assert followed == [(False, explanation("disagreement"))] + [(True, None)] * 5
