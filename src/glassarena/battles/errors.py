"""The one error raised for bad battle data: it always says which file and which line or row."""

from __future__ import annotations


class BattleDataError(ValueError):
    """Battle data that cannot be read as given.

    `where` names the place ("votes.jsonl, line 12", "battles.parquet, row 3") so that the
    message alone is enough to find and fix the problem.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        self.reason = message
        super().__init__(f"{where}: {message}" if where else message)
