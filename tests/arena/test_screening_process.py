"""The live screening in a child process decides and logs what it decides in the server's
process, and a child that dies is replaced."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from glassarena.arena.screening_process import PassSummary, ScreeningProcess
from glassarena.screening import ScreeningSettings
from glassarena.storage.database import Database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.verdict_log import VerdictLog
from vote_seeding import seed_honest_crowd, seed_target_fan

FAN_VOTES = 120


@pytest.fixture
def screening(database: Database) -> Iterator[ScreeningProcess]:
    url = database.engine.url.render_as_string(hide_password=False)
    process = ScreeningProcess(url, ScreeningSettings())
    yield process
    process.close()


def test_a_pass_in_the_child_uncounts_what_a_pass_here_would(
    database: Database, screening: ScreeningProcess
) -> None:
    repository = ArenaRepository(database)
    crowd = seed_honest_crowd(repository, 30, 20)
    seed_target_fan(repository, crowd, FAN_VOTES)
    head = repository.log_head()

    summary = screening.after_refresh(head, 0.0)
    assert summary == PassSummary(head.position, FAN_VOTES, FAN_VOTES, summary.seconds)
    assert screening._process.pid != os.getpid()
    uncounted = VerdictLog(database).screened_out(repository.log_head().position)
    fan = set(range(head.position - FAN_VOTES + 1, head.position + 1))
    assert set(uncounted) == fan, "exactly the fan's votes stop counting, as in process"
    # Nothing new since: the budget earned by no refresh time runs no second pass.
    assert screening.after_refresh(repository.log_head(), 0.0) is None


def test_a_child_that_died_is_replaced(
    database: Database, screening: ScreeningProcess, caplog: pytest.LogCaptureFixture
) -> None:
    repository = ArenaRepository(database)
    crowd = seed_honest_crowd(repository, 30, 20)
    head = repository.log_head()
    assert screening.after_refresh(head, 0.0) is not None  # the first pass
    first = screening._process
    first.kill()
    first.join(10)
    seed_target_fan(repository, crowd, FAN_VOTES)
    assert screening.after_refresh(repository.log_head(), 0.0) is not None
    assert screening._process is not first and screening._process.is_alive()
    assert len(VerdictLog(database).screened_out(repository.log_head().position)) == FAN_VOTES
