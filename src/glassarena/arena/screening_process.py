"""The live screening in a process of its own, beside the server's.

A screening pass is Python-heavy work over every vote: at 10,000,000 votes it reads the log
for minutes and holds gigabytes of per-vote arrays while its detectors run. In the server's
process it shared one interpreter lock with the pages and the votes (page p95 above 150 ms,
a vote reaching the board up to 5 s late while a first pass ran) and left its peak memory
to the server. Here the same `LiveScreening` lives in a child process, with its own
connection to the database: the refresher hands it the log head and the boards' time (its
budget), the child decides whether a pass is due, runs it and chains its verdicts into the
log as before, and answers with a summary. The child is started on the first request and
again after it died; its log lines go to the server's standard error.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

from glassarena.screening import ScreeningSettings
from glassarena.storage.repository import LogHead

logger = logging.getLogger(__name__)

# How long a pass may take before the child is deemed stuck, stopped and started again.
PASS_LIMIT_SECONDS = 3_600.0


@dataclass(frozen=True, slots=True)
class PassSummary:
    """What a pass in the child decided, in numbers (the verdicts themselves are logged)."""

    position: int
    uncounted: int
    appended: int
    seconds: float


class ScreeningProcess:
    """`LiveScreening.after_refresh`, answered by a child process."""

    def __init__(self, database_url: str, settings: ScreeningSettings) -> None:
        self._database_url = database_url
        self._settings = settings
        self._lock = threading.Lock()  # one request at a time on the pipe
        self._process: Any = None  # a multiprocessing Process
        self._pipe: Connection | None = None
        self._closing = False

    def after_refresh(self, head: LogHead, refresh_seconds: float) -> PassSummary | None:
        """Count the boards' time, and run a pass up to `head` in the child when one is due.
        A child that died or hung is stopped, logged, and started again for the next call."""
        with self._lock:
            pipe = self._connected()
            try:
                pipe.send((head.position, head.entry_hash, refresh_seconds))
                if not pipe.poll(PASS_LIMIT_SECONDS):
                    raise TimeoutError(f"no answer within {PASS_LIMIT_SECONDS:.0f} s")
                answer: tuple[int, int, int, float] | None = pipe.recv()
            except (OSError, EOFError, TimeoutError) as error:
                if not self._closing:
                    logger.error("the screening process failed (%s); starting a new one", error)
                    self._stop()
                return None
        return None if answer is None else PassSummary(*answer)

    def close(self) -> None:
        """Stop the child at once, even in the middle of a pass (its verdicts are written in
        one transaction: all or none)."""
        self._closing = True
        process = self._process
        if process is not None and process.is_alive():
            process.kill()
        with self._lock:
            self._stop()

    def _connected(self) -> Connection:
        if self._closing:
            raise OSError("the arena is stopping")
        if self._pipe is not None and self._process is not None and self._process.is_alive():
            return self._pipe
        self._stop()
        # Spawned, not forked: the server has threads, and a fork would copy its memory.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(theirs, self._database_url, asdict(self._settings)),
            name="glassarena screening",
            daemon=True,
        )
        self._process.start()
        theirs.close()
        self._pipe = ours
        return ours

    def _stop(self) -> None:
        if self._pipe is not None:
            with contextlib.suppress(OSError):  # the child is gone already
                self._pipe.send(None)
            self._pipe.close()
            self._pipe = None
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
            self._process = None


def _serve(pipe: Connection, database_url: str, settings: dict[str, Any]) -> None:
    """The child: one `LiveScreening` (its incremental state kept between passes)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(message)s")
    logging.getLogger("glassarena").setLevel(logging.INFO)
    from glassarena.arena.live_screening import LiveScreening
    from glassarena.storage.database import open_database
    from glassarena.storage.verdict_log import VerdictLog

    database = open_database(database_url)
    screening = LiveScreening(VerdictLog(database), ScreeningSettings(**settings))
    try:
        while (request := pipe.recv()) is not None:
            position, entry_hash, seconds = request
            outcome = screening.after_refresh(LogHead(position, entry_hash), seconds)
            pipe.send(
                None
                if outcome is None
                else (outcome.position, len(outcome.uncounted), outcome.appended, outcome.seconds)
            )
    except (EOFError, KeyboardInterrupt):
        pass  # the server went away
    finally:
        database.dispose()
