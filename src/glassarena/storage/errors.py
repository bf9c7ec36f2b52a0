"""Errors raised by the storage layer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError


class StorageError(RuntimeError):
    """Base class for storage failures."""


class StorageFailure(StorageError):
    """A read or write failed: the database is unreachable, timed out or refused it.

    Raised by the repository in place of the database library's own exceptions, so that
    callers handle one storage error and never import SQLAlchemy.
    """


_Parameters = ParamSpec("_Parameters")
_Result = TypeVar("_Result")


def storage_failures(method: Callable[_Parameters, _Result]) -> Callable[_Parameters, _Result]:
    """Decorates a storage method: SQLAlchemy's errors leave it as StorageFailure."""

    @functools.wraps(method)
    def translated(*args: _Parameters.args, **kwargs: _Parameters.kwargs) -> _Result:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as error:
            raise StorageFailure(f"{method.__name__}: {error}") from error

    return translated


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
