"""Errors raised by the storage layer."""

from __future__ import annotations


class StorageError(RuntimeError):
    """Base class for storage failures."""


class StorageFailure(StorageError):
    """A read or write failed: the database is unreachable, timed out or refused it.

    Raised by the repository in place of the database library's own exceptions, so that
    callers handle one storage error and never import SQLAlchemy.
    """


class DatabaseUnavailableError(StorageError):
    """The database could not be reached or prepared at start; the URL is shown redacted."""

    def __init__(self, redacted_url: str, cause: BaseException) -> None:
        self.redacted_url = redacted_url
        reason = str(cause).strip().rstrip(".")
        super().__init__(
            f"cannot open the database at {redacted_url}: {reason}. "
            "Check that the server is running and the URL (--database-url / "
            "GLASSARENA_DATABASE_URL) is right."
        )
